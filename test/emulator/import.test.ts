// Import like the real service, through @azure/arm-apimanagement: the recorded real session replayed, the TM Forum
// documents in every format, both long-running modes, failures on the poll, operation naming and re-import rules.
import t from 'tap';
import YAML from 'yaml';
import type { ApiCreateOrUpdateParameter, OperationContract } from '@azure/arm-apimanagement';
import { deserialize, example, failure, fromWire, readReference, startHarness, until } from './harness.ts';
import type { Harness } from './harness.ts';
import { recordedPetstoreYaml, recordedSession, serveDocuments, swaggerPetstore } from './documents.ts';

async function operations(h: Harness, apiId: string, top?: number): Promise<OperationContract[]> {
  const out: OperationContract[] = [];
  for await (const op of h.client.apiOperation.listByApi(h.rg, h.svc, apiId, top ? { top } : {})) out.push(op);
  return out;
}

interface DocOperation {
  operationId: string;
  summary?: string;
}

function documentOperations(doc: Record<string, any>): DocOperation[] {
  const out: DocOperation[] = [];
  for (const item of Object.values(doc['paths'] as Record<string, Record<string, any>>)) {
    for (const m of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']) if (item[m]) out.push(item[m]);
  }
  return out;
}

t.test('the recorded real import, replayed: 202 + Location, poll 202, 201 with the API, GET 200', async (t) => {
  // The import stays in progress long enough for the checks made meanwhile, even on a loaded machine.
  const h = await startHarness(t, { importDelayMs: 1000 });
  const entries = await recordedSession();
  const [put, poll, get] = [entries[2]!, entries[3]!, entries[4]!];
  t.same([put.RequestMethod, put.StatusCode, poll.StatusCode, get.StatusCode], ['PUT', 202, 201, 200], 'what was recorded');
  t.match(put.ResponseHeaders['Location']![0], /asyncId=[0-9a-f]{24}&asyncCode=201$/);

  const apiPath = h.servicePath('/apis/aid1516');
  const accepted = await h.raw('PUT', `${apiPath}?api-version=2024-05-01`, JSON.parse(put.RequestBody));
  t.equal(accepted.status, 202);
  t.equal(accepted.body, undefined, 'empty body, as recorded');
  t.equal(accepted.headers['content-length'], '0');
  t.match(accepted.headers['location'], new RegExp(`^${h.emu.url}${apiPath}\\?api-version=2024-05-01&asyncId=[0-9a-f]{24}&asyncCode=201$`));
  t.notOk(accepted.headers['azure-asyncoperation'], 'Location only, as recorded');
  t.match(accepted.headers['x-ms-ratelimit-remaining-subscription-writes'], /^\d+$/);

  const statuses: number[] = [accepted.status];
  const running = await h.raw('GET', accepted.headers['location']!);
  statuses.push(running.status);
  t.equal(running.status, 202, 'still importing');
  t.equal((await h.raw('GET', `${apiPath}?api-version=2024-05-01`)).status, 404, 'a new API is not there until the import completes');
  const second = await h.raw('PUT', `${apiPath}?api-version=2024-05-01`, JSON.parse(put.RequestBody));
  t.equal(second.status, 409);
  t.same(second.body, { error: { code: 'PessimisticConcurrencyConflict', message: 'Operation on the API is in progress', details: null } });

  const done = await until(async () => {
    const r = await h.raw('GET', accepted.headers['location']!);
    statuses.push(r.status);
    return r.status !== 202 ? r : undefined;
  });
  t.equal(done.status, 201);
  t.same([...new Set(statuses)], [202, 201], 'status sequence 202 → (202…) → 201');
  t.match(done.headers['etag'], /^"[A-Za-z0-9+/]{11}="$/);
  const recordedBody = JSON.parse(poll.ResponseBody) as { properties: Record<string, unknown> };
  t.same(Object.keys(done.body).sort(), Object.keys(recordedBody).sort(), 'same top-level shape as recorded');
  t.match(done.body.properties, { ...recordedBody.properties, path: 'openapi3' }, 'the recorded API contract');
  t.same(deserialize('ApiContract', done.body).missing, []);
  const after = await h.raw('GET', `${apiPath}?api-version=2024-05-01`);
  t.equal(after.status, 200);
  t.same(after.body, done.body);

  const ops = await operations(h, 'aid1516');
  t.same(ops.map((o) => [o.name, o.method, o.urlTemplate, o.displayName]), [
    ['listpets', 'GET', '/pets', 'List all pets'],
    ['createpets', 'POST', '/pets', 'Create a pet'],
    ['showpetbyid', 'GET', '/pets/{petId}', 'Info for a specific pet'],
  ]);
  t.match(ops[0], { request: { queryParameters: [{ name: 'limit', type: 'integer', required: false }] }, responses: [{ statusCode: 200, description: 'A paged array of pets', representations: [{ contentType: 'application/json', typeName: 'Pets' }], headers: [{ name: 'x-next' }] }] });
  t.match(ops[2], { templateParameters: [{ name: 'petId', type: 'string', required: true, description: 'The id of the pet to retrieve' }] });
  const opsBody = await h.raw('GET', `${apiPath}/operations?api-version=2024-05-01`);
  t.same(deserialize('OperationCollection', opsBody.body).missing, [], 'operations have every property the SDK requires');

  const recordedTags = JSON.parse(entries.find((e) => e.RequestUri.includes('/tags?'))!.ResponseBody) as { value: { name: string; properties: unknown }[] };
  const tags = [];
  for await (const tag of h.client.tag.listByService(h.rg, h.svc)) tags.push({ name: tag.name, displayName: tag.displayName });
  t.same(tags, recordedTags.value.map((v) => ({ name: v.name, ...(v.properties as object) })), "the document's tags became service tags, as recorded");
});

t.test('TM Forum documents: operation counts, names and display names, in every format', async (t) => {
  const h = await startHarness(t, { importDelayMs: 5 });
  const v4 = await readReference('specs/TMF620-ProductCatalog-v4.0.0.swagger.json');
  const v5 = await readReference('specs/TMF620-Product_Catalog_Management-v5.0.0.oas.yaml');
  const tmf671 = await readReference('specs/TMF671-Promotion-v4.0.0.swagger.json');
  const tmf672 = await readReference('specs/TMF672-UserRolePermission-v4.0.0.swagger.json');
  const v5Json = JSON.stringify(YAML.parse(v5));
  const server = await serveDocuments(t, { '/tmf620-v5.yaml': v5, '/tmf620-v5.json': v5Json, '/tmf620-v4.json': v4 });
  const cases: [string, string, string, string, number, string | null][] = [
    ['tmf620-v4', 'swagger-json', v4, v4, 50, 'https://serverRoot/tmf-api/productCatalogManagement/v4/'],
    ['tmf620-v5', 'openapi', v5, v5Json, 59, 'https://serverRoot/productCatalogManagement/v5/'],
    ['tmf620-v5-json', 'openapi+json', v5Json, v5Json, 59, 'https://serverRoot/productCatalogManagement/v5/'],
    ['tmf671', 'swagger-json', tmf671, tmf671, 12, 'https://serverRoot/tmf-api/promotionManagement/v4/'],
    ['tmf672', 'swagger-json', tmf672, tmf672, 18, 'https://serverRootserverRoot/payment/v4/'],
    ['tmf620-v5-link', 'openapi-link', `${server.base}/tmf620-v5.yaml`, v5Json, 59, 'https://serverRoot/productCatalogManagement/v5/'],
    ['tmf620-v5-json-link', 'openapi+json-link', `${server.base}/tmf620-v5.json`, v5Json, 59, 'https://serverRoot/productCatalogManagement/v5/'],
    ['tmf620-v4-link', 'swagger-link-json', `${server.base}/tmf620-v4.json`, v4, 50, 'https://serverRoot/tmf-api/productCatalogManagement/v4/'],
  ];
  for (const [apiId, format, value, json, count, serviceUrl] of cases) {
    const api = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, apiId, { path: apiId, format, value }, h.lro);
    const doc = JSON.parse(json) as Record<string, any>;
    t.equal(api.displayName, doc['info'].title, `${apiId}: display name from info.title`);
    t.equal(api.serviceUrl, serviceUrl, `${apiId}: serviceUrl from the document`);
    const ops = await operations(h, apiId, 25);
    t.equal(ops.length, count, `${apiId}: ${count} operations`);
    const expected = documentOperations(doc);
    t.same(ops.map((o) => o.name), expected.map((o) => o.operationId.toLowerCase()), `${apiId}: names are the normalized operationIds`);
    t.same(ops.map((o) => o.displayName), expected.map((o) => o.summary ?? o.operationId), `${apiId}: display names are the summaries`);
  }
  t.same(server.hits.sort(), ['/tmf620-v4.json', '/tmf620-v5.json', '/tmf620-v5.yaml'], 'each link fetched once by the emulator');
  const pages = Object.entries(h.emu.state().requests.byPath).filter(([k]) => k.startsWith('GET') && k.endsWith('/apis/tmf620-v4/operations'));
  t.same(pages.map(([, n]) => n), [2], '50 operations at $top=25: two pages through nextLink');
  const tags = [];
  for await (const tag of h.client.tag.listByService(h.rg, h.svc)) tags.push(tag.name);
  t.ok(tags.includes('productoffering') && tags.includes('promotion') && tags.includes('userrole'), 'service tags from the documents');
});

