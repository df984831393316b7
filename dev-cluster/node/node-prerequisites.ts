// What a real node needs on this machine, checked all at once so one run names every missing piece with the command
// that provides it: kubelet, kube-proxy and kube-scheduler (built from the Go modules by scripts/build-node.sh and
// cached beside the control plane's binaries), containerd, runc and the CNI plugins (Debian packages), iptables, ip,
// gcc with a static libc (the pause image), umoci and skopeo (local images), and root (network, mounts, cgroups).
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../control-plane/repo-root.ts';

export const NODE_BUILD_SCRIPT = join(REPO_ROOT, 'scripts', 'build-node.sh');
/** The line scripts/build-node.sh --install-runtime runs; printed whenever a runtime piece is missing. */
export const RUNTIME_APT_LINE = 'apt-get update && apt-get install -y --no-install-recommends containerd runc containernetworking-plugins iptables';
export const CNI_BIN_DIR = '/usr/lib/cni';
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

export interface NodeBinaries {
  dir: string;
  kubelet: string;
  kubeProxy: string;
  kubeScheduler: string;
  containerd: string;
  ctr: string;
  runc: string;
}

function which(command: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every host requirement that is missing, each with its fix; empty when the machine can run a node. */
export function hostProblems(): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`a real node runs on Linux only (this is ${process.platform}); use the node agent`);
  if (process.getuid?.() !== 0) problems.push('a real node runs as root: containerd, the pod network (bridge, iptables) and kubelet\'s mounts and cgroups need it');
  const runtime = ['containerd', 'ctr', 'runc', 'containerd-shim-runc-v2', 'iptables'].filter((c) => !which(c));
  const cni = CNI_PLUGINS.filter((p) => !executable(join(CNI_BIN_DIR, p)));
  if (runtime.length || cni.length) {
    problems.push(`missing ${[...runtime, ...cni.map((p) => `${CNI_BIN_DIR}/${p}`)].join(', ')}: ${RUNTIME_APT_LINE}`);
  }
  if (!which('ip')) problems.push('missing ip: apt-get install -y iproute2');
  const tools = [{ command: 'umoci', apt: 'umoci' }, { command: 'skopeo', apt: 'skopeo' }, { command: 'gcc', apt: 'gcc libc6-dev' }, { command: 'dpkg-deb', apt: 'dpkg' }, { command: 'apt-get', apt: 'apt' }]
    .filter((t) => !which(t.command));
  if (tools.length) problems.push(`missing ${tools.map((t) => t.command).join(', ')} (the node's local images): apt-get install -y ${tools.map((t) => t.apt).join(' ')}`);
  return problems;
}

/** Runs scripts/build-node.sh (milliseconds when cached; a cold build prints its progress to `log`). */
export async function locateNodeBinaries(log: (line: string) => void = () => {}): Promise<NodeBinaries> {
  const problems = hostProblems();
  if (problems.length) throw new Error(`this machine cannot run a real node:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  let stdout: string;
  try {
    const child = execFile('bash', [NODE_BUILD_SCRIPT], { maxBuffer: 16 * 1024 * 1024 });
    // The script's progress lines go to stderr: pass them on as they come, so a first run is not silent for minutes.
    child.stderr?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach((l) => log(l)));
    stdout = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${NODE_BUILD_SCRIPT} exited with ${code}`))));
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}: kubelet, kube-proxy and kube-scheduler are unavailable. ` +
      'The build needs Go >= 1.26 and the Go module proxy; its output above names the failing step.');
  }
  const dir = stdout.trim().split('\n').pop()!.trim();
  const bins: NodeBinaries = {
    dir,
    kubelet: join(dir, 'kubelet'),
    kubeProxy: join(dir, 'kube-proxy'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    containerd: which('containerd')!,
    ctr: which('ctr')!,
    runc: which('runc')!,
  };
  for (const p of [bins.kubelet, bins.kubeProxy, bins.kubeScheduler]) {
    if (!executable(p)) throw new Error(`${p} is missing after ${NODE_BUILD_SCRIPT} ran; delete ${dir}/kube{let,-proxy,-scheduler} and run the script again`);
  }
  return bins;
}
