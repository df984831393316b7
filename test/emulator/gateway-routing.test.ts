// The gateway's built-in steps over real HTTPS: routing by the longest API path and by URL template, APIM's 404 and
// 500 bodies, forwarding to serviceUrl (path, query, body, headers) with the response streamed back, subscription keys
// (missing, invalid, header or query, API / product / all-APIs scope, open products, inactive subscriptions) with
// subscriptions managed through the SDK, the service's gatewayUrl, and the refusal of what the gateway does not model.
import t from 'tap';
import https from 'node:https';
import { itemsDocument, startBackend, startGatewayHarness } from './gateway-harness.ts';

const SUB_KEY = 'ocp-apim-subscription-key';

t.test('routing: longest API path, URL templates, 404 "Resource not found", forwarding to serviceUrl', async (t) => {
  const h = await startGatewayHarness(t);
  const outer = await startBackend(t);
  const inner = await startBackend(t);
  await h.importApi('outer', { path: 'shop', document: itemsDocument(), serviceUrl: `${outer.url}/outer-base` });
  await h.importApi('inner', { path: 'shop/v2', document: itemsDocument(), serviceUrl: `${inner.url}/inner-base/` });

  const listed = await h.call('/shop/v2/items?limit=5&x=a%20b');
  t.equal(listed.status, 200);
  t.same(listed.json(), { method: 'GET', url: '/inner-base/items?limit=5&x=a%20b', body: '' }, 'the longer path wins; serviceUrl path + operation path + query');
  t.equal(inner.received.length, 1);
  t.equal(outer.received.length, 0);
  t.equal(inner.received[0]!.headers['host'], inner.url.replace('http://', ''), 'Host names the backend');

  const one = await h.call('/shop/items/42');
  t.same(one.json(), { method: 'GET', url: '/outer-base/items/42', body: '' }, 'a template parameter takes one segment');

  const posted = await h.call('/shop/items', { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 'abc' }, body: '{"name":"n"}' });
  t.equal(posted.json().body, '{"name":"n"}', 'the body reaches the backend');
  t.equal(outer.received.at(-1)!.headers['x-trace'], 'abc', 'request headers reach the backend');

  for (const [path, method, why] of [
    ['/nowhere', 'GET', 'no API has the path'],
    ['/shopping/items', 'GET', 'a path prefix must end at a segment boundary'],
    ['/shop/items/1/extra', 'GET', 'no template matches'],
    ['/shop/items/1', 'DELETE', 'no operation for the method'],
  ] as const) {
    const r = await h.call(path, { method });
    t.equal(r.status, 404, why);
    t.equal(r.text, '{ "statusCode": 404, "message": "Resource not found" }', `${why}: APIM's body`);
    t.match(r.headers['content-type'], /^application\/json/);
  }
});

