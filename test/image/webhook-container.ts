// The webhook+dispatcher container as manifests/base/deployment.yaml runs it, for the image test and the image bench:
// the Deployment's args, env and envFrom ConfigMap (manifests/base/config.yaml) as shipped, its TLS Secret mounted
// where the Deployment mounts it, and the pod's ServiceAccount volume (token, ca.crt, namespace) at the standard path
// with KUBERNETES_SERVICE_HOST/PORT naming the test control plane, so client-node takes the in-cluster path a pod
// takes. The ServiceAccount carries exactly the shipped webhook and dispatcher RBAC (manifests/base/rbac.yaml,
// dispatcher-rbac.yaml) in an operator namespace of the test's own.
// Three settings differ from the Deployment, each because the container shares the host's network namespace (see
// runc-container.ts): WEBHOOK_HOST 127.0.0.1 and a free port instead of every address on 8443, and WATCH_NAMESPACES
// the test's tenant namespace, so that on the shared test control plane this dispatcher never plans, stamps or
// starts Jobs for other tests' ExposedAPIs.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import type { TestControlPlane, TestLike } from '../control-plane/use-control-plane.ts';
import { applyManifest, installCrd } from '../e2e/webhook-in-cluster.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { testTls } from '../helpers/webhook-tls.ts';
import type { BindMount, ContainerResult } from './runc-container.ts';

type Obj = Record<string, any>;

/** Where a pod's ServiceAccount volume appears (client-node and the dispatcher read it there). */
const SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const WEBHOOK_SA = 'exposedapi-apim-webhook';

export interface WebhookPod {
  /** The Deployment's container args (`["webhook"]`). */
  args: string[];
  env: Record<string, string>;
  mounts: BindMount[];
  /** https://127.0.0.1:<port> */
  url: string;
  /** The CA of the serving certificate (the webhook configurations' caBundle). */
  caPem: string;
  /** The namespace this webhook watches, for the test's ExposedAPIs. */
  namespace: string;
  /** The operator namespace: the ServiceAccount's, the Lease's and the Jobs'. */
  operatorNamespace: string;
}

function manifestDocs(file: string): Obj[] {
  return YAML.parseAllDocuments(readFileSync(join(REPO_DIR, 'manifests/base', file), 'utf8')).map((d) => d.toJS() as Obj);
}

/** A port nothing listens on now (the kernel's pick), for a server in the host's network namespace. */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Copies files into `dir` readable by uid 65532 (a Secret volume's default mode 0644), for a read-only bind mount. */
function volume(dir: string, files: Record<string, string | { copy: string }>): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === 'string') writeFileSync(join(dir, name), content);
    else copyFileSync(content.copy, join(dir, name));
    chmodSync(join(dir, name), 0o644);
  }
  return dir;
}

/**
 * Installs the CRD and the webhook's ServiceAccount with its shipped RBAC on `cp` (cluster-scoped names suffixed:
 * test files share the plane; removed with `scope`), and returns the container's args, environment and mounts.
 * `dir` holds the mounted volumes.
 */
