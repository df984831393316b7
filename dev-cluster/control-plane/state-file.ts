// The contract between the supervisor (which owns the control plane) and test files (which only use it): a JSON file
// at a known place. tap runs the `before` script and every test file as children of one runner process, so the file is
// named after that runner's PID: each test file finds its run's plane through process.ppid, and two tap runs in the
// same checkout never share (or stop) each other's plane. EXPOSEDAPI_APIM_CONTROL_PLANE_STATE names a file explicitly.
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const STATE_ENV = 'EXPOSEDAPI_APIM_CONTROL_PLANE_STATE';

export interface ControlPlaneState {
  version: 1;
  supervisorPid: number;
  /** The supervisor tears everything down when this process is gone. */
  parentPid: number;
  runDir: string;
  kubeconfigPath: string;
  caPath: string;
  server: string;
  apiserverHost: string;
  apiserverPort: number;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number };
  pids: { etcd: number; apiserver: number; controllerManager: number };
  binDir: string;
  kubectl: string;
  nodeName: string;
  /** Pod logs: `<podsDir>/<namespace>/<pod>/<container>.log` (node agent); kubelet's pod log folder (real node). */
  podsDir: string;
  /** Present when the node is a real kubelet with containerd (dev-cluster/node) instead of the node agent. */
  realNode?: RealNodeState;
  ingress: { defaultAddress: string; classNames?: string[] };
  /** Milliseconds from the control plane's start to each readiness step; `ready`: from the supervisor's start. */
  timings: Record<string, number>;
  readyAt: string;
}

export interface RealNodeState {
  dir: string;
  bridge: string;
  subnet: string;
  /** The host's address on the pod network: what pods use to reach services running on this machine. */
  gateway: string;
  containerdSocket: string;
  /** Locally built images pods can run (imagePullPolicy Never). */
  images: { pause: string; busybox: string };
  pids: { containerd: number; kubelet: number; kubeProxy: number; scheduler: number };
}

export function stateDir(): string {
  return join(tmpdir(), 'exposedapi-apim-control-plane');
}

export function stateFileForRun(runnerPid: number): string {
  return join(stateDir(), `run-${runnerPid}.json`);
}

export function supervisorLogFor(stateFile: string): string {
  return stateFile.replace(/\.json$/, '') + '.log';
}

export async function writeState(path: string, state: ControlPlaneState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Write-then-rename: a reader never sees half a file.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, path);
}

/** The state, if the file exists and its supervisor is still alive (a stale file from a killed run is ignored). */
export async function readLiveState(path: string): Promise<ControlPlaneState | undefined> {
  let state: ControlPlaneState;
  try {
    state = JSON.parse(await readFile(path, 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
  return state.version === 1 && isAlive(state.supervisorPid) ? state : undefined;
}

/** Whether the process exists and is not a zombie (an exited child nobody has reaped yet counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces and parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    // ENOENT with procfs mounted: it exited in between. Without procfs (not Linux) kill(0) is all we know.
    return !((err as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat'));
  }
}
