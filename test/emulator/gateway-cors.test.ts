// cors as core/policy-xml.ts renders it from ExposedAPI CORS, on real traffic: preflights allowed (origin, method and
// headers configured; credentials and max age in the answer) and denied (origin, method or header not configured:
// an empty 200 without CORS headers, the backend never called); actual requests get the CORS headers, other origins
// pass without them; without preflight handling only GET and POST without extra headers pass; the wildcard origin;
// CORS headers on the gateway's own errors; an OPTIONS operation of the API takes the preflight itself.
import t from 'tap';
import { itemsDocument, renderedPolicy, startBackend, startGatewayHarness } from './gateway-harness.ts';

const APP = 'https://app.example.com';

function preflight(origin: string, method: string, headers?: string): Record<string, string> {
  return { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) };
}

t.test('configured origins, methods and headers: preflights allowed and denied; actual requests', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('cors', { path: 'cors', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('cors', renderedPolicy({
    CORS: { enabled: true, allowCredentials: true, allowOrigins: APP, handlePreflightRequests: { enabled: true, allowHeaders: 'Content-Type, X-Requested-With', allowMethods: 'GET, POST', maxAge: 600 } },
  }, 'cors'));

  const allowed = await h.call('/cors/items', { method: 'OPTIONS', headers: preflight(APP, 'POST', 'content-type,x-requested-with') });
  t.equal(allowed.status, 200);
  t.equal(allowed.text, '', 'a preflight answer has no body');
  t.equal(allowed.headers['access-control-allow-origin'], APP);
  t.equal(allowed.headers['access-control-allow-credentials'], 'true');
  t.equal(allowed.headers['access-control-allow-methods'], 'POST');
  t.equal(allowed.headers['access-control-allow-headers'], 'content-type,x-requested-with');
  t.equal(allowed.headers['access-control-max-age'], '600');
  t.equal((await h.call('/cors/items', { method: 'OPTIONS', headers: preflight('https://app.example.com:443', 'GET') })).headers['access-control-allow-origin'], 'https://app.example.com:443', 'the default port is the same origin');

  for (const [headers, why] of [
    [preflight('https://evil.example', 'POST'), 'an origin not configured'],
    [preflight('http://app.example.com', 'POST'), 'another scheme is another origin'],
    [preflight(APP, 'DELETE'), 'a method not configured'],
    [preflight(APP, 'POST', 'content-type,x-secret'), 'a header not configured'],
  ] as const) {
    const denied = await h.call('/cors/items', { method: 'OPTIONS', headers });
    t.equal(denied.status, 200, `${why}: an empty 200`);
    t.equal(denied.headers['access-control-allow-origin'], undefined, `${why}: no Access-Control-Allow-Origin, so the browser refuses`);
  }
  t.equal(backend.received.length, 0, 'preflights never reach the backend');

  const actual = await h.call('/cors/items', { headers: { origin: APP } });
  t.equal(actual.status, 200);
  t.equal(actual.headers['access-control-allow-origin'], APP);
  t.equal(actual.headers['access-control-allow-credentials'], 'true');
  t.equal(actual.headers['vary'], 'Origin');
  const foreign = await h.call('/cors/items', { headers: { origin: 'https://evil.example' } });
  t.equal(foreign.status, 200, 'terminate-unmatched-request="false": the request goes on');
  t.equal(foreign.headers['access-control-allow-origin'], undefined, 'without CORS headers');
  t.equal(backend.received.length, 2);
});

t.test('without preflight handling: GET and POST only, no extra request headers', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('simple', { path: 'simple', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('simple', renderedPolicy({ CORS: { enabled: true, allowOrigins: APP, handlePreflightRequests: { enabled: false } } }, 'simple'));
  t.equal((await h.call('/simple/items', { method: 'OPTIONS', headers: preflight(APP, 'POST') })).headers['access-control-allow-origin'], APP, 'POST without headers');
  t.equal((await h.call('/simple/items', { method: 'OPTIONS', headers: preflight(APP, 'PUT') })).headers['access-control-allow-origin'], undefined, 'PUT: only GET and POST without allowed-methods');
  t.equal((await h.call('/simple/items', { method: 'OPTIONS', headers: preflight(APP, 'POST', 'content-type') })).headers['access-control-allow-origin'], undefined, 'no allowed-headers: a requested header is not allowed');
});

t.test('the ODA default origin "*": Access-Control-Allow-Origin *; CORS headers stay on the gateway\'s own errors', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('star', { path: 'star', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('star', renderedPolicy({ CORS: { enabled: true }, rateLimit: { enabled: true, identifier: 'IP', limit: '1', interval: 'pm' } }, 'star'));
  const pre = await h.call('/star/items', { method: 'OPTIONS', headers: preflight('https://anyone.example', 'GET', 'accept') });
  t.equal(pre.headers['access-control-allow-origin'], '*');
  t.equal(pre.headers['access-control-max-age'], '1800', 'the ODA default max age');
  t.equal((await h.call('/star/items', { headers: { origin: 'https://anyone.example' } })).status, 200);
  const limited = await h.call('/star/items', { headers: { origin: 'https://anyone.example' } });
  t.equal(limited.status, 429, 'preflights do not count against the rate limit, calls do');
  t.equal(limited.headers['access-control-allow-origin'], '*', 'the 429 carries the CORS headers, so the browser can read it');
});

t.test('preflights are answered before the subscription check; an OPTIONS operation takes the preflight itself', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  const doc = itemsDocument() as { paths: Record<string, Record<string, unknown>> };
  doc.paths['/items']!['options'] = { operationId: 'itemsOptions', responses: { '200': { description: 'ok' } } };
  await h.importApi('keyed', { path: 'keyed', document: doc, serviceUrl: backend.url, subscriptionRequired: true });
  await h.importApi('plain', { path: 'plain', document: itemsDocument(), serviceUrl: backend.url, subscriptionRequired: true });
  const policy = renderedPolicy({ CORS: { enabled: true, allowOrigins: APP } }, 'x');
  await h.putPolicy('keyed', policy);
  await h.putPolicy('plain', policy);
  const answered = await h.call('/plain/items/7', { method: 'OPTIONS', headers: preflight(APP, 'GET') });
  t.equal(answered.status, 200, 'a preflight carries no key and is still answered');
  t.equal(answered.headers['access-control-allow-origin'], APP);
  t.equal((await h.call('/plain/items/7', { headers: { origin: APP } })).status, 401, 'the actual request still needs its key');
  const viaOperation = await h.call('/keyed/items', { method: 'OPTIONS', headers: preflight(APP, 'GET') });
  t.equal(viaOperation.status, 401, 'the OPTIONS operation is an ordinary operation: the subscription check applies');
  const other = await h.call('/plain/nowhere', { method: 'OPTIONS', headers: preflight(APP, 'GET') });
  t.equal(other.status, 200, 'a preflight for a path no operation has still runs the API-scope cors policy');
});
