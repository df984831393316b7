// The dispatcher on the real control plane, installed the way manifests/base installs it: our CRD; the webhook's
// ServiceAccount with rbac.yaml + dispatcher-rbac.yaml (cluster-scoped names suffixed per test, the Role in the
// test's operator namespace); the executor's ServiceAccount with the stand-in's rights; the operator ConfigMap (the
// Jobs' envFrom); admission registered by URL for the test's namespaces, so objects are stamped by the real webhook.
// The dispatcher runs as the webhook's ServiceAccount (never admin): in this process (startWebhook, the production
// wiring) or as child processes (`node cli/main.ts webhook`), and runs the stand-in executor in its Jobs.
import { BatchV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Job } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import YAML from 'yaml';
import { readDispatcherConfig } from '../../core/dispatcher-config.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { JOB_SELECTOR } from '../../dispatcher/job-manifest.ts';
import { localWebhookConfigurations } from '../../dev-cluster/webhook-registration.ts';
import { startWebhook, type RunningWebhook } from '../../webhook/run-webhook.ts';
import type { TestControlPlane, TestLike } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { runWatchLoop } from '../../dev-cluster/control-plane/watch-loop.ts';
import { applyManifest, installCrd } from '../e2e/webhook-in-cluster.ts';
import { exposedApi, REPO_DIR } from '../helpers/fixtures.ts';
import { testTls, type TestTls } from '../helpers/webhook-tls.ts';

export const STAND_IN_SCRIPT = join(REPO_DIR, 'test/dispatcher/stand-in-executor.ts');
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
type Obj = Record<string, any>;

export interface SetupOptions {
  /** How many ExposedAPI namespaces (default 1). */
  namespaces?: number;
  /** Extra dispatcher/webhook environment, e.g. DISPATCH_MAX_ACTIVE_JOBS. */
  env?: Record<string, string>;
  /** Run the dispatcher in this process, in the admission webhook (default true); false = admission only. */
  inProcess?: boolean;
  /** More environment that names the namespaces the setup creates (e.g. a TENANCY_POLICY for one of them). */
  envFor?: (namespaces: string[]) => Record<string, string>;
}

export interface DispatcherSetup {
  cp: TestControlPlane;
  run: string;
  /** The operator namespace: Jobs, Lease, ConfigMap, ServiceAccounts. */
  ops: string;
  namespaces: string[];
  /** The environment the dispatcher is configured with (for child processes too). */
  env: Record<string, string>;
  webhook: RunningWebhook;
  custom: CustomObjectsApi;
  batch: BatchV1Api;
  core: CoreV1Api;
  /** Creates (through admission) a valid ExposedAPI; `patch` is deep-merged into the fixture. */
  create(namespace: string, name: string, patch?: Obj): Promise<Obj>;
  get(namespace: string, name: string): Promise<Obj | undefined>;
  patch(namespace: string, name: string, body: Obj): Promise<Obj>;
  remove(namespace: string, name: string): Promise<void>;
  /** The operator namespace's Jobs for one ExposedAPI (by the name label). */
  jobsFor(name: string): Promise<V1Job[]>;
  /**
   * A webhook process with the dispatcher, as the webhook's ServiceAccount; stopped (by PID) when the test ends.
   * `entry`: cli/main.ts (the sources) or dist/exposedapi-apim.mjs (the production bundle, for memory figures).
   */
  startChild(t: TestLike, identity: string, env?: Record<string, string>, entry?: string): Promise<ChildDispatcher>;
}

