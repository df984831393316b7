// executor/arm-client.ts and apim-operations.ts: the executor's own ARM client sends what @azure/arm-apimanagement
// sends (method, path, query, If-Match, JSON body: compared request by request on a capturing server), and retries
// the way the SDK's pipeline does (Retry-After on 429/503, backoff on 5xx and refused connections, no retry of a 429
// without Retry-After), never sending its token off the ARM endpoint.
import t from 'tap';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { ArmClient, type ArmRequest } from '../../executor/arm-client.ts';
import { ApimOperations, APIM_API_VERSION, flatten, requiredActions } from '../../executor/apim-operations.ts';
import { testTls } from '../helpers/webhook-tls.ts';
import { readFileSync } from 'node:fs';

interface Seen {
  method: string;
  url: string;
  ifMatch?: string;
  body?: unknown;
  authorization?: string;
  requestId?: string;
}

type Answer = { status: number; headers?: Record<string, string>; body?: unknown } | 'drop';

/** An HTTPS server that records each request and answers from a script (then 200 `{}`). */
async function capturingServer(t: { teardown(fn: () => unknown): void }): Promise<{ origin: string; ca: string; seen: Seen[]; script: Answer[] }> {
  const tls = await testTls();
  t.teardown(() => tls.remove());
  const seen: Seen[] = [];
  const script: Answer[] = [];
  const server = https.createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method!,
        url: req.url!,
        ...(req.headers['if-match'] ? { ifMatch: String(req.headers['if-match']) } : {}),
        ...(text ? { body: JSON.parse(text) } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(req.headers['x-ms-client-request-id'] ? { requestId: String(req.headers['x-ms-client-request-id']) } : {}),
      });
      const answer = script.shift() ?? { status: 200, body: {} };
      if (answer === 'drop') return req.socket.destroy();
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: tls.ca.certPem, seen, script };
}

