// APIs through @azure/arm-apimanagement: create/read/update/delete, ETags and If-Match, path uniqueness, revisions,
// and the identifier, value and api-version rules the server enforces. Response bodies are checked against the SDK's
// own mappers and against the REST spec's examples.
import t from 'tap';
import type { ApiCreateOrUpdateParameter } from '@azure/arm-apimanagement';
import { deserialize, example, failure, fromWire, startHarness } from './harness.ts';

t.test('create an API from the REST example; GET, HEAD and list return the same contract', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementCreateApi');
  const statuses: number[] = [];
  const created = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'tempgroup', fromWire<ApiCreateOrUpdateParameter>('ApiCreateOrUpdateParameter', ex.parameters.parameters), {
    ...h.lro,
    onResponse: (r) => statuses.push(r.status),
  });
  t.same(statuses, [201], 'a plain create (no import) answers at once');
  const expected = ex.responses['201']!.body!['properties'] as Record<string, unknown>;
  const { provisioningState: _inProgress, ...finalShape } = expected;
  const got = await h.raw('GET', h.servicePath('/apis/tempgroup?api-version=2024-05-01'));
  t.equal(got.status, 200);
  t.match(got.body.properties, finalShape, "the example's response properties (protocols in APIM's order)");
  t.same(Object.keys(got.body).sort(), ['id', 'name', 'properties', 'type']);
  t.equal(got.body.type, 'Microsoft.ApiManagement/service/apis');
  t.equal(got.body.id, h.servicePath('/apis/tempgroup'));
  const model = deserialize('ApiContract', got.body);
  t.same(model.missing, [], 'no required property missing for the SDK');
  t.equal(model.value.displayName, 'apiname1463');
  t.equal(created.name, 'tempgroup');
  t.same(created.protocols, ['http', 'https']);

  const head = await h.client.api.getEntityTag(h.rg, h.svc, 'tempgroup');
  t.match(head.eTag, /^"[A-Za-z0-9+/]{11}="$/, 'a quoted opaque ETag');
  t.equal(got.headers['etag'], head.eTag, 'HEAD gives it as eTag (the header model of the SDK)');

  const list = [];
  for await (const a of h.client.api.listByService(h.rg, h.svc)) list.push(a.name);
  t.same(list, ['tempgroup']);
});

t.test('server defaults of a new API', async (t) => {
  const h = await startHarness(t);
  const api = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'plain', { displayName: 'Plain', path: 'plain' }, h.lro);
  t.equal(api.subscriptionRequired, true);
  t.same(api.subscriptionKeyParameterNames, { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' });
  t.equal(api.apiRevision, '1');
  t.equal(api.isCurrent, true);
  t.same(api.protocols, ['https']);
  t.equal(api.apiType, 'http');
});

t.test('ETags change on every write; PATCH needs If-Match; stale and missing entities give 412', async (t) => {
  const h = await startHarness(t);
  const first = await h.raw('PUT', h.servicePath('/apis/echo-api?api-version=2024-05-01'), { properties: { displayName: 'Echo', path: 'echo', serviceUrl: 'https://echo.example' } });
  t.equal(first.status, 201);
  const etag1 = first.headers['etag']!;
  const second = await h.raw('PUT', h.servicePath('/apis/echo-api?api-version=2024-05-01'), { properties: { displayName: 'Echo 2', path: 'echo' } });
  t.equal(second.status, 200, 'PUT on an existing API updates it');
  t.not(second.headers['etag'], etag1, 'a new ETag');
  t.equal(second.body.properties.serviceUrl, 'https://echo.example', 'properties not sent are kept');

  const ex = await example('ApiManagementUpdateApi');
  const stale = await failure(h.client.api.update(h.rg, h.svc, 'echo-api', etag1, fromWire<ApiCreateOrUpdateParameter>('ApiUpdateContract', ex.parameters.parameters)));
  t.equal(stale.statusCode, 412);
  t.equal(stale.code, 'PreconditionFailed');
  const updated = await h.client.api.update(h.rg, h.svc, 'echo-api', second.headers['etag']!, fromWire<ApiCreateOrUpdateParameter>('ApiUpdateContract', ex.parameters.parameters));
  t.match(updated, { displayName: 'Echo API New', serviceUrl: 'http://echoapi.cloudapp.net/api2', path: 'newecho' });
  t.match(updated.eTag, /^"/, 'PATCH returns the new ETag (as eTag)');
  t.not(updated.eTag, second.headers['etag']);
  const star = await h.client.api.update(h.rg, h.svc, 'echo-api', '*', { description: 'any version' });
  t.equal(star.description, 'any version');
  const exUpdated = ex.responses['200']!.body!['properties'] as Record<string, unknown>;
  const got = await h.raw('GET', h.servicePath('/apis/echo-api?api-version=2024-05-01'));
  t.match(got.body.properties, { ...exUpdated, description: 'any version' }, "the example's response shape after PATCH");

  const noIfMatch = await h.raw('PATCH', h.servicePath('/apis/echo-api?api-version=2024-05-01'), { properties: { displayName: 'x' } });
  t.equal(noIfMatch.status, 400, 'PATCH without If-Match');
  t.equal(noIfMatch.body.error.details[0].target, 'If-Match');

  const missing = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'not-there', { displayName: 'N', path: 'n' }, { ...h.lro, ifMatch: '*' }));
  t.equal(missing.statusCode, 412, "If-Match: * on a missing API");
  const stalePut = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo-api', { displayName: 'N', path: 'newecho' }, { ...h.lro, ifMatch: etag1 }));
  t.equal(stalePut.statusCode, 412, 'a stale If-Match on PUT');
  t.same(stalePut.body?.error.code, 'PreconditionFailed');
  const patchMissing = await failure(h.client.api.update(h.rg, h.svc, 'nope', '*', { displayName: 'x' }));
  t.equal(patchMissing.statusCode, 404);
  t.equal(patchMissing.code, 'ResourceNotFound');
  t.equal(patchMissing.message, 'Api not found.');
});