export interface ChildDispatcher {
  identity: string;
  process: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

export async function setUpDispatcher(cp: TestControlPlane, t: TestLike, o: SetupOptions = {}): Promise<DispatcherSetup> {
  await installCrd(cp, join(REPO_DIR, 'manifests/base/crd.yaml'));
  const run = randomBytes(3).toString('hex');
  const ops = await cp.newNamespace(t);
  const namespaces: string[] = [];
  for (let i = 0; i < (o.namespaces ?? 1); i++) namespaces.push(await cp.newNamespace(t, { labels: { 'exposedapi-apim.io/e2e': run } }));

  // RBAC exactly as shipped, moved to this test's names.
  const shipped = ['rbac.yaml', 'dispatcher-rbac.yaml'].flatMap((f) =>
    YAML.parseAllDocuments(readFileSync(join(REPO_DIR, 'manifests/base', f), 'utf8')).map((d) => d.toJS() as Obj));
  for (const obj of shipped) {
    if (obj['kind'] === 'ServiceAccount' || obj['kind'] === 'Role' || obj['kind'] === 'RoleBinding') obj['metadata'].namespace = ops;
    if (obj['kind'] === 'ClusterRole' || obj['kind'] === 'ClusterRoleBinding') obj['metadata'].name = `${obj['metadata'].name}-${run}`;
    if (obj['kind'] === 'ClusterRoleBinding') obj['roleRef'].name = `${obj['roleRef'].name}-${run}`;
    for (const s of obj['subjects'] ?? []) s.namespace = ops;
  }
  // The executor's identity: the stand-in reads and writes ExposedAPIs (the real executor's RBAC is its own manifest).
  const executor: Obj[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'exposedapi-apim-executor', namespace: ops } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `exposedapi-apim-stand-in-${run}` },
      rules: [{ apiGroups: ['oda.tmforum.org'], resources: ['exposedapis'], verbs: ['get', 'patch'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `exposedapi-apim-stand-in-${run}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `exposedapi-apim-stand-in-${run}` },
      subjects: [{ kind: 'ServiceAccount', name: 'exposedapi-apim-executor', namespace: ops }] },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exposedapi-apim-config', namespace: ops }, data: { LOG_LEVEL: 'info' } },
  ];
  await applyManifest(cp, [...shipped, ...executor]);
  t.teardown(async () => {
    for (const obj of [...shipped, ...executor]) {
      if (obj['kind'] === 'ClusterRole' || obj['kind'] === 'ClusterRoleBinding') await cp.kubectl(['delete', obj['kind'], obj['metadata'].name, '--ignore-not-found']);
    }
  });

  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    REMOTE_SPEC_CHECK: 'off',
    WATCH_NAMESPACES: namespaces.join(','),
    DISPATCHER_ENABLED: 'true',
    OPERATOR_NAMESPACE: ops,
    EXECUTOR_IMAGE: 'exposedapi-apim-stand-in:test', // "exposedapi-apim" in the name: the node agent uses its Node 24
    EXECUTOR_COMMAND: JSON.stringify(['node', STAND_IN_SCRIPT]),
    JOB_BACKOFF_LIMIT: '1',
    LEASE_DURATION_SECONDS: '3',
    LEASE_RENEW_DEADLINE_SECONDS: '2',
    LEASE_RETRY_PERIOD_SECONDS: '1',
    ...o.env,
    ...o.envFor?.(namespaces),
  };
  const tls = await testTls();
  const webhookEnv = { ...env, WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: '0', TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile, ...(o.inProcess === false ? { DISPATCHER_ENABLED: 'false' } : {}) };
  const webhookConfig = readWebhookConfig(webhookEnv);
  const dispatcherConfig = readDispatcherConfig(webhookEnv, { hostname: 'test', randomSuffix: run });
  if (!webhookConfig.ok || !dispatcherConfig.ok) throw new Error([...(webhookConfig.ok ? [] : webhookConfig.errors), ...(dispatcherConfig.ok ? [] : dispatcherConfig.errors)].join('; '));
  const webhook = await startWebhook(webhookConfig.config, { kubeConfig: await cp.kubeConfigFor(ops, 'exposedapi-apim-webhook'), dispatcher: dispatcherConfig.config });
  const configurations = localWebhookConfigurations({ url: webhook.url, caPem: tls.ca.certPem, nameSuffix: run, namespaceLabels: { 'exposedapi-apim.io/e2e': run } });
  await applyManifest(cp, configurations);
  t.teardown(async () => {
    for (const c of configurations) await cp.kubectl(['delete', c['kind'], c['metadata'].name, '--ignore-not-found']);
    // Deregistered: no admission request can come any more. Without this, close() waits for the apiserver's
    // keep-alive connections to time out (fastify's keepAliveTimeout, 72 s) whenever it has opened several.
    webhook.app.server.closeAllConnections();
    await webhook.close();
    tls.remove();
  });
  await waitFor('the webhook\'s ExposedAPI watch to sync', () => (webhook.informer?.isSynced ? true : undefined), { timeoutMs: 20_000 });
  if (o.inProcess !== false) await waitFor('the in-process dispatcher to lead', () => (webhook.dispatcher?.isLeader ? true : undefined), { timeoutMs: 20_000 });

  const admin = cp.kubeConfig();
  const custom = admin.makeApiClient(CustomObjectsApi);
  const ref = (namespace: string, name: string) => ({ group: 'oda.tmforum.org', version: 'v1', namespace, plural: 'exposedapis', name });
  const setup: DispatcherSetup = {
    cp, run, ops, namespaces, env, webhook, custom,
    batch: admin.makeApiClient(BatchV1Api),
    core: admin.makeApiClient(CoreV1Api),
    create: async (namespace, name, patch = {}) => {
      const body = exposedApi({
        ...patch,
        metadata: { name, namespace, ...(patch['metadata'] ?? {}) },
        spec: { path: `/${namespace}/${name}`, implementation: `svc-${name}`, ...(patch['spec'] ?? {}) },
      });
      return (await custom.createNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace, plural: 'exposedapis', body })) as Obj;
    },
    get: async (namespace, name) => {
      try {
        return (await custom.getNamespacedCustomObject(ref(namespace, name))) as Obj;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    patch: async (namespace, name, body) => (await custom.patchNamespacedCustomObject({ ...ref(namespace, name), body }, mergePatch)) as Obj,
    remove: async (namespace, name) => {
      await custom.deleteNamespacedCustomObject(ref(namespace, name));
    },
    jobsFor: async (name) => (await setup.batch.listNamespacedJob({ namespace: ops, labelSelector: `${JOB_LABELS.name}=${name}` })).items,
    startChild: async (tt, identity, extra = {}, entry = 'cli/main.ts') => {
      const childTls = await testTls();
      const logFile = join(cp.state.runDir, `dispatcher-${run}-${identity}.log`);
      const out = createWriteStream(logFile);
      const childEnv: Record<string, string> = {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        ...env,
        LOG_LEVEL: 'info',
        KUBECONFIG: await cp.kubeconfigFileFor(ops, 'exposedapi-apim-webhook'),
        POD_NAME: identity,
        WEBHOOK_HOST: '127.0.0.1',
        WEBHOOK_PORT: '0',
        TLS_CERT_FILE: childTls.certFile,
        TLS_KEY_FILE: childTls.keyFile,
        ...extra,
      };
      // Only the variables above: tap's process instrumentation stays out of the child.
      const child = spawn(process.execPath, [join(REPO_DIR, entry), 'webhook'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.pipe(out, { end: false });
      child.stderr!.pipe(out, { end: false });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      tt.teardown(async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        out.end();
        childTls.remove();
      });
      // Serving (and campaigning for the Lease) once it logs this; start-up can take seconds on a loaded machine.
      await waitFor(`${identity} to start`, async () => {
        if (child.exitCode !== null) throw new Error(`${identity} exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
        return readFileSync(logFile, 'utf8').includes('admission webhook listening') ? true : undefined;
      }, { timeoutMs: 60_000 });
      return { identity, process: child, logFile, exited };
    },
  };
  return setup;
}