t.test('Azure-AsyncOperation mode: 201 InProgress, operationResults status, then the API', async (t) => {
  const h = await startHarness(t, { importDelayMs: 600, asyncMode: 'azure-async-operation' });
  const yaml = await recordedPetstoreYaml();
  const accepted = await h.raw('PUT', h.servicePath('/apis/petstore?api-version=2024-05-01'), { properties: { path: 'petstore', format: 'openapi', value: yaml } });
  t.equal(accepted.status, 201);
  t.equal(accepted.body.properties.provisioningState, 'InProgress');
  t.match(accepted.headers['location'], /asyncCode=201$/);
  const statusUrl = accepted.headers['azure-asyncoperation']!;
  t.match(statusUrl, new RegExp(`^${h.emu.url}${h.servicePath('/tenant/operationResults/')}[0-9a-f]{24}\\?api-version=2024-05-01$`));
  t.equal((await h.raw('GET', statusUrl)).body.status, 'InProgress');
  const finished = await until(async () => {
    const r = await h.raw('GET', statusUrl);
    return r.body.status !== 'InProgress' ? r : undefined;
  });
  t.match(finished.body, { status: 'Succeeded', name: /^[0-9a-f]{24}$/, startTime: String, endTime: String });
  t.equal((await h.client.api.get(h.rg, h.svc, 'petstore')).displayName, 'Swagger Petstore');

  const statuses: number[] = [];
  const reimported = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'petstore', { path: 'petstore', format: 'openapi', value: yaml, displayName: 'Pets' }, {
    ...h.lro,
    onResponse: (r) => statuses.push(r.status),
  });
  t.equal(statuses[0], 200, 'a re-import of an existing API answers 200 InProgress');
  t.equal(statuses.at(-1), 200, 'then the SDK GETs the API');
  t.equal(reimported.displayName, 'Pets', 'explicit displayName wins over info.title');

  const dup = YAML.stringify({ openapi: '3.0.1', info: { title: 'Dup', version: '1' }, paths: { '/x/{a}': { get: { operationId: 'one', responses: { '200': { description: 'ok' } } } }, '/x/{b}': { get: { operationId: 'two', responses: { '200': { description: 'ok' } } } } } });
  const failed = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'dup', { path: 'dup', format: 'openapi', value: dup }, h.lro));
  t.equal(failed.statusCode, undefined, 'a Failed status is a plain Error, without statusCode');
  t.equal(failed.message, "The long-running operation has failed. ValidationError. Importing API has duplicate signature operations: 2 operations with signature 'GET /x/{a}'");
});

