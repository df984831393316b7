// A local cluster for people to explore: the control plane (etcd, kube-apiserver, kube-controller-manager, the
// node agent) started long-lived, with our CRD, the webhook's ServiceAccount and RBAC, and the admission webhook
// served on loopback and registered by URL + caBundle. Everything it starts is recorded in DIR/cluster.json, so
// `cluster down` ends exactly those processes, by PID.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { createCertificateAuthority, issueCertificate } from '../certs/pki.ts';
import { controlPlaneClient, type ControlPlaneClient } from './control-plane/control-plane-client.ts';
import { freeLoopbackPorts } from './control-plane/free-port.ts';
import { runKubectl } from './control-plane/kubectl.ts';
import { isAlive as alive, readLiveState, type ControlPlaneState } from './control-plane/state-file.ts';
import { launchSupervisor, stopSupervisor } from './control-plane/supervisor-process.ts';
import { localWebhookConfigurations } from './webhook-registration.ts';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const OPERATOR_NAMESPACE = 'exposedapi-apim';

export interface ClusterRecord {
  dir: string;
  kubeconfig: string;
  kubectl: string;
  server: string;
  webhookPid: number;
  webhookUrl: string;
  controlPlaneState: string;
  /** Which node runs the pods (absent in records written before real nodes existed: the node agent). */
  node?: NodeKind;
  startedAt: string;
}

type Log = (line: string) => void;

function recordPath(dir: string): string {
  return join(dir, 'cluster.json');
}

export function readClusterRecord(dir: string): ClusterRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(dir), 'utf8')) as ClusterRecord;
  } catch {
    return undefined;
  }
}

