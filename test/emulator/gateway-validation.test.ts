// OASValidation as core/policy-xml.ts renders it, against the TMF620 Product Catalog v4 document imported through the
// SDK: request bodies checked against the document's schemas (400 with APIM's messages, 200 when valid), query
// parameters parsed and checked, unspecified ones refused unless allowed, the strict reading of unspecified headers
// and the setting that relaxes it, body size, response validation (502), a template fragment applied, and how the
// global, API and operation scopes compose through <base />.
import t from 'tap';
import { referenceText, TMF620_V4, TMF620_V5 } from '../helpers/fixtures.ts';
import { itemsDocument, renderedPolicy, startBackend, startGatewayHarness } from './gateway-harness.ts';
import type { BackendHandler } from './gateway-harness.ts';

const TMF620 = referenceText(TMF620_V4);
const JSON_HEADERS = { 'content-type': 'application/json' };

function replying(status: number, body: unknown, contentType = 'application/json;charset=utf-8'): BackendHandler {
  return (_req, _body, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
}

t.test('request validation against TMF620: bodies and query parameters, 400 with APIM messages, 200 when valid', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('tmf620', { path: 'tmf-api/productCatalogManagement/v4', document: TMF620, format: 'swagger-json', serviceUrl: backend.url });
  await h.putPolicy('tmf620', renderedPolicy({ OASValidation: { requestEnabled: true, allowUnspecifiedHeaders: true } }, 'tmf620'));
  const base = '/tmf-api/productCatalogManagement/v4';

  const created = await h.call(`${base}/catalog`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name: 'Main catalog', lastUpdate: '2026-01-01T10:00:00Z' }) });
  t.equal(created.status, 200, 'a valid Catalog_Create reaches the backend');
  t.equal(backend.received.length, 1);
  t.equal(backend.received[0]!.body, JSON.stringify({ name: 'Main catalog', lastUpdate: '2026-01-01T10:00:00Z' }), 'the validated body is forwarded unchanged');

  const cases: [string, Record<string, string>, string, string][] = [
    ['{}', JSON_HEADERS, 'a missing required property', "Body of the request does not conform to the definition Catalog_Create, which is associated with the content type application/json. (root) must have required property 'name'"],
    ['{"name": 5}', JSON_HEADERS, 'a property of the wrong type', 'Body of the request does not conform to the definition Catalog_Create, which is associated with the content type application/json. /name must be string'],
    ['{"name": "x", "lastUpdate": "yesterday"}', JSON_HEADERS, 'a date-time that is none', 'Body of the request does not conform to the definition Catalog_Create, which is associated with the content type application/json. /lastUpdate must match format "date-time"'],
    ['{"name": ', JSON_HEADERS, 'no JSON at all', 'Body of the request does not conform to the definition Catalog_Create, which is associated with the content type application/json.'],
    ['name=x', { 'content-type': 'text/plain' }, 'a content type the operation does not declare', 'Unspecified content type text/plain is not allowed.'],
  ];
  for (const [body, headers, why, message] of cases) {
    const r = await h.call(`${base}/catalog`, { method: 'POST', headers, body });
    t.equal(r.status, 400, why);
    t.ok(r.json().message.startsWith(message), `${why}: ${r.json().message}`);
  }

  t.equal((await h.call(`${base}/catalog?limit=10&offset=0`)).status, 200, 'declared integer query parameters');
  const notInt = await h.call(`${base}/catalog?limit=ten`);
  t.equal(notInt.status, 400);
  t.equal(notInt.json().message, "The value of the query parameter limit couldn't be parsed according to the definition. Could not convert 'ten' to integer.");
  const twice = await h.call(`${base}/catalog?limit=1&limit=2`);
  t.equal(twice.json().message, 'Request cannot contain multiple values for the query parameter limit.');
  const unknown = await h.call(`${base}/catalog?color=red`);
  t.equal(unknown.status, 400);
  t.equal(unknown.json().message, 'Unspecified query parameter color is not allowed.');
  t.equal(backend.received.length, 2, 'only the two valid requests reached the backend');

  await h.putPolicy('tmf620', renderedPolicy({ OASValidation: { requestEnabled: true, allowUnspecifiedHeaders: true, allowUnspecifiedQueryParams: true } }, 'tmf620'));
  t.equal((await h.call(`${base}/catalog?color=red`)).status, 200, 'allowUnspecifiedQueryParams: unspecified-parameter-action ignore');
  t.equal((await h.call(`${base}/catalog?limit=ten`)).status, 400, 'declared parameters are still checked');
});