t.test('the response is streamed: the client reads the first bytes before the backend has finished', async (t) => {
  const h = await startGatewayHarness(t);
  let finish: (() => void) | undefined;
  const backend = await startBackend(t, (_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first part;');
    finish = () => res.end('second part');
  });
  await h.importApi('stream', { path: 'stream', document: itemsDocument(), serviceUrl: backend.url });
  const text = await new Promise<string>((resolve, reject) => {
    const req = https.request(`${h.emu.gatewayUrl}/stream/items`, { ca: h.emu.caPem }, (res) => {
      let got = '';
      const deadline = setTimeout(() => reject(new Error('the first bytes never arrived: the gateway buffered the response')), 30_000);
      res.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.includes('first part;') && finish) {
          clearTimeout(deadline);
          finish();
          finish = undefined;
        }
      });
      res.on('end', () => resolve(got));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(text, 'first part;second part');
});

t.test('an unreachable backend: 500 "Internal server error" with an activityId', async (t) => {
  const h = await startGatewayHarness(t);
  const gone = await startBackend(t);
  await gone.close();
  await h.importApi('gone', { path: 'gone', document: itemsDocument(), serviceUrl: gone.url });
  const r = await h.call('/gone/items');
  t.equal(r.status, 500);
  t.equal(r.json().message, 'Internal server error');
  t.match(r.json().activityId, /^[0-9a-f-]{36}$/);
});

t.test('subscription keys: missing 401, invalid 401, valid by header or query, scopes, open products, inactive subscriptions', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('keyed', { path: 'keyed', document: itemsDocument(), serviceUrl: backend.url, subscriptionRequired: true });
  await h.importApi('other', { path: 'other', document: itemsDocument(), serviceUrl: backend.url, subscriptionRequired: true });

  const missing = await h.call('/keyed/items');
  t.equal(missing.status, 401);
  t.equal(missing.json().message, 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.');
  const invalid = await h.call('/keyed/items', { headers: { [SUB_KEY]: 'not-a-key' } });
  t.equal(invalid.status, 401);
  t.equal(invalid.json().message, 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.');
  t.equal(backend.received.length, 0, 'refused requests never reach the backend');

  const created = await h.client.subscription.createOrUpdate(h.rg, h.svc, 'team-a', { scope: '/apis/keyed', displayName: 'Team A', state: 'active' });
  t.equal(created.primaryKey, undefined, 'keys are not returned on create/GET');
  t.match(created.scope, /\/service\/apim-emulator\/apis\/keyed$/, 'the scope is stored as a full resource id');
  const keys = await h.client.subscription.listSecrets(h.rg, h.svc, 'team-a');
  t.match(keys.primaryKey, /^[0-9a-f]{32}$/, 'keys are generated');
  t.not(keys.primaryKey, keys.secondaryKey);

  t.equal((await h.call('/keyed/items', { headers: { [SUB_KEY]: keys.primaryKey! } })).status, 200, 'primary key in the header');
  t.equal((await h.call('/keyed/items', { headers: { [SUB_KEY]: keys.secondaryKey! } })).status, 200, 'secondary key');
  t.equal((await h.call(`/keyed/items?subscription-key=${keys.primaryKey}`)).status, 200, 'key in the query');
  t.equal((await h.call(`/keyed/items?subscription-key=${keys.primaryKey}`, { headers: { [SUB_KEY]: 'wrong' } })).status, 401, 'the query is read only when the header is absent');
  t.equal((await h.call('/other/items', { headers: { [SUB_KEY]: keys.primaryKey! } })).status, 401, 'an API-scoped key opens only its API');

  await h.client.subscription.regeneratePrimaryKey(h.rg, h.svc, 'team-a');
  t.equal((await h.call('/keyed/items', { headers: { [SUB_KEY]: keys.primaryKey! } })).status, 401, 'a regenerated key stops working at once');
  t.equal((await h.call('/keyed/items', { headers: { [SUB_KEY]: keys.secondaryKey! } })).status, 200, 'the other key keeps working');

  await h.client.subscription.createOrUpdate(h.rg, h.svc, 'pending', { scope: '/apis', displayName: 'Pending' });
  const pending = await h.client.subscription.listSecrets(h.rg, h.svc, 'pending');
  t.equal((await h.client.subscription.get(h.rg, h.svc, 'pending')).state, 'submitted', 'a subscription created without state is submitted');
  t.equal((await h.call('/other/items', { headers: { [SUB_KEY]: pending.primaryKey! } })).status, 401, 'a submitted subscription opens nothing');
  await h.client.subscription.update(h.rg, h.svc, 'pending', '*', { state: 'active' });
  t.equal((await h.call('/other/items', { headers: { [SUB_KEY]: pending.primaryKey! } })).status, 200, 'an all-APIs subscription, once active, opens every API');

  await h.client.product.createOrUpdate(h.rg, h.svc, 'gold', { displayName: 'Gold', subscriptionRequired: true, state: 'published' });
  await h.client.productApi.createOrUpdate(h.rg, h.svc, 'gold', 'other');
  await h.client.subscription.createOrUpdate(h.rg, h.svc, 'gold-sub', { scope: '/products/gold', displayName: 'Gold subscriber', state: 'active', primaryKey: 'gold-primary-key', secondaryKey: 'gold-secondary-key' });
  t.equal((await h.call('/other/items', { headers: { [SUB_KEY]: 'gold-primary-key' } })).status, 200, "a product key opens the product's APIs");
  t.equal((await h.call('/keyed/items', { headers: { [SUB_KEY]: 'gold-primary-key' } })).status, 401, 'and no other API');

  await h.client.product.createOrUpdate(h.rg, h.svc, 'open', { displayName: 'Open', subscriptionRequired: false, state: 'published' });
  await h.client.productApi.createOrUpdate(h.rg, h.svc, 'open', 'keyed');
  t.equal((await h.call('/keyed/items')).status, 200, 'an open product including the API lets requests without a key through');
  t.equal((await h.call('/keyed/items', { headers: { [SUB_KEY]: 'gold-primary-key' } })).status, 401, 'a key that does not apply is still refused');

  await h.importApi('custom', { path: 'custom', document: itemsDocument(), serviceUrl: backend.url, subscriptionRequired: true });
  await h.client.api.update(h.rg, h.svc, 'custom', '*', { subscriptionKeyParameterNames: { header: 'X-Api-Key', query: 'apikey' } });
  t.equal((await h.call('/custom/items', { headers: { [SUB_KEY]: pending.primaryKey! } })).status, 401, 'the default header is not read when the API names another');
  t.equal((await h.call('/custom/items', { headers: { 'x-api-key': pending.primaryKey! } })).status, 200, "the API's header name");
  t.equal((await h.call(`/custom/items?apikey=${pending.primaryKey}`)).status, 200, "the API's query name");

  t.equal((await h.call('/keyed/items', { headers: { [SUB_KEY]: '' } })).status, 401, 'an empty key is an invalid key');
});

t.test('gatewayUrl: the service reports its gateway by default, the real form when asked; a gateway host name', async (t) => {
  const plain = await startGatewayHarness(t);
  t.match(plain.emu.gatewayUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.not(plain.emu.gatewayUrl, plain.emu.url, 'the gateway has its own port');
  t.equal((await plain.client.apiManagementService.get(plain.rg, plain.svc)).gatewayUrl, plain.emu.gatewayUrl, 'by default the gateway, so status URLs answer');
  t.equal(plain.emu.info().gatewayUrl, plain.emu.gatewayUrl, 'info() names it too');
  const realForm = await startGatewayHarness(t, { advertiseGateway: false });
  t.equal((await realForm.client.apiManagementService.get(realForm.rg, realForm.svc)).gatewayUrl, 'https://apim-emulator.azure-api.net', "advertiseGateway: false, the real service's form");
  const named = await startGatewayHarness(t, { gatewayHost: 'apim-emulator.azure-api.net' });
  t.match(named.emu.gatewayUrl, /^https:\/\/apim-emulator\.azure-api\.net:\d+$/, 'gatewayHost names the gateway');
  t.equal((await named.client.apiManagementService.get(named.rg, named.svc)).gatewayUrl, named.emu.gatewayUrl);
  const status = await new Promise<number>((resolve, reject) => {
    https
      .get(`${named.emu.gatewayUrl}/nothing`, { ca: named.emu.caPem, lookup: ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) => cb(null, [{ address: '127.0.0.1', family: 4 }])) as never }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  t.equal(status, 404, 'resolved to loopback, the gateway answers under that name (the certificate covers it)');
});

t.test('what the gateway does not model is answered 500 with a message saying so, never ignored', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('api', { path: 'api', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('api', '<policies><inbound><base /><set-header name="x-a" exists-action="override"><value>1</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound></policies>');
  const element = await h.call('/api/items');
  t.equal(element.status, 500);
  t.match(element.json().message, /does not model the policy 'set-header' \(api scope, line 1\) in inbound/);

  await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'api', 'policy', {
    format: 'rawxml',
    value: '<policies><inbound><base /><rate-limit-by-key calls="5" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault("a","b").ToUpper())" /></inbound><backend><base /></backend><outbound><base /></outbound></policies>',
  });
  const expression = await h.call('/api/items');
  t.equal(expression.status, 500);
  t.match(expression.json().message, /does not model the policy expression @\(context\.Request\.Headers/);
  t.equal(backend.received.length, 0, 'nothing reached the backend');

  await h.client.policy.createOrUpdate(h.rg, h.svc, 'policy', { format: 'xml', value: '<policies><inbound /><backend><forward-request timeout="5" /></backend><outbound /></policies>' });
  await h.client.apiPolicy.delete(h.rg, h.svc, 'api', 'policy', '*');
  const backendSection = await h.call('/api/items');
  t.equal(backendSection.status, 500);
  t.match(backendSection.json().message, /the attribute 'timeout' of 'forward-request' \(global scope/);
});

t.test('an effective policy is compiled once per change to what it is built from, not per request or per unrelated change', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('limited', { path: 'limited', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('limited', '<policies><inbound><base /><rate-limit-by-key calls="3" renewal-period="60" counter-key="limited:all" /></inbound><backend><base /></backend><outbound><base /></outbound></policies>');
  const gateway = h.emu.gateway;
  t.equal((await h.call('/limited/items')).status, 200);
  const first = gateway.policyCompilations;
  t.equal((await h.call('/limited/items')).status, 200);
  t.equal(gateway.policyCompilations, first, 'a second request reuses the compiled policy');

  // Changes that leave the operation's documents as they were: a tag, another API, a subscription.
  await h.client.tag.createOrUpdate(h.rg, h.svc, 'unrelated', { displayName: 'Unrelated' });
  await h.importApi('neighbour', { path: 'neighbour', document: itemsDocument(), serviceUrl: backend.url });
  await h.client.subscription.createOrUpdate(h.rg, h.svc, 'someone', { scope: '/apis', displayName: 'Someone', state: 'active' });
  t.equal((await h.call('/limited/items')).status, 200, 'the third call of 3 passes');
  t.equal(gateway.policyCompilations, first, 'unrelated changes to the service do not recompile it');
  t.equal((await h.call('/limited/items')).status, 429, 'and the reused policy still counts');

  await h.putPolicy('limited', '<policies><inbound><base /><rate-limit-by-key calls="5" renewal-period="60" counter-key="limited:all" /></inbound><backend><base /></backend><outbound><base /></outbound></policies>');
  t.equal((await h.call('/limited/items')).status, 200, 'a changed policy applies to the next request (3 counted, 5 allowed)');
  t.equal(gateway.policyCompilations, first + 1, 'compiled once after the change');
  await h.call('/limited/items');
  t.equal(gateway.policyCompilations, first + 1, 'and not again');

  const patched = await fetchAdmin(h, 'PATCH', { corsTerminateUnmatchedDefault: false });
  t.equal(patched.status, 200);
  await h.call('/limited/items');
  t.equal(gateway.policyCompilations, first + 2, 'a settings change recompiles (compiled steps read the settings)');
});

function fetchAdmin(h: Awaited<ReturnType<typeof startGatewayHarness>>, method: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${h.emu.url}/_emulator/gateway`, { method, ca: h.emu.caPem, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
