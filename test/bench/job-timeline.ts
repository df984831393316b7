// Where a Job's time goes, from Job created to Job Complete, the same way for both nodes. The objects' own timestamps
// are whole seconds (creationTimestamp, PodScheduled, startedAt) and most of these steps take well under one, so the
// Kubernetes steps are the moments the bench's watches delivered each change (milliseconds; the watch's delay is in
// every step alike), and the container's steps are the executor's own log lines (`time`, milliseconds, same clock):
//
//   Job seen → pod seen            the job controller creates the pod
//   pod seen → bound               kube-scheduler (real node) or the node agent binds it
//   bound → first log line         pod start: sandbox, network namespace, container, runc (real node) or a child
//                                  process (node agent), then Node's start-up until the executor's first line
//   first log line → 'done' line   the executor's work
//   'done' line → Job Complete     the process exits, the node reports the pod, the job controller completes the Job
//
// and, beside them, bound → the pod's status says running (what kubelet or the node agent reports, and when).

type Obj = Record<string, any>;

interface PodTrace {
  job: string;
  seen: number;
  bound?: number;
  running?: number;
}

/** Epoch milliseconds of each step of one Job; a step not observed is absent. */
export interface JobTimes {
  jobSeen?: number;
  podSeen?: number;
  bound?: number;
  running?: number;
  firstLog?: number;
  done?: number;
  complete?: number;
}

export const JOB_STEPS = [
  { key: 'jobToPod', from: 'jobSeen', to: 'podSeen', label: 'Job created → pod created' },
  { key: 'podToBound', from: 'podSeen', to: 'bound', label: 'pod created → bound to the node' },
  { key: 'boundToFirstLog', from: 'bound', to: 'firstLog', label: 'bound → executor\'s first log line' },
  { key: 'podStart', from: 'podSeen', to: 'firstLog', label: 'pod start overhead: pod created → first log line' },
  { key: 'boundToRunning', from: 'bound', to: 'running', label: 'bound → status says running' },
  { key: 'work', from: 'firstLog', to: 'done', label: 'first log line → \'done\' line (the executor)' },
  { key: 'doneToComplete', from: 'done', to: 'complete', label: '\'done\' line → Job Complete' },
  { key: 'total', from: 'jobSeen', to: 'complete', label: 'Job created → Job Complete' },
] as const satisfies readonly { key: string; from: keyof JobTimes; to: keyof JobTimes; label: string }[];

export type JobStep = (typeof JOB_STEPS)[number]['key'];

/** Watch events of Jobs and pods in, the moments each Job reached each step out. */
export class JobTimeline {
  private readonly jobs = new Map<string, { seen: number; complete?: number }>();
  private readonly pods = new Map<string, PodTrace>();

  onJob(job: Obj, at: number): void {
    const name = job?.['metadata']?.['name'];
    if (typeof name !== 'string') return;
    const trace = this.jobs.get(name) ?? { seen: at };
    this.jobs.set(name, trace);
    const complete = (job['status']?.['conditions'] ?? []).some((c: Obj) => c['type'] === 'Complete' && c['status'] === 'True');
    if (complete) trace.complete ??= at;
  }

  onPod(pod: Obj, at: number): void {
    const name = pod?.['metadata']?.['name'];
    const job = pod?.['metadata']?.['labels']?.['job-name'];
    if (typeof name !== 'string' || typeof job !== 'string') return;
    const trace = this.pods.get(name) ?? { job, seen: at };
    this.pods.set(name, trace);
    if (pod['spec']?.['nodeName']) trace.bound ??= at;
    // A container that exits between two status reports is never reported running: its first report then says it
    // terminated, which also says it ran.
    const state = pod['status']?.['containerStatuses']?.[0]?.['state'] ?? {};
    if (state['running'] || state['terminated']) trace.running ??= at;
  }

  /** The Job's first pod (a retried Job's later pods are its retries, not its start). */
  firstPodOf(job: string): string | undefined {
    let first: [string, PodTrace] | undefined;
    for (const entry of this.pods) if (entry[1].job === job && (!first || entry[1].seen < first[1].seen)) first = entry;
    return first?.[0];
  }

  /** The steps of one Job, with the log times of its first pod (from its log: firstLog, done). */
  times(job: string, log: { firstLog?: number; done?: number } = {}): JobTimes {
    const j = this.jobs.get(job);
    const podName = this.firstPodOf(job);
    const pod = podName === undefined ? undefined : this.pods.get(podName);
    const times: JobTimes = { ...log };
    if (j) {
      times.jobSeen = j.seen;
      if (j.complete !== undefined) times.complete = j.complete;
    }
    if (pod) {
      times.podSeen = pod.seen;
      if (pod.bound !== undefined) times.bound = pod.bound;
      if (pod.running !== undefined) times.running = pod.running;
    }
    return times;
  }
}

/** Milliseconds of each step over many Jobs; a Job missing either end of a step is left out of that step only. */
export function stepDurations(jobs: JobTimes[]): Record<JobStep, number[]> {
  const out = Object.fromEntries(JOB_STEPS.map((s) => [s.key, [] as number[]])) as Record<JobStep, number[]>;
  for (const t of jobs) {
    for (const s of JOB_STEPS) {
      const from = t[s.from];
      const to = t[s.to];
      if (from !== undefined && to !== undefined) out[s.key].push(Math.max(0, to - from));
    }
  }
  return out;
}

/** The times an executor log states about itself: its first line, and its final 'done' line with what it cost. */
export function executorLogTimes(log: string): { firstLog?: number; done?: number; cpuS?: number; rssMb?: number } {
  const lines = log.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l) as Obj;
    } catch {
      return undefined; // a line cut short by a killed process
    }
  }).filter((x) => x !== undefined);
  const at = (l: Obj | undefined) => {
    const ms = Date.parse(String(l?.['time']));
    return Number.isFinite(ms) ? ms : undefined;
  };
  const out: { firstLog?: number; done?: number; cpuS?: number; rssMb?: number } = {};
  const first = at(lines[0]);
  if (first !== undefined) out.firstLog = first;
  const done = lines.filter((l) => l['resourceUsage']).at(-1);
  if (done) {
    const doneAt = at(done);
    if (doneAt !== undefined) out.done = doneAt;
    const u = done['resourceUsage'];
    out.cpuS = (u.userCPUTime + u.systemCPUTime) / 1e6;
    out.rssMb = u.maxRSS / 1024;
  }
  return out;
}