const token = async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 });
const coordinates = (armEndpoint: string) => ({ armEndpoint, subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg 1', serviceName: 'svc' });

t.test('every operation sends what the SDK sends', async (t) => {
  const s = await capturingServer(t);
  const signal = new AbortController().signal;
  const ours = new ApimOperations(new ArmClient({ endpoint: s.origin, getToken: token, signal, ca: s.ca }), coordinates(s.origin));
  t.teardown(() => ours.arm.close());
  const sdk = new ApiManagementClient({ getToken: token }, '00000000-0000-0000-0000-000000000001', {
    endpoint: s.origin,
    credentialScopes: [`${s.origin}/.default`],
    retryOptions: { maxRetries: 0 },
    tlsOptions: { ca: s.ca },
  } as never);
  const [rg, svc] = ['rg 1', 'svc'];
  const settings = { path: 'p', displayName: 'D', serviceUrl: 'http://b', protocols: ['https'], subscriptionRequired: true, subscriptionKeyParameterNames: { header: 'h', query: 'q' }, authenticationSettings: { openid: null, oAuth2: null, openidAuthenticationSettings: [], oAuth2AuthenticationSettings: [] }, apiRevisionDescription: 'mark' };
  const pairs: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
    ['read the service', () => sdk.apiManagementService.get(rg, svc), () => ours.readService()],
    ['read an API', () => sdk.api.get(rg, svc, 'a b'), () => ours.readApi('a b')],
    ['its ETag', () => sdk.api.getEntityTag(rg, svc, 'a'), () => ours.readApiEntityTag('a')],
    ['list APIs', async () => { for await (const _ of sdk.api.listByService(rg, svc)) void _; }, () => ours.listApis()],
    ['import', () => sdk.api.beginCreateOrUpdate(rg, svc, 'a', { ...settings, format: 'openapi+json', value: '{}', translateRequiredQueryParametersConduct: 'query' } as never), () => ours.importApi('a', { ...settings, format: 'openapi+json', value: '{}', translateRequiredQueryParametersConduct: 'query' })],
    ['update', () => sdk.api.update(rg, svc, 'a', '"etag-1"', settings as never), () => ours.updateApi('a', '"etag-1"', settings)],
    ['delete with revisions', () => sdk.api.beginDelete(rg, svc, 'a', '*', { deleteRevisions: true }), () => ours.deleteApi('a')],
    ['policy', () => sdk.apiPolicy.createOrUpdate(rg, svc, 'a', 'policy', { format: 'xml', value: '<policies/>' }), () => ours.writeApiPolicy('a', { format: 'xml', value: '<policies/>' })],
    ['products of an API', async () => { for await (const _ of sdk.apiProduct.listByApis(rg, svc, 'a')) void _; }, () => ours.listApiProducts('a')],
    ['read a product', () => sdk.product.get(rg, svc, 'p'), () => ours.readProduct('p')],
    ['create a product', () => sdk.product.createOrUpdate(rg, svc, 'p', { displayName: 'p', description: 'd', subscriptionRequired: true, approvalRequired: false, state: 'published' }), () => ours.createProduct('p', { displayName: 'p', description: 'd', subscriptionRequired: true, approvalRequired: false, state: 'published' })],
    ['link', () => sdk.productApi.createOrUpdate(rg, svc, 'p', 'a'), () => ours.linkProductApi('p', 'a')],
    ['unlink', () => sdk.productApi.delete(rg, svc, 'p', 'a'), () => ours.unlinkProductApi('p', 'a')],
    ['tags of an API', async () => { for await (const _ of sdk.tag.listByApi(rg, svc, 'a')) void _; }, () => ours.listApiTags('a')],
    ['read a tag', () => sdk.tag.get(rg, svc, 'x'), () => ours.readTag('x')],
    ['create a tag', () => sdk.tag.createOrUpdate(rg, svc, 'x', { displayName: 'x' }), () => ours.createTag('x', { displayName: 'x' })],
    ['tag an API', () => sdk.tag.assignToApi(rg, svc, 'a', 'x'), () => ours.tagApi('a', 'x')],
    ['untag an API', () => sdk.tag.detachFromApi(rg, svc, 'a', 'x'), () => ours.untagApi('a', 'x')],
    ['create a revision', () => sdk.api.beginCreateOrUpdate(rg, svc, 'a;rev=2', { path: 'p', sourceApiId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc/apis/a', apiRevisionDescription: 'mark' } as never), () => ours.createApiRevision('a;rev=2', { path: 'p', sourceApiId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc/apis/a', apiRevisionDescription: 'mark' })],
    ['delete a revision', () => sdk.api.beginDelete(rg, svc, 'a;rev=2', '*'), () => ours.deleteApiRevision('a;rev=2')],
    ['revisions of an API', async () => { for await (const _ of sdk.apiRevision.listByService(rg, svc, 'a')) void _; }, () => ours.listApiRevisions('a')],
    ['operations of an API', async () => { for await (const _ of sdk.apiOperation.listByApi(rg, svc, 'a;rev=2')) void _; }, () => ours.listApiOperations('a;rev=2')],
    ['a release', () => sdk.apiRelease.createOrUpdate(rg, svc, 'a', 'rev-2-x', { apiId: '/apis/a;rev=2', notes: 'n' }), () => ours.createApiRelease('a', 'rev-2-x', { apiId: '/apis/a;rev=2', notes: 'n' })],
    ['API-tag links (drift verification)', async () => { for await (const _ of sdk.api.listByTags(rg, svc)) void _; }, () => ours.listApisByTags()],
    ['list products', async () => { for await (const _ of sdk.product.listByService(rg, svc)) void _; }, () => ours.listProducts()],
    ['APIs of a product', async () => { for await (const _ of sdk.productApi.listByProduct(rg, svc, 'p 1')) void _; }, () => ours.listProductApis('p 1')],
    ['read an OpenID provider', () => sdk.openIdConnectProvider.get(rg, svc, 'o'), () => ours.readOpenIdProvider('o')],
    ['create an OpenID provider', () => sdk.openIdConnectProvider.createOrUpdate(rg, svc, 'o', { displayName: 'h', description: 'd', metadataEndpoint: 'https://h/.well-known/openid-configuration', clientId: 'c' }), () => ours.createOpenIdProvider('o', { displayName: 'h', description: 'd', metadataEndpoint: 'https://h/.well-known/openid-configuration', clientId: 'c' })],
  ];
  for (const [what, viaSdk, viaOurs] of pairs) {
    s.seen.length = 0;
    await viaSdk();
    await viaOurs();
    t.equal(s.seen.length, 2, `${what}: one request each`);
    const [a, b] = s.seen.map(({ authorization, requestId, ...rest }) => rest);
    t.same(b, a, `${what}: the same request`);
    t.equal(s.seen[1]!.authorization, 'Bearer test-token');
    t.match(s.seen[1]!.requestId, /^[0-9a-f-]{36}$/);
  }
  t.equal(sdk.apiVersion, APIM_API_VERSION, 'the SDK\'s api-version');
});

t.test('answers come back flattened like the SDK\'s, with the ETag', async (t) => {
  t.same(flatten({ id: '/x', name: 'a', type: 'Microsoft.ApiManagement/service/apis', properties: { path: 'p', type: 'http', apiRevisionDescription: 'm' } }), { path: 'p', apiType: 'http', apiRevisionDescription: 'm', id: '/x', name: 'a', type: 'Microsoft.ApiManagement/service/apis' });
  const s = await capturingServer(t);
  const ours = new ApimOperations(new ArmClient({ endpoint: s.origin, getToken: token, signal: new AbortController().signal, ca: s.ca }), coordinates(s.origin));
  t.teardown(() => ours.arm.close());
  s.script.push({ status: 200, headers: { etag: '"7"' }, body: { name: 'a', properties: { path: 'p' } } });
  t.same(await ours.readApi('a'), { path: 'p', name: 'a', eTag: '"7"' });
  s.script.push({ status: 200, body: { value: [{ name: 'one' }], nextLink: `${s.origin}/next?page=2` } }, { status: 200, body: { value: [{ name: 'two' }], nextLink: null } });
  t.same((await ours.listApis()).map((a) => a.name), ['one', 'two'], 'pages followed');
  s.script.push({ status: 404, body: { error: { code: 'ResourceNotFound', message: 'Api not found.' } } });
  const e = (await ours.readApi('gone').catch((x: unknown) => x)) as { name: string; statusCode: number; code: string };
  t.same([e.name, e.statusCode, e.code], ['RestError', 404, 'ResourceNotFound'], 'an error answer is thrown in the SDK\'s RestError shape');
  t.ok(requiredActions().includes('Microsoft.ApiManagement/service/apis/write'));
});

function client(s: { origin: string; ca: string }, hooks: string[] = [], signal = new AbortController().signal): ArmClient {
  return new ArmClient({
    endpoint: s.origin,
    getToken: token,
    signal,
    ca: s.ca,
    retryDelayMs: 10,
    maxRetryDelayMs: 40,
    hooks: {
      before: async (r: ArmRequest) => void hooks.push(`before ${r.method}`),
      answered: (_r, res) => void hooks.push(`answered ${res.status}`),
      failed: (_r, e) => void hooks.push(`failed ${e.code}`),
    },
  });
}

t.test('retries: the SDK pipeline\'s rules', async (t) => {
  const s = await capturingServer(t);
  const hooks: string[] = [];
  const arm = client(s, hooks);
  t.teardown(() => arm.close());
  const get = () => arm.send({ method: 'GET', url: `${s.origin}/x` });

  s.script.push({ status: 503, headers: { 'retry-after-ms': '30' }, body: {} }, { status: 200, body: { ok: 1 } });
  let r = await get();
  t.equal(r.status, 200, '503 with Retry-After: retried');
  t.same(hooks, ['before GET', 'answered 503', 'before GET', 'answered 200'], 'every attempt is seen by the hooks');

  s.script.push({ status: 429, body: { error: { code: 'TooManyRequests' } } });
  r = await get();
  t.equal(r.status, 429, 'a 429 without Retry-After is answered at once');

  s.script.push({ status: 500, body: {} }, { status: 502, body: {} }, { status: 504, body: {} }, { status: 500, body: {} });
  s.seen.length = 0;
  r = await get();
  t.same([r.status, s.seen.length], [500, 4], '5xx: three retries, then the last answer');

  s.script.push({ status: 501, body: {} });
  s.seen.length = 0;
  t.same([(await get()).status, s.seen.length], [501, 1], '501 is not retried');

  s.script.push('drop', { status: 200, body: {} });
  s.seen.length = 0;
  t.same([(await get()).status, s.seen.length], [200, 2], 'a reset connection is retried');

  const ids = new Set(s.seen.map((x) => x.requestId));
  t.equal(ids.size, 2, 'a request id per attempt');
});

t.test('the token goes to the ARM endpoint only; an abort stops at once', async (t) => {
  const s = await capturingServer(t);
  const controller = new AbortController();
  const arm = client(s, [], controller.signal);
  t.teardown(() => arm.close());
  await t.rejects(arm.send({ method: 'GET', url: 'https://elsewhere.example/x' }), /refusing to send an ARM token to https:\/\/elsewhere.example/);
  await t.rejects(arm.send({ method: 'GET', url: s.origin.replace('https:', 'http:') + '/x' }), /refusing to send an ARM token/);
  t.equal(s.seen.length, 0, 'nothing sent');
  s.script.push({ status: 503, headers: { 'retry-after': '30' }, body: {} });
  const pending = arm.send({ method: 'GET', url: `${s.origin}/x` });
  setTimeout(() => controller.abort(), 100);
  await t.rejects(pending, { name: 'AbortError' }, 'a Retry-After wait ends with the run\'s budget');
});
