// How many CPUs this process may really use. os.availableParallelism() counts the CPUs in the affinity mask (a cpuset),
// but not a CFS quota: a pod with `limits.cpu: 1` on a 16-core node sees 16 there and would be throttled to one CPU's
// time per period. The quota lives in the cgroup: cgroup v2 `cpu.max` ("<quota> <period>" or "max <period>",
// https://docs.kernel.org/admin-guide/cgroup-v2.html#cpu-interface-files), cgroup v1 `cpu.cfs_quota_us` (-1 = none)
// over `cpu.cfs_period_us` (https://docs.kernel.org/scheduler/sched-bwc.html). Hybrid hosts mount both; the CPU
// controller then sits on the v1 hierarchy.
//
// The process's cgroup is found the way the Go runtime does it (runtime/cgroup_linux.go): its path from
// /proc/self/cgroup, made relative to the mount's root from /proc/self/mountinfo. Unlike Go, every visible ancestor
// up to the mount point counts too, and the smallest limit wins: the kernel enforces a parent's quota on its children
// (golang/go#81180 shows a parent's limit missed).
//
// Everything below except readCgroupCpuLimit is pure and takes file contents, so it is table-tested without a cgroup.
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';

export interface CgroupMount {
  /** The cgroup path that the mount point shows (the "root" field of mountinfo; "/" with a cgroup namespace). */
  root: string;
  mountPoint: string;
}

/** /proc/self/cgroup: "<id>:<controllers>:<path>" per line; v2 is "0::<path>", v1's CPU line lists "cpu". */
export function cgroupMembership(procSelfCgroup: string): { v2?: string; v1Cpu?: string } {
  const out: { v2?: string; v1Cpu?: string } = {};
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, path] = m as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') out.v2 = path;
    else if (controllers.split(',').includes('cpu')) out.v1Cpu = path;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as octal (proc(5)).
const unescapeMountPath = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** /proc/self/mountinfo (proc(5)): "<id> <parent> <maj:min> <root> <mount point> <options> [optional…] - <fstype> <source> <super options>". */
export function cgroupMounts(mountinfo: string): { v2?: CgroupMount; v1Cpu?: CgroupMount } {
  const out: { v2?: CgroupMount; v1Cpu?: CgroupMount } = {};
  for (const line of mountinfo.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-');
    if (dash < 5 || fields.length < dash + 4) continue;
    const fstype = fields[dash + 1];
    const mount = { root: unescapeMountPath(fields[3]!), mountPoint: unescapeMountPath(fields[4]!) };
    if (fstype === 'cgroup2') out.v2 ??= mount;
    else if (fstype === 'cgroup' && fields[dash + 3]!.split(',').includes('cpu')) out.v1Cpu ??= mount;
  }
  return out;
}

/**
 * The directories of the process's cgroup and its ancestors that the mount shows, innermost first. A path outside
 * the mount's root (a container without a cgroup namespace that sees only its own cgroup at the mount point) gives
 * just the mount point, which is then the process's own cgroup.
 */
export function cgroupDirs(mount: CgroupMount, cgroupPath: string): string[] {
  const root = mount.root === '/' ? '' : mount.root.replace(/\/+$/, '');
  const base = mount.mountPoint.replace(/\/+$/, '');
  if (root !== '' && cgroupPath !== root && !cgroupPath.startsWith(`${root}/`)) return [base || '/'];
  const segments = cgroupPath.slice(root.length).split('/').filter(Boolean);
  const dirs: string[] = [];
  for (let n = segments.length; n >= 0; n--) dirs.push([base, ...segments.slice(0, n)].join('/') || '/');
  return dirs;
}

/** cgroup v2 cpu.max → CPUs (quota / period), or undefined for "max" or text that is not a limit. */
export function cpuLimitV2(cpuMax: string | undefined): number | undefined {
  const m = /^(\d+|max)(?:\s+(\d+))?\s*$/.exec((cpuMax ?? '').trim());
  if (!m || m[1] === 'max') return undefined;
  const period = Number(m[2] ?? 100_000); // the kernel's default period when only the quota is written
  const quota = Number(m[1]);
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/** cgroup v1 cpu.cfs_quota_us over cpu.cfs_period_us → CPUs, or undefined for -1 (no quota) or unreadable files. */
export function cpuLimitV1(quotaUs: string | undefined, periodUs: string | undefined): number | undefined {
  const quota = Number((quotaUs ?? '').trim());
  const period = Number((periodUs ?? '').trim());
  // Number('') is 0, so an empty or absent file counts as no quota, like -1.
  if (!Number.isInteger(quota) || !Number.isInteger(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

export interface CpuLimit {
  /** The smallest quota in CPUs (may be fractional), or undefined when no cgroup sets one. */
  cpus?: number;
  /** The file that set it, for the log. */
  source?: string;
}

/**
 * The CPU quota of the process, from its cgroup files. `read` returns a file's contents or undefined when it is
 * absent; v2 and v1 are both consulted (a hybrid host may have either hold the CPU controller) and the smaller wins.
 */
export function cgroupCpuLimit(read: (path: string) => string | undefined): CpuLimit {
  const membership = cgroupMembership(read('/proc/self/cgroup') ?? '');
  const mounts = cgroupMounts(read('/proc/self/mountinfo') ?? '');
  let best: CpuLimit = {};
  const consider = (cpus: number | undefined, source: string) => {
    if (cpus !== undefined && (best.cpus === undefined || cpus < best.cpus)) best = { cpus, source };
  };
  if (mounts.v2 && membership.v2 !== undefined) {
    for (const dir of cgroupDirs(mounts.v2, membership.v2)) consider(cpuLimitV2(read(`${dir}/cpu.max`)), `${dir}/cpu.max`);
  }
  if (mounts.v1Cpu && membership.v1Cpu !== undefined) {
    for (const dir of cgroupDirs(mounts.v1Cpu, membership.v1Cpu)) {
      consider(cpuLimitV1(read(`${dir}/cpu.cfs_quota_us`), read(`${dir}/cpu.cfs_period_us`)), `${dir}/cpu.cfs_quota_us`);
    }
  }
  return best;
}

/**
 * Whole CPUs to plan parallel work for: the affinity count, lowered to the quota. A fractional quota rounds up (as
 * the Go runtime's GOMAXPROCS default does; golang/go#76835 argues for rounding down): 1.5 CPUs still run a second
 * worker part of each period, and the checks are short bursts rather than sustained load.
 */
export function usableCpus(available: number, limit: CpuLimit): number {
  const quota = limit.cpus === undefined ? Infinity : Math.ceil(limit.cpus);
  return Math.max(1, Math.min(available, quota));
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // no such file: not Linux, no cgroup mount, or a controller not mounted
  }
}

/** The CPUs this process may use: availableParallelism() lowered to the cgroup quota. */
export function readUsableCpus(): { cpus: number; available: number; limit: CpuLimit } {
  const available = availableParallelism();
  const limit = cgroupCpuLimit(readIfPresent);
  return { cpus: usableCpus(available, limit), available, limit };
}
