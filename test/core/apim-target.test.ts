// ApimTarget (core/apim-target.ts): the reader refuses every bad field at once with its fix, the ARM id is parsed
// ARM's way, selectors match as metav1.LabelSelector does, and a target becomes the Job environment of the common
// contract (issue 16), whose applied-settings hash moves only with what changes an apply's result.
import t from 'tap';
import { appliedSettingsHash, parseServiceId, readApimTarget, selectorMatches, serviceIdOf, targetJobEnv, type ApimTarget } from '../../core/apim-target.ts';
import { renderFieldError } from '../../core/field-error.ts';

const SUB = '00000000-0000-0000-0000-0000000000aa';
const ID = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-weu`;
const target = (spec: Record<string, unknown>, name = 'weu') => ({ apiVersion: 'exposedapi-apim.io/v1alpha1', kind: 'ApimTarget', metadata: { name }, spec: { resourceId: ID, ...spec } });
const ok = (obj: unknown): ApimTarget => {
  const r = readApimTarget(obj);
  if (!r.ok) throw new Error(r.errors.map(renderFieldError).join('; '));
  return r.target;
};
const errorsOf = (obj: unknown): string[] => {
  const r = readApimTarget(obj);
  return r.ok ? [] : r.errors.map(renderFieldError);
};

t.test('ARM ids: the service id ARM gives, compared case-insensitively in its fixed parts', async (t) => {
  const cases: [string, ReturnType<typeof parseServiceId>][] = [
    [ID, { subscriptionId: SUB, resourceGroup: 'rg-apim', serviceName: 'apim-weu' }],
    [ID.replace('/resourceGroups/', '/resourcegroups/').replace('Microsoft.ApiManagement', 'microsoft.apimanagement'), { subscriptionId: SUB, resourceGroup: 'rg-apim', serviceName: 'apim-weu' }],
    [ID.replace(SUB, SUB.toUpperCase()), { subscriptionId: SUB, resourceGroup: 'rg-apim', serviceName: 'apim-weu' }],
    [ID.replace('rg-apim', 'rg_(prod).1'), { subscriptionId: SUB, resourceGroup: 'rg_(prod).1', serviceName: 'apim-weu' }],
    [`${ID}/apis/x`, undefined],
    [ID.replace('rg-apim', 'rg.'), undefined],
    [ID.replace('apim-weu', '1apim'), undefined],
    [ID.replace(SUB, 'not-a-guid'), undefined],
    [ID.replace('Microsoft.ApiManagement/service', 'Microsoft.Web/sites'), undefined],
    ['apim-weu', undefined],
  ];
  for (const [id, want] of cases) t.same(parseServiceId(id), want, id);
  t.equal(serviceIdOf(parseServiceId(ID)!), ID, 'round trip');
});

t.test('the reader: a valid target with every block', async (t) => {
  const read = ok(target({
    gatewayUrl: 'https://apim-weu.azure-api.net/',
    tier: 'standardv2',
    identity: { clientId: '11111111-1111-1111-1111-111111111111', serviceAccountName: 'apim-weu' },
    namespaceSelector: { matchLabels: { 'exposedapi-apim.io/target': 'weu' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] },
    default: true,
    cloud: { armEndpoint: 'https://management.chinacloudapi.cn', authorityHost: 'https://login.chinacloudapi.cn/' },
    versioning: { scheme: 'Header', headerName: 'Api-Version' },
    revisions: { enabled: true, keep: 5 },
    drift: { mode: 'repair' },
  }));
  t.equal(read.gatewayUrl, 'https://apim-weu.azure-api.net', 'trailing slash dropped');
  t.equal(read.tier, 'StandardV2', 'tier in APIM\'s spelling');
  t.equal(read.cloud.authorityHost, 'https://login.chinacloudapi.cn');
  t.same(read.service, { subscriptionId: SUB, resourceGroup: 'rg-apim', serviceName: 'apim-weu' });
  t.equal(read.default, true);
});

t.test('the reader: every problem at once, each with its field and fix', async (t) => {
  const cases: [string, unknown, string[]][] = [
    ['no spec', { metadata: { name: 'x' } }, ['spec.resourceId: Required value: the ARM id of the API Management service']],
    ['not an ARM id', target({ resourceId: '/subscriptions/x' }), ['spec.resourceId: Invalid value: "/subscriptions/x": must be the ARM id of an API Management service']],
    ['bad name', target({}, 'Bad_Name'), ['metadata.name: Invalid value: "Bad_Name": must be a DNS subdomain name']],
    ['unknown key', target({ gateway: 'x' }), ['spec.gateway']],
    ['gateway not a URL', target({ gatewayUrl: 'apim.example.com' }), ['spec.gatewayUrl: Invalid value: "apim.example.com": must be an absolute http(s) URL']],
    ['unknown tier', target({ tier: 'Gold' }), ['spec.tier: Unsupported value: "Gold"']],
    ['client id not a GUID', target({ identity: { clientId: 'me' } }), ['spec.identity.clientId: Invalid value: "me": must be the client id (a GUID)']],
    ['service account', target({ identity: { serviceAccountName: 'Not OK' } }), ['spec.identity.serviceAccountName: Invalid value: "Not OK"']],
    ['empty selector', target({ namespaceSelector: {} }), ['spec.namespaceSelector: Invalid value: {}: must have matchLabels or matchExpressions; to use the target for every namespace without a choice of its own, set spec.default: true']],
    ['selector operator', target({ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }), ['spec.namespaceSelector.matchExpressions[0].operator: Unsupported value: "Near"']],
    ['In without values', target({ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }), ['spec.namespaceSelector.matchExpressions[0].values: Required value: In needs at least one value']],
    ['label value', target({ namespaceSelector: { matchLabels: { a: 'x y' } } }), ['spec.namespaceSelector.matchLabels.a: Invalid value: "x y": must be a label value']],
    ['http ARM endpoint', target({ cloud: { armEndpoint: 'http://arm.example.com' } }), ['spec.cloud.armEndpoint: Invalid value: "http://arm.example.com": must be an absolute https URL']],
    ['versioning scheme', target({ versioning: { scheme: 'Path' } }), ['spec.versioning.scheme: Unsupported value: "Path"']],
    ['markup in a header name', target({ versioning: { scheme: 'Header', headerName: '<x>' } }), ['spec.versioning.headerName: Invalid value: "<x>": must be a token']],
    ['keep out of range', target({ revisions: { keep: 1000 } }), ['spec.revisions.keep: Invalid value: 1000: must be between 0 and 100']],
    ['drift mode', target({ drift: { mode: 'fix' } }), ['spec.drift.mode: Unsupported value: "fix"']],
  ];
  for (const [what, obj, want] of cases) {
    const got = errorsOf(obj);
    for (const w of want) t.ok(got.some((e) => e.startsWith(w)), `${what}: ${w}`, { got });
  }
  t.equal(errorsOf(target({ namespaceSelector: { matchLabels: { a: 'x y' } } })).length, 1, 'a bad label is one error, not also an empty selector');
  const many = errorsOf(target({ resourceId: 'x', tier: 'Gold', drift: { mode: 'fix' } }));
  t.equal(many.length, 3, 'all three at once');
});

t.test('namespace selectors match as metav1.LabelSelector does', async (t) => {
  const sel = (s: Record<string, unknown>) => ok(target({ namespaceSelector: s })).namespaceSelector!;
  const cases: [Record<string, unknown>, Record<string, string>, boolean][] = [
    [{ matchLabels: { env: 'prod' } }, { env: 'prod', team: 'a' }, true],
    [{ matchLabels: { env: 'prod' } }, { env: 'dev' }, false],
    [{ matchLabels: { env: 'prod' } }, {}, false],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'stage'] }] }, { env: 'stage' }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, { env: 'prod' }, false],
    [{ matchExpressions: [{ key: 'weu', operator: 'Exists' }] }, { weu: '' }, true],
    [{ matchExpressions: [{ key: 'weu', operator: 'DoesNotExist' }] }, { weu: '' }, false],
    [{ matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'Exists' }] }, { env: 'prod' }, false],
  ];
  for (const [s, labels, want] of cases) t.equal(selectorMatches(sel(s), labels), want, `${JSON.stringify(s)} on ${JSON.stringify(labels)}`);
});

t.test('the Job environment: the instance always, each settings block only when set', async (t) => {
  const bare = ok(target({}));
  const env = Object.fromEntries(targetJobEnv(bare).map((e) => [e.name, e.value]));
  t.same(env, {
    APIM_TARGET: 'weu',
    APIM_TARGET_SETTINGS: appliedSettingsHash(bare),
    APIM_SUBSCRIPTION_ID: SUB,
    APIM_RESOURCE_GROUP: 'rg-apim',
    APIM_SERVICE_NAME: 'apim-weu',
    APIM_GATEWAY_URL: '',
    APIM_SKU: '',
  }, 'no gateway URL or tier of the operator\'s instance leaks in (the ConfigMap\'s are overridden with "")');
  const full = ok(target({
    identity: { clientId: '11111111-1111-1111-1111-111111111111' },
    cloud: { armEndpoint: 'https://arm.example.com' },
    versioning: { scheme: 'Query', queryName: 'api-version' },
    revisions: { enabled: false, keep: 2 },
    drift: { mode: 'report' },
  }));
  const fullEnv = Object.fromEntries(targetJobEnv(full).map((e) => [e.name, e.value]));
  t.match(fullEnv, {
    AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111',
    ARM_ENDPOINT: 'https://arm.example.com',
    ARM_SCOPE: 'https://arm.example.com/.default',
    APIM_VERSIONING_SCHEME: 'Query',
    APIM_VERSION_QUERY_NAME: 'api-version',
    APIM_REVISIONS: 'off',
    APIM_REVISIONS_KEEP: '2',
    APIM_DRIFT_MODE: 'report',
  });
  t.notOk('AZURE_AUTHORITY_HOST' in fullEnv, 'unset blocks leave the ConfigMap\'s value');
});

t.test('the applied-settings hash moves with what an apply leaves behind, and only with that', async (t) => {
  const base = appliedSettingsHash(ok(target({})));
  t.match(base, /^[0-9a-f]{16}$/);
  const moves: [string, Record<string, unknown>][] = [
    ['gateway URL', { gatewayUrl: 'https://gw.example.com' }],
    ['versioning', { versioning: { scheme: 'Header' } }],
    ['ARM endpoint', { cloud: { armEndpoint: 'https://arm.example.com' } }],
  ];
  for (const [what, spec] of moves) t.not(appliedSettingsHash(ok(target(spec))), base, `${what} moves it`);
  const stays: [string, Record<string, unknown>][] = [
    ['identity', { identity: { serviceAccountName: 'other' } }],
    ['selector', { namespaceSelector: { matchLabels: { a: 'b' } } }],
    ['default', { default: true }],
    ['tier', { tier: 'Premium' }],
    ['revisions', { revisions: { enabled: true } }],
    ['drift', { drift: { mode: 'repair' } }],
    ['resourceId case', { resourceId: ID.toUpperCase().replace('/SUBSCRIPTIONS/', '/subscriptions/') }],
  ];
  for (const [what, spec] of stays) t.equal(appliedSettingsHash(ok(target(spec))), base, `${what} does not`);
});