async function kubectl(cpKubectl: string, kubeconfig: string, args: string[], input?: string): Promise<string> {
  // Applying many objects passes each through admission one after another: allow minutes, not kubectl's usual 60 s.
  const r = await runKubectl(cpKubectl, kubeconfig, args, { ...(input !== undefined ? { input } : {}), timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

async function waitHttpsReady(url: string, caPem: string, timeoutMs: number): Promise<void> {
  const https = await import('node:https');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const req = https.get(`${url}/readyz`, { ca: caPem, timeout: 2000 }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.on('timeout', () => req.destroy());
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the webhook at ${url} was not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface LocalControlPlane {
  state: ControlPlaneState;
  cp: ControlPlaneClient;
  kubeconfig: string;
  controlPlaneState: string;
  /** kubectl with the admin kubeconfig; throws with kubectl's stderr on failure. */
  k: (args: string[], input?: string) => Promise<string>;
}

/** Which node runs the pods: the node agent (local processes) or a real node (kubelet and containerd, dev-cluster/node). */
export type NodeKind = 'agent' | 'real';

/**
 * The control plane and its node, started detached; tied to `parentPid` (0: lives until `down`). A real node keeps its
 * containerd image store in DIR/node across runs. The supervisor's progress (a first run's builds) goes to `log`.
 */
export async function startLocalControlPlane(dir: string, parentPid: number, log: Log, options: { node?: NodeKind } = {}): Promise<LocalControlPlane> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const real = options.node === 'real';
  log(real
    ? 'starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a real node (containerd, kubelet, kube-proxy; the first run builds them from the Go modules: several minutes)…'
    : 'starting etcd, kube-apiserver, kube-controller-manager and the node agent (the first run builds them from the Go modules: several minutes)…');
  const controlPlaneState = join(dir, 'control-plane.json');
  const { state } = await launchSupervisor({
    stateFile: controlPlaneState, parentPid, timeoutMs: 60 * 60_000,
    ...(real ? { args: ['--node', 'real', '--node-dir', join(dir, 'node')] } : {}),
    onProgress: log,
  });
  const kubeconfig = join(dir, 'kubeconfig');
  copyFileSync(state.kubeconfigPath, kubeconfig);
  return { state, cp: controlPlaneClient(state), kubeconfig, controlPlaneState, k: (args, input) => kubectl(state.kubectl, kubeconfig, args, input) };
}

/** `kubectl wait` fails outright on a CRD whose status has no conditions yet, so poll with a bound instead. */
export async function waitCrdEstablished(k: (args: string[]) => Promise<string>, timeoutMs = 60_000, crd = 'exposedapis.oda.tmforum.org'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await k(['get', `crd/${crd}`, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']).catch(() => '');
    if (status.trim() === 'True') return;
    if (Date.now() > deadline) throw new Error(`the CRD ${crd} was not Established within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The CRD, the operator namespace and the RBAC files of manifests/base (namespaced objects put in the namespace). */
export async function installOperatorResources(lcp: LocalControlPlane, rbacFiles: string[], log: Log): Promise<void> {
  log('installing the ExposedAPI CRD and the operator\'s ServiceAccounts and RBAC…');
  await lcp.k(['apply', '--server-side', '--force-conflicts', '-f', join(REPO_ROOT, 'manifests/base/crd.yaml')]);
  await waitCrdEstablished(lcp.k);
  // ApimTargets (docs/apim-targets.md): the sandbox publishes into two instances through them.
  await lcp.k(['apply', '--server-side', '--force-conflicts', '-f', join(REPO_ROOT, 'manifests/base/apimtarget-crd.yaml')]);
  await waitCrdEstablished(lcp.k, undefined, 'apimtargets.exposedapi-apim.io');
  await lcp.k(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } }));
  const cluster = new Set(['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'CustomResourceDefinition']);
  for (const file of rbacFiles) {
    const objs = YAML.parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests/base', file), 'utf8')).map((d) => d.toJS() as Record<string, any>).filter(Boolean);
    for (const obj of objs) if (!cluster.has(obj['kind'])) obj['metadata'].namespace = OPERATOR_NAMESPACE;
    await lcp.k(['apply', '-f', '-'], objs.map((o) => YAML.stringify(o)).join('---\n'));
  }
}

/** One serving certificate for every local webhook replica of a directory (as one Secret serves a Deployment). */
async function ensureWebhookTls(dir: string): Promise<{ caPem: string; certFile: string; keyFile: string }> {
  const tlsDir = join(dir, 'webhook', 'tls');
  const certFile = join(tlsDir, 'tls.crt');
  const keyFile = join(tlsDir, 'tls.key');
  if (!existsSync(certFile)) {
    mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
    const ca = await createCertificateAuthority('exposedapi-apim local webhook CA');
    const leaf = await issueCertificate(ca, { commonName: '127.0.0.1', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    writeFileSync(join(tlsDir, 'ca.crt'), ca.certPem);
    writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
    writeFileSync(certFile, leaf.certPem);
  }
  return { caPem: readFileSync(join(tlsDir, 'ca.crt'), 'utf8'), certFile, keyFile };
}

/**
 * A webhook (and, when enabled by `env`, dispatcher) replica served on loopback as its ServiceAccount. It is
 * registered by URL unless `register` is false; `registerUrl` registers another address in front of the replicas.
 */
export async function startLocalWebhook(
  dir: string,
  lcp: LocalControlPlane,
  env: Record<string, string>,
  log: Log,
  options: { register?: boolean; registerUrl?: string; logName?: string; entry?: string } = {},
): Promise<{ pid: number; url: string; port: number }> {
  const webhookDir = join(dir, 'webhook', String(env['POD_NAME'] ?? 'webhook'));
  mkdirSync(webhookDir, { recursive: true, mode: 0o700 });
  const tls = await ensureWebhookTls(dir);
  // The webhook runs as its ServiceAccount (a TokenRequest token), never as admin.
  const webhookKubeconfig = await lcp.cp.kubeconfigFileFor(OPERATOR_NAMESPACE, 'exposedapi-apim-webhook', { expirationSeconds: 7 * 24 * 3600 });
  copyFileSync(webhookKubeconfig, join(webhookDir, 'kubeconfig'));
  const [port] = await freeLoopbackPorts(1);
  const logFd = openSync(join(dir, options.logName ?? 'webhook.log'), 'a');
  const webhook = spawn(process.execPath, [options.entry ?? join(REPO_ROOT, 'cli/main.ts'), 'webhook'], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_PORT: String(port),
      TLS_CERT_FILE: tls.certFile,
      TLS_KEY_FILE: tls.keyFile,
      KUBECONFIG: join(webhookDir, 'kubeconfig'),
      SPEC_FETCH_ALLOW_PRIVATE: process.env['SPEC_FETCH_ALLOW_PRIVATE'] ?? 'true',
      ...env,
    },
  });
  closeSync(logFd);
  webhook.unref();
  const url = `https://127.0.0.1:${port}`;
  // /readyz waits for the first document checker process to start and compile its schemas: seconds when idle, more
  // than 30 s at load 20 on 2 cores (seen: cluster-command.test.ts failing at any commit). The bound only catches a
  // webhook that never gets ready.
  await waitHttpsReady(url, tls.caPem, 120_000);
  if (options.register ?? true) {
    log('registering the admission webhook by URL…');
    const configurations = localWebhookConfigurations({ url: options.registerUrl ?? url, caPem: tls.caPem });
    await lcp.k(['apply', '-f', '-'], configurations.map((c) => YAML.stringify(c)).join('---\n'));
  }
  return { pid: webhook.pid!, url, port: port! };
}

export async function clusterUp(dirArg: string, log: Log, options: { node?: NodeKind } = {}): Promise<ClusterRecord> {
  const dir = resolve(dirArg);
  const existing = readClusterRecord(dir);
  if (existing && alive(existing.webhookPid)) {
    log(`a cluster is already running from ${dir} (kubeconfig ${existing.kubeconfig}); run "cluster down --dir ${dirArg}" first`);
    return existing;
  }
  const lcp = await startLocalControlPlane(dir, 0, log, options);
  await installOperatorResources(lcp, ['rbac.yaml'], log);
  const webhook = await startLocalWebhook(dir, lcp, { DISPATCHER_ENABLED: 'false' }, log);
  const record: ClusterRecord = {
    dir,
    kubeconfig: lcp.kubeconfig,
    kubectl: lcp.state.kubectl,
    server: lcp.state.server,
    webhookPid: webhook.pid,
    webhookUrl: webhook.url,
    controlPlaneState: lcp.controlPlaneState,
    node: options.node ?? 'agent',
    startedAt: new Date().toISOString(),
  };
  writeFileSync(recordPath(dir), JSON.stringify(record, null, 2));
  return record;
}

export async function clusterDown(dirArg: string, log: Log): Promise<boolean> {
  const dir = resolve(dirArg);
  const record = readClusterRecord(dir);
  if (!record) {
    log(`no cluster recorded in ${dir}`);
    return false;
  }
  if (alive(record.webhookPid)) {
    process.kill(record.webhookPid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(record.webhookPid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(record.webhookPid)) process.kill(record.webhookPid, 'SIGKILL');
  }
  const state = await readLiveState(record.controlPlaneState);
  if (state) await stopSupervisor(state, 120_000);
  for (const f of ['cluster.json', 'kubeconfig', 'control-plane.json', 'webhook']) rmSync(join(dir, f), { recursive: true, force: true });
  log(`stopped the webhook (pid ${record.webhookPid}) and the control plane; ${dir} keeps webhook.log`);
  return true;
}

export function usageText(r: ClusterRecord): string {
  return [
    '',
    `A local cluster is running (Kubernetes ${existsSync(r.kubectl) ? 'v1.36' : ''}, API server ${r.server}).`,
    `  export KUBECONFIG=${r.kubeconfig}`,
    `  alias kubectl=${r.kubectl}   # the matching kubectl`,
    '  kubectl get crd exposedapis.oda.tmforum.org',
    '  kubectl apply -f my-exposedapi.yaml            # the webhook validates and stamps it',
    `Admission webhook: ${r.webhookUrl} (log: ${join(r.dir, 'webhook.log')})`,
    r.node === 'real'
      ? 'Pods run in containers on a real node (kubelet and containerd): kubectl logs and kubectl exec work.'
      : 'Pods of Jobs run as local processes on this machine (a node agent plays kubelet).',
    `Stop it with: npm run cli -- cluster down --dir ${r.dir}`,
    '',
  ].join('\n');
}
