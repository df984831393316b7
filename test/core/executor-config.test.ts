// core/executor-config.ts: defaults, every variable read, and errors that name the variable, the value and the fix.
import t from 'tap';
import { DEFAULT_QUOTA_RENEWAL_PERIOD_SECONDS, readExecutorConfig } from '../../core/executor-config.ts';

const required = { APIM_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001', APIM_RESOURCE_GROUP: 'rg', APIM_SERVICE_NAME: 'apim-x' };

t.test('defaults', async (t) => {
  const r = readExecutorConfig(required);
  if (!r.ok) throw new Error(r.errors.join('; '));
  const c = r.config;
  t.equal(c.apim.armEndpoint, 'https://management.azure.com');
  t.equal(c.apim.armScope, 'https://management.azure.com/.default');
  t.equal(c.apim.authorityHost, 'https://login.microsoftonline.com');
  t.equal(c.apim.disableInstanceDiscovery, false, 'the public cloud keeps instance discovery');
  t.equal(c.apim.gatewayUrl, undefined, 'read from the service when not set');
  t.equal(c.route.mode, 'ingress');
  t.equal(c.route.scheme, 'http');
  t.equal(c.route.waitMs, 60_000);
  t.equal(c.specImportMode, 'auto');
  t.equal(c.remoteSpecCheck, 'deny', 'the webhook\'s default');
  t.equal(c.quotaRenewalPeriodSeconds, DEFAULT_QUOTA_RENEWAL_PERIOD_SECONDS);
  t.equal(c.quotaRenewalPeriodSeconds, 86400);
  t.equal(c.createMissingProducts, false);
  t.equal(c.createMissingTags, true);
  t.equal(c.defaults.authentication, 'none', 'gateway auth is never forced on');
  t.equal(c.retryBudgetMs, 300_000);
  t.equal(c.specFetch.maxBytes, 4 * 1024 * 1024, 'the shared spec fetch options');
});

t.test('sovereign clouds and the emulator: endpoint, scope, authority, instance discovery off', async (t) => {
  const r = readExecutorConfig({ ...required, ARM_ENDPOINT: 'https://management.usgovcloudapi.net/', AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' });
  if (!r.ok) throw new Error(r.errors.join('; '));
  t.equal(r.config.apim.armEndpoint, 'https://management.usgovcloudapi.net');
  t.equal(r.config.apim.armScope, 'https://management.usgovcloudapi.net/.default');
  t.equal(r.config.apim.disableInstanceDiscovery, true);
});

t.test('every variable', async (t) => {
  const r = readExecutorConfig({
    ...required,
    APIM_GATEWAY_URL: 'https://apim-x.azure-api.net/',
    ROUTE_MODE: 'gateway-api',
    ROUTE_GATEWAY: 'gateways/internal',
    ROUTE_BASE_URL: 'http://10.0.0.10',
    ROUTE_HOST: 'apis.internal.example.com',
    ROUTE_BACKEND_SCHEME: 'https',
    ROUTE_WAIT_SECONDS: '5',
    INGRESS_CLASS: 'nginx-internal',
    DEFAULT_PRODUCTS: 'oda-core, internal',
    DEFAULT_TAGS: 'oda',
    CREATE_MISSING_PRODUCTS: 'true',
    CREATE_MISSING_TAGS: 'false',
    DEFAULT_AUTHENTICATION: 'jwt',
    JWT_TENANT_ID: 'contoso.onmicrosoft.com',
    JWT_AUDIENCES: 'api://oda',
    JWT_ISSUERS: 'https://sts.windows.net/contoso/',
    SPEC_IMPORT_MODE: 'link',
    REMOTE_SPEC_CHECK: 'warn',
    QUOTA_RENEWAL_PERIOD_SECONDS: '3600',
    RETRY_BUDGET_SECONDS: '30',
    APIM_POLL_INTERVAL_MS: '50',
    DEVELOPER_UI_BASE_URL: 'https://portal.example.com',
    JOB_NAME: 'components-pc-1234abcd',
    LOG_LEVEL: 'debug',
  });
  if (!r.ok) throw new Error(r.errors.join('; '));
  const c = r.config;
  t.equal(c.apim.gatewayUrl, 'https://apim-x.azure-api.net');
  t.same(c.route, { mode: 'gateway-api', ingressClass: 'nginx-internal', host: 'apis.internal.example.com', baseUrl: 'http://10.0.0.10', scheme: 'https', gateway: { namespace: 'gateways', name: 'internal' }, waitMs: 5000 });
  t.same(c.defaults.products, ['oda-core', 'internal']);
  t.same(c.defaults.jwt, {
    openidConfigUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration',
    audiences: ['api://oda'],
    issuers: ['https://sts.windows.net/contoso/'],
    requiredClaims: [],
  });
  t.equal(c.validationDefaultJwt, false, 'only JWT_OPENID_CONFIG_URL counts for validation, as in the webhook');
  t.same([c.specImportMode, c.remoteSpecCheck, c.quotaRenewalPeriodSeconds, c.retryBudgetMs, c.apim.pollIntervalMs], ['link', 'warn', 3600, 30_000, 50]);
  t.same([c.createMissingProducts, c.createMissingTags, c.developerUiBaseUrl, c.jobName, c.logLevel], [true, false, 'https://portal.example.com', 'components-pc-1234abcd', 'debug']);
});

t.test('errors name the variable, the value and what is valid', async (t) => {
  const r = readExecutorConfig({
    APIM_SUBSCRIPTION_ID: 'not-a-guid',
    APIM_SERVICE_NAME: '-bad',
    QUOTA_RENEWAL_PERIOD_SECONDS: '60',
    ROUTE_MODE: 'nodeport',
    DEFAULT_PRODUCTS: 'ok, not ok',
    DEFAULT_AUTHENTICATION: 'jwt',
  });
  t.notOk(r.ok);
  if (r.ok) return;
  const all = r.errors.join('\n');
  t.match(all, 'APIM_SUBSCRIPTION_ID="not-a-guid" is invalid');
  t.match(all, 'APIM_RESOURCE_GROUP is required');
  t.match(all, 'APIM_SERVICE_NAME="-bad" is invalid');
  t.match(all, 'QUOTA_RENEWAL_PERIOD_SECONDS="60" is invalid: must be a whole number from 300');
  t.match(all, 'ROUTE_MODE="nodeport" is invalid: must be one of ingress, istio, gateway-api');
  t.match(all, 'DEFAULT_PRODUCTS contains "not ok"');
  t.match(all, 'DEFAULT_AUTHENTICATION=jwt needs JWT_OPENID_CONFIG_URL or JWT_TENANT_ID');
  const istio = readExecutorConfig({ ...required, ROUTE_MODE: 'istio' });
  t.notOk(istio.ok);
  if (!istio.ok) {
    t.match(istio.errors.join('\n'), 'ROUTE_BASE_URL is required with ROUTE_MODE=istio');
    t.match(istio.errors.join('\n'), 'ROUTE_GATEWAY is required with ROUTE_MODE=istio');
  }
});

t.test('VALIDATE_CONTENT_MAX_SIZE: APIM\'s 4 MB by default, the older 100 KB or less by choice, never above 4 MB', async (t) => {
  const cases: { value?: string; ok: number | RegExp }[] = [
    { ok: 4194304 },
    { value: '102400', ok: 102400 },
    { value: '1', ok: 1 },
    { value: '4194304', ok: 4194304 },
    { value: '4194305', ok: /VALIDATE_CONTENT_MAX_SIZE="4194305" is invalid: must be a whole number from 1 to 4194304 \(default 4194304\)/ },
    { value: '0', ok: /VALIDATE_CONTENT_MAX_SIZE="0" is invalid/ },
    { value: '100KB', ok: /VALIDATE_CONTENT_MAX_SIZE="100KB" is invalid/ },
  ];
  for (const c of cases) {
    const r = readExecutorConfig({ ...required, ...(c.value !== undefined ? { VALIDATE_CONTENT_MAX_SIZE: c.value } : {}) });
    if (typeof c.ok === 'number') t.equal(r.ok && r.config.validateContentMaxSize, c.ok, `${c.value ?? '(unset)'} → ${c.ok}`);
    else t.match(!r.ok && r.errors.join('\n'), c.ok, `${c.value} refused`);
  }
});

t.test('version sets: Segment with api-version / Api-Version by default; each variable read; bad names refused', async (t) => {
  const d = readExecutorConfig(required);
  if (!d.ok) throw new Error(d.errors.join('; '));
  t.same(d.config.versioning, { scheme: 'Segment', queryName: 'api-version', headerName: 'Api-Version' }, 'Segment keeps ODA paths as public URLs');
  const set = readExecutorConfig({ ...required, APIM_VERSIONING_SCHEME: 'Header', APIM_VERSION_QUERY_NAME: 'v', APIM_VERSION_HEADER_NAME: 'X-Version' });
  if (!set.ok) throw new Error(set.errors.join('; '));
  t.same(set.config.versioning, { scheme: 'Header', queryName: 'v', headerName: 'X-Version' });
  const bad = readExecutorConfig({ ...required, APIM_VERSIONING_SCHEME: 'segment', APIM_VERSION_QUERY_NAME: 'a b', APIM_VERSION_HEADER_NAME: `X-${'v'.repeat(100)}` });
  t.notOk(bad.ok);
  const all = bad.ok ? '' : bad.errors.join('\n');
  t.match(all, 'APIM_VERSIONING_SCHEME="segment" is invalid: must be one of Segment, Query, Header (default Segment)');
  t.match(all, 'APIM_VERSION_QUERY_NAME="a b" is invalid: must be a query parameter name');
  t.match(all, /APIM_VERSION_HEADER_NAME="X-v+" is invalid: must be an HTTP header name/);
});
