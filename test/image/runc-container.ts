// Runs the operator image as a container with runc, restricted the way manifests/base and the executor's Job template
// restrict it (dispatcher/job-manifest.ts): uid/gid from the image (65532), a read-only root filesystem with an
// emptyDir-like tmpfs on /tmp, no capabilities, no new privileges, containerd's RuntimeDefault seccomp profile, and
// the masked and read-only /proc paths a container runtime sets. Only the network namespace is the host's: the
// container talks to servers the test runs on loopback (as a hostNetwork pod would).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeccompProfile } from './runtime-default-seccomp.ts';

/** The part of an OCI image config that says how a container starts. */
export interface ImageRunConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  WorkingDir: string;
}

export interface BindMount {
  source: string;
  destination: string;
}

export interface ContainerOptions {
  /** runc's state folder (--root). */
  stateDir: string;
  /** A folder of its own for this container's config.json. */
  bundleDir: string;
  /** The unpacked image (shared by containers: mounted read-only). */
  rootfs: string;
  image: ImageRunConfig;
  /** Replaces the image's Entrypoint, as a Pod's `command` does. */
  entrypoint?: string[];
  /** Replaces the image's Cmd, as a Pod's `args` does. */
  args?: string[];
  /** Added to the image's Env, as a container's `env` is. */
  env?: Record<string, string>;
  /** Read-only bind mounts (the ServiceAccount token, a ConfigMap, a file under test). */
  mounts?: BindMount[];
  seccomp: SeccompProfile;
}

export interface ContainerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const NO_CAPABILITIES = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };

export function restrictedConfig(o: ContainerOptions): Record<string, unknown> {
  const [uid, gid] = o.image.User.split(':').map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`the image's User must be numeric uid:gid (runAsNonRoot cannot check a name), got ${JSON.stringify(o.image.User)}`);
  const env = new Map(o.image.Env.map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]));
  for (const [k, v] of Object.entries(o.env ?? {})) env.set(k, v);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid, gid },
      args: [...(o.entrypoint ?? o.image.Entrypoint), ...(o.args ?? (o.entrypoint ? [] : o.image.Cmd))],
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: o.image.WorkingDir || '/',
      capabilities: NO_CAPABILITIES,
      noNewPrivileges: true,
    },
    root: { path: o.rootfs, readonly: true },
    hostname: 'exposedapi-apim',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      // The Job's and the Deployment's emptyDir on /tmp (the only writable place).
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
      ...(o.mounts ?? []).map((m) => ({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'ro', 'nosuid', 'nodev'] })),
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      seccomp: o.seccomp,
    },
  };
}

let sequence = 0;

/**
 * Starts the container (`runc run`, in the foreground, its stdio piped to us); `kill()` stops it by its id, `stop()`
 * as the kubelet does: SIGTERM, then SIGKILL after `graceMs`.
 */
export function startContainer(o: ContainerOptions): { id: string; child: ChildProcess; done: Promise<ContainerResult>; kill: () => void; stop: (graceMs?: number) => Promise<ContainerResult> } {
  mkdirSync(o.bundleDir, { recursive: true });
  mkdirSync(o.stateDir, { recursive: true });
  writeFileSync(join(o.bundleDir, 'config.json'), JSON.stringify(restrictedConfig(o), null, 2));
  const id = `exposedapi-apim-${process.pid}-${++sequence}`;
  const started = performance.now();
  const child = spawn('runc', ['--root', o.stateDir, 'run', '--bundle', o.bundleDir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<ContainerResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      // A container whose runc was killed may stay behind in runc's state: remove it by its id.
      spawnSync('runc', ['--root', o.stateDir, 'delete', '--force', id], { stdio: 'ignore' });
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
  const kill = (): void => {
    spawnSync('runc', ['--root', o.stateDir, 'kill', id, 'KILL'], { stdio: 'ignore' });
    spawnSync('runc', ['--root', o.stateDir, 'delete', '--force', id], { stdio: 'ignore' });
  };
  const stop = async (graceMs = 10_000): Promise<ContainerResult> => {
    spawnSync('runc', ['--root', o.stateDir, 'kill', id, 'TERM'], { stdio: 'ignore' });
    const timer = setTimeout(kill, graceMs);
    return done.finally(() => clearTimeout(timer));
  };
  return { id, child, done, kill, stop };
}

/** Stops and removes every container in runc's state folder `stateDir` (a test's own): for an exit half-way. */
export function removeContainers(stateDir: string): void {
  const ids = spawnSync('runc', ['--root', stateDir, 'list', '--quiet'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
  for (const id of ids) spawnSync('runc', ['--root', stateDir, 'delete', '--force', id], { stdio: 'ignore' });
}

export function runContainer(o: ContainerOptions, timeoutMs = 120_000): Promise<ContainerResult> {
  const c = startContainer(o);
  const timer = setTimeout(c.kill, timeoutMs);
  return c.done.finally(() => clearTimeout(timer));
}
