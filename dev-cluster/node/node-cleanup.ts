// Undoing what a real node leaves on the machine when its processes stop, in the order that works: containers first
// (their tasks killed and deleted through containerd, so runc removes their cgroups and mounts), then containerd's
// shims still attached to its socket, kube-proxy's iptables rules (`kube-proxy --cleanup`) and kubelet's canary chains,
// every mount under the node directory (kubelet bind-mounts its root onto itself and mounts pod volumes; containerd
// mounts network namespaces and snapshots), and the bridge. Each step reports what failed instead of stopping the rest,
// because a half-cleaned machine is worse than a logged warning.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { deleteBridge } from './pod-network.ts';

type Log = (line: string) => void;

function run(command: string, args: string[], timeoutMs = 60_000): { ok: boolean; out: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** Kills and deletes every task, then every container, in containerd's k8s.io namespace (the pods' containers). */
export function removeContainers(ctr: string, socket: string, log: Log): void {
  const base = ['--address', socket, '--namespace', 'k8s.io'];
  const tasks = run(ctr, [...base, 'tasks', 'list', '--quiet'], 30_000);
  if (!tasks.ok) {
    log(`node clean-up: listing containerd tasks failed (${tasks.out}); shims are stopped by PID below`);
    return;
  }
  for (const id of tasks.out.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const r = run(ctr, [...base, 'tasks', 'delete', '--force', id], 30_000);
    if (!r.ok && !/not found/i.test(r.out)) log(`node clean-up: ctr tasks delete --force ${id}: ${r.out}`);
  }
  const containers = run(ctr, [...base, 'containers', 'list', '--quiet'], 30_000);
  const ids = containers.ok ? containers.out.split('\n').map((l) => l.trim()).filter(Boolean) : [];
  if (ids.length) {
    const r = run(ctr, [...base, 'containers', 'delete', ...ids], 60_000);
    if (!r.ok) log(`node clean-up: ctr containers delete: ${r.out}`);
  }
}

/** PIDs of containerd shims serving the containerd at `socket` (found by their -address argument). */
export function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!/containerd-shim/.test(argv[0] ?? '')) continue;
    const i = argv.indexOf('-address');
    if (i >= 0 && argv[i + 1] === socket) pids.push(Number(entry));
  }
  return pids;
}

export function killShims(socket: string, log: Log): void {
  for (const pid of shimPids(socket)) {
    try {
      process.kill(pid, 'SIGKILL');
      log(`node clean-up: killed containerd shim ${pid} left on ${socket}`);
    } catch {
      // gone already
    }
  }
}

/**
 * kube-proxy's own clean-up of its rules, then the chains kubelet creates in both address families (KUBE-FIREWALL with
 * its INPUT/OUTPUT jumps, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT), which no clean-up command removes. Only one real
 * node runs on a machine (node-lock.ts) and nothing else here writes KUBE-* chains, so every one of them is the node's.
 */
export function removeKubeRules(kubeProxy: string, log: Log): void {
  const r = run(kubeProxy, ['--cleanup', '--v=0'], 60_000);
  if (!r.ok) log(`node clean-up: kube-proxy --cleanup: ${r.out.split('\n').slice(-3).join(' ')}`);
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const listed = run(tool, ['-w', '5', '-t', table, '-S'], 10_000);
      if (!listed.ok) continue;
      const lines = listed.out.split('\n');
      const chains = lines.filter((l) => /^-N KUBE-/.test(l)).map((l) => l.slice(3).trim());
      if (chains.length === 0) continue;
      // Jumps from the built-in chains first: a chain still referenced cannot be deleted.
      for (const rule of lines.filter((l) => /^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-/.test(l))) {
        const del = run(tool, ['-w', '5', '-t', table, '-D', ...splitRule(rule.slice(3))], 10_000);
        if (!del.ok) log(`node clean-up: ${tool} -t ${table} -D ${rule.slice(3)}: ${del.out}`);
      }
      for (const c of chains) run(tool, ['-w', '5', '-t', table, '-F', c], 10_000);
      for (const c of chains) {
        const x = run(tool, ['-w', '5', '-t', table, '-X', c], 10_000);
        if (!x.ok) log(`node clean-up: ${tool} -t ${table} -X ${c}: ${x.out}`);
      }
    }
  }
}

/** An `iptables -S` rule as arguments (quoted comments stay one argument). */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo, whose octal escapes are decoded). */
export function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const points = text.split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return [...new Set(points.filter((p) => p === dir || p.startsWith(`${dir}/`)))].sort((a, b) => b.length - a.length);
}

export function unmountUnder(dir: string, log: Log): void {
  // A bind mount of the kubelet root onto itself appears once per propagation peer: repeat until nothing is left.
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      if (!run('umount', [p], 30_000).ok) run('umount', ['--lazy', p], 30_000);
    }
  }
  const left = mountsUnder(dir);
  if (left.length) log(`node clean-up: still mounted after five rounds: ${left.join(', ')}`);
}

/** Removes the empty pod cgroups kubelet leaves under `kubepods` in each v1 controller (a next kubelet starts clean). */
export function removeKubepodsCgroups(log: Log): void {
  const removeTree = (path: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) removeTree(join(path, e));
    try {
      rmdirSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') log(`node clean-up: cgroup ${path} kept (${code}: something still runs in it)`);
    }
  };
  let controllers: string[];
  try {
    controllers = readdirSync('/sys/fs/cgroup');
  } catch {
    return;
  }
  for (const c of controllers) removeTree(join('/sys/fs/cgroup', c, 'kubepods'));
}

/**
 * What is still on the machine after a clean-up, checked by the node itself before it releases the node lock (after
 * that, another run's node may create the same chains and cgroups): an empty list means the machine is as it was.
 */
export function leftoversOnMachine(options: { bridge?: string; nodeDir?: string; socket?: string; tunables?: Record<string, string>; readTunables: () => Record<string, string> }): string[] {
  const left: string[] = [];
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const rules = run(tool, [], 30_000).out.split('\n').filter((l) => /KUBE-/.test(l));
    if (rules.length) left.push(`${rules.length} KUBE-* lines in ${tool} (${rules.slice(0, 3).join(' | ')})`);
  }
  if (options.tunables) {
    const now = options.readTunables();
    const changed = Object.entries(options.tunables).filter(([k, v]) => now[k] !== v).map(([k, v]) => `${k}=${now[k]} (was ${v})`);
    if (changed.length) left.push(`kernel settings ${changed.join(', ')}`);
  }
  try {
    const kubepods = readdirSync('/sys/fs/cgroup').filter((c) => {
      try {
        return readdirSync(join('/sys/fs/cgroup', c)).includes('kubepods');
      } catch {
        return false;
      }
    });
    if (kubepods.length) left.push(`kubepods cgroups in ${kubepods.join(', ')}`);
  } catch {
    // no cgroup file system
  }
  if (options.nodeDir) {
    const mounts = mountsUnder(options.nodeDir);
    if (mounts.length) left.push(`mounts ${mounts.join(', ')}`);
  }
  if (options.bridge && run('ip', ['link', 'show', options.bridge], 10_000).ok) left.push(`bridge ${options.bridge}`);
  if (options.socket) {
    const shims = shimPids(options.socket);
    if (shims.length) left.push(`containerd shims ${shims.join(', ')}`);
  }
  return left;
}

/** The line the node logs after its clean-up; tests look for it. */
export const CLEAN_MACHINE = 'real node: clean-up verified: no KUBE-* rules, kernel settings as before, no kubepods cgroups, nothing mounted, bridge deleted, no shims';

export { deleteBridge };