/** Every Job the operator namespace saw, in order of appearance, with their latest state and the most running at once. */
export interface JobHistory {
  order: string[];
  added: Map<string, number>;
  latest: Map<string, V1Job>;
  deleted: Set<string>;
  maxActive: number;
  stop(): void;
}

export function finished(job: V1Job | undefined): 'Complete' | 'Failed' | undefined {
  const c = job?.status?.conditions?.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.type as 'Complete' | 'Failed' | undefined;
}

export async function watchJobs(setup: DispatcherSetup): Promise<JobHistory> {
  const h: JobHistory = { order: [], added: new Map(), latest: new Map(), deleted: new Set(), maxActive: 0, stop: () => {} };
  const active = new Set<string>();
  const loop = runWatchLoop<V1Job>({
    kubeConfig: setup.cp.kubeConfig(),
    path: `/apis/batch/v1/namespaces/${setup.ops}/jobs`,
    list: () => setup.batch.listNamespacedJob({ namespace: setup.ops, labelSelector: JOB_SELECTOR }),
    onEvent: (type, job) => {
      const name = job.metadata!.name!;
      if (!h.latest.has(name)) {
        h.order.push(name);
      }
      if (type === 'ADDED') h.added.set(name, (h.added.get(name) ?? 0) + 1);
      h.latest.set(name, job);
      if (type === 'DELETED') h.deleted.add(name);
      if (type !== 'DELETED' && !finished(job)) active.add(name);
      else active.delete(name);
      h.maxActive = Math.max(h.maxActive, active.size);
    },
  });
  await loop.synced;
  h.stop = loop.stop;
  return h;
}

export function condition(obj: Obj | undefined, type: string): Obj | undefined {
  return (obj?.['status']?.conditions ?? []).find((c: Obj) => c['type'] === type);
}

export function specHashOf(obj: Obj | undefined): string {
  return obj?.['metadata']?.annotations?.['exposedapi-apim.io/spec-hash'] ?? '';
}

/** Reads who holds the dispatcher's Lease ('' when nobody or unreadable), for tests that follow leadership. */
export function leaseHolder(cp: TestControlPlane, setup: Pick<DispatcherSetup, 'ops'>): () => Promise<string> {
  const leases = cp.kubeConfig().makeApiClient(CoordinationV1Api);
  return async () => {
    try {
      return (await leases.readNamespacedLease({ name: 'exposedapi-apim-dispatcher', namespace: setup.ops })).spec?.holderIdentity ?? '';
    } catch {
      return '';
    }
  };
}