export async function webhookPod(cp: TestControlPlane, scope: TestLike, dir: string): Promise<WebhookPod> {
  await installCrd(cp, join(REPO_DIR, 'manifests/base/crd.yaml'));
  const suffix = randomBytes(3).toString('hex');
  const operatorNamespace = await cp.newNamespace(scope);
  const namespace = await cp.newNamespace(scope);
  const rbac = [...manifestDocs('rbac.yaml'), ...manifestDocs('dispatcher-rbac.yaml')];
  for (const obj of rbac) {
    if (obj['kind'] === 'ClusterRole' || obj['kind'] === 'ClusterRoleBinding') obj['metadata'].name = `${obj['metadata'].name}-${suffix}`;
    else obj['metadata'].namespace = operatorNamespace;
    if (obj['kind'] === 'ClusterRoleBinding') obj['roleRef'].name = `${obj['roleRef'].name}-${suffix}`;
    for (const s of obj['subjects'] ?? []) s.namespace = operatorNamespace;
  }
  await applyManifest(cp, rbac);
  scope.teardown(async () => {
    for (const obj of rbac.filter((o) => o['kind'].startsWith('Cluster'))) await cp.kubectl(['delete', obj['kind'], obj['metadata'].name, '--ignore-not-found']);
  });

  const deployment = manifestDocs('deployment.yaml').find((d) => d['kind'] === 'Deployment')!;
  const podSpec = deployment['spec']['template']['spec'] as Obj;
  if (podSpec['serviceAccountName'] !== WEBHOOK_SA) throw new Error(`the Deployment runs as ${podSpec['serviceAccountName']}, the test installs ${WEBHOOK_SA}'s RBAC`);
  const container = (podSpec['containers'] as Obj[]).find((c) => c['name'] === 'webhook')!;
  const configMaps = (container['envFrom'] as Obj[]).map((e) => e['configMapRef']['name'] as string);
  const configMap = manifestDocs('config.yaml').find((d) => d['kind'] === 'ConfigMap' && configMaps.includes(d['metadata'].name))!;
  const env: Record<string, string> = { ...(configMap['data'] as Record<string, string>) };
  for (const e of container['env'] as { name: string; value?: string }[]) {
    if (e.value === undefined) throw new Error(`the Deployment's ${e.name} is not a plain value: teach test/image/webhook-container.ts where it comes from`);
    env[e.name] = e.value;
  }
  const tlsMount = (container['volumeMounts'] as Obj[]).find((m) => m['name'] === 'tls')!['mountPath'] as string;
  if (!env['TLS_CERT_FILE']?.startsWith(`${tlsMount}/`)) throw new Error(`TLS_CERT_FILE=${env['TLS_CERT_FILE']} is not in the mounted Secret ${tlsMount}`);

  const tls = await testTls();
  scope.teardown(() => tls.remove());
  const tlsDir = volume(join(dir, 'tls'), { 'tls.crt': { copy: tls.certFile }, 'tls.key': { copy: tls.keyFile } });
  const serviceAccountDir = volume(join(dir, 'serviceaccount'), {
    token: await cp.tokenFor(operatorNamespace, WEBHOOK_SA),
    'ca.crt': { copy: cp.state.caPath },
    namespace: operatorNamespace,
  });
  const apiserver = new URL(cp.server);
  const port = await freeLoopbackPort();
  return {
    args: container['args'] as string[],
    env: {
      ...env,
      KUBERNETES_SERVICE_HOST: apiserver.hostname,
      KUBERNETES_SERVICE_PORT: apiserver.port,
      WEBHOOK_HOST: '127.0.0.1',
      WEBHOOK_PORT: String(port),
      WATCH_NAMESPACES: namespace,
      HOME: '/home/nonroot',
    },
    mounts: [
      { source: tlsDir, destination: tlsMount },
      { source: serviceAccountDir, destination: SERVICEACCOUNT_DIR },
    ],
    url: `https://127.0.0.1:${port}`,
    caPem: tls.ca.certPem,
    namespace,
    operatorNamespace,
  };
}

export interface ReadyTimes {
  /** First HTTP answer of any status (the server listens). */
  listeningMs: number;
  /** First /readyz 200 (the ExposedAPI watch synced, the document checker warm). */
  readyMs: number;
}

/**
 * Polls GET /readyz on loopback every `intervalMs` until it answers 200, at most `timeoutMs`; times from `startedAt`
 * (performance.now() when the container was started). One kept-alive connection once the server answers, so the poll
 * does not cost a TLS handshake per try while the webhook starts on the same CPUs. Fails at once, with the
 * container's output, when the container exits.
 */
export async function untilReady(url: string, caPem: string, startedAt: number, exited: Promise<ContainerResult>, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<ReadyTimes> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const intervalMs = o.intervalMs ?? 20;
  let exit: ContainerResult | undefined;
  void exited.then((r) => (exit = r));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let listeningMs: number | undefined;
  let last = 'no answer';
  try {
    while (performance.now() - startedAt < timeoutMs) {
      if (exit) throw new Error(`the webhook container exited (${exit.code}) before /readyz answered 200:\n${exit.stdout}\n${exit.stderr}`);
      const answer = await new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
        const req = request(`${url}/readyz`, { ca: caPem, agent, timeout: 2000 }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
        req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
        req.end();
      });
      const now = performance.now() - startedAt;
      if ('status' in answer) {
        listeningMs ??= now;
        if (answer.status === 200) return { listeningMs, readyMs: now };
        last = `${answer.status} ${answer.body.trim()}`;
      } else {
        last = answer.error;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    throw new Error(`the webhook in the container did not answer /readyz with 200 within ${timeoutMs / 1000} s (last: ${last})${exit ? '' : '; still running'}`);
  } finally {
    agent.destroy();
  }
}