t.test('failures surface on the poll, not on the PUT; the new API does not appear', async (t) => {
  const h = await startHarness(t, { importDelayMs: 20 });
  const server = await serveDocuments(t, {});
  const dup = JSON.stringify({ openapi: '3.0.1', info: { title: 'Dup', version: '1' }, paths: { '/x': { get: { responses: { '200': { description: 'ok' } } } }, '/X': { get: { responses: { '200': { description: 'ok' } } } } } });
  const cases: [string, ApiCreateOrUpdateParameter, RegExp][] = [
    ['invalid YAML', { path: 'bad1', format: 'openapi', value: 'openapi: 3.0.0\ninfo: [unclosed' }, /^Parsing error\(s\): The document is not valid YAML/],
    ['duplicate signatures', { path: 'bad2', format: 'openapi+json', value: dup }, /^Importing API has duplicate signature operations: 2 operations with signature 'GET \/x'$/],
    ['an unreachable link', { path: 'bad3', format: 'openapi-link', value: `${server.base}/missing.yaml` }, /^Failed to download the API definition from 'http:\/\/127\.0\.0\.1:\d+\/missing\.yaml': the server answered 404 Not Found$/],
    ['Swagger 2 as YAML', { path: 'bad4', format: 'swagger-json', value: YAML.stringify(swaggerPetstore()) }, /^Parsing error\(s\): The document is not valid JSON \(Swagger 2\.0 documents are accepted as JSON only\)/],
    ['OpenAPI 3 as swagger-json', { path: 'bad5', format: 'swagger-json', value: JSON.stringify({ openapi: '3.0.0', info: { title: 'x', version: '1' }, paths: {} }) }, /^Parsing error\(s\): The input is not a valid Swagger 2\.0 document: found an OpenAPI 3\.0\.0 document/],
  ];
  for (const [name, params, message] of cases) {
    const statuses: number[] = [];
    const e = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, params.path!, params, { ...h.lro, onResponse: (r) => statuses.push(r.status) }));
    t.equal(statuses[0], 202, `${name}: the PUT was accepted`);
    t.equal(statuses.at(-1), 400, `${name}: the poll failed`);
    t.equal(e.statusCode, 400, name);
    t.equal(e.code, 'ValidationError', name);
    t.match(e.body?.error.message, message, name);
    t.equal((await failure(h.client.api.get(h.rg, h.svc, params.path!))).statusCode, 404, `${name}: no API`);
  }

  const sync: [string, ApiCreateOrUpdateParameter][] = [
    ['over 4 MB inline', { path: 'big', format: 'openapi', value: `openapi: 3.0.0\n#${'x'.repeat(4 * 1024 * 1024)}` }],
    ['a format the emulator does not model', { path: 'wsdl', format: 'wsdl', value: '<definitions/>' }],
    ['an unknown format', { path: 'unknown', format: 'yaml' as 'openapi', value: '{}' }],
  ];
  for (const [name, params] of sync) {
    const statuses: number[] = [];
    const e = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, params.path!, params, { ...h.lro, onResponse: (r) => statuses.push(r.status) }));
    t.same(statuses, [400], `${name}: refused on the PUT`);
    t.equal(e.body?.error.details?.[0]?.target, name === 'over 4 MB inline' ? 'value' : 'format', name);
  }
});

