// An IPv4 address of the run's own, for servers that a Kubernetes object must name: EndpointSlices refuse loopback
// addresses, and the machine's interface address (eth0's) is off limits — a run's traffic goes only to loopback or to
// network namespaces it creates. So the run creates one: a network namespace holding one end of a veth pair, the
// other end on the host with the first address of a /30 from 10.254.0.0/16. A server bound to that address is
// reached by local processes (the kernel delivers it as local traffic), and nothing routes it anywhere else.
//
// Why a veth and not an extra address on `lo`: deleting the namespace takes the veth pair and its address with it, so
// one command undoes a run, and `ip netns list` / `ip link` show who made what. (`dummy` links, the lighter choice,
// are not available on every machine the tests run on.)
//
// Several runs share a machine (sandboxes, test files of one tap run): each /30 is claimed by creating its record
// file exclusively (O_EXCL) in RUN_ADDRESS_DIR, naming the owner's PID and process start time, the namespace and the
// link. A run removes its own at stop (and at process exit); a record whose owner is gone is cleaned up by the next
// claim, so a killed run leaves nothing behind for long.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './control-plane/state-file.ts';
import { overlaps, toInt, usedNetworks } from './node/pod-network.ts';

export const RUN_ADDRESS_DIR = process.env['EXPOSEDAPI_APIM_RUN_ADDRESS_DIR'] ?? '/run/exposedapi-apim/run-addresses';

/** Clear of the pod networks (10.244.0.0/16, pod-network.ts) and the Service range (10.0.0.0/24). */
const RANGE = '10.254.0.0';

export interface RunAddressRecord {
  pid: number;
  /** /proc/<pid>/stat starttime, so a reused PID is not taken for the owner. */
  pidStart: string;
  startedAt: string;
  /** The /30, e.g. 10.254.7.20/30; the host side has .21, the namespace side .22. */
  subnet: string;
  address: string;
  netns: string;
  link: string;
}

export interface RunAddress {
  address: string;
  record: RunAddressRecord;
  /** Removes the namespace, the veth pair and the record; idempotent, synchronous (usable in an exit handler). */
  release(): void;
}

export interface RunAddressOptions {
  /** Where the claims are recorded (default RUN_ADDRESS_DIR). */
  dir?: string;
  log?: (line: string) => void;
  /** The iproute2 command (default `ip` on PATH). */
  ip?: string;
}

/** Why the run cannot have an address of its own, with what fixes it. */
export class RunAddressError extends Error {
  override name = 'RunAddressError';
}

