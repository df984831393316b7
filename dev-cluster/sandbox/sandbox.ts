// `exposedapi-apim sandbox` (npm start): the whole system on this machine. A real control plane with its node agent,
// the APIM emulator, the webhook and dispatcher registered in the cluster, a sample backend, and the examples applied;
// it waits until they are Ready, prints a summary, and stays up until Ctrl-C (or, with --exit, tears down).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { isObject } from '../../core/object-reader.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { installOperatorResources, OPERATOR_NAMESPACE, REPO_ROOT, startLocalControlPlane, startLocalWebhook, type LocalControlPlane, type NodeKind, waitCrdEstablished } from '../local-cluster.ts';
import { hasImage, importImage, pruneImages } from '../node/local-images.ts';
import { installOperatorChart, sandboxChartValues, sandboxOperatorImage } from './operator-release.ts';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';
import { SECONDARY_NAMESPACE, SECONDARY_SERVICE, SECONDARY_TARGET, sandboxTargetObjects, secondaryExample } from './apim-targets.ts';
import { stopSupervisor } from '../control-plane/supervisor-process.ts';
import { publishBackendService, startSampleBackend, type SampleBackend } from './sample-backend.ts';
import { startServiceProxy } from './service-proxy.ts';
import { claimRunAddress, RunAddressError, type RunAddress } from '../run-address.ts';
import { gatewayCurls, gatewayName, gatewaySettings, writeGatewayResolution, type GatewayResolution } from './gateway-access.ts';

type ApimEmulator = Awaited<ReturnType<typeof startApimEmulator>>;

export const SANDBOX_NAMESPACE = 'sandbox';
export const SAMPLE_SERVICE = 'sandbox-prodcatapi';

export interface SandboxOptions {
  dir: string;
  /** Files or folders applied after start-up (besides examples/ unless noExamples). */
  apply: string[];
  noExamples?: boolean;
  /** Tear down once everything applied is Ready or failed; the exit code says whether all are Ready. */
  exit: boolean;
  report?: string;
  /** How long to wait for the applied ExposedAPIs (default 180 s). */
  waitSeconds?: number;
  /** agent (default): pods as local processes; real: kubelet and containerd, the operator installed by its chart. */
  node?: NodeKind;
  /** A host name for the gateway's URL (e.g. apim-emulator.azure-api.net), resolved by the sandbox (gateway-access.ts). */
  gatewayHost?: string;
  log: (line: string) => void;
}

type Obj = Record<string, any>;

function manifestFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else if (/\.(ya?ml|json)$/i.test(p)) out.push(p);
  };
  for (const p of paths) walk(resolve(p));
  return out;
}

/** Examples name their specification host as ${SANDBOX_SPEC_BASE}: the sample backend's address. */
export function renderManifests(files: string[], specBase: string): Obj[] {
  const objs: Obj[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8').replaceAll('${SANDBOX_SPEC_BASE}', specBase);
    for (const doc of YAML.parseAllDocuments(text)) {
      const o = doc.toJS() as Obj | null;
      if (o && typeof o === 'object') objs.push(o);
    }
  }
  return objs;
}

function readyState(o: Obj): 'ready' | 'failed' | 'pending' {
  const conditions: Obj[] = o['status']?.['conditions'] ?? [];
  const ready = conditions.find((c) => c['type'] === 'Ready');
  const hash = o['metadata']?.['annotations']?.['exposedapi-apim.io/spec-hash'];
  if (ready?.['status'] === 'True' && o['status']?.['appliedSpecHash'] === hash && o['status']?.['apiStatus']?.['url']) return 'ready';
  if (ready?.['status'] === 'False' && (ready['reason'] === 'JobFailed' || /permanent|invalid/i.test(String(ready['reason'])))) return 'failed';
  return 'pending';
}