t.test('DELETE is long-running: 202 + Location (asyncCode=204), or Azure-AsyncOperation; deleting nothing is 204', async (t) => {
  const h = await startHarness(t);
  const ex = await example('ApiManagementDeleteApi');
  t.match(ex.responses['202']!.headers!['location'], /asyncCode=204/);
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo-api', { displayName: 'Echo', path: 'echo' }, h.lro);
  const raw = await h.raw('DELETE', h.servicePath('/apis/echo-api?api-version=2024-05-01'), undefined, { 'if-match': '*' });
  t.equal(raw.status, 202);
  t.equal(raw.body, undefined, 'no body');
  t.match(raw.headers['location'], new RegExp(`^${h.emu.url}${h.servicePath('/apis/echo-api')}\\?api-version=2024-05-01&asyncId=[0-9a-f]{24}&asyncCode=204$`));
  const poll = await h.raw('GET', raw.headers['location']!);
  t.equal(poll.status, 204, 'the poll answers asyncCode');
  t.equal((await failure(h.client.api.get(h.rg, h.svc, 'echo-api'))).statusCode, 404);

  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo-api', { displayName: 'Echo', path: 'echo' }, h.lro);
  const statuses: number[] = [];
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'echo-api', '*', { ...h.lro, onResponse: (r) => statuses.push(r.status) });
  t.same(statuses, [202, 204], 'the SDK polls the Location until asyncCode');

  h.emu.settings.asyncMode = 'azure-async-operation';
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo-api', { displayName: 'Echo', path: 'echo' }, h.lro);
  const viaAsync = await h.raw('DELETE', h.servicePath('/apis/echo-api?api-version=2024-05-01'), undefined, { 'if-match': '*' });
  t.equal(viaAsync.status, 202);
  t.match(viaAsync.headers['azure-asyncoperation'], /\/tenant\/operationResults\/[0-9a-f]{24}\?api-version=2024-05-01$/);
  const status = await h.raw('GET', viaAsync.headers['azure-asyncoperation']!);
  t.equal(status.body.status, 'Succeeded');
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo-api', { displayName: 'Echo', path: 'echo' }, h.lro);
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'echo-api', '*', h.lro);
  t.equal((await failure(h.client.api.get(h.rg, h.svc, 'echo-api'))).statusCode, 404);

  const nothing: number[] = [];
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'never-was', '*', { ...h.lro, onResponse: (r) => nothing.push(r.status) });
  t.same(nothing, [204]);

  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'guarded', { displayName: 'G', path: 'g' }, h.lro);
  const staleDelete = await failure(h.client.api.beginDeleteAndWait(h.rg, h.svc, 'guarded', '"AAAAAAAAAAE="', h.lro));
  t.equal(staleDelete.statusCode, 412);
});