t.test('OpenAPI 3 (TMF620 v5, YAML): allOf schemas whose examples carry ids validate', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('tmf620v5', { path: 'v5', document: referenceText(TMF620_V5), format: 'openapi', serviceUrl: backend.url });
  await h.putPolicy('tmf620v5', renderedPolicy({ OASValidation: { requestEnabled: true, allowUnspecifiedHeaders: true } }, 'tmf620v5'));
  const missing = await h.call('/v5/category', { method: 'POST', headers: JSON_HEADERS, body: '{"name":"Phones"}' });
  t.equal(missing.status, 400);
  t.equal(missing.json().message, "Body of the request does not conform to the definition Category_FVO, which is associated with the content type application/json. (root) must have required property '@type'");
  t.equal((await h.call('/v5/category', { method: 'POST', headers: JSON_HEADERS, body: '{"@type":"Category","name":"Phones"}' })).status, 200);
});

t.test('unspecified headers: refused by default (no source exempts Host or any other), allowed by the setting or allowUnspecifiedHeaders', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('strict', { path: 'strict', document: TMF620, format: 'swagger-json', serviceUrl: backend.url });
  await h.putPolicy('strict', renderedPolicy({ OASValidation: { requestEnabled: true } }, 'strict'));
  const refused = await h.call('/strict/catalog');
  t.equal(refused.status, 400);
  t.equal(refused.json().message, 'Unspecified header host is not allowed.', 'the ODA default allowUnspecifiedHeaders: false refuses every request');
  const patched = await h.raw('PATCH', `${h.emu.url}/_emulator/gateway`, { unvalidatedRequestHeaders: ['host', 'connection'] });
  t.equal(patched.status, 200);
  t.equal((await h.call('/strict/catalog')).status, 200, 'with host and connection exempt, a plain GET passes');
  t.equal((await h.call('/strict/catalog', { headers: { 'x-debug': '1' } })).json().message, 'Unspecified header x-debug is not allowed.');
  const bad = await h.raw('PATCH', `${h.emu.url}/_emulator/gateway`, { unvalidatedHeaders: [] });
  t.equal(bad.status, 400, 'an unknown setting is refused');
});

t.test('max-size: a body over validate-content max-size is refused with its size', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('small', { path: 'small', document: TMF620, format: 'swagger-json', serviceUrl: backend.url });
  await h.putPolicy('small', renderedPolicy({ OASValidation: { requestEnabled: true, allowUnspecifiedHeaders: true } }, 'small', { validateContentMaxSize: 100 }));
  const body = JSON.stringify({ name: 'x'.repeat(200) });
  const r = await h.call('/small/catalog', { method: 'POST', headers: JSON_HEADERS, body });
  t.equal(r.status, 400);
  t.equal(r.json().message, `Request's body is ${Buffer.byteLength(body)} bytes long and it exceeds the limit of 100 bytes.`);
});

t.test('response validation: declared status, content type and body pass; anything else is a 502', async (t) => {
  const h = await startGatewayHarness(t);
  let reply: BackendHandler = replying(201, { id: '1', href: '/catalog/1', name: 'Main' });
  const backend = await startBackend(t, (req, body, res) => reply(req, body, res));
  await h.importApi('resp', { path: 'resp', document: TMF620, format: 'swagger-json', serviceUrl: backend.url });
  await h.putPolicy('resp', renderedPolicy({ OASValidation: { responseEnabled: true } }, 'resp'));
  const post = (): Promise<{ status: number; json(): any }> => h.call('/resp/catalog', { method: 'POST', headers: JSON_HEADERS, body: '{"name":"Main"}' });
  const ok = await post();
  t.equal(ok.status, 201, 'a declared status with a conforming Catalog');
  t.equal(ok.json().name, 'Main');
  const internal = 'The request could not be processed due to an internal error. Contact the API owner.';
  for (const [handler, why] of [
    [replying(200, { name: 'Main' }), 'a status the operation does not declare (POST /catalog declares 201, not 200)'],
    [replying(201, { name: 5 }), 'a body that does not conform to Catalog'],
    [replying(201, '<html/>', 'text/html'), 'a content type the response does not declare'],
  ] as const) {
    reply = handler;
    const r = await post();
    t.equal(r.status, 502, why);
    t.equal(r.json().message, internal, `${why}: the client learns nothing of the backend`);
  }
});

