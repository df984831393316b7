// The chart's values are the operator's real settings, checked against the code that reads them (the config readers
// of core/): every ConfigMap key is a variable the operator reads, every variable it reads has a value (or a stated
// reason why not), each value lands in its own variable, the chart's defaults are the operator's own, and the schema's
// ranges and choices are exactly what the readers accept, so the schema refuses at install what would stop a pod.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDispatcherConfig } from '../../core/dispatcher-config.ts';
import { readExecutorConfig } from '../../core/executor-config.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { CHART_DIR, find, renderChart, type Obj } from './helm.ts';

type Env = Record<string, string | undefined>;
const READERS = ['core/operator-config.ts', 'core/dispatcher-config.ts', 'core/executor-config.ts'];

/** Variables the readers read that no chart value sets, and who sets them instead. */
const NOT_FROM_VALUES: Record<string, string> = {
  WEBHOOK_HOST: 'the default (every address of the pod) is what a pod needs',
  WEBHOOK_PORT: 'the Deployment: the container port',
  TLS_CERT_FILE: 'the Deployment: the mounted TLS Secret',
  TLS_KEY_FILE: 'the Deployment: the mounted TLS Secret',
  OPERATOR_NAMESPACE: 'the ServiceAccount\'s namespace: the release namespace',
  POD_NAMESPACE: 'the ServiceAccount\'s namespace: the release namespace',
  POD_NAME: 'the pod\'s host name',
  JOB_NAME: 'the dispatcher\'s Job template',
  APIM_TARGET: 'the dispatcher, in each Job of an ApimTarget (core/apim-target.ts targetJobEnv)',
  APIM_TARGET_SETTINGS: 'the dispatcher, in each Job of an ApimTarget (core/apim-target.ts targetJobEnv)',
  AZURE_AUTHORITY_HOST: 'workload identity',
  KUBERNETES_SERVICE_HOST: 'the kubelet',
  EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR: 'the test node agent',
};

