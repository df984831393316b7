// Products, tags, their links to APIs, OpenID Connect providers, backends, named values and version sets through
// @azure/arm-apimanagement, each starting from its REST example; plus paging of collections.
import t from 'tap';
import type { BackendContract, NamedValueCreateContract, OpenidConnectProviderContract, ProductContract } from '@azure/arm-apimanagement';
import { deserialize, example, failure, fromWire, startHarness } from './harness.ts';

function exampleProperties(ex: { responses: Record<string, { body?: Record<string, unknown> }> }, status = '201'): Record<string, unknown> {
  const { provisioningState: _p, ...props } = ex.responses[status]!.body!['properties'] as Record<string, unknown>;
  return props;
}

t.test('products: the REST example, defaults, unique display names, ETags', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementCreateProduct');
  const created = await h.client.product.createOrUpdate(h.rg, h.svc, 'testproduct', fromWire<ProductContract>('ProductContract', ex.parameters.parameters));
  t.match(created, exampleProperties(ex), 'defaults: subscriptionRequired, approvalRequired false, notPublished');
  const body = await h.raw('GET', h.servicePath('/products/testproduct?api-version=2024-05-01'));
  t.same(body.body, { ...ex.responses['201']!.body, id: h.servicePath('/products/testproduct') }, "the example's response body");
  t.same(deserialize('ProductContract', body.body).missing, []);
  const again = await h.raw('PUT', h.servicePath('/products/testproduct?api-version=2024-05-01'), ex.parameters.parameters);
  t.equal(again.status, 200, 'an update answers 200');

  const duplicate = await failure(h.client.product.createOrUpdate(h.rg, h.svc, 'other', { displayName: 'test template productname 4' }));
  t.equal(duplicate.statusCode, 400);
  t.equal(duplicate.body?.error.details?.[0]?.target, 'displayName', 'display names are unique (case-insensitively)');

  const tag = await h.client.product.getEntityTag(h.rg, h.svc, 'testproduct');
  const stale = await failure(h.client.product.update(h.rg, h.svc, 'testproduct', '"AAAAAAAAAAE="', { state: 'published' }));
  t.equal(stale.statusCode, 412);
  const published = await h.client.product.update(h.rg, h.svc, 'testproduct', tag.eTag!, { state: 'published' });
  t.equal(published.state, 'published');
  t.equal((await failure(h.client.product.createOrUpdate(h.rg, h.svc, 'p'.repeat(257), { displayName: 'Long' }))).statusCode, 400, 'product ids up to 256 characters');
  await h.client.product.delete(h.rg, h.svc, 'testproduct', '*', { deleteSubscriptions: true });
  t.equal((await failure(h.client.product.get(h.rg, h.svc, 'testproduct'))).message, 'Product not found.');
});

t.test('APIs in products: link, check, list from both sides, unlink', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementCreateProductApi');
  await h.client.product.createOrUpdate(h.rg, h.svc, 'testproduct', { displayName: 'Test' });
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo-api', { displayName: 'EchoApi', path: '', serviceUrl: 'https://contoso.com/apis/echo', protocols: ['http', 'https'] }, h.lro);
  const statuses: number[] = [];
  const linked = await h.client.productApi.createOrUpdate(h.rg, h.svc, 'testproduct', 'echo-api', { onResponse: (r) => statuses.push(r.status) });
  t.same(statuses, [201]);
  t.match(linked, { ...exampleProperties(ex), name: 'echo-api' }, "PUT answers with the API's contract, as in the example");
  const raw = await h.raw('PUT', h.servicePath('/products/testproduct/apis/echo-api?api-version=2024-05-01'));
  t.equal(raw.status, 200, 'linking again is 200');
  t.same(deserialize('ApiContract', raw.body).missing, []);
  t.equal((await h.client.productApi.checkEntityExists(h.rg, h.svc, 'testproduct', 'echo-api')).body, true);
  const apis = [];
  for await (const a of h.client.productApi.listByProduct(h.rg, h.svc, 'testproduct')) apis.push(a.name);
  t.same(apis, ['echo-api']);
  const products = [];
  for await (const p of h.client.apiProduct.listByApis(h.rg, h.svc, 'echo-api')) products.push(p.name);
  t.same(products, ['testproduct']);
  t.equal((await failure(h.client.productApi.createOrUpdate(h.rg, h.svc, 'nope', 'echo-api'))).message, 'Product not found.');
  t.equal((await failure(h.client.productApi.createOrUpdate(h.rg, h.svc, 'testproduct', 'nope'))).message, 'Api not found.');
  await h.client.productApi.delete(h.rg, h.svc, 'testproduct', 'echo-api');
  t.equal((await failure(h.client.productApi.checkEntityExists(h.rg, h.svc, 'testproduct', 'echo-api'))).statusCode, 404);
  await h.client.productApi.createOrUpdate(h.rg, h.svc, 'testproduct', 'echo-api');
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'echo-api', '*', h.lro);
  t.same(h.emu.state().products[0]?.apis, [], 'deleting the API removes its product links');
});