function run(ip: string, args: string[]): { ok: boolean; out: string; missing: boolean } {
  const r = spawnSync(ip, args, { encoding: 'utf8', timeout: 30_000 });
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { ok: r.status === 0, out: `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim(), missing };
}

function pidStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

const ownerAlive = (r: RunAddressRecord): boolean => isAlive(r.pid) && (r.pidStart === '' || pidStart(r.pid) === r.pidStart);

const fromInt = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

function readRecords(dir: string): { file: string; record: RunAddressRecord | undefined }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => {
    const file = join(dir, n);
    try {
      return { file, record: JSON.parse(readFileSync(file, 'utf8')) as RunAddressRecord };
    } catch {
      // Being written by its owner right now (or torn by a crash): left to its owner, or to the next start.
      return { file, record: undefined };
    }
  });
}

/** Deletes what a record names; "already gone" is success, so two runs cleaning the same leftovers do not fail. */
function remove(ip: string, record: RunAddressRecord, file: string): string[] {
  const problems: string[] = [];
  const ns = run(ip, ['netns', 'del', record.netns]);
  if (!ns.ok && !/No such file|does not exist|Cannot find/i.test(ns.out)) problems.push(`ip netns del ${record.netns}: ${ns.out}`);
  // The host end goes with its peer; deleting it is for a run killed between creating the pair and moving it.
  const link = run(ip, ['link', 'del', record.link]);
  if (!link.ok && !/Cannot find device|does not exist/i.test(link.out)) problems.push(`ip link del ${record.link}: ${link.out}`);
  if (problems.length === 0) rmSync(file, { force: true });
  return problems;
}

/** Removes the namespaces and links of runs that died without releasing their address. */
export function cleanDeadRuns(options: RunAddressOptions = {}): RunAddressRecord[] {
  const dir = options.dir ?? RUN_ADDRESS_DIR;
  const ip = options.ip ?? 'ip';
  const cleaned: RunAddressRecord[] = [];
  for (const { file, record } of readRecords(dir)) {
    if (!record || ownerAlive(record)) continue;
    const problems = remove(ip, record, file);
    if (problems.length) options.log?.(`run address: leftovers of PID ${record.pid} (${record.address}) not removed: ${problems.join('; ')}`);
    else {
      options.log?.(`run address: removed ${record.address} (namespace ${record.netns}) left by PID ${record.pid}, which is gone`);
      cleaned.push(record);
    }
  }
  return cleaned;
}

/**
 * Gives this process an address of its own (see the top of the file). Throws RunAddressError naming the fix when it
 * cannot: callers that only need local reachability may then use 127.0.0.1; callers that put the address into an
 * EndpointSlice cannot, and must not fall back to the machine's interface address either.
 */
export function claimRunAddress(options: RunAddressOptions = {}): RunAddress {
  const dir = options.dir ?? RUN_ADDRESS_DIR;
  const ip = options.ip ?? 'ip';
  if (process.getuid?.() !== 0) {
    throw new RunAddressError(`a run address needs root (creating a network namespace and a veth pair); this process runs as uid ${process.getuid?.()}: run it as root`);
  }
  const probe = run(ip, ['netns', 'list']);
  if (probe.missing) throw new RunAddressError(`a run address needs iproute2's \`${ip}\`, which is not installed: apt-get install -y iproute2`);
  if (!probe.ok) throw new RunAddressError(`\`${ip} netns list\` failed (${probe.out}): a run address needs network namespaces (Linux, root)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  cleanDeadRuns({ ...options, dir, ip });

  const used = usedNetworks();
  for (let attempt = 0; attempt < 64; attempt++) {
    const base = toInt(RANGE) + randomInt(1, 16384) * 4;
    if (used.some(([n, p]) => overlaps(base, 30, n, p))) continue;
    const id = randomBytes(4).toString('hex');
    const record: RunAddressRecord = {
      pid: process.pid, pidStart: pidStart(process.pid), startedAt: new Date().toISOString(),
      subnet: `${fromInt(base)}/30`, address: fromInt(base + 1),
      // Interface names are at most 15 bytes.
      netns: `eaa-run-${id}`, link: `ear-${id}`,
    };
    const file = join(dir, `${fromInt(base)}.json`);
    try {
      // The claim: the record before anything exists, so whatever a crash leaves behind is named in it.
      writeFileSync(file, JSON.stringify(record), { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    const release = () => {
      const problems = remove(ip, record, file);
      if (problems.length) options.log?.(`run address: releasing ${record.address}: ${problems.join('; ')}`);
      process.removeListener('exit', release);
    };
    const steps = [
      ['netns', 'add', record.netns],
      ['link', 'add', record.link, 'type', 'veth', 'peer', 'name', 'peer', 'netns', record.netns],
      ['addr', 'add', `${record.address}/30`, 'dev', record.link],
      ['link', 'set', record.link, 'up'],
      ['-n', record.netns, 'link', 'set', 'peer', 'up'],
      ['-n', record.netns, 'addr', 'add', `${fromInt(base + 2)}/30`, 'dev', 'peer'],
    ];
    for (const args of steps) {
      const r = run(ip, args);
      if (!r.ok) {
        release();
        throw new RunAddressError(`\`${ip} ${args.join(' ')}\` failed (${r.out}): a run address needs network namespaces and veth links (Linux, root)`);
      }
    }
    process.on('exit', release);
    return { address: record.address, record, release };
  }
  throw new RunAddressError(`no free /30 in ${RANGE}/16 after 64 tries (claims in ${dir}, networks on this machine's interfaces and routes): remove stale claims or eaa-run-* namespaces (ip netns del <name>)`);
}