t.test('two APIs may not share a path outside one version set', async (t) => {
  const h = await startHarness(t);
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'first', { displayName: 'First', path: 'shared/path' }, h.lro);
  const clash = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'second', { displayName: 'Second', path: 'Shared/Path' }, h.lro));
  t.equal(clash.statusCode, 400);
  t.equal(clash.code, 'ValidationError');
  t.same(clash.body, {
    error: {
      code: 'ValidationError',
      message: 'One or more fields contain incorrect values:',
      details: [{ code: 'ValidationError', target: 'path', message: "Cannot create API 'second' with the same Path 'Shared/Path' as API 'first'  unless it's a part of the same version set" }],
    },
  });
  const patchClash = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'third', { displayName: 'Third', path: 'third' }, h.lro);
  t.equal(patchClash.path, 'third');
  t.equal((await failure(h.client.api.update(h.rg, h.svc, 'third', '*', { path: 'shared/path' }))).statusCode, 400, 'PATCH to a taken path');

  const set = await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'versions', { displayName: 'Versions', versioningScheme: 'Segment' });
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'v1', { displayName: 'V1', path: 'versioned', apiVersion: 'v1', apiVersionSetId: set.id }, h.lro);
  const v2 = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'v2', { displayName: 'V2', path: 'versioned', apiVersion: 'v2', apiVersionSetId: set.id }, h.lro);
  t.equal(v2.path, 'versioned', 'same path inside one version set');
});

t.test('revisions: deleting the current revision needs deleteRevisions', async (t) => {
  const h = await startHarness(t);
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo', { displayName: 'Echo', path: 'echo' }, h.lro);
  const rev2 = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo;rev=2', { path: 'echo', sourceApiId: h.servicePath('/apis/echo'), apiRevisionDescription: 'next' }, h.lro);
  t.equal(rev2.apiRevision, '2');
  t.equal(rev2.isCurrent, false);
  const listed = [];
  for await (const a of h.client.api.listByService(h.rg, h.svc)) listed.push(a.name);
  t.same(listed, ['echo'], 'only current revisions are listed');
  const revisions = [];
  for await (const r of h.client.apiRevision.listByService(h.rg, h.svc, 'echo')) revisions.push(r.apiRevision);
  t.same(revisions.sort(), ['1', '2']);

  const refused = await failure(h.client.api.beginDeleteAndWait(h.rg, h.svc, 'echo', '*', h.lro));
  t.equal(refused.statusCode, 400);
  t.equal(refused.code, 'ValidationError');
  t.equal(refused.body?.error.message, 'Cannot delete the current revision of an API.');
  const statuses: number[] = [];
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'echo', '*', { ...h.lro, deleteRevisions: true, onResponse: (r) => statuses.push(r.status) });
  t.same(statuses, [202, 204]);
  t.equal((await failure(h.client.api.get(h.rg, h.svc, 'echo;rev=2'))).statusCode, 404, 'the other revision went too');
});