t.test('operation names, display names and URL templates as APIM derives them', async (t) => {
  const h = await startHarness(t, { importDelayMs: 5 });
  const long = `op${'X'.repeat(100)}`;
  const doc = {
    openapi: '3.0.1',
    info: { title: 'Naming', version: '1' },
    paths: {
      '/pets': { get: { operationId: 'List_Pets!!', summary: 'List pets', responses: {} } },
      '/pets/{id}': {
        get: { operationId: 'Get Pet', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }], responses: {} },
        put: { operationId: 'get_pet', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }], requestBody: { description: 'The pet', content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } }, responses: {} },
        delete: { operationId: 'GET.PET', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }], responses: {} },
      },
      '/foo': { get: { responses: {} }, post: { summary: 's'.repeat(350), responses: {} } },
      '/long': { get: { operationId: long, responses: {} } },
      '/search': {
        get: {
          operationId: 'search',
          parameters: [
            { name: 'q', in: 'query', required: true, schema: { type: 'string' } },
            { name: 'page', in: 'query', schema: { type: 'integer', default: 1 } },
            { name: 'X-Trace', in: 'header', schema: { type: 'string', enum: ['on', 'off'] } },
          ],
          requestBody: { content: { 'application/json': {} } },
          responses: {},
        },
      },
    },
    components: { schemas: { Pet: { type: 'object' } } },
  };
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'naming', { path: 'naming', format: 'openapi+json', value: JSON.stringify(doc) }, h.lro);
  const ops = await operations(h, 'naming');
  t.same(ops.map((o) => [o.name, o.displayName, o.method, o.urlTemplate]), [
    ['list-pets', 'List pets', 'GET', '/pets'],
    ['get-pet', 'Get Pet', 'GET', '/pets/{id}'],
    ['get-pet-1', 'get_pet', 'PUT', '/pets/{id}'],
    ['get-pet-2', 'GET.PET', 'DELETE', '/pets/{id}'],
    ['get-foo', 'Get - /foo', 'GET', '/foo'],
    ['post-foo', 's'.repeat(300), 'POST', '/foo'],
    [long.toLowerCase().slice(0, 76), long, 'GET', '/long'],
    ['search', 'search', 'GET', '/search?q={q}'],
  ]);
  const search = ops.find((o) => o.name === 'search')!;
  t.match(search.templateParameters, [{ name: 'q', type: 'string', required: true }]);
  t.match(search.request, { queryParameters: [{ name: 'page', type: 'integer', required: false, defaultValue: '1' }], headers: [{ name: 'X-Trace', values: ['on', 'off'] }], representations: [] }, 'GET loses its request body');
  t.match(ops.find((o) => o.name === 'get-pet-1')!.request, { description: 'The pet', representations: [{ contentType: 'application/json', typeName: 'Pet' }] });

  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'as-query', { path: 'as-query', format: 'openapi+json', value: JSON.stringify(doc), translateRequiredQueryParametersConduct: 'query' }, h.lro);
  const asQuery = (await operations(h, 'as-query')).find((o) => o.name === 'search')!;
  t.equal(asQuery.urlTemplate, '/search', 'translateRequiredQueryParameters: query keeps q out of the template');
  t.match(asQuery.request?.queryParameters, [{ name: 'q', required: true }, { name: 'page' }]);
});

