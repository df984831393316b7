// One bench:e2e run on one node (e2e-bench.ts runs it per node and compares): a sandbox, then the phases, the same
// for both nodes; what differs between them is read through node-probe.ts.
//
// Phases: dispatch latency (spec hash visible → Job created) beside the control plane's own create → watch round
// trip; apply → status.apiStatus.url one at a time; paced phases (TMF620 by URL at a steady rate, issue 12); apply →
// url with the emulator's realistic (size-scaled) import duration, beside that duration; N ExposedAPIs created at
// once with ARM throttling at the real bucket sizes (writes: 200, refilled 10/s): time to all Ready beside the ARM
// floor for the writes made ((writes − 200) / 10 s), the leading webhook+dispatcher's RSS, APIM writes per API.
// Per change, from each Job's own log (its final 'done' line carries process.resourceUsage(), executor/job-log.ts):
// CPU-seconds (summed over the Job's pods) and the executor's peak RSS; the most Jobs that ran at once (the adaptive
// cap, docs/dispatcher.md); where each Job's time went (job-timeline.ts); the node's memory (node-memory.ts).
import { BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { runWatchLoop } from '../../dev-cluster/control-plane/watch-loop.ts';
import { SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { realisticImportDurationMs } from '../../emulator/import-duration.ts';
import { SANDBOX_NAMESPACE, SAMPLE_SERVICE, startSandbox, type Sandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import { exposedApi, REFERENCE_DIR } from '../helpers/fixtures.ts';
import type { BenchNode, E2eSizes, PacedPhase } from './e2e-options.ts';
import { executorLogTimes, JobTimeline, stepDurations, type JobStep, type JobTimes } from './job-timeline.ts';
import { percentile } from './load.ts';
import { sampleNodeMemory, type NodeMemoryPeak } from './node-memory.ts';
import { nodeProbe } from './node-probe.ts';
import { memoryOf } from './process-memory.ts';

type Obj = Record<string, any>;

export interface ChangeCost {
  cpuS: number[];
  rssMb: number[];
  missing: number;
}

export interface E2eFigures {
  node: BenchNode;
  sandboxUpS: number;
  /** Milliseconds, each list one sample per API or request. */
  roundTrip: number[];
  dispatchSingle: number[];
  applyToUrl: number[];
  singleCost: ChangeCost;
  singleSteps: Record<JobStep, number[]>;
  paced: { phase: PacedPhase; latencies: number[]; missing: number; maxJobs: number; cap: string; cost: ChangeCost }[];
  realistic?: { latencies: number[]; importMs: number; n: number };
  burst?: {
    n: number; ready: number; createdS: number; elapsedS: number; floorS: number; bucketWrites: number; writes: number;
    maxJobs: number; cap: string; dispatch: number[]; cost: ChangeCost; steps: Record<JobStep, number[]>;
    leader: { name: string; beforeMb: number; peakMb: number; afterMb: number };
  };
  /** The node's summed RSS right after start-up, and its peak over the whole run (node-memory.ts). */
  nodeIdle: NodeMemoryPeak;
  nodePeak: NodeMemoryPeak;
  /** The machine's 1-minute load average, mean of samples over the phases (other suites share these cores). */
  loadAverage: number;
}

const TMF620 = 'TMF620-ProductCatalog-v4.0.0.swagger.json';
/** One of the documents the sandbox's sample backend serves (dev-cluster/sandbox/sample-backend.ts SAMPLE_DOCUMENTS). */
const REALISTIC_DOC = 'TMF672-UserRolePermission-v4.0.0.swagger.json';
const ns = SANDBOX_NAMESPACE;

const stats = (xs: number[]): string => {
  if (xs.length === 0) return 'none seen';
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms (n=${s.length})`;
};
const spec = (name: string, doc = REALISTIC_DOC) =>
  exposedApi({ metadata: { name, namespace: undefined }, spec: { implementation: SAMPLE_SERVICE, path: `/${name}/v4`, developerUI: undefined, specification: { url: `\${SANDBOX_SPEC_BASE}/${doc}`, version: 'v4' } } });

export async function runE2e(options: { node: BenchNode; sizes: E2eSizes; out: (line: string) => void }): Promise<E2eFigures> {
  const { sizes, out } = options;
  const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-bench-e2e-'));
  const started = performance.now();
  // The real node's sandbox installs the operator by its chart with the chart's defaults (two replicas, Jobs capped at
  // 10 adapting from 2): the process mode's one replica has the same dispatcher settings (core/dispatcher-config.ts).
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await startSandbox({ dir, log: (l) => out(`  … ${l}`), node: options.node === 'real' ? 'real' : 'agent' });
    const sandboxUpS = (performance.now() - started) / 1000;
    out(`sandbox up in ${sandboxUpS.toFixed(1)} s`);
    return await phases(sandbox, { sizes, out, sandboxUpS, node: options.node });
  } finally {
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function phases(sandbox: Sandbox, run: { sizes: E2eSizes; out: (line: string) => void; sandboxUpS: number; node: BenchNode }): Promise<E2eFigures> {
  const { sizes, out } = run;
  const probe = nodeProbe(sandbox);
  const memory = sampleNodeMemory({ members: probe.members, cgroup: probe.cgroup });
  const nodeIdle = memory.peak();
  const loads: number[] = [];
  const loadSampler = setInterval(() => loads.push(loadavg()[0]!), 5000);
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.lcp.kubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  // Watches of ExposedAPIs, Jobs and pods: when each spec hash became visible, when its Job appeared, when it got its
  // URL, and each Job's steps. They must last the whole run (minutes without an event during the realistic import):
  // a bare watch ends at the server's or the client's timeout, so they are list-watch loops that resume.
  const hashSeen = new Map<string, number>();
  const jobSeen = new Map<string, number>();
  const urlSeen = new Map<string, number>();
  const timeline = new JobTimeline();
  /** Job names of each ExposedAPI. */
  const jobsOfApi = new Map<string, Set<string>>();
  const urlOf = (name: string) => {
    for (const [k, at] of urlSeen) if (k.startsWith(`${name}/`)) return at;
    return undefined;
  };
  const w1 = runWatchLoop<Obj>({
    kubeConfig: kc,
    path: `/apis/oda.tmforum.org/v1/namespaces/${ns}/exposedapis`,
    list: async () => (await custom.listNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'exposedapis' })) as { items: Obj[] },
    onEvent: (_phase, o: Obj) => {
      const h = o?.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
      const key = `${o?.metadata?.name}/${h}`;
      if (h && !hashSeen.has(key)) hashSeen.set(key, performance.now());
      if (o?.status?.apiStatus?.url && o?.status?.appliedSpecHash === h && !urlSeen.has(key)) urlSeen.set(key, performance.now());
    },
  });
  // Jobs running now, and the most at once since `jobs.maxActive` was last reset (what the cap allowed).
  const jobs = { active: new Set<string>(), maxActive: 0 };
  const w2 = runWatchLoop<Obj>({
    kubeConfig: kc,
    path: `/apis/batch/v1/namespaces/${OPERATOR_NAMESPACE}/jobs`,
    list: async () => (await batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE })) as unknown as { items: Obj[] },
    onEvent: (phase, o: Obj) => {
      const job = o?.metadata?.name as string;
      const ended = (o?.status?.conditions ?? []).some((c: Obj) => (c['type'] === 'Complete' || c['type'] === 'Failed') && c['status'] === 'True');
      if (phase === 'DELETED' || ended) jobs.active.delete(job);
      else jobs.active.add(job);
      jobs.maxActive = Math.max(jobs.maxActive, jobs.active.size);
      timeline.onJob(o, Date.now());
      const name = o?.metadata?.labels?.[JOB_LABELS.name];
      const hash = o?.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
      if (name) jobsOfApi.set(name, (jobsOfApi.get(name) ?? new Set()).add(job));
      if (name && hash && !jobSeen.has(`${name}/${hash}`)) jobSeen.set(`${name}/${hash}`, performance.now());
    },
  });
  const w3 = runWatchLoop<Obj>({
    kubeConfig: kc,
    path: `/api/v1/namespaces/${OPERATOR_NAMESPACE}/pods`,
    list: async () => (await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE })) as unknown as { items: Obj[] },
    onEvent: (_phase, o: Obj) => timeline.onPod(o, Date.now()),
  });
  await Promise.all([w1.synced, w2.synced, w3.synced]);
  // The floor: a ConfigMap create → its watch event, on the same control plane, in the same run.
  const cmSeen = new Map<string, number>();
  const w4 = await new Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps`, {}, (phase: string, o: Obj) => {
    if (phase === 'ADDED') cmSeen.set(o['metadata']['name'], performance.now());
  }, () => {});
  try {
    const roundTrip: number[] = [];
    for (let i = 0; i < 100; i++) {
      const name = `rt-${i}`;
      const t0 = performance.now();
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
      while (!cmSeen.has(name)) await new Promise((r) => setImmediate(r));
      roundTrip.push(cmSeen.get(name)! - t0);
    }

    // One API at a time: apply → status.apiStatus.url, and dispatch latency without a queue.
    const applyToUrl: number[] = [];
    const singleNames = Array.from({ length: sizes.single }, (_, i) => `single-${i}`);
    for (const name of singleNames) {
      const t0 = performance.now();
      await sandbox.apply([spec(name, TMF620)]);
      for (let at = urlOf(name); ; at = urlOf(name)) {
        if (at !== undefined) {
          applyToUrl.push(at - t0);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // The same with APIM's import duration modelled (emulator 'realistic': scaled by document size). Applied together
    // so the phase costs one import's time; each API's overhead is its apply → url minus its own import's duration.
    let realistic: E2eFigures['realistic'];
    if (sizes.realistic > 0) {
      const emu = sandbox.emulator as unknown as { settings: Record<string, unknown> };
      emu.settings['importDurationMs'] = 'realistic';
      const realisticUrl = new Map<string, number>();
      const r0 = performance.now();
      const names = Array.from({ length: sizes.realistic }, (_, i) => `realistic-${i}`);
      await sandbox.apply(names.map((n) => spec(n, REALISTIC_DOC)));
      while (realisticUrl.size < names.length && performance.now() - r0 < 30 * 60_000) {
        for (const name of names) {
          const at = urlOf(name);
          if (at !== undefined && !realisticUrl.has(name)) realisticUrl.set(name, at - r0);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      emu.settings['importDurationMs'] = 0;
      realistic = { latencies: [...realisticUrl.values()], importMs: realisticImportDurationMs(statSync(`${REFERENCE_DIR}specs/${REALISTIC_DOC}`).size), n: names.length };
    }
    await sandbox.waitJobsIdle(10 * 60_000);
    const singleLogs = await jobLogs(singleNames);
    const singleCost = costOf(singleLogs);

    // Paced: N ExposedAPIs (TMF620 by URL) created at a steady rate, each create sent on its own schedule (a slow
    // create does not push the next one back); apply → url from each create's start.
    const specBase = sandbox.backend.url;
    const create = (name: string, doc?: string) => custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'exposedapis',
      body: JSON.parse(JSON.stringify(spec(name, doc)).replaceAll('${SANDBOX_SPEC_BASE}', specBase)),
    });
    const paced: E2eFigures['paced'] = [];
    for (const [p, phase] of sizes.paced.entries()) {
      await sandbox.waitJobsIdle(10 * 60_000);
      jobs.maxActive = jobs.active.size;
      const names = Array.from({ length: phase.n }, (_, i) => `paced${p}-${String(i).padStart(3, '0')}`);
      const sentAt = new Map<string, number>();
      const p0 = performance.now();
      const creates: Promise<unknown>[] = [];
      for (const [i, name] of names.entries()) {
        const due = p0 + (i * 1000) / phase.perSecond;
        while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, due - performance.now()))));
        sentAt.set(name, performance.now());
        creates.push(create(name, TMF620));
      }
      await Promise.all(creates);
      const latencies = new Map<string, number>();
      while (latencies.size < names.length && performance.now() - p0 < 30 * 60_000) {
        for (const name of names) {
          const at = latencies.has(name) ? undefined : urlOf(name);
          if (at !== undefined) latencies.set(name, at - sentAt.get(name)!);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await sandbox.waitJobsIdle(10 * 60_000);
      paced.push({ phase, latencies: [...latencies.values()], missing: names.length - latencies.size, maxJobs: jobs.maxActive, cap: await capNow(), cost: costOf(await jobLogs(names)) });
    }

    // The APIs applied one at a time only (the other phases queue behind the cap).
    const dispatchSingle = [...jobSeen.entries()].filter(([k]) => k.startsWith('single-') && hashSeen.has(k)).map(([k, at]) => at - hashSeen.get(k)!);
    out(`control plane create → watch event (ConfigMap):  ${stats(roundTrip)}`);
    if (dispatchSingle.length > 0) {
      out(`dispatch latency, one API at a time (hash visible → Job created): ${stats(dispatchSingle)}`);
      out(`  ratio: one-at-a-time dispatch p99 / control-plane round trip p99 = ${(p99(dispatchSingle) / p99(roundTrip)).toFixed(2)}`);
    }
    const singleSteps = stepDurations(jobTimes(singleNames, singleLogs));
    if (applyToUrl.length > 0) {
      out(`apply → status.apiStatus.url, TMF620, one API:     ${stats(applyToUrl)}  (target p50 ≤ 3000 ms)`);
      out(`  one at a time: ${costText(singleCost)}`);
      out(`  each Job, one at a time: ${stepsText(singleSteps)}`);
    }
    for (const r of paced) {
      out(`apply → status.apiStatus.url, TMF620 by URL, ${r.phase.n} created at ${r.phase.perSecond}/s: ${r.latencies.length > 0 ? stats(r.latencies) : 'none'}` +
        `${r.missing > 0 ? ` — ${r.missing} without a URL after 30 min` : ''}  (target for 20 at 1/s: p50 ≤ 2000 ms, p99 ≤ 5000 ms)`);
      out(`  at most ${r.maxJobs} Jobs at once (the adaptive cap is ${r.cap} now); ${costText(r.cost)}`);
    }
    if (realistic && realistic.latencies.length > 0) {
      const p50 = percentile([...realistic.latencies].sort((a, b) => a - b), 50);
      out(`apply → url with the realistic import duration (${REALISTIC_DOC}, ${realistic.n} at once): ${stats(realistic.latencies)}`);
      out(`  beside the modelled import duration ${realistic.importMs} ms: p50 overhead ${(p50 - realistic.importMs).toFixed(0)} ms, ratio ${(p50 / realistic.importMs).toFixed(2)}`);
    } else if (realistic) out('apply → url with the realistic import duration: none finished within 30 min');

    // A burst: sizes.burst ExposedAPIs created at once.
    const burstFigures = sizes.burst > 0 ? await burst(sizes.burst) : undefined;
    const nodePeak = memory.stop();
    loads.push(loadavg()[0]!);
    const loadAverage = loads.reduce((a, b) => a + b, 0) / loads.length;
    out(`load average (1 min) over the phases: mean ${loadAverage.toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`);
    out(`node memory (${run.node === 'real' ? 'containerd, kubelet, kube-proxy, kube-scheduler, shims, containers' : 'supervisor with the node agent, Job processes, webhook + dispatcher'}; summed RSS sampled every 0.5 s): ` +
      `${memoryText(nodeIdle)} after start-up, peak ${memoryText(nodePeak)}` +
      `${nodePeak.cgroupMb !== undefined ? `; kubepods memory cgroup (containers with their page cache): ${nodeIdle.cgroupMb?.toFixed(0)} MB → peak ${nodePeak.cgroupMb.toFixed(0)} MB` : ''}`);
    return {
      node: run.node, sandboxUpS: run.sandboxUpS, roundTrip, dispatchSingle, applyToUrl, singleCost, singleSteps, paced,
      ...(realistic ? { realistic } : {}), ...(burstFigures ? { burst: burstFigures } : {}), nodeIdle, nodePeak, loadAverage,
    };

    async function burst(n: number): Promise<NonNullable<E2eFigures['burst']>> {
      await sandbox.waitJobsIdle(10 * 60_000);
      jobs.maxActive = jobs.active.size;
      const leader = await probe.leader();
      const before = memoryOf(leader.pid);
      const writesBefore = armWrites(sandbox.emulator.state() as Obj);
      const bucketWritesBefore = armBucketWrites(sandbox.emulator.state() as Obj);
      // ARM throttling enforced at the real bucket sizes for the burst (emulator/throttling.ts DEFAULT_THROTTLING).
      const throttling = sandbox.emulator.throttling as { configure(patch: unknown): unknown; config: { writes: { capacity: number; refillPerSecond: number } } };
      throttling.configure({ enabled: true });
      const bucket = throttling.config.writes;
      const names = Array.from({ length: n }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
      const t0 = performance.now();
      let peak = before.peakMb;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, memoryOf(leader.pid).rssMb);
        } catch {
          // the replica is gone (restarted): its successor's figures are not this process's
        }
      }, 250);
      // "At once": 20 concurrent writers, as a GitOps sync or a component install would create them.
      let nextIndex = 0;
      await Promise.all(Array.from({ length: 20 }, async () => {
        while (nextIndex < names.length) await create(names[nextIndex++]!);
      }));
      const createdS = (performance.now() - t0) / 1000;
      out(`  (${n} created in ${createdS.toFixed(1)} s through admission)`);
      const states = await sandbox.waitSettled(names.map((name) => ({ ns, name })), 30 * 60_000);
      const elapsedS = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      const after = memoryOf(leader.pid);
      const ready = Object.values(states).filter((s) => s === 'ready').length;
      const writes = armWrites(sandbox.emulator.state() as Obj) - writesBefore;
      const bucketWrites = armBucketWrites(sandbox.emulator.state() as Obj) - bucketWritesBefore;
      // The fastest any client could make these writes: the bucket's capacity at once, then its refill rate.
      const floorS = Math.max(0, bucketWrites - bucket.capacity) / bucket.refillPerSecond;
      const dispatch = names.flatMap((name) => [...jobSeen.entries()].filter(([k]) => k.startsWith(`${name}/`) && hashSeen.has(k)).map(([k, at]) => at - hashSeen.get(k)!));
      await sandbox.waitJobsIdle(10 * 60_000);
      const cap = await capNow();
      const logs = await jobLogs(names);
      const cost = costOf(logs);
      const steps = stepDurations(jobTimes(names, logs));
      const leaderFigures = { name: leader.name, beforeMb: before.rssMb, peakMb: Math.max(peak, after.peakMb), afterMb: after.rssMb };
      out('');
      out(`${n} ExposedAPIs created at once: ${ready}/${n} Ready in ${elapsedS.toFixed(1)} s (${(ready / elapsedS).toFixed(1)} APIs/s, at most ${jobs.maxActive} Jobs at a time; the adaptive cap is ${cap} at the end)`);
      out(`  ${costText(cost)}`);
      out(`  each Job: ${stepsText(steps)}`);
      out(`  webhook+dispatcher (${leader.name}, leading) RSS: before ${before.rssMb.toFixed(0)} MB, peak ${leaderFigures.peakMb.toFixed(0)} MB (target ≤ 200 MB), after ${after.rssMb.toFixed(0)} MB`);
      out(`  APIM writes: ${writes} for ${n} APIs = ${(writes / n).toFixed(2)} per API (PUT/PATCH/DELETE)`);
      out(`  ARM throttling on (writes bucket ${bucket.capacity}, refilled ${bucket.refillPerSecond}/s): ${bucketWrites} writes to the bucket (PUT/PATCH/POST), floor ${floorS.toFixed(0)} s; elapsed / floor = ${floorS > 0 ? (elapsedS / floorS).toFixed(2) : 'n/a (within the bucket)'} (target ≤ 1.5)`);
      out(`  hash visible → Job created during the burst (includes waiting for the cap): ${stats(dispatch)}`);
      return { n, ready, createdS, elapsedS, floorS, bucketWrites, writes, maxJobs: jobs.maxActive, cap, dispatch, cost, steps, leader: leaderFigures };
    }
  } finally {
    clearInterval(loadSampler);
    memory.stop();
    w1.stop();
    w2.stop();
    w3.stop();
    w4.abort();
  }

  /** The dispatcher's cap in force (its metric, from the leading replica). Its certificate is the sandbox's own. */
  async function capNow(): Promise<string> {
    const url = await probe.leader().then((l) => l.metricsUrl, (e: Error) => `error ${e.message}`);
    if (url.startsWith('error')) return `(unknown: ${url})`;
    const text = await new Promise<string>((resolve) => {
      get(url, { rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', (e) => resolve(`error ${e.message}`));
    });
    return /^exposedapi_apim_dispatcher_job_cap (\d+)$/m.exec(text)?.[1] ?? '(unknown)';
  }

  /** What each pod of these ExposedAPIs' Jobs logged about itself (job-timeline.ts executorLogTimes). */
  async function jobLogs(apiNames: string[]): Promise<PodLog[]> {
    const wanted = new Set(apiNames);
    const pods = (JSON.parse(await sandbox.lcp.k(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] }).items
      .filter((p) => wanted.has(p['metadata']?.['labels']?.[JOB_LABELS.name]));
    const out: PodLog[] = [];
    // A real node's logs come from kubelet through the apiserver, one request each: a few at a time.
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < pods.length) {
        const pod = pods[next++]!;
        const log = await sandbox.lcp.cp.podLog(OPERATOR_NAMESPACE, pod['metadata']['name']).catch(() => '');
        out.push({ api: pod['metadata']['labels'][JOB_LABELS.name], job: pod['metadata']['labels']['job-name'], pod: pod['metadata']['name'], ...executorLogTimes(log) });
      }
    }));
    return out;
  }

  /** Each Job of these ExposedAPIs, with the log times of its first pod. */
  function jobTimes(apiNames: string[], logs: PodLog[]): JobTimes[] {
    return apiNames.flatMap((api) => [...(jobsOfApi.get(api) ?? [])].map((job) => {
      const first = timeline.firstPodOf(job);
      const log = logs.find((l) => l.pod === first);
      return timeline.times(job, log ? { ...(log.firstLog !== undefined ? { firstLog: log.firstLog } : {}), ...(log.done !== undefined ? { done: log.done } : {}) } : {});
    }));
  }
}

