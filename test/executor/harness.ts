// The executor's test bench: the real control plane (our CRD, a namespace per test, the executor's ServiceAccount with
// exactly the RBAC of manifests/base/executor-rbac.yaml), the APIM emulator in-process, an HTTPS server for the
// specification documents, and the executor itself run as a child process the way a Job runs it
// (`node cli/main.ts execute …` with its environment, authenticating as its ServiceAccount — never as admin).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { createCertificateAuthority, issueCertificate } from '../../certs/pki.ts';
import { startApimEmulator, type ApimEmulator, type ApimEmulatorOptions } from '../../emulator/apim-emulator.ts';
import { FINALIZER, readExposedApi, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { specHash } from '../../core/spec-hash.ts';
import { useControlPlane, type TestControlPlane, type TestLike } from '../control-plane/use-control-plane.ts';
import { applyManifest, installCrd } from '../e2e/webhook-in-cluster.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { derivedApiId } from '../../core/api-id.ts';
import { ClientSecretCredential } from '@azure/identity';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { serviceIdOf } from '../../core/apim-target.ts';

export const EXECUTOR_SA = 'exposedapi-apim-executor';

export interface SpecServer {
  /** https://127.0.0.1:<port>/<name> */
  url(name: string): string;
  /** Serve `text` at /<name> (replacing what was there). */
  put(name: string, text: string, contentType?: string): void;
  /** Answer /<name> with 404 from now on. */
  remove(name: string): void;
  /** GET counts by path. */
  hits: Map<string, number>;
  caPem: string;
  close(): Promise<void>;
}

/**
 * HTTPS with its own CA (trusted by the executor through NODE_EXTRA_CA_CERTS), or plain HTTP (`plain`) for link
 * imports: the emulator fetches links from the test process, which trusts no test CA.
 */
export async function startSpecServer(o: { plain?: boolean } = {}): Promise<SpecServer> {
  const ca = await createCertificateAuthority('exposedapi-apim spec server test CA');
  const leaf = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const docs = new Map<string, { text: string; type: string }>();
  const hits = new Map<string, number>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const doc = docs.get(path);
    if (!doc) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': doc.type, 'content-length': Buffer.byteLength(doc.text) }).end(doc.text);
  };
  const server: Server | HttpServer = o.plain ? createHttpServer(handler) : createServer({ cert: leaf.certPem, key: leaf.keyPem }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `${o.plain ? 'http' : 'https'}://127.0.0.1:${port}/${name}`,
    put: (name, text, type = name.endsWith('.json') ? 'application/json' : 'application/yaml') => {
      docs.set(`/${name}`, { text, type });
    },
    remove: (name) => {
      docs.delete(`/${name}`);
    },
    hits,
    caPem: ca.certPem,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON log lines. */
  logs: Record<string, any>[];
  ms: number;
}

export interface ExecutorBench {
  cp: TestControlPlane;
  emu: ApimEmulator;
  specs: SpecServer;
  /** The namespace of the ExposedAPIs and of the executor's ServiceAccount. */
  ns: string;
  /** kubeconfig authenticating as system:serviceaccount:<ns>:exposedapi-apim-executor. */
  kubeconfig: string;
  /** Environment of a Job (ConfigMap + injected identity), with overrides. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Creates (or replaces) an ExposedAPI as the webhook would leave it: spec-hash annotation and our finalizer. */
  put(obj: Record<string, any>): Promise<{ name: string; hash: string }>;
  get(name: string): Promise<Record<string, any> | undefined>;
  execute(action: 'apply' | 'delete', name: string, hash: string, env?: Record<string, string>): Promise<RunResult>;
  /** The same, returning the child process too (to kill it half-way). */
  start(action: 'apply' | 'delete', name: string, hash: string, env?: Record<string, string>): { child: ChildProcess; done: Promise<RunResult> };
  /** Events recorded on an ExposedAPI. */
  events(name: string): Promise<{ reason: string; type: string; message: string }[]>;
  /** The derived APIM apiId of an ExposedAPI in `ns`. */
  apiId(name: string): string;
  /** An SDK client on the emulator, for test setup (what a person would do in the portal). */
  client(): ApiManagementClient;
}

export interface BenchOptions {
  emulator?: ApimEmulatorOptions;
  namespace?: { ingressAddress?: string };
  /** Another control plane than the run's shared one (e.g. a private one with a different CRD). */
  plane?: TestControlPlane;
  /** The ExposedAPI CRD to install (default manifests/base/crd.yaml). */
  crdFile?: string;
}

/**
 * The executor's settings that point it at an emulator instance: its CA, identity, service coordinates and ARM
 * endpoint (the Jobs' ConfigMap or a process's env; a test adds its own budgets and options beside them).
 */
export function emulatorConnection(emu: ApimEmulator, caFile: string): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: caFile,
    AZURE_TENANT_ID: emu.tenantId,
    AZURE_CLIENT_ID: emu.clientId,
    AZURE_CLIENT_SECRET: emu.clientSecret,
    AZURE_AUTHORITY_HOST: emu.authorityHost,
    APIM_SUBSCRIPTION_ID: emu.subscriptionId,
    APIM_RESOURCE_GROUP: emu.resourceGroup,
    APIM_SERVICE_NAME: emu.serviceName,
    ARM_ENDPOINT: emu.url,
  };
}