t.test('re-import: matched operations updated, unmatched deleted; serviceUrl override; signature conflicts', async (t) => {
  const h = await startHarness(t, { importDelayMs: 5 });
  const op = (id: string | undefined, summary: string): Record<string, unknown> => ({ ...(id ? { operationId: id } : {}), summary, responses: { '200': { description: 'ok' } } });
  const first = { openapi: '3.0.1', info: { title: 'V1', version: '1' }, servers: [{ url: 'http://backend.example/v1' }, { url: 'https://backend.example/v1' }], paths: { '/a': { get: op('a', 'A') }, '/b': { get: op('b', 'B') }, '/c': { get: op('c', 'C') }, '/foo': { get: op(undefined, 'Foo') } } };
  const api1 = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'evolving', { path: 'evolving', format: 'openapi+json', value: JSON.stringify(first) }, h.lro);
  t.equal(api1.serviceUrl, 'https://backend.example/v1', 'the first https server');
  const before = await operations(h, 'evolving');
  for (const opId of ['a', 'b']) {
    await h.client.apiOperationPolicy.createOrUpdate(h.rg, h.svc, 'evolving', opId, 'policy', { value: '<policies><inbound><base /><set-header name="X-Op" exists-action="override"><value>1</value></set-header></inbound></policies>' });
  }
  const etagA = (await h.client.apiOperation.get(h.rg, h.svc, 'evolving', 'a')).eTag;
  t.match(etagA, /^"/, 'operations carry ETags too');

  const second = { openapi: '3.0.1', info: { title: 'V2', version: '2' }, servers: [{ url: 'https://backend.example/v2' }], paths: { '/a': { get: op('a', 'A, renamed') }, '/c': { get: op('c', 'C') }, '/d': { post: op('d', 'D') }, '/foo': { get: op(undefined, 'Foo') } } };
  const api2 = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'evolving', { path: 'evolving', format: 'openapi+json', value: JSON.stringify(second), serviceUrl: 'https://override.example' }, h.lro);
  t.equal(api2.displayName, 'V2');
  t.equal(api2.serviceUrl, 'https://override.example', 'an explicit serviceUrl in the PUT overrides the document');
  const after = await operations(h, 'evolving');
  t.same(before.map((o) => o.name), ['a', 'b', 'c', 'get-foo']);
  t.same(after.map((o) => [o.name, o.displayName]), [['a', 'A, renamed'], ['c', 'C'], ['d', 'D'], ['get-foo', 'Foo']], 'b deleted, d created, a updated in place');
  t.not((await h.client.apiOperation.get(h.rg, h.svc, 'evolving', 'a')).eTag, etagA);
  const policyOfA = await h.raw('GET', h.servicePath('/apis/evolving/operations/a/policies/policy?api-version=2024-05-01'));
  t.equal(policyOfA.status, 200, 'an operation updated in place keeps its policy');
  t.equal(policyOfA.body.type, 'Microsoft.ApiManagement/service/apis/operations/policies');
  t.equal((await h.raw('GET', h.servicePath('/apis/evolving/operations/b/policies/policy?api-version=2024-05-01'))).status, 404, 'a deleted operation takes its policy along');

  const renamed = { ...second, paths: { ...second.paths, '/foo': { get: op('listFoo', 'Foo') } } };
  const conflict = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'evolving', { path: 'evolving', format: 'openapi+json', value: JSON.stringify(renamed) }, h.lro));
  t.equal(conflict.statusCode, 400);
  t.equal(conflict.body?.error.message, 'One or more fields contain incorrect values:', 'the generic headline, as the real poll answers');
  t.same(conflict.body?.error.details, [{ code: 'ValidationError', target: 'urlTemplate', message: 'Operation with the same method and URL template already exists: GET, /foo' }], 'a new name for an existing signature: the text in a detail aimed at urlTemplate');
  t.same((await operations(h, 'evolving')).map((o) => o.name), ['a', 'c', 'd', 'get-foo'], 'the failed import changed nothing');
  t.equal((await h.client.api.get(h.rg, h.svc, 'evolving')).serviceUrl, 'https://override.example');
});