interface PodLog {
  api: string;
  job: string;
  pod: string;
  firstLog?: number;
  done?: number;
  cpuS?: number;
  rssMb?: number;
}

const p99 = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 99);

/**
 * What each change cost, from the logs of its Jobs' pods: a change's CPU is the sum over its pods (a retried pod costs
 * again), its RSS the highest. Pods without a 'done' line (a process killed before it) are counted apart.
 */
function costOf(logs: PodLog[]): ChangeCost {
  const byChange = new Map<string, { cpuS: number; rssMb: number }>();
  let missing = 0;
  for (const l of logs) {
    if (l.cpuS === undefined || l.rssMb === undefined) {
      missing++;
      continue;
    }
    const prev = byChange.get(l.api) ?? { cpuS: 0, rssMb: 0 };
    byChange.set(l.api, { cpuS: prev.cpuS + l.cpuS, rssMb: Math.max(prev.rssMb, l.rssMb) });
  }
  return { cpuS: [...byChange.values()].map((c) => c.cpuS), rssMb: [...byChange.values()].map((c) => c.rssMb), missing };
}

/** Requests ARM draws from the writes bucket (emulator/throttling.ts requestKind: everything but GET, HEAD, DELETE). */
function armBucketWrites(state: Obj): number {
  const byPath: Record<string, number> = state['requests']?.['byPath'] ?? {};
  return Object.entries(byPath).filter(([k]) => /^(PUT|PATCH|POST) \/subscriptions\//.test(k)).reduce((n, [, v]) => n + v, 0);
}

function armWrites(state: Obj): number {
  const byPath: Record<string, number> = state['requests']?.['byPath'] ?? {};
  return Object.entries(byPath).filter(([k]) => /^(PUT|PATCH|DELETE) \/subscriptions\//.test(k)).reduce((n, [, v]) => n + v, 0);
}

/** CPU-seconds per change and the executor's peak RSS, as p50/p99/max, beside the issue 12 targets. */
function costText(c: ChangeCost): string {
  if (c.cpuS.length === 0) return `no Job logged its cost${c.missing ? ` (${c.missing} pods without a 'done' line)` : ''}`;
  const f = (xs: number[], digits: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return `p50 ${percentile(s, 50).toFixed(digits)}, p99 ${percentile(s, 99).toFixed(digits)}, max ${s[s.length - 1]!.toFixed(digits)}`;
  };
  return `CPU per change (user+sys of its Job's processes) ${f(c.cpuS, 2)} s (target ≤ 0.3 s); executor peak RSS ${f(c.rssMb, 0)} MB (target ≤ 80 MB); n=${c.cpuS.length}` +
    (c.missing ? `, ${c.missing} pods without a 'done' line` : '');
}

const memoryText = (m: NodeMemoryPeak) => `RSS ${m.rssMb.toFixed(0)} MB, PSS ${m.pssMb.toFixed(0)} MB (RSS: runtime ${m.runtimeMb.toFixed(0)} MB + pods ${m.podsMb.toFixed(0)} MB; ` +
  `${Object.entries(m.byCommand).sort((a, b) => b[1].mb - a[1].mb).map(([comm, c]) => `${comm}${c.count > 1 ? `×${c.count}` : ''} ${c.mb.toFixed(0)}`).join(', ')})`;

/** p50 of each step of a Job, in ms. */
function stepsText(steps: Record<JobStep, number[]>): string {
  const p50 = (xs: number[]) => (xs.length ? percentile([...xs].sort((a, b) => a - b), 50).toFixed(0) : '–');
  return `p50 ms: Job → pod ${p50(steps.jobToPod)}, pod → bound ${p50(steps.podToBound)}, bound → first log line ${p50(steps.boundToFirstLog)} ` +
    `(status running after ${p50(steps.boundToRunning)}), executor ${p50(steps.work)}, 'done' → Job Complete ${p50(steps.doneToComplete)}; ` +
    `Job created → Complete ${p50(steps.total)} (n=${steps.total.length})`;
}