t.test('tags: the REST examples, tags on APIs, id and display-name rules', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementCreateTag');
  const tag = await h.client.tag.createOrUpdate(h.rg, h.svc, 'tagId1', fromWire('TagCreateUpdateParameters', ex.parameters.parameters));
  t.match(tag, { name: 'tagId1', ...exampleProperties(ex) });
  const body = await h.raw('GET', h.servicePath('/tags/tagId1?api-version=2024-05-01'));
  t.same(body.body, { ...ex.responses['201']!.body, id: h.servicePath('/tags/tagId1') });
  t.same(deserialize('TagContract', body.body).missing, []);

  const apiTag = await example('ApiManagementCreateApiTag');
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, '5931a75ae4bbd512a88c680b', { displayName: 'Echo', path: 'echo' }, h.lro);
  const statuses: number[] = [];
  const assigned = await h.client.tag.assignToApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b', 'tagId1', { onResponse: (r) => statuses.push(r.status) });
  t.same(statuses, [201]);
  t.match(assigned, { name: 'tagId1', ...exampleProperties(apiTag) }, "assignToApi answers with the tag's contract");
  t.equal((await h.raw('PUT', h.servicePath('/apis/5931a75ae4bbd512a88c680b/tags/tagId1?api-version=2024-05-01'))).status, 200);
  t.match((await h.client.tag.getEntityStateByApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b', 'tagId1')).eTag, /^"/);
  t.equal((await h.client.tag.getByApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b', 'tagId1')).displayName, 'tag1');
  const onApi = [];
  for await (const x of h.client.tag.listByApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b')) onApi.push(x.name);
  t.same(onApi, ['tagId1']);
  t.equal((await failure(h.client.tag.assignToApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b', 'missing'))).message, 'Tag not found.');
  await h.client.tag.detachFromApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b', 'tagId1');
  t.equal((await failure(h.client.tag.getByApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b', 'tagId1'))).statusCode, 404);

  t.equal((await failure(h.client.tag.createOrUpdate(h.rg, h.svc, 't'.repeat(81), { displayName: 'x' }))).statusCode, 400, 'tag ids up to 80 characters');
  t.equal((await failure(h.client.tag.createOrUpdate(h.rg, h.svc, 'long-name', { displayName: 'x'.repeat(161) }))).body?.error.details?.[0]?.target, 'displayName');
  const renamed = await h.client.tag.update(h.rg, h.svc, 'tagId1', '*', { displayName: 'tag one' });
  t.equal(renamed.displayName, 'tag one');
  await h.client.tag.assignToApi(h.rg, h.svc, '5931a75ae4bbd512a88c680b', 'tagId1');
  await h.client.tag.delete(h.rg, h.svc, 'tagId1', '*');
  t.same(h.emu.state().apis[0]?.tags, [], 'deleting a tag removes its links');
});

t.test('OpenID Connect providers: the response never shows the client secret', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementCreateOpenIdConnectProvider');
  const created = await h.client.openIdConnectProvider.createOrUpdate(h.rg, h.svc, 'templateOpenIdConnect3', fromWire<OpenidConnectProviderContract>('OpenidConnectProviderContract', ex.parameters.parameters));
  t.equal(created.clientSecret, undefined);
  const body = await h.raw('GET', h.servicePath('/openidConnectProviders/templateOpenIdConnect3?api-version=2024-05-01'));
  t.same(body.body, { ...ex.responses['201']!.body, id: h.servicePath('/openidConnectProviders/templateOpenIdConnect3') }, "exactly the example's response");
  t.same(deserialize('OpenidConnectProviderContract', body.body).missing, []);
  t.same(await h.client.openIdConnectProvider.listSecrets(h.rg, h.svc, 'templateOpenIdConnect3'), { clientSecret: 'x' }, 'listSecrets reads it');
  const list = [];
  for await (const p of h.client.openIdConnectProvider.listByService(h.rg, h.svc)) list.push(p);
  t.equal(list[0]?.clientSecret, undefined);
  t.equal((await failure(h.client.openIdConnectProvider.createOrUpdate(h.rg, h.svc, 'bad', { displayName: 'x', metadataEndpoint: 'not a url', clientId: 'c' }))).statusCode, 400);
});

t.test('backends: the REST example; ids up to 80 characters; url required', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementCreateBackendProxyBackend');
  const created = await h.client.backend.createOrUpdate(h.rg, h.svc, 'proxybackend', fromWire<BackendContract>('BackendContract', ex.parameters.parameters));
  // The example's response shows tls false/false for a request of true/true; the emulator keeps what was sent.
  const { tls: _tls, ...expected } = exampleProperties(ex);
  t.match(created, expected);
  t.same(created.tls, { validateCertificateChain: true, validateCertificateName: true });
  const body = await h.raw('GET', h.servicePath('/backends/proxybackend?api-version=2024-05-01'));
  t.same(deserialize('BackendContract', body.body).missing, []);
  t.equal(body.body.type, 'Microsoft.ApiManagement/service/backends');
  t.equal((await failure(h.client.backend.createOrUpdate(h.rg, h.svc, 'b'.repeat(81), { url: 'https://b.example', protocol: 'http' }))).statusCode, 400);
  const noUrl = await failure(h.client.backend.createOrUpdate(h.rg, h.svc, 'nourl', { protocol: 'http' }));
  t.equal(noUrl.body?.error.details?.[0]?.target, 'url');
});

t.test('named values: long-running writes in both modes; secret values are not returned', async (t) => {
  const h = await startHarness(t, { importDelayMs: 400 });
  const ex = await example('ApiManagementCreateNamedValue');
  const statuses: number[] = [];
  const created = await h.client.namedValue.beginCreateOrUpdateAndWait(h.rg, h.svc, 'testprop2', fromWire<NamedValueCreateContract>('NamedValueCreateContract', ex.parameters.parameters), {
    ...h.lro,
    onResponse: (r) => statuses.push(r.status),
  });
  t.equal(statuses[0], 202);
  t.equal(statuses.at(-1), 201);
  t.match(created, exampleProperties(ex));
  const body = await h.raw('GET', h.servicePath('/namedValues/testprop2?api-version=2024-05-01'));
  t.same(deserialize('NamedValueContract', body.body).missing, []);

  h.emu.settings.asyncMode = 'azure-async-operation';
  const raw = await h.raw('PUT', h.servicePath('/namedValues/secret1?api-version=2024-05-01'), { properties: { displayName: 'secret1', value: 's3cr3t', secret: true } });
  t.equal(raw.status, 201);
  t.equal(raw.body.properties.provisioningState, 'InProgress', "as in the example's response");
  t.equal(raw.body.properties.value, undefined);
  t.match(raw.headers['azure-asyncoperation'], /\/tenant\/operationResults\//);
  t.equal((await failure(h.client.namedValue.get(h.rg, h.svc, 'secret1'))).statusCode, 404, 'not there until the operation completes');
  const secret = await h.client.namedValue.beginCreateOrUpdateAndWait(h.rg, h.svc, 'secret1', { displayName: 'secret1', value: 's3cr3t', secret: true }, h.lro);
  t.equal(secret.value, undefined, 'a secret value is not returned');
  t.same(await h.client.namedValue.listValue(h.rg, h.svc, 'secret1'), { value: 's3cr3t' });
  const updated = await h.client.namedValue.beginUpdateAndWait(h.rg, h.svc, 'testprop2', '*', { value: 'changed' }, h.lro);
  t.equal(updated.value, 'changed');
  const bad = await failure(h.client.namedValue.beginCreateOrUpdateAndWait(h.rg, h.svc, 'bad', { displayName: 'has space', value: 'v' }, h.lro));
  t.equal(bad.statusCode, 400, 'display names: letters, digits, - . _');
  await h.client.namedValue.delete(h.rg, h.svc, 'secret1', '*');
  t.equal((await failure(h.client.namedValue.get(h.rg, h.svc, 'secret1'))).message, 'NamedValue not found.');
});

t.test('API version sets: the REST example', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementCreateApiVersionSet');
  const statuses: number[] = [];
  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'api1', fromWire('ApiVersionSetContract', ex.parameters.parameters), { onResponse: (r) => statuses.push(r.status) });
  t.same(statuses, [201]);
  const body = await h.raw('GET', h.servicePath('/apiVersionSets/api1?api-version=2024-05-01'));
  t.same(body.body, { ...ex.responses['201']!.body, id: h.servicePath('/apiVersionSets/api1') });
  t.same(deserialize('ApiVersionSetContract', body.body).missing, []);
  t.equal((await failure(h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'q', { displayName: 'q', versioningScheme: 'Query' }))).body?.error.details?.[0]?.target, 'versionQueryName');
});

t.test('collections page with $top/$skip and nextLink; $filter; the example list shape', async (t) => {
  const h = await startHarness(t, { pageSize: 10 });
  for (let i = 0; i < 23; i++) await h.client.tag.createOrUpdate(h.rg, h.svc, `tag-${String(i).padStart(2, '0')}`, { displayName: `Tag ${i}` });
  const all = [];
  for await (const tag of h.client.tag.listByService(h.rg, h.svc)) all.push(tag.name);
  t.equal(all.length, 23, 'all pages followed');
  t.equal(h.emu.state().requests.byPath[`GET ${h.servicePath('/tags')}`], 3, 'three pages of 10');
  const first = await h.raw('GET', h.servicePath('/tags?api-version=2024-05-01&$top=5&$skip=20'));
  t.same(first.body.value.map((v: { name: string }) => v.name), ['tag-20', 'tag-21', 'tag-22']);
  t.equal(first.body.count, 23);
  t.equal(first.body.nextLink, undefined, 'no nextLink on the last page');
  const middle = await h.raw('GET', h.servicePath('/tags?api-version=2024-05-01&$top=5&$skip=5'));
  t.equal(middle.body.nextLink, `${h.emu.url}${h.servicePath('/tags')}?api-version=2024-05-01&$top=5&$skip=10`);
  t.same(deserialize('TagCollection', middle.body).missing, []);
  const filtered = [];
  for await (const tag of h.client.tag.listByService(h.rg, h.svc, { filter: "properties/displayName eq 'Tag 7'" })) filtered.push(tag.name);
  t.same(filtered, ['tag-07']);
  const starts = [];
  for await (const tag of h.client.tag.listByService(h.rg, h.svc, { filter: "startswith(name,'tag-2')" })) starts.push(tag.name);
  t.same(starts, ['tag-20', 'tag-21', 'tag-22']);
  t.equal((await failure(h.client.tag.listByService(h.rg, h.svc, { filter: 'name gt 3' }).next())).statusCode, 400, 'an unsupported $filter is refused, not ignored');

  const listExample = await example('ApiManagementListApiOperations');
  t.same(Object.keys(middle.body).sort(), Object.keys(listExample.responses['200']!.body!).sort(), "a page has the example's keys: value, count, nextLink");
});