t.test('a template fragment is applied where the rendered policy includes it', async (t) => {
  const h = await startGatewayHarness(t);
  const first = await startBackend(t);
  const second = await startBackend(t);
  await h.importApi('templated', { path: 'templated', document: itemsDocument(), serviceUrl: first.url });
  await h.client.policyFragment.beginCreateOrUpdateAndWait(h.rg, h.svc, 'route-to-v2', {
    format: 'xml',
    value: `<fragment><set-backend-service base-url="${second.url}/v2" /><rate-limit-by-key calls="2" renewal-period="60" counter-key="templated:fragment" /></fragment>`,
  }, h.lro);
  const xml = renderedPolicy({ template: 'route-to-v2' }, 'templated');
  t.match(xml, /<include-fragment fragment-id="route-to-v2" \/>/, 'the executor renders the template as include-fragment');
  await h.putPolicy('templated', xml);
  const r = await h.call('/templated/items');
  t.equal(r.status, 200);
  t.same(r.json(), { method: 'GET', url: '/v2/items', body: '' }, "the fragment's set-backend-service took the request to the other backend");
  t.equal(first.received.length, 0);
  t.equal((await h.call('/templated/items')).status, 200);
  t.equal((await h.call('/templated/items')).status, 429, "the fragment's rate limit applies too");

  await h.client.policyFragment.beginCreateOrUpdateAndWait(h.rg, h.svc, 'route-to-v2', { format: 'xml', value: '<fragment><set-header name="x" exists-action="override"><value>1</value></set-header></fragment>' }, h.lro);
  const changed = await h.call('/templated/items');
  t.equal(changed.status, 500, 'a changed fragment takes effect at once; what it holds is not modelled');
  t.match(changed.json().message, /'set-header' \(fragment scope/);
});

t.test('scopes compose through <base />: global, API and operation policies, and an operation that drops its parents', async (t) => {
  const h = await startGatewayHarness(t);
  const api = await startBackend(t);
  const global = await startBackend(t);
  const operation = await startBackend(t);
  await h.importApi('scoped', { path: 'scoped', document: itemsDocument(), serviceUrl: api.url });
  const skeleton = (inbound: string): string => `<policies><inbound>${inbound}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
  await h.client.policy.createOrUpdate(h.rg, h.svc, 'policy', { format: 'xml', value: `<policies><inbound><set-backend-service base-url="${global.url}/global" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>` });
  t.same((await h.call('/scoped/items')).json().url, '/global/items', 'an API without a policy inherits the global one');
  await h.putPolicy('scoped', skeleton('<base /><rate-limit-by-key calls="1" renewal-period="60" counter-key="scoped:api" />'));
  t.same((await h.call('/scoped/items')).json().url, '/global/items', "<base /> runs the global policy before the API's");
  t.equal((await h.call('/scoped/items')).status, 429, "and the API's own policy runs too");
  await h.client.apiOperationPolicy.createOrUpdate(h.rg, h.svc, 'scoped', 'getitem', 'policy', { format: 'xml', value: skeleton(`<set-backend-service base-url="${operation.url}/op" />`) });
  const dropped = await h.call('/scoped/items/9');
  t.equal(dropped.status, 200, 'the operation policy has no <base />: the API rate limit does not apply');
  t.equal(dropped.json().url, '/op/items/9');
  t.equal((await h.call('/scoped/items')).status, 429, 'other operations keep the API policy');
});