t.test('identifier and value rules are enforced by the server', async (t) => {
  const h = await startHarness(t);
  const put = (apiId: string, properties: Record<string, unknown>): ReturnType<typeof h.raw> =>
    h.raw('PUT', h.servicePath(`/apis/${encodeURIComponent(apiId)}?api-version=2024-05-01`), { properties });
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['apiId of 81 characters (the SDK allows 256)', 'a'.repeat(81), { displayName: 'x', path: 'x1' }, 'apiId'],
    ['apiId with a forbidden character', 'a*b', { displayName: 'x', path: 'x2' }, 'apiId'],
    ['path starting with a slash', 'p1', { displayName: 'x', path: '/a/b' }, 'path'],
    ['path ending with a slash', 'p2', { displayName: 'x', path: 'a/b/' }, 'path'],
    ['path of 401 characters', 'p3', { displayName: 'x', path: 'a'.repeat(401) }, 'path'],
    ['missing path', 'p4', { displayName: 'x' }, 'path'],
    ['empty displayName', 'd1', { displayName: '', path: 'd1' }, 'displayName'],
    ['displayName of 301 characters', 'd2', { displayName: 'd'.repeat(301), path: 'd2' }, 'displayName'],
    ['relative serviceUrl', 's1', { displayName: 'x', path: 's1', serviceUrl: '/backend' }, 'serviceUrl'],
    ['serviceUrl of 2001 characters', 's2', { displayName: 'x', path: 's2', serviceUrl: `https://a.example/${'a'.repeat(1983)}` }, 'serviceUrl'],
    ['unknown protocol', 'r1', { displayName: 'x', path: 'r1', protocols: ['ftp'] }, 'protocols'],
    ['value without format', 'f1', { path: 'f1', value: '{}' }, 'format'],
  ];
  for (const [name, id, props, target] of cases) {
    const res = await put(id, props);
    t.equal(res.status, 400, name);
    t.equal(res.body?.error.code, 'ValidationError', `${name}: code`);
    t.equal(res.body?.error.message, 'One or more fields contain incorrect values:', `${name}: message`);
    t.ok(res.body?.error.details.some((d: { target: string }) => d.target === target), `${name}: detail names '${target}'`);
  }
  const ok = await put('a'.repeat(80), { displayName: 'x', path: '' });
  t.equal(ok.status, 201, 'an 80-character apiId and the empty path are fine');

  // The SDK does not apply the REST spec's id constraints before sending: the server is the one that refuses.
  const viaSdk = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'a#b', { displayName: 'x', path: 'x' }, h.lro));
  t.equal(viaSdk.statusCode, 400);
  t.equal(viaSdk.body?.error.details?.[0]?.target, 'apiId');
  const tooLong = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'b'.repeat(200), { displayName: 'x', path: 'x3' }, h.lro));
  t.equal(tooLong.statusCode, 400, 'a 200-character apiId reaches the server and is refused');
});

t.test('api-version, unknown paths, other subscriptions, groups and services: ARM errors', async (t) => {
  const h = await startHarness(t);
  const missing = await h.raw('GET', h.servicePath('/apis'));
  t.equal(missing.status, 400);
  t.equal(missing.body.error.code, 'MissingApiVersionParameter');
  const wrong = await h.raw('GET', h.servicePath('/apis?api-version=2021-08-01'));
  t.equal(wrong.status, 400);
  t.same(wrong.body, { error: { code: 'InvalidApiVersionParameter', message: "The api-version '2021-08-01' is invalid. The supported versions are '2024-05-01'.", details: null } });
  const unknown = await h.raw('GET', h.servicePath('/gizmos/one?api-version=2024-05-01'));
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'InvalidResourceType');
  t.ok('details' in unknown.body.error, 'the ARM error shape');
  const outside = await h.raw('GET', '/nothing/here?api-version=2024-05-01');
  t.equal(outside.status, 404);
  t.equal(outside.body.error.code, 'NotFound');
  const otherGroup = await h.raw('GET', `/subscriptions/${h.emu.subscriptionId}/resourceGroups/other/providers/Microsoft.ApiManagement/service/${h.svc}/apis?api-version=2024-05-01`);
  t.equal(otherGroup.body.error.code, 'ResourceGroupNotFound');
  const otherService = await failure(h.client.api.get(h.rg, 'other-service', 'x'));
  t.equal(otherService.statusCode, 404);
  t.equal(otherService.code, 'ResourceNotFound');
  const badName = await h.raw('GET', `/subscriptions/${h.emu.subscriptionId}/resourceGroups/${h.rg}/providers/Microsoft.ApiManagement/service/1-bad-/apis?api-version=2024-05-01`);
  t.equal(badName.status, 400, 'a service name against its pattern');
  t.equal(badName.body.error.details[0].target, 'serviceName');
  const caseless = await h.raw('GET', h.servicePath('/APIS?api-version=2024-05-01').replace('resourceGroups', 'RESOURCEGROUPS'));
  t.equal(caseless.status, 200, 'ARM paths are case-insensitive');
  const notFound = await failure(h.client.api.get(h.rg, h.svc, 'absent'));
  t.same(notFound.body, { error: { code: 'ResourceNotFound', message: 'Api not found.', details: null } });
  const badJson = await h.raw('PUT', h.servicePath('/apis/x?api-version=2024-05-01'), '{"properties":');
  t.equal(badJson.body.error.code, 'InvalidRequestContent');
  t.match(missing.headers, { 'x-ms-ratelimit-remaining-subscription-reads': /^\d+$/ }, 'rate-limit headers on every ARM response');
});

