// The gateway end to end through the sandbox: ExposedAPIs applied with kubectl, published by the operator's Jobs
// (webhook → dispatcher → Job → executor → APIM emulator), then called with real HTTPS at the status URLs the executor
// wrote, which name the gateway as `apim-emulator.azure-api.net` (--gateway-host) and resolve through the sandbox's
// own resolution (its lookup; the summary's curl carries --resolve). Per API: a rate limit and a quota (and two APIs
// not sharing a counter), a CORS preflight allowed and denied, JWT 401/200 with a token from the emulator's identity
// endpoint, a subscription key 401/200, OAS request validation 400/200, and a template fragment applied. (An update
// to rateLimit taking effect for the next request after its Job: test/e2e/sandbox-e2e.test.ts.)
import t from 'tap';
import https from 'node:https';
import { lookup as systemLookup } from 'node:dns';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { gatewayLookup } from '../../dev-cluster/sandbox/gateway-access.ts';
import { SANDBOX_NAMESPACE, SAMPLE_SERVICE, startSandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import { exposedApi } from '../helpers/fixtures.ts';

type Obj = Record<string, any>;
const GATEWAY_HOST = 'apim-emulator.azure-api.net';
// A sandbox start and eight Jobs: minutes on a loaded 2-core machine; every wait inside is bounded on its own.
t.setTimeout(20 * 60_000);
const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-sandbox-gateway-'));
// The JWT API names the emulator's own OpenID configuration, on loopback: the platform team allows private targets.
const sandbox = await startSandbox({ dir, log: () => {}, gatewayHost: GATEWAY_HOST, webhookEnv: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
t.teardown(async () => {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});
const k = sandbox.lcp.k;
const ns = SANDBOX_NAMESPACE;
const emu = sandbox.emulator;
await k(['patch', 'configmap', 'exposedapi-apim-config', '-n', OPERATOR_NAMESPACE, '--type', 'merge', '-p', JSON.stringify({ data: { OUTBOUND_ALLOW_PRIVATE: 'true' } })]);

const credential = new ClientSecretCredential(emu.tenantId, emu.clientId, emu.clientSecret, { authorityHost: emu.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: emu.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3]);
const client = new ApiManagementClient(credential, emu.subscriptionId, { endpoint: emu.url, tlsOptions: { ca: emu.caPem } } as ApiManagementClientOptionalParams);
const lookup = gatewayLookup(sandbox.gatewayResolution!.name, systemLookup);

const spec = (name: string, extra: Obj) =>
  exposedApi({
    metadata: { name, namespace: undefined },
    spec: { implementation: SAMPLE_SERVICE, path: `/${name}/v4`, developerUI: undefined, specification: { url: '${SANDBOX_SPEC_BASE}/TMF620-ProductCatalog-v4.0.0.swagger.json', version: 'v4' }, ...extra },
  });
const statusUrl = async (name: string): Promise<string> => (JSON.parse(await k(['get', 'exposedapi', name, '-n', ns, '-o', 'json'])) as Obj)['status']['apiStatus']['url'];

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
/** A request to a status URL, its gateway name resolved by the sandbox (never by the machine's resolver). */
const call = (url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = https.request(url, { method: o.method ?? 'GET', headers: o.headers ?? {}, ca: emu.caPem, lookup }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(o.body);
  });

// The fragment spec.template names: created in APIM by the platform team before an API uses it.
const FRAGMENT = 'sandbox-gateway-fragment';
await client.policyFragment.beginCreateOrUpdateAndWait(emu.resourceGroup, emu.serviceName, FRAGMENT, {
  format: 'xml',
  value: `<fragment><rate-limit-by-key calls="1" renewal-period="60" counter-key="${FRAGMENT}:all" /></fragment>`,
}, { updateIntervalInMs: 50 });

const APIS: Record<string, Obj> = {
  'rate-a': { rateLimit: { enabled: true, identifier: 'IP', limit: '3', interval: 'pm' } },
  'rate-b': { rateLimit: { enabled: true, identifier: 'IP', limit: '3', interval: 'pm' } },
  quota: { quota: { identifier: 'header:x-client', limit: '2' } },
  cors: { CORS: { enabled: true, allowCredentials: false, allowOrigins: 'https://app.example.com', handlePreflightRequests: { enabled: true, allowHeaders: 'Content-Type', allowMethods: 'GET', maxAge: 600 } } },
  jwt: { apim: { authentication: { jwt: { openidConfigUrl: `${emu.url}/${emu.tenantId}/v2.0/.well-known/openid-configuration`, audiences: ['api://sandbox-gateway'] } } } },
  keyed: { apiKeyVerification: { enabled: true, location: 'header' } },
  validated: { OASValidation: { requestEnabled: true, responseEnabled: false, allowUnspecifiedHeaders: true } },
  templated: { template: FRAGMENT },
};

t.test('every API is published, its status URL on the named gateway', async (t) => {
  await sandbox.apply(Object.entries(APIS).map(([name, extra]) => spec(name, extra)));
  const states = await sandbox.waitSettled(Object.keys(APIS).map((name) => ({ ns, name })), 600_000);
  t.same(Object.values(states).filter((s) => s !== 'ready'), [], `all Ready: ${JSON.stringify(states)}`);
  for (const name of Object.keys(APIS)) t.match(await statusUrl(name), new RegExp(`^https://${GATEWAY_HOST.replaceAll('.', '\\.')}:\\d+/${name}/v4$`), `${name}: the real service's form`);
  const summary = await sandbox.summary([{ ns, name: 'rate-a' }]);
  t.match(summary, `--resolve ${GATEWAY_HOST}:${new URL(emu.gatewayUrl).port}:127.0.0.1 ${await statusUrl('rate-a')}/catalog`, 'the summary\'s curl resolves the name');
});

t.test('rate limit per API: the 4th call of 3 a minute is 429, and the other API keeps its own counter', async (t) => {
  const a = `${await statusUrl('rate-a')}/catalog`;
  const b = `${await statusUrl('rate-b')}/catalog`;
  const first = await call(a);
  t.equal(first.status, 200, `GET ${a}`);
  t.match(JSON.parse(first.body), [{ '@type': 'Catalog', id: '1', name: 'Catalog 1' }], 'the sample backend answered with TMF620 data');
  const statuses = [first.status];
  for (let i = 0; i < 3; i++) statuses.push((await call(a)).status);
  t.same(statuses, [200, 200, 200, 429]);
  const refused = await call(a);
  t.equal(refused.status, 429);
  t.match(JSON.parse(refused.body).message, /^Rate limit is exceeded\. Try again in \d+ seconds\.$/);
  t.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After');
  t.equal((await call(b)).status, 200, 'rate-b: same limit, same caller, its own counter');
});

t.test('quota per caller header: the 3rd call of 2 is 403; another caller has its own quota', async (t) => {
  const url = `${await statusUrl('quota')}/catalog`;
  const one = { headers: { 'x-client': 'one' } };
  t.same([(await call(url, one)).status, (await call(url, one)).status], [200, 200]);
  const over = await call(url, one);
  t.equal(over.status, 403);
  t.match(JSON.parse(over.body).message, /^Out of call volume quota\. Quota will be replenished in /);
  t.equal((await call(url, { headers: { 'x-client': 'two' } })).status, 200, 'caller two');
});

t.test('CORS: a preflight from the configured origin is allowed, one from another origin is not', async (t) => {
  const url = `${await statusUrl('cors')}/catalog`;
  const allowed = await call(url, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type' } });
  t.equal(allowed.status, 200);
  t.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
  t.equal(allowed.headers['access-control-max-age'], '600');
  const denied = await call(url, { method: 'OPTIONS', headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'GET' } });
  t.equal(denied.headers['access-control-allow-origin'], undefined, 'no CORS headers for another origin');
  const actual = await call(url, { headers: { origin: 'https://app.example.com' } });
  t.same([actual.status, actual.headers['access-control-allow-origin']], [200, 'https://app.example.com'], 'the actual request carries them');
});

t.test("JWT: 401 without a token or with a bad one, 200 with one from the emulator's identity endpoint", async (t) => {
  const url = `${await statusUrl('jwt')}/catalog`;
  const none = await call(url);
  t.equal(none.status, 401);
  t.equal(JSON.parse(none.body).message, 'Unauthorized', "the message core/policy-xml.ts renders (failed-validation-error-message)");
  t.equal((await call(url, { headers: { authorization: 'Bearer not.a.token' } })).status, 401, 'a malformed token');
  const otherAudience = (await credential.getToken('api://someone-else/.default'))!.token;
  t.equal((await call(url, { headers: { authorization: `Bearer ${otherAudience}` } })).status, 401, 'a token for another audience');
  const token = (await credential.getToken('api://sandbox-gateway/.default'))!.token;
  t.equal((await call(url, { headers: { authorization: `Bearer ${token}` } })).status, 200, 'a token for the API');
});

t.test('subscription key: 401 without or with a wrong key, 200 with a key of a subscription to the API', async (t) => {
  const url = `${await statusUrl('keyed')}/catalog`;
  t.equal((await call(url)).status, 401);
  t.equal((await call(url, { headers: { 'ocp-apim-subscription-key': 'wrong' } })).status, 401);
  await client.subscription.createOrUpdate(emu.resourceGroup, emu.serviceName, 'sandbox-gateway-keyed', { scope: `/apis/${ns}-keyed`, displayName: 'Keyed', state: 'active', primaryKey: 'sandbox-gateway-key-00000000001' });
  t.equal((await call(url, { headers: { 'ocp-apim-subscription-key': 'sandbox-gateway-key-00000000001' } })).status, 200);
});

t.test('OAS validation: a body breaking TMF620 Catalog_Create is 400, a valid one reaches the backend', async (t) => {
  const url = `${await statusUrl('validated')}/catalog`;
  const json = { 'content-type': 'application/json' };
  const bad = await call(url, { method: 'POST', headers: json, body: JSON.stringify({ description: 'no name' }) });
  t.equal(bad.status, 400);
  t.match(JSON.parse(bad.body).message, /^Body of the request does not conform to the definition Catalog_Create/);
  const good = await call(url, { method: 'POST', headers: json, body: JSON.stringify({ name: 'Spring catalog' }) });
  t.equal(good.status < 300, true, `a valid Catalog_Create passes (${good.status} ${good.body.slice(0, 200)})`);
});

t.test('the template fragment is applied: its rate limit of 1 refuses the second call', async (t) => {
  const url = `${await statusUrl('templated')}/catalog`;
  t.same([(await call(url)).status, (await call(url)).status], [200, 429]);
});
