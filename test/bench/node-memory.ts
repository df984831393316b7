// The memory of "the node" — what runs pods, and the pods — measured the same way for both nodes: the summed resident
// set (RSS) of its processes, sampled from /proc. Summed RSS counts pages shared between processes once per process
// (every container's Node maps the same binary), so it is an upper bound of what the node holds; it is what can be
// compared across the two nodes, since the node agent's pods are not in a cgroup of their own.
//
//   process mode: the runtime is the supervisor process (the node agent runs inside it); the pods are its children
//                 but the control plane's (etcd, kube-apiserver, kube-controller-manager), i.e. the Job processes,
//                 plus the webhook + dispatcher processes (the real node runs them as pods);
//   real node:    the runtime is containerd, kubelet, kube-proxy, kube-scheduler and the containerd shims on the
//                 node's socket; the pods are their children (every container: the webhook pods, the Jobs, the pause
//                 containers; a command kube-proxy runs for a moment counts there too).
//
// Beside it, the summed proportional set size (PSS: a page shared by n processes counts 1/n in each; the pages shared
// with processes outside the node, such as the Node binary the bench itself runs in process mode, count in part), and
// for the real node the kubepods memory cgroup (cgroup v1: usage_in_bytes, which also counts the page cache the pods
// caused).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcEntry {
  pid: number;
  ppid: number;
  /** The command's name (/proc/<pid>/comm: at most 15 characters, e.g. containerd-shim). */
  comm: string;
  rssKb: number;
}

/** /proc/<pid>/stat counts RSS in pages: 4 KiB on x86-64, up to 64 KiB on some arm64 kernels. */
const PAGE_KB = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout.trim() || 4096) / 1024;

/** Every process on the machine with its parent and RSS (/proc/<pid>/stat; the comm field may hold spaces). */
export function readProcTable(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state ppid … ; rss (pages) is field 24 of stat, index 21 here.
    out.push({ pid: Number(entry), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), rssKb: Number(fields[21]) * PAGE_KB });
  }
  return out;
}

/** The node's members, as node-probe.ts names them: runtime processes, whose descendants are pods; pod processes. */
export interface NodeMembers {
  runtime: number[];
  pods: number[];
  excluded: number[];
}

/** Runtime processes themselves, and the pods: every descendant of a runtime process and the pod roots' trees. */
export function nodeProcesses(table: ProcEntry[], members: NodeMembers): { runtime: ProcEntry[]; pods: ProcEntry[] } {
  const children = new Map<number, ProcEntry[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const skip = new Set(members.excluded);
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const seen = new Set<number>();
  const runtime: ProcEntry[] = [];
  const pods: ProcEntry[] = [];
  const take = (pid: number, into: ProcEntry[]) => {
    const p = byPid.get(pid);
    if (!p || skip.has(pid) || seen.has(pid)) return;
    seen.add(pid);
    into.push(p);
  };
  for (const pid of members.runtime) take(pid, runtime);
  const stack = [...members.pods, ...runtime.flatMap((r) => (children.get(r.pid) ?? []).map((c) => c.pid))];
  while (stack.length) {
    const pid = stack.pop()!;
    const before = pods.length;
    take(pid, pods);
    if (pods.length > before) for (const c of children.get(pid) ?? []) stack.push(c.pid);
  }
  return { runtime, pods };
}

function byCommand(ps: ProcEntry[]): Record<string, { count: number; mb: number }> {
  const out: Record<string, { count: number; mb: number }> = {};
  for (const p of ps) {
    const entry = (out[p.comm] ??= { count: 0, mb: 0 });
    entry.count++;
    entry.mb += p.rssKb / 1024;
  }
  return out;
}

/**
 * Proportional set size in KiB (/proc/<pid>/smaps_rollup): a page shared by n processes counts 1/n in each, so PSS
 * sums to what the processes hold together. 0 for a process gone meanwhile.
 */
export function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The kubepods memory cgroup's usage in MB, or undefined where there is none (the node agent, cgroup v2). */
export function kubepodsCgroupMb(root = '/sys/fs/cgroup/memory/kubepods'): number | undefined {
  try {
    return Number(readFileSync(`${root}/memory.usage_in_bytes`, 'utf8').trim()) / 1024 / 1024;
  } catch {
    return undefined;
  }
}

export interface NodeMemoryPeak {
  /** Highest summed RSS seen, MB; how much of it was the runtime's and the pods' then, and how many processes. */
  rssMb: number;
  /** Highest summed PSS seen, MB (shared pages split between the processes sharing them). */
  pssMb: number;
  runtimeMb: number;
  podsMb: number;
  processes: number;
  /** At that peak, per command name: how many processes and their summed RSS in MB. */
  byCommand: Record<string, { count: number; mb: number }>;
  /** Highest kubepods cgroup usage seen, MB (real node only). */
  cgroupMb?: number;
}

/**
 * Samples the node's memory every `everyMs` (default 500) until stopped. `members` says, at each sample, which
 * processes make up the node (pods come and go); the peak is of the sums, not a sum of each process's own peak.
 */
export function sampleNodeMemory(options: { members: () => NodeMembers; cgroup: boolean; everyMs?: number }): { peak(): NodeMemoryPeak; stop(): NodeMemoryPeak } {
  const peak: NodeMemoryPeak = { rssMb: 0, pssMb: 0, runtimeMb: 0, podsMb: 0, processes: 0, byCommand: {} };
  const mb = (ps: ProcEntry[]) => ps.reduce((n, p) => n + p.rssKb, 0) / 1024;
  const sample = () => {
    const { runtime, pods } = nodeProcesses(readProcTable(), options.members());
    const rssMb = mb(runtime) + mb(pods);
    peak.pssMb = Math.max(peak.pssMb, [...runtime, ...pods].reduce((n, p) => n + pssKb(p.pid), 0) / 1024);
    if (rssMb > peak.rssMb) Object.assign(peak, { rssMb, runtimeMb: mb(runtime), podsMb: mb(pods), processes: runtime.length + pods.length, byCommand: byCommand([...runtime, ...pods]) });
    // Only the real node's: another run's real node may own the machine's kubepods cgroup during a process-mode run.
    const cgroup = options.cgroup ? kubepodsCgroupMb() : undefined;
    if (cgroup !== undefined) peak.cgroupMb = Math.max(peak.cgroupMb ?? 0, cgroup);
  };
  sample();
  const timer = setInterval(sample, options.everyMs ?? 500);
  return {
    peak: () => ({ ...peak }),
    stop: () => {
      clearInterval(timer);
      sample();
      return { ...peak };
    },
  };
}