/** The ARM id of an emulator instance, as the executor records it in status.apim.resourceId. */
export function instanceIdOf(emu: Pick<ApimEmulator, 'subscriptionId' | 'resourceGroup' | 'serviceName'>): string {
  return serviceIdOf({ subscriptionId: emu.subscriptionId.toLowerCase(), resourceGroup: emu.resourceGroup, serviceName: emu.serviceName });
}

/** The executor's RBAC as shipped, bound to its ServiceAccount in `ns` (cluster-scoped names get a suffix). */
export async function installExecutorRbac(cp: TestControlPlane, ns: string): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const docs = YAML.parseAllDocuments(await readFile(join(REPO_DIR, 'manifests/base/executor-rbac.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  for (const obj of docs) {
    if (obj['kind'] === 'ServiceAccount') obj['metadata'].namespace = ns;
    else obj['metadata'].name = `${obj['metadata'].name}-${suffix}`;
    if (obj['kind'] === 'ClusterRoleBinding') {
      obj['roleRef'].name = `${obj['roleRef'].name}-${suffix}`;
      for (const s of obj['subjects']) s.namespace = ns;
    }
  }
  await applyManifest(cp, docs);
}

export async function executorBench(t: TestLike, o: BenchOptions = {}): Promise<ExecutorBench> {
  const cp = o.plane ?? (await useControlPlane(t));
  await installCrd(cp, o.crdFile ?? join(REPO_DIR, 'manifests/base/crd.yaml'));
  const dir = await mkdtemp(join(tmpdir(), 'exposedapi-apim-executor-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // The service reports the real form https://<service>.azure-api.net (not its gateway's loopback URL): the status
  // URLs the executor builds from it are what these tests pin.
  const emu = await startApimEmulator({ dir: join(dir, 'emulator'), importDelayMs: 20, advertiseGateway: false, ...o.emulator });
  t.teardown(() => emu.close());
  const specs = await startSpecServer();
  t.teardown(() => specs.close());
  const caBundle = join(dir, 'ca-bundle.crt');
  await writeFile(caBundle, `${emu.caPem}\n${specs.caPem}`);
  const ns = await cp.newNamespace(t, o.namespace ?? {});
  await installExecutorRbac(cp, ns);
  const kubeconfig = await cp.kubeconfigFileFor(ns, EXECUTOR_SA);

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? dir,
    KUBECONFIG: kubeconfig,
    ...emulatorConnection(emu, caBundle),
    APIM_POLL_INTERVAL_MS: '20',
    // The spec server listens on loopback.
    SPEC_FETCH_ALLOW_PRIVATE: 'true',
    ROUTE_WAIT_SECONDS: '20',
    RETRY_BUDGET_SECONDS: '60',
    JOB_NAME: `job-${randomBytes(3).toString('hex')}`,
    LOG_LEVEL: 'debug',
    ...extra,
  });

  const get = async (name: string): Promise<Record<string, any> | undefined> => {
    const r = await cp.kubectl(['get', 'exposedapi.v1.oda.tmforum.org', name, '-n', ns, '-o', 'json']);
    if (r.code !== 0) {
      if (/NotFound/.test(r.stderr)) return undefined;
      throw new Error(r.stderr);
    }
    return JSON.parse(r.stdout) as Record<string, any>;
  };

  let client: ApiManagementClient | undefined;
  return {
    client: () => {
      client ??= new ApiManagementClient(
        new ClientSecretCredential(emu.tenantId, emu.clientId, emu.clientSecret, { authorityHost: emu.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: emu.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3]),
        emu.subscriptionId,
        { endpoint: emu.url, tlsOptions: { ca: emu.caPem } } as ApiManagementClientOptionalParams,
      );
      return client;
    },
    cp,
    emu,
    specs,
    ns,
    kubeconfig,
    env,
    get,
    apiId: (name) => derivedApiId(ns, name),
    async put(obj) {
      const o2 = structuredClone(obj);
      o2['metadata'] = { ...o2['metadata'], namespace: ns };
      const hash = specHash(readExposedApi(o2).model);
      o2['metadata'].annotations = { ...(o2['metadata'].annotations ?? {}), [SPEC_HASH_ANNOTATION]: hash };
      o2['metadata'].finalizers = [FINALIZER];
      await applyManifest(cp, [o2]);
      return { name: o2['metadata'].name as string, hash };
    },
    execute: (action, name, hash, extra = {}) => runExecutor(['execute', action, '--namespace', ns, '--name', name, '--spec-hash', hash], env(extra)),
    start: (action, name, hash, extra = {}) => startExecutor(['execute', action, '--namespace', ns, '--name', name, '--spec-hash', hash], env(extra)),
    async events(name) {
      const r = await cp.kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
      const items = (JSON.parse(r.stdout) as { items: { reason: string; type: string; message: string; lastTimestamp?: string }[] }).items;
      return items.map((e) => ({ reason: e.reason, type: e.type, message: e.message }));
    },
  };
}