/** Every variable name the config readers read. */
function variablesRead(): Set<string> {
  const names = new Set<string>();
  for (const file of READERS) {
    const text = readFileSync(join(REPO_DIR, file), 'utf8');
    for (const m of text.matchAll(/(?:r\.(?:str|int|bool|oneOf|list)\(|\b\w+\(r, )'([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]!);
    for (const m of text.matchAll(/env\['([A-Z][A-Z0-9_]*)'\]/g)) names.add(m[1]!);
  }
  return names;
}

interface Leaf { path: string[]; schema: Obj }
/** Schema leaves that become a variable (x-env), with their value paths. */
function envLeaves(schema: Obj, path: string[] = []): Leaf[] {
  if (schema['x-env']) return [{ path, schema }];
  return Object.entries((schema['properties'] ?? {}) as Record<string, Obj>).flatMap(([k, s]) => envLeaves(s, [...path, k]));
}
const SCHEMA = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Obj;
const LEAVES = envLeaves(SCHEMA);

const REQUIRED = { APIM_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001', APIM_RESOURCE_GROUP: 'rg', APIM_SERVICE_NAME: 'apim-1' };
const IN_POD = { KUBERNETES_SERVICE_HOST: '10.0.0.1' };
const CONTEXT = { hostname: 'h', randomSuffix: 'r', serviceAccountNamespace: 'exposedapi-apim' };

/** All three readers' view of an environment, and every error they report. */
function readAll(env: Env) {
  const results = [readWebhookConfig(env), readDispatcherConfig(env, CONTEXT), readExecutorConfig(env)];
  return { results, errors: results.flatMap((r) => (r.ok ? [] : r.errors)) };
}

async function configMap(values: object): Promise<Record<string, string>> {
  return find(await renderChart(values), 'ConfigMap').data as Record<string, string>;
}

t.test('every ConfigMap key is a variable the operator reads, and every variable it reads has a value or a reason', async (t) => {
  const read = variablesRead();
  t.ok(read.size >= 60, `${read.size} variables read`);
  const data = await configMap({});
  for (const key of Object.keys(data)) t.ok(read.has(key), `${key} is read by ${READERS.join(' / ')}`);
  for (const name of read) t.ok(name in data || name in NOT_FROM_VALUES, `${name}: a chart value sets it, or NOT_FROM_VALUES says who does`);
  for (const name of Object.keys(NOT_FROM_VALUES)) t.ok(read.has(name), `${name} (NOT_FROM_VALUES) is still read`);
  const envs = new Set(LEAVES.map((l) => l.schema['x-env'] as string));
  for (const key of Object.keys(data)) {
    t.ok(envs.has(key) || ['LEASE_NAME', 'EXECUTOR_IMAGE', 'EXECUTOR_SERVICE_ACCOUNT', 'EXECUTOR_CONFIGMAP'].includes(key), `${key}: its value names it (x-env), or the chart derives it from the release`);
  }
});

t.test('the chart\'s defaults are the operator\'s own', async (t) => {
  const env = { ...(await configMap({})), ...REQUIRED, ...IN_POD };
  const chart = readAll(env);
  t.same(chart.errors, [], 'the default ConfigMap starts every process');
  const own = readAll({ ...REQUIRED, ...IN_POD });
  const configs = (results: typeof chart.results) => results.map((r) => (r.ok ? r.config : undefined)) as unknown as [Obj, Obj, Obj];
  const [webhook, dispatcher, executor] = configs(chart.results);
  const [webhook0, dispatcher0, executor0] = configs(own.results);
  t.same(webhook, webhook0, 'webhook');
  t.same(executor, executor0, 'executor');
  // The pull policy is the one deliberate difference: the Jobs pull the way the Deployment does.
  t.same({ ...dispatcher, job: { ...dispatcher['job'], imagePullPolicy: undefined } }, dispatcher0, 'dispatcher');
  t.equal(dispatcher['job'].imagePullPolicy, 'IfNotPresent');
});

/** A non-default value for every setting, and the variable text each must become. */
const CHANGED: Record<string, [unknown, string]> = {
  'image.pullPolicy': ['Always', 'Always'],
  watchNamespaces: [['team-a', 'team-b'], 'team-a,team-b'],
  clusterId: ['prod-westeurope-1', 'prod-westeurope-1'],
  logLevel: ['debug', 'debug'],
  tenancyPolicy: [{ rules: [{ namespaces: ['team-*'], pathPrefixes: ['/{namespace}'] }] }, '{"rules":[{"namespaces":["team-*"],"pathPrefixes":["/{namespace}"]}]}'],
  'apim.subscriptionId': ['aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'],
  'apim.resourceGroup': ['rg-apis', 'rg-apis'],
  'apim.serviceName': ['apim-prod', 'apim-prod'],
  'apim.sku': ['StandardV2', 'StandardV2'],
  'apim.gatewayUrl': ['https://apim-prod.azure-api.net', 'https://apim-prod.azure-api.net'],
  'apim.armEndpoint': ['https://management.usgovcloudapi.net', 'https://management.usgovcloudapi.net'],
  'apim.armScope': ['https://management.core.usgovcloudapi.net/.default', 'https://management.core.usgovcloudapi.net/.default'],
  'apim.developerUiBaseUrl': ['https://developer.example.com', 'https://developer.example.com'],
  'apim.pollIntervalMs': [500, '500'],
  'apim.importNotFoundWindowSeconds': [60, '60'],
  'apim.armPacingReservePercent': [30, '30'],
  'apim.retryBudgetSeconds': [200, '200'],
  'apim.specImportMode': ['link', 'link'],
  'apim.versioning.scheme': ['Query', 'Query'],
  'apim.versioning.queryName': ['v', 'v'],
  'apim.versioning.headerName': ['X-Api-Version', 'X-Api-Version'],
  'apim.validateContentMaxSize': [102400, '102400'],
  'apim.quotaRenewalPeriodSeconds': [3600, '3600'],
  'apim.revisions.enabled': [true, 'on'],
  'apim.revisions.keep': [5, '5'],
  'apim.products.defaults': [['starter', 'unlimited'], 'starter,unlimited'],
  'apim.products.createMissing': [true, 'true'],
  'apim.tags.defaults': [['oda'], 'oda'],
  'apim.tags.createMissing': [false, 'false'],
  'apim.defaultAuthentication': ['jwt', 'jwt'],
  'apim.jwt.openidConfigUrl': ['https://login.example.com/.well-known/openid-configuration', 'https://login.example.com/.well-known/openid-configuration'],
  'apim.jwt.tenantId': ['contoso.onmicrosoft.com', 'contoso.onmicrosoft.com'],
  'apim.jwt.audiences': [['api://a', 'api://b'], 'api://a,api://b'],
  'apim.jwt.issuers': [['https://issuer.example.com'], 'https://issuer.example.com'],
  'route.mode': ['gateway-api', 'gateway-api'],
  'route.ingressClass': ['internal', 'internal'],
  'route.host': ['apis.internal.example.com', 'apis.internal.example.com'],
  'route.baseUrl': ['http://10.0.0.10', 'http://10.0.0.10'],
  'route.backendScheme': ['https', 'https'],
  'route.gateway': ['gateways/internal', 'gateways/internal'],
  'route.waitSeconds': [30, '30'],
  'specFetch.remoteCheck': ['warn', 'warn'],
  'specFetch.timeoutMs': [2000, '2000'],
  'specFetch.maxBytes': [1048576, '1048576'],
  'specFetch.allowHttp': [true, 'true'],
  'specFetch.allowPrivate': [true, 'true'],
  'specFetch.allowedHosts': [['specs.example.com', '.example.org'], 'specs.example.com,.example.org'],
  'specFetch.cacheSeconds': [120, '120'],
  'outbound.allowHttp': [true, 'true'],
  'outbound.allowPrivate': [true, 'true'],
  'admission.pathUniqueness': [false, 'false'],
  'admission.maxBodyBytes': [4194304, '4194304'],
  'admission.requestTimeoutMs': [4000, '4000'],
  'admission.largeBodyBytes': [524288, '524288'],
  'admission.largeBodiesMaxBytes': [16777216, '16777216'],
  'admission.documentCheckers': [2, '2'],
  'admission.documentCheckTimeoutMs': [6000, '6000'],
  'admission.documentCheckerIdleSeconds': [30, '30'],
  'admission.documentCheckerMaxRssMb': [384, '384'],
  'admission.tlsReloadIntervalSeconds': [30, '30'],
  'dispatcher.enabled': [false, 'false'],
  'dispatcher.maxActiveJobs': [20, '20'],
  'dispatcher.minActiveJobs': [4, '4'],
  'dispatcher.slowJobFactor': [3, '3'],
  'dispatcher.failureHoldSeconds': [40, '40'],
  'dispatcher.resyncSeconds': [600, '600'],
  'dispatcher.readinessSync': [false, 'false'],
  'dispatcher.lease.durationSeconds': [30, '30'],
  'dispatcher.lease.renewDeadlineSeconds': [20, '20'],
  'dispatcher.lease.retryPeriodSeconds': [5, '5'],
  'drift.intervalSeconds': [600, '600'],
  'drift.mode': ['repair', 'repair'],
  'executor.command': [['node', '/app/dist/exposedapi-apim.mjs'], '["node","/app/dist/exposedapi-apim.mjs"]'],
  'executor.job.backoffLimit': [5, '5'],
  'executor.job.activeDeadlineSeconds': [900, '900'],
  'executor.job.ttlSecondsAfterFinished': [172800, '172800'],
  'executor.job.retry.limit': [10, '10'],
  'executor.job.retry.baseSeconds': [30, '30'],
  'executor.job.retry.maxSeconds': [3600, '3600'],
  'executor.job.retry.jitterPercent': [10, '10'],
  'executor.job.resources.requests.cpu': ['200m', '200m'],
  'executor.job.resources.requests.memory': ['256Mi', '256Mi'],
  'executor.job.resources.limits.cpu': [2, '2'],
  'executor.job.resources.limits.memory': ['1Gi', '1Gi'],
};

function setPath(target: Obj, path: string[], value: unknown): void {
  let o = target;
  for (const k of path.slice(0, -1)) o = (o[k] ??= {});
  o[path.at(-1)!] = value;
}

t.test('each value lands in its own variable, and the operator accepts them all', async (t) => {
  t.same(Object.keys(CHANGED).sort(), LEAVES.map((l) => l.path.join('.')).sort(), 'CHANGED covers every value that becomes a variable');
  const values: Obj = {};
  for (const leaf of LEAVES) setPath(values, leaf.path, CHANGED[leaf.path.join('.')]?.[0]);
  const defaults = await configMap({});
  const data = await configMap(values);
  for (const leaf of LEAVES) {
    const name = leaf.schema['x-env'] as string;
    const expected = CHANGED[leaf.path.join('.')]![1];
    t.equal(data[name], expected, `${leaf.path.join('.')} → ${name}`);
    t.not(defaults[name], expected, `${leaf.path.join('.')}: the test value differs from the default`);
  }
  t.same(readAll({ ...data, ...IN_POD }).errors, [], 'every process starts with them');
});

t.test('the schema\'s ranges and choices are exactly what the operator accepts', async (t) => {
  const base = { ...(await configMap({})), ...REQUIRED, ...IN_POD };
  const invalid = (name: string, value: string) => readAll({ ...base, [name]: value }).errors.filter((e) => e.startsWith(`${name}=`));
  let ranges = 0;
  for (const { path, schema } of LEAVES) {
    const name = schema['x-env'] as string;
    if (schema['type'] === 'integer') {
      ranges++;
      const { minimum: min, maximum: max } = schema as { minimum: number; maximum: number };
      t.same(invalid(name, String(min)).filter((e) => e.includes('is invalid')), [], `${path.join('.')}: ${name}=${min} (the schema's minimum) is accepted`);
      t.same(invalid(name, String(max)).filter((e) => e.includes('is invalid')), [], `${path.join('.')}: ${name}=${max} (the schema's maximum) is accepted`);
      t.not(invalid(name, String(min - 1)).length, 0, `${path.join('.')}: ${name}=${min - 1} (below the schema's minimum) is refused`);
      t.not(invalid(name, String(max + 1)).length, 0, `${path.join('.')}: ${name}=${max + 1} (above the schema's maximum) is refused`);
    }
    for (const choice of (schema['enum'] ?? []) as string[]) {
      t.same(invalid(name, choice).filter((e) => e.includes('is invalid')), [], `${path.join('.')}: ${name}=${JSON.stringify(choice)} (a schema choice) is accepted`);
    }
    if (schema['enum']) t.not(invalid(name, 'not-a-choice').length, 0, `${path.join('.')}: ${name} outside the schema's choices is refused`);
  }
  t.ok(ranges >= 30, `${ranges} ranges checked`);
});
