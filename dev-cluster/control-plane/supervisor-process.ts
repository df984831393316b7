// Starting and stopping the supervisor from another process (tap's before/after scripts, a test file running alone,
// the teardown tests). The supervisor runs detached, in its own session, so a Ctrl-C aimed at tap does not kill the
// components out of order; it watches its parent PID instead and tears down when that process is gone.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, readLiveState, supervisorLogFor, type ControlPlaneState } from './state-file.ts';

export const SUPERVISOR_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'supervisor.ts');

const ORIGINAL_NODE_OPTIONS = 'EXPOSEDAPI_APIM_ORIGINAL_NODE_OPTIONS';

/**
 * tap's process tracking (@tapjs/processinfo) hooks every spawn of the processes it runs and adds its loader to
 * NODE_OPTIONS plus _TAPJS_PROCESSINFO_* variables, with no opt-out. Inherited by the supervisor, that would instrument
 * the supervisor and every Node process the node agent starts for a pod (their environment would no longer be the
 * pod's, and tap would report coverage for them). So the supervisor starts from a shell that drops those variables
 * and restores the caller's own NODE_OPTIONS before exec'ing Node.
 */
const UNINSTRUMENTED = [
  `for v in $(env | sed -n 's/^\\(_TAPJS_PROCESSINFO_[A-Za-z0-9_]*\\)=.*/\\1/p'); do unset "$v"; done`,
  `if [ -n "$${ORIGINAL_NODE_OPTIONS}" ]; then NODE_OPTIONS="$${ORIGINAL_NODE_OPTIONS}"; export NODE_OPTIONS; else unset NODE_OPTIONS; fi`,
  `unset ${ORIGINAL_NODE_OPTIONS}`,
  'exec "$0" "$@"',
].join('\n');

/** NODE_OPTIONS minus tap's processinfo loader (`--import=<...@tapjs/processinfo...>` or `--import <...>`). */
export function withoutTapLoader(nodeOptions: string): string {
  const tokens = nodeOptions.split(/\s+/).filter(Boolean);
  const kept: string[] = [];
  for (const token of tokens) {
    if (/@tapjs[\\/]processinfo/.test(token)) {
      if (/^"?--(import|loader|experimental-loader)"?$/.test(kept.at(-1) ?? '')) kept.pop();
      continue;
    }
    kept.push(token);
  }
  return kept.join(' ');
}

export interface LaunchOptions {
  stateFile: string;
  /** Tear down when this process is gone (0: never; stop it with a signal). */
  parentPid: number;
  /** Extra supervisor flags, e.g. ['--ingress-address', 'off']. */
  args?: string[];
  /** Default 120 s: far above the few seconds start-up takes with cached binaries, below a cold build's minutes. */
  timeoutMs?: number;
  /**
   * Receives the supervisor's log lines while it starts (a first run's builds report their progress there), so a
   * caller can show that something is happening.
   */
  onProgress?: (line: string) => void;
}

export interface LaunchedSupervisor {
  state: ControlPlaneState;
  logPath: string;
}

export async function launchSupervisor(options: LaunchOptions): Promise<LaunchedSupervisor> {
  const logPath = supervisorLogFor(options.stateFile);
  await mkdir(dirname(options.stateFile), { recursive: true });
  const fd = openSync(logPath, 'w');
  // process.execPath: the supervisor, and through it the node agent's `exposedapi-apim` pods, run on the same pinned
  // Node as the caller (tap and the tests). Started through `sh`, see UNINSTRUMENTED.
  const child = spawn('/bin/sh', ['-c', UNINSTRUMENTED, process.execPath, SUPERVISOR_SCRIPT,
    '--state-file', options.stateFile, '--parent-pid', String(options.parentPid), ...(options.args ?? [])], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, [ORIGINAL_NODE_OPTIONS]: withoutTapLoader(process.env['NODE_OPTIONS'] ?? '') },
  });
  closeSync(fd);
  child.unref();
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `exited with ${code ?? signal}`));
  child.once('error', (err) => (exit = `failed to start: ${err.message}`));
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const progress = options.onProgress ? logFollower(logPath, options.onProgress) : () => {};
  for (;;) {
    progress();
    const state = await readLiveState(options.stateFile);
    if (state && state.supervisorPid === child.pid) {
      progress();
      return { state, logPath };
    }
    if (exit !== undefined) {
      throw new Error(`control plane supervisor ${exit} before it was ready; its log (${logPath}) ends with:\n${tail(logPath)}`);
    }
    if (Date.now() > deadline) {
      if (child.pid !== undefined) await stopProcess(child.pid, 30_000);
      throw new Error(`control plane supervisor not ready after ${options.timeoutMs ?? 120_000} ms; log ${logPath}:\n${tail(logPath)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads what was appended to the log since the last call and passes on each whole line (without the supervisor's prefix). */
function logFollower(path: string, onLine: (line: string) => void): () => void {
  let offset = 0;
  let partial = '';
  return () => {
    let text: string;
    try {
      const buf = readFileSync(path);
      text = buf.subarray(offset).toString('utf8');
      offset = buf.length;
    } catch {
      return;
    }
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line.replace(/^\[supervisor [^\]]+\] /, ''));
  };
}

/** SIGTERM the supervisor and wait until it (and so its components) are gone; SIGKILL everything it owned on timeout. */
export async function stopSupervisor(state: ControlPlaneState, timeoutMs = 60_000): Promise<void> {
  if (await stopProcess(state.supervisorPid, timeoutMs)) return;
  // The supervisor hung: end the components it started, by their PIDs, so at least nothing keeps running.
  const node = state.realNode?.pids;
  const nodePids = node ? [node.kubeProxy, node.kubelet, node.scheduler, node.containerd] : [];
  for (const pid of [...nodePids, state.pids.controllerManager, state.pids.apiserver, state.pids.etcd]) kill(pid, 'SIGKILL');
  throw new Error(`control plane supervisor ${state.supervisorPid} did not stop within ${timeoutMs} ms; killed it and its components`);
}

async function stopProcess(pid: number, timeoutMs: number): Promise<boolean> {
  kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      kill(pid, 'SIGKILL');
      return false;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