/** Runs `node cli/main.ts <args>` (or another entry) with exactly `env`, like a Job's container. */
export function runExecutor(args: string[], env: Record<string, string>, entry = join(REPO_DIR, 'cli/main.ts')): Promise<RunResult> {
  return startExecutor(args, env, entry).done;
}

export function startExecutor(args: string[], env: Record<string, string>, entry = join(REPO_DIR, 'cli/main.ts')): { child: ChildProcess; done: Promise<RunResult> } {
  const started = Date.now();
  const child = spawn(process.execPath, [entry, ...args], { env, cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<RunResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const logs = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
      resolve({ code, stdout, stderr, logs, ms: Date.now() - started });
    });
  });
  return { child, done };
}

/** ARM writes (PUT, PATCH, DELETE) in the emulator's request counts; the token endpoint's POST is not one. */
export function armWrites(emu: ApimEmulator): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(emu.state().requests.byPath)) {
    if (/^(PUT|PATCH|DELETE) \/subscriptions\//.test(k)) out[k] = n;
  }
  return out;
}

export function condition(obj: Record<string, any> | undefined, type: string): Record<string, any> | undefined {
  return (obj?.['status']?.['conditions'] as Record<string, any>[] | undefined)?.find((c) => c['type'] === type);
}

/** PATCH /_emulator/settings through the bench's client, as a person switching the emulated service would. */
export async function emulatorSettings(b: ExecutorBench, settings: Record<string, unknown>): Promise<void> {
  const res = await b.client().sendRequest(
    createPipelineRequest({
      url: `${b.emu.url}/_emulator/settings`,
      method: 'PATCH',
      headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json' }),
      body: JSON.stringify(settings),
    }),
  );
  if (res.status !== 200) throw new Error(`PATCH /_emulator/settings ${JSON.stringify(settings)}: ${res.status} ${res.bodyAsText}`);
}