export interface Sandbox {
  dir: string;
  lcp: LocalControlPlane;
  node: NodeKind;
  emulator: ApimEmulator;
  /** The second APIM instance, reached through the ApimTarget sandbox-secondary (apim-targets.ts). */
  secondEmulator: ApimEmulator;
  backend: SampleBackend;
  /** With a gateway host name: how it resolves (curl flag, hosts line, Node preload). */
  gatewayResolution?: GatewayResolution;
  /** Webhook + dispatcher processes (PIDs), each registered or serving the same cluster; none on a real node (pods). */
  webhooks: { pid: number; url: string; podName: string }[];
  /** Starts one more webhook + dispatcher replica (they elect one dispatcher by Lease); node agent only. */
  addReplica(podName: string): Promise<{ pid: number; url: string; podName: string }>;
  /** Applies manifests (server-side) into the sandbox namespace; ${SANDBOX_SPEC_BASE} is substituted. */
  apply(objs: Obj[]): Promise<void>;
  /** Waits until each named ExposedAPI is Ready for its current spec hash, or failed; bounded. */
  waitSettled(names: { ns: string; name: string }[], timeoutMs: number, stop?: () => boolean): Promise<Record<string, 'ready' | 'failed' | 'pending'>>;
  /** Waits until no Job of the operator is running (bounded). */
  waitJobsIdle(timeoutMs: number): Promise<void>;
  summary(names: { ns: string; name: string }[]): Promise<string>;
  report(): Promise<unknown>;
  stop(): Promise<void>;
}

/** The process settings of manifests/base/deployment.yaml (memory tuning), so the sandbox runs the webhook as shipped. */
export function deploymentProcessEnv(): Record<string, string> {
  const deployment = YAML.parse(readFileSync(join(REPO_ROOT, 'manifests/base/deployment.yaml'), 'utf8')) as Obj;
  const env: { name: string; value?: string }[] = deployment['spec']['template']['spec']['containers'][0]['env'] ?? [];
  return Object.fromEntries(env.filter((e) => ['NODE_OPTIONS', 'MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_'].includes(e.name) && e.value !== undefined).map((e) => [e.name, e.value!]));
}

export interface StartSandboxOptions {
  dir: string;
  log: (line: string) => void;
  /** Node agent: environment of the local webhook processes. */
  webhookEnv?: Record<string, string>;
  /** Real node: chart values merged over the sandbox's own (e.g. {dispatcher: {maxActiveJobs: 4}}). */
  chartValues?: Record<string, unknown>;
  importDelayMs?: number;
  node?: NodeKind;
  /** Node agent: a host name for the gateway's URL, which the sandbox resolves (gateway-access.ts). */
  gatewayHost?: string;
}