t.test('the REST examples of import: OpenAPI link, Swagger link, Swagger link with serviceUrl override', async (t) => {
  const h = await startHarness(t, { importDelayMs: 5 });
  const sampleApp = swaggerPetstore({ info: { title: 'Swagger Sample App', version: '1', description: 'This is a sample server Petstore server.' }, schemes: undefined });
  const server = await serveDocuments(t, {
    '/petstore.yaml': await recordedPetstoreYaml(),
    '/v2/swagger.json': JSON.stringify(swaggerPetstore()),
    '/api/apidocs/': JSON.stringify(sampleApp),
  });
  const cases: [string, string, string][] = [
    ['ApiManagementCreateApiUsingOai3Import', 'petstore', '/petstore.yaml'],
    ['ApiManagementCreateApiUsingSwaggerImport', 'petstore', '/v2/swagger.json'],
    ['ApiManagementCreateApiUsingImportOverrideServiceUrl', 'apidocs', '/api/apidocs/'],
  ];
  for (const [name, apiId, docPath] of cases) {
    const ex = await example(name);
    const wire = structuredClone(ex.parameters.parameters) as { properties: Record<string, unknown> };
    wire.properties['value'] = `${server.base}${docPath}`;
    const statuses: number[] = [];
    await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, apiId, fromWire<ApiCreateOrUpdateParameter>('ApiCreateOrUpdateParameter', wire), {
      ...h.lro,
      onResponse: (r) => statuses.push(r.status),
    });
    t.equal(statuses[0], 202, `${name}: accepted`);
    const got = await h.raw('GET', h.servicePath(`/apis/${apiId}?api-version=2024-05-01`));
    const { provisioningState: _p, description, ...shape } = ex.responses['201']!.body!['properties'] as Record<string, unknown>;
    t.match(got.body.properties, shape, `${name}: the example's response properties`);
    if (name !== 'ApiManagementCreateApiUsingImportOverrideServiceUrl') t.equal(got.body.properties.description, description ?? null, `${name}: description`);
    t.same(deserialize('ApiContract', got.body).missing, []);
    await h.client.api.beginDeleteAndWait(h.rg, h.svc, apiId, '*', h.lro);
  }
});