export async function startSandbox(options: StartSandboxOptions): Promise<Sandbox> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
    rmSync(join(dir, 'webhook'), { recursive: true, force: true });
  };
  try {
    const node = options.node ?? 'agent';
    // On a real node the status URLs come from the chart's apim.gatewayUrl, which pods could not resolve anyway.
    if (options.gatewayHost !== undefined && node !== 'agent') throw new Error('--gateway-host applies to the node agent: on a real node status URLs come from the chart value apim.gatewayUrl');
    const lcp = await startLocalControlPlane(dir, process.pid, options.log, { node });
    cleanups.push(async () => {
      await stopSupervisor(lcp.state, 120_000);
    });
    // On a real node, pods reach the host at the pod network's gateway: the emulator and the backend listen there.
    const gateway = lcp.state.realNode?.gateway;
    options.log(`starting the APIM emulator and the sample backend${gateway ? ` on ${gateway}` : ''}…`);
    // ARM throttling on at the real bucket sizes (emulator/throttling.ts: 250/25 reads, 200/10 writes and deletes per
    // principal), so the sandbox paces bursts the way a subscription would; tests embedding the emulator keep it off.
    const emulator = await startApimEmulator({
      dir: join(dir, 'emulator'), importDelayMs: options.importDelayMs ?? 0, throttling: { enabled: true },
      ...(gateway ? { host: gateway, hostnames: [gateway] } : {}),
      ...(options.gatewayHost !== undefined ? { gatewayHost: options.gatewayHost } : {}),
    });
    cleanups.push(() => emulator.close());
    const secondEmulator = await startApimEmulator({
      dir: join(dir, 'emulator'), serviceName: SECONDARY_SERVICE, importDelayMs: options.importDelayMs ?? 0, throttling: { enabled: true },
      ...(gateway ? { host: gateway, hostnames: [gateway] } : {}),
    });
    cleanups.push(() => secondEmulator.close());
    // The emulator listens on loopback here (node agent): the name resolves there.
    const gatewayResolution = options.gatewayHost !== undefined ? writeGatewayResolution(dir, gatewayName(emulator.gatewayUrl, '127.0.0.1')) : undefined;
    // Node agent: the backend on an address of the run's own, since the EndpointSlice refuses loopback and the
    // machine's interface address is not ours to use (run-address.ts); released when the sandbox stops.
    let address = gateway;
    if (!address) {
      let own: RunAddress;
      try {
        own = claimRunAddress({ log: options.log });
      } catch (e) {
        if (e instanceof RunAddressError) throw new Error(`the sample backend needs an address its EndpointSlice accepts (not loopback, not this machine's interface): ${e.message}`);
        throw e;
      }
      cleanups.push(() => own.release());
      address = own.address;
    }
    const backend = await startSampleBackend({ address });
    cleanups.push(() => backend.close());

    // The webhook replicas and the executor's pods run the production bundle, as the image does.
    options.log('building the bundle the webhook and the Jobs run…');
    const bundleDir = join(dir, 'dist');
    const { buildBundle } = await import('../../scripts/build.ts');
    await buildBundle(bundleDir);
    const bundleEntry = join(bundleDir, 'exposedapi-apim.mjs');

    const list = async () => (JSON.parse(await lcp.k(['get', 'exposedapis', '-A', '-o', 'json'])) as { items: Obj[] }).items;
    const jobs = async () => (JSON.parse(await lcp.k(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] }).items;
    const common = {
      dir, lcp, node, emulator, secondEmulator, backend,
      ...(gatewayResolution ? { gatewayResolution } : {}),
      async apply(objs: Obj[]) {
        if (objs.length === 0) return;
        const text = objs.map((x) => YAML.stringify(x)).join('---\n').replaceAll('${SANDBOX_SPEC_BASE}', backend.url);
        await lcp.k(['apply', '--server-side', '-n', SANDBOX_NAMESPACE, '-f', '-'], text);
      },
      async waitSettled(names: { ns: string; name: string }[], timeoutMs: number, stopEarly?: () => boolean) {
        const deadline = Date.now() + timeoutMs;
        let states: Record<string, 'ready' | 'failed' | 'pending'> = {};
        for (;;) {
          const items = await list();
          states = {};
          for (const n of names) {
            const obj = items.find((i) => i['metadata']['namespace'] === n.ns && i['metadata']['name'] === n.name);
            states[`${n.ns}/${n.name}`] = obj ? readyState(obj) : 'pending';
          }
          if (Object.values(states).every((x) => x !== 'pending') || Date.now() > deadline || stopEarly?.()) return states;
          await new Promise((r) => setTimeout(r, 300));
        }
      },
      async waitJobsIdle(timeoutMs: number) {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if ((await jobs()).every((j) => jobState(j) !== 'Running' && jobState(j) !== 'Pending')) return;
          await new Promise((r) => setTimeout(r, 300));
        }
      },
      summary: async (names: { ns: string; name: string }[]) => (await summarize(lcp, emulator, names, node, gatewayResolution, secondEmulator)).text,
      report: () => report(lcp, emulator),
      stop,
    };

    if (lcp.state.realNode) {
      // The operator as a cluster runs it: its image in the node's containerd, installed by its Helm chart.
      const realNode = lcp.state.realNode;
      options.log('building the operator image (reused when nothing changed)…');
      const image = await sandboxOperatorImage({ dir, bundleDir, caFile: emulator.caFile, log: options.log });
      if (!hasImage('ctr', realNode.containerdSocket, image.reference)) {
        options.log(`importing ${image.reference} into the node's containerd…`);
        importImage('ctr', realNode.containerdSocket, image);
        // The node directory keeps its images across runs: drop the previous builds' (145 MB each unpacked).
        pruneImages('ctr', realNode.containerdSocket, `${image.repository}:sandbox-`, image.reference);
      }
      await lcp.k(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SANDBOX_NAMESPACE } }));
      await publishBackendService(lcp.cp.kubeConfig(), SANDBOX_NAMESPACE, SAMPLE_SERVICE, 8080, backend);
      options.log('installing the operator with its Helm chart (webhook and dispatcher as a Deployment)…');
      installOperatorChart({ dir, kubeconfig: lcp.kubeconfig, namespace: OPERATOR_NAMESPACE, values: sandboxChartValues(image, emulator, options.chartValues) });
      // The ApimTarget CRD comes with the chart here (the node agent's path installs it beforehand): targets only after it.
      await waitCrdEstablished(lcp.k, 120_000, 'apimtargets.exposedapi-apim.io');
      await applyTargets(lcp, emulator, secondEmulator, backend);
      return {
        ...common,
        webhooks: [],
        addReplica: () => Promise.reject(new Error('on a real node the webhook runs as a Deployment: scale it with kubectl scale deployment')),
      };
    }

    const rbacFiles = ['rbac.yaml', 'executor-rbac.yaml', 'dispatcher-rbac.yaml'].filter((f) => existsSync(join(REPO_ROOT, 'manifests/base', f)));
    await installOperatorResources(lcp, rbacFiles, options.log);
    // The operator ConfigMap, as an install would have it, pointed at the emulator. The credentials are the
    // emulator's (in a real install they come from workload identity, never from a ConfigMap).
    const config: Record<string, string> = {
      APIM_SUBSCRIPTION_ID: emulator.subscriptionId,
      APIM_RESOURCE_GROUP: emulator.resourceGroup,
      APIM_SERVICE_NAME: emulator.serviceName,
      ARM_ENDPOINT: emulator.url,
      AZURE_AUTHORITY_HOST: emulator.authorityHost,
      AZURE_TENANT_ID: emulator.tenantId,
      AZURE_CLIENT_ID: emulator.clientId,
      AZURE_CLIENT_SECRET: emulator.clientSecret,
      NODE_EXTRA_CA_CERTS: emulator.caFile,
      ROUTE_MODE: 'ingress',
      CREATE_MISSING_PRODUCTS: 'true',
      CREATE_MISSING_TAGS: 'true',
      SPEC_FETCH_ALLOW_HTTP: 'true',
      SPEC_FETCH_ALLOW_PRIVATE: 'true',
      REMOTE_SPEC_CHECK: 'deny',
      LOG_LEVEL: 'info',
      ...gatewaySettings(emulator, backend),
    };
    await lcp.k(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exposedapi-apim-config', namespace: OPERATOR_NAMESPACE }, data: config }));
    await lcp.k(['apply', '-f', '-'], YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SANDBOX_NAMESPACE } }));
    await publishBackendService(lcp.cp.kubeConfig(), SANDBOX_NAMESPACE, SAMPLE_SERVICE, 8080, backend);
    await applyTargets(lcp, emulator, secondEmulator, backend);

    // The apiserver reaches the replicas through one address, like a Service: killing one leaves admission up.
    const service = await startServiceProxy();
    cleanups.push(() => service.close());
    const webhooks: (Sandbox['webhooks'][number] & { port: number })[] = [];
    const addReplica = async (podName: string) => {
      const w = await startLocalWebhook(dir, lcp, {
        DISPATCHER_ENABLED: 'true',
        OPERATOR_NAMESPACE,
        POD_NAMESPACE: OPERATOR_NAMESPACE,
        POD_NAME: podName,
        EXECUTOR_IMAGE: 'exposedapi-apim:sandbox',
        EXECUTOR_COMMAND: JSON.stringify(['node', bundleEntry]),
        SPEC_FETCH_ALLOW_HTTP: 'true',
        SPEC_FETCH_ALLOW_PRIVATE: 'true',
        ...deploymentProcessEnv(),
        ...options.webhookEnv,
      }, options.log, { register: webhooks.length === 0, registerUrl: service.url, logName: `webhook-${podName}.log`, entry: bundleEntry });
      const entry = { ...w, podName };
      webhooks.push(entry);
      service.setBackends(webhooks.map((x) => x.port));
      cleanups.push(() => {
        try {
          process.kill(w.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
      });
      return entry;
    };
    await addReplica('sandbox-webhook-0');

    return { ...common, webhooks, addReplica };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function runSandbox(options: SandboxOptions): Promise<number> {
  const started = Date.now();
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const sandbox = await startSandbox({ dir: options.dir, log: options.log, ...(options.node ? { node: options.node } : {}), ...(options.gatewayHost !== undefined ? { gatewayHost: options.gatewayHost } : {}) });
  try {
    const files = manifestFiles([...(options.noExamples ? [] : [join(REPO_ROOT, 'examples')]), ...options.apply]);
    const objs = renderManifests(files, sandbox.backend.url);
    options.log(`applying ${objs.length} object(s) from ${files.length} file(s)…`);
    await sandbox.apply(objs);
    const names = objs.filter((x) => x['kind'] === 'ExposedAPI').map((x) => ({ ns: x['metadata']?.['namespace'] ?? SANDBOX_NAMESPACE, name: x['metadata']['name'] as string }));
    if (!options.noExamples) {
      // The second instance's example, in its own namespace (apim-targets.ts).
      const example = secondaryExample();
      await sandbox.lcp.k(['apply', '--server-side', '-f', '-'], YAML.stringify(example).replaceAll('${SANDBOX_SPEC_BASE}', sandbox.backend.url));
      names.push({ ns: SECONDARY_NAMESPACE, name: example['metadata'].name });
    }
    const states = await sandbox.waitSettled(names, (options.waitSeconds ?? 180) * 1000, () => interrupted);
    // The executor writes status before its process exits: let the Jobs finish so the summary and report are final.
    if (!interrupted) await sandbox.waitJobsIdle(30_000);
    process.stdout.write(await sandbox.summary(names));
    process.stdout.write(`\nup in ${((Date.now() - started) / 1000).toFixed(1)} s. kubeconfig: ${sandbox.lcp.kubeconfig}\n  export KUBECONFIG=${sandbox.lcp.kubeconfig}; alias kubectl=${sandbox.lcp.state.kubectl}\n`);
    if (options.report) writeFileSync(options.report, JSON.stringify(await sandbox.report(), null, 2));
    const allReady = Object.values(states).every((s) => s === 'ready');
    if (options.exit || interrupted) return allReady ? 0 : 1;
    process.stdout.write('Ctrl-C to stop.\n');
    await new Promise<void>((r) => {
      if (interrupted) return r();
      process.once('SIGINT', () => r());
      process.once('SIGTERM', () => r());
    });
    return 0;
  } finally {
    await sandbox.stop();
  }
}

const TOP_LEVEL_POLICIES = new Set(['cors', 'validate-jwt', 'rate-limit', 'rate-limit-by-key', 'quota-by-key', 'validate-content', 'validate-parameters', 'validate-headers', 'validate-status-code', 'include-fragment', 'set-backend-service']);

function jobState(j: Obj): string {
  const conditions: Obj[] = j['status']?.['conditions'] ?? [];
  for (const type of ['Complete', 'Failed', 'FailureTarget', 'SuccessCriteriaMet']) {
    if (conditions.some((c) => c['type'] === type && c['status'] === 'True')) return type;
  }
  return j['status']?.['active'] ? 'Running' : 'Pending';
}

/** The ApimTargets of the two instances, the second one's namespace and the sample Service there (apim-targets.ts). */
async function applyTargets(lcp: LocalControlPlane, primary: ApimEmulator, secondary: ApimEmulator, backend: SampleBackend): Promise<void> {
  await lcp.k(['apply', '--server-side', '-f', '-'], sandboxTargetObjects(primary, secondary).map((o) => YAML.stringify(o)).join('---\n'));
  await publishBackendService(lcp.cp.kubeConfig(), SECONDARY_NAMESPACE, SAMPLE_SERVICE, 8080, backend);
}

/** ` version=v4 in set <id>` for a version of an API version set (docs/version-sets.md), else nothing. */
function versionOf(api: Obj): string {
  const p = api['properties'] ?? {};
  return p['apiVersionSetId'] ? `  version=${p['apiVersion'] ?? ''} in set ${String(p['apiVersionSetId']).split('/').pop()}` : '';
}

async function summarize(lcp: LocalControlPlane, emulator: { state(): unknown; caFile: string }, names: { ns: string; name: string }[], node: NodeKind, gatewayResolution: GatewayResolution | undefined, secondEmulator?: { state(): unknown }) {
  const list = JSON.parse(await lcp.k(['get', 'exposedapis', '-A', '-o', 'json'])) as { items: Obj[] };
  const jobs = JSON.parse(await lcp.k(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] };
  const lines: string[] = ['', 'ExposedAPIs:'];
  for (const n of names) {
    const obj = list.items.find((i) => i['metadata']['namespace'] === n.ns && i['metadata']['name'] === n.name);
    const ready = (obj?.['status']?.['conditions'] ?? []).find((c: Obj) => c['type'] === 'Ready');
    lines.push(`  ${n.ns}/${n.name}: ${ready ? `Ready=${ready['status']} (${ready['reason']})` : 'no status yet'}  url=${obj?.['status']?.['apiStatus']?.['url'] ?? '-'}  implementation.ready=${obj?.['status']?.['implementation']?.['ready'] ?? '-'}`);
    if (ready && ready['status'] !== 'True') lines.push(`      ${ready['message']}`);
  }
  lines.push('', `Jobs (namespace ${OPERATOR_NAMESPACE}):`);
  for (const j of jobs.items) {
    lines.push(`  ${j['metadata']['name']}  ${j['metadata']['labels']?.[JOB_LABELS.action] ?? ''}  ${jobState(j)}`);
    // A real node's kubelet serves container logs; the node agent keeps them in files only (the report has them).
    if (node === 'real') lines.push(`      kubectl logs -n ${OPERATOR_NAMESPACE} job/${j['metadata']['name']}`);
  }
  const state = emulator.state() as Obj;
  const apis: Obj[] = Array.isArray(state['apis']) ? state['apis'] : isObject(state['apis']) ? Object.values(state['apis']) : [];
  lines.push('', 'APIM APIs (emulator):');
  for (const api of apis) {
    const policy = String(api['policy']?.['xml'] ?? '');
    const names = [...policy.matchAll(/<([a-z-]+)[\s/>]/g)].map((m) => m[1]!).filter((x) => TOP_LEVEL_POLICIES.has(x));
    lines.push(`  ${api['name']}  path=/${api['properties']?.['path'] ?? ''}${versionOf(api)}  operations=${(api['operations'] ?? []).length}  policies=[${[...new Set(names)].join(', ')}]  products=[${(api['products'] ?? []).join(', ')}]  tags=[${(api['tags'] ?? []).join(', ')}]`);
  }
  if (secondEmulator) {
    const second = secondEmulator.state() as Obj;
    lines.push('', `APIM APIs (second emulator, ApimTarget ${SECONDARY_TARGET}):`);
    for (const api of Array.isArray(second['apis']) ? second['apis'] as Obj[] : []) lines.push(`  ${api['name']}  path=/${api['properties']?.['path'] ?? ''}${versionOf(api)}  operations=${(api['operations'] ?? []).length}`);
  }
  if (node === 'agent') lines.push(...gatewayCurls(names.map((n) => list.items.find((i) => i['metadata']['namespace'] === n.ns && i['metadata']['name'] === n.name)).filter((o) => o !== undefined), apis, emulator.caFile, gatewayResolution));
  return { text: lines.join('\n') + '\n' };
}

async function report(lcp: LocalControlPlane, emulator: { state(): unknown }) {
  const list = JSON.parse(await lcp.k(['get', 'exposedapis', '-A', '-o', 'json'])) as { items: Obj[] };
  const jobs = JSON.parse(await lcp.k(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] };
  const pods = JSON.parse(await lcp.k(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] };
  const jobReports = [];
  for (const j of jobs.items) {
    const jobPods = pods.items.filter((p) => p['metadata']['labels']?.['job-name'] === j['metadata']['name']);
    const logs: Record<string, string> = {};
    for (const p of jobPods) logs[p['metadata']['name']] = await lcp.cp.podLog(OPERATOR_NAMESPACE, p['metadata']['name']).catch(() => '');
    jobReports.push({ name: j['metadata']['name'], labels: j['metadata']['labels'], status: j['status'], logs });
  }
  return {
    exposedApis: list.items.map((i) => ({ namespace: i['metadata']['namespace'], name: i['metadata']['name'], annotations: i['metadata']['annotations'], finalizers: i['metadata']['finalizers'], status: i['status'] })),
    jobs: jobReports,
    emulator: emulator.state(),
  };
}
