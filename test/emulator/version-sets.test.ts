// API version sets through the real SDK: their CRUD with ETags and APIM's errors, APIs that reference them (the set
// must exist, a version needs a set, a path is shared only inside one set and under different versions, the set shown
// in the API's GET), deleting a set still in use (refused) and the last API of a set (the set goes with it, unless
// the emulator is told the service keeps empty sets), and the gateway calling each version by path segment, query
// parameter or header.
import t from 'tap';
import { failure, deserialize, startHarness, type Harness } from './harness.ts';
import { itemsDocument, startBackend, startGatewayHarness } from './gateway-harness.ts';

async function api(h: Harness, id: string, o: { path: string; version?: string; set?: string; serviceUrl?: string }): Promise<void> {
  await h.client.api.beginCreateOrUpdateAndWait(
    h.rg,
    h.svc,
    id,
    {
      path: o.path,
      format: 'openapi+json',
      value: JSON.stringify(itemsDocument()),
      serviceUrl: o.serviceUrl ?? 'https://backend.example.com',
      subscriptionRequired: false,
      protocols: ['https'],
      ...(o.version !== undefined ? { apiVersion: o.version } : {}),
      ...(o.set !== undefined ? { apiVersionSetId: o.set } : {}),
    },
    h.lro,
  );
}

t.test('version sets: create, read, update with ETags, list, and their validation', async (t) => {
  const h = await startHarness(t);
  const statuses: number[] = [];
  const created = await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'Product catalog', versioningScheme: 'Segment', description: 'mine' }, { onResponse: (r) => statuses.push(r.status) });
  t.equal(created.id, h.servicePath('/apiVersionSets/pc'));
  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'Product catalog', versioningScheme: 'Header', versionHeaderName: 'Api-Version' }, { onResponse: (r) => statuses.push(r.status) });
  t.same(statuses, [201, 200], 'created, then updated');
  const got = await h.raw('GET', h.servicePath('/apiVersionSets/pc?api-version=2024-05-01'));
  t.equal(got.body.properties.versioningScheme, 'Header');
  t.equal(got.body.type, 'Microsoft.ApiManagement/service/api-version-sets');
  t.same(deserialize('ApiVersionSetContract', got.body).missing, []);
  t.ok(got.headers['etag'], 'GET carries an ETag');

  t.equal((await failure(h.client.apiVersionSet.update(h.rg, h.svc, 'pc', '"AAAAAAAAAAE="', { versioningScheme: 'Segment' }))).statusCode, 412, 'a stale If-Match is refused');
  const patched = await h.client.apiVersionSet.update(h.rg, h.svc, 'pc', got.headers['etag']!, { versioningScheme: 'Query', versionQueryName: 'api-version' });
  t.equal(patched.versioningScheme, 'Query', 'PATCH with the current ETag');
  const noIfMatch = await h.raw('PATCH', h.servicePath('/apiVersionSets/pc?api-version=2024-05-01'), { properties: { displayName: 'x' } });
  t.equal(noIfMatch.status, 400, 'PATCH needs If-Match');

  const listed = [];
  for await (const s of h.client.apiVersionSet.listByService(h.rg, h.svc)) listed.push(s.name);
  t.same(listed, ['pc']);

  const cases: [string, string, Record<string, unknown>, string][] = [
    ['an id longer than 80 characters', 'x'.repeat(81), { displayName: 'x', versioningScheme: 'Segment' }, 'versionSetId'],
    ['an id with a forbidden character', 'a:b', { displayName: 'x', versioningScheme: 'Segment' }, 'versionSetId'],
    ['no displayName', 'ok', { versioningScheme: 'Segment' }, 'displayName'],
    ['a displayName over 100 characters', 'ok', { displayName: 'd'.repeat(101), versioningScheme: 'Segment' }, 'displayName'],
    ['no versioningScheme', 'ok', { displayName: 'x' }, 'versioningScheme'],
    ['an unknown scheme', 'ok', { displayName: 'x', versioningScheme: 'Path' }, 'versioningScheme'],
    ['Header without versionHeaderName', 'ok', { displayName: 'x', versioningScheme: 'Header' }, 'versionHeaderName'],
    ['Query without versionQueryName', 'ok', { displayName: 'x', versioningScheme: 'Query' }, 'versionQueryName'],
    ['a versionQueryName over 100 characters', 'ok', { displayName: 'x', versioningScheme: 'Query', versionQueryName: 'q'.repeat(101) }, 'versionQueryName'],
  ];
  for (const [why, id, properties, target] of cases) {
    const r = await h.raw('PUT', h.servicePath(`/apiVersionSets/${encodeURIComponent(id)}?api-version=2024-05-01`), { properties });
    t.equal(r.status, 400, why);
    t.equal(r.body.error.code, 'ValidationError', `${why}: ValidationError`);
    t.ok(r.body.error.details.some((d: { target: string }) => d.target === target), `${why}: names ${target}`);
  }
  const missing = await failure(h.client.apiVersionSet.get(h.rg, h.svc, 'nope'));
  t.equal(missing.statusCode, 404);
  t.equal(missing.message, 'ApiVersionSet not found.');
  await h.client.apiVersionSet.delete(h.rg, h.svc, 'pc', '*');
  t.equal((await failure(h.client.apiVersionSet.get(h.rg, h.svc, 'pc'))).statusCode, 404, 'deleted');
});

t.test('APIs in a version set: the set must exist, a version needs a set, paths are shared only inside one set', async (t) => {
  const h = await startHarness(t);
  const setId = h.servicePath('/apiVersionSets/pc');
  const gone = await failure(api(h, 'pc-v4', { path: 'pc', version: 'v4', set: setId }));
  t.equal(gone.statusCode, 404, 'a set that does not exist');
  t.equal(gone.code, 'ResourceNotFound');
  t.equal(gone.message, 'ApiVersionSet not found.');
  t.notOk(h.emu.state().apis.some((a) => a.name === 'pc-v4'), 'refused on the PUT: nothing was created');

  const noSet = await failure(api(h, 'lonely', { path: 'lonely', version: 'v1' }));
  t.equal(noSet.statusCode, 400);
  t.same(noSet.body?.error.details, [{ code: 'ValidationError', target: 'ApiVersion', message: "Can't set VersionName when ApiVersionSetId is not set." }]);

  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'tmf-api/productCatalogManagement', versioningScheme: 'Segment' });
  const relative = await failure(api(h, 'pc-v4', { path: 'pc', version: 'v4', set: '/apiVersionSets/pc' }));
  t.equal(relative.statusCode, 400, 'a set id that is not the resource id of one of the service\'s sets');
  t.equal(relative.body?.error.details?.[0]?.target, 'apiVersionSetId');

  await api(h, 'pc-v4', { path: 'pc', version: 'v4', set: setId.toUpperCase().replace('/APIVERSIONSETS/PC', '/apiVersionSets/PC') });
  await api(h, 'pc-v5', { path: 'pc', version: 'v5', set: setId });
  const got = await h.raw('GET', h.servicePath('/apis/pc-v4?api-version=2024-05-01'));
  t.equal(got.body.properties.apiVersionSetId, setId, 'stored as the set\'s resource id, whatever case it was sent in');
  t.equal(got.body.properties.apiVersion, 'v4');
  t.same(got.body.properties.apiVersionSet, { id: setId, name: 'tmf-api/productCatalogManagement', versioningScheme: 'Segment' }, "the set's details beside its id");
  t.same(deserialize('ApiContract', got.body).missing, []);
  const sdk = await h.client.api.get(h.rg, h.svc, 'pc-v5');
  t.equal(sdk.apiVersionSet?.versioningScheme, 'Segment', 'the SDK reads the details');

  const sameVersion = await failure(api(h, 'pc-v4-again', { path: 'pc', version: 'V4', set: setId }));
  t.equal(sameVersion.statusCode, 400, 'one version per set');
  t.equal(sameVersion.body?.error.details?.[0]?.target, 'apiVersion');
  const outside = await failure(api(h, 'plain', { path: 'PC' }));
  t.equal(outside.statusCode, 400, 'an API outside the set may not take its path');
  t.match(outside.body?.error.details?.[0]?.message, /unless it's a part of the same version set/);

  // An existing plain API joins the set by an update (terraform-provider-azurerm updates version and version_set_id in place).
  await api(h, 'pc-v3', { path: 'pc/v3' });
  const joined = await h.client.api.update(h.rg, h.svc, 'pc-v3', '*', { path: 'pc', apiVersion: 'v3', apiVersionSetId: setId });
  t.equal(joined.apiVersionSetId, setId, 'PATCH moves a plain API into the set');
  t.equal(joined.path, 'pc');
  const left = await h.client.api.update(h.rg, h.svc, 'pc-v3', '*', { path: 'pc/v3', apiVersion: '', apiVersionSetId: null as unknown as string });
  t.notOk(left.apiVersionSetId, 'and out of it');
  t.notOk(left.apiVersionSet, 'no details without a set');
});

t.test('a set still used is not deleted; the last API of a set takes it along (unless the service keeps empty sets)', async (t) => {
  const h = await startHarness(t);
  const setId = h.servicePath('/apiVersionSets/pc');
  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Segment' });
  await api(h, 'pc-v4', { path: 'pc', version: 'v4', set: setId });
  await api(h, 'pc-v5', { path: 'pc', version: 'v5', set: setId });
  const used = await failure(h.client.apiVersionSet.delete(h.rg, h.svc, 'pc', '*'));
  t.equal(used.statusCode, 400);
  t.equal(used.code, 'ValidationError');
  t.match(used.message, /is used by the following entities:.*\/apis\/pc-v4/s);
  t.ok(await h.client.apiVersionSet.get(h.rg, h.svc, 'pc'), 'still there');

  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'pc-v4', '*', { ...h.lro, deleteRevisions: true });
  t.ok(await h.client.apiVersionSet.get(h.rg, h.svc, 'pc'), 'deleting one version leaves the set');
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'pc-v5', '*', { ...h.lro, deleteRevisions: true });
  t.equal((await failure(h.client.apiVersionSet.get(h.rg, h.svc, 'pc'))).statusCode, 404, 'deleting the last version deletes the set');

  h.emu.settings.versionSetRemovedWithLastApi = false;
  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Segment' });
  await api(h, 'pc-v4', { path: 'pc', version: 'v4', set: setId });
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'pc-v4', '*', { ...h.lro, deleteRevisions: true });
  t.ok(await h.client.apiVersionSet.get(h.rg, h.svc, 'pc'), 'versionSetRemovedWithLastApi false: the empty set stays');
  await h.client.apiVersionSet.delete(h.rg, h.svc, 'pc', '*');
  t.equal((await failure(h.client.apiVersionSet.get(h.rg, h.svc, 'pc'))).statusCode, 404, 'and an unused set is deleted');
});

t.test('gateway: each version answers on its path segment, its query parameter or its header', async (t) => {
  const h = await startGatewayHarness(t);
  const v4 = await startBackend(t);
  const v5 = await startBackend(t);
  const setId = h.servicePath('/apiVersionSets/pc');
  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Segment' });
  await api(h, 'pc-v4', { path: 'tmf-api/pc', version: 'v4', set: setId, serviceUrl: `${v4.url}/four` });
  await api(h, 'pc-v5', { path: 'tmf-api/pc', version: 'v5', set: setId, serviceUrl: `${v5.url}/five` });

  t.same((await h.call('/tmf-api/pc/v4/items?x=1')).json(), { method: 'GET', url: '/four/items?x=1', body: '' }, 'Segment: /<path>/v4/… reaches v4, the version segment not forwarded');
  t.same((await h.call('/tmf-api/pc/v5/items')).json(), { method: 'GET', url: '/five/items', body: '' }, 'Segment: /<path>/v5/… reaches v5');
  t.equal((await h.call('/tmf-api/pc/items')).status, 404, 'Segment: no version, no Original version: 404');
  t.equal((await h.call('/tmf-api/pc/v6/items')).status, 404, 'Segment: a version the set does not have');

  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Query', versionQueryName: 'api-version' });
  t.same((await h.call('/tmf-api/pc/items?api-version=v5')).json().url, '/five/items?api-version=v5', 'Query: ?api-version=v5 reaches v5');
  t.same((await h.call('/tmf-api/pc/items?api-version=v4')).json().url, '/four/items?api-version=v4', 'Query: ?api-version=v4 reaches v4');
  t.equal((await h.call('/tmf-api/pc/items')).status, 404, 'Query: no version given');
  t.equal((await h.call('/tmf-api/pc/v4/items')).status, 404, 'Query: the segment no longer selects');

  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Header', versionHeaderName: 'Api-Version' });
  t.same((await h.call('/tmf-api/pc/items', { headers: { 'api-version': 'v4' } })).json().url, '/four/items', 'Header: Api-Version: v4 reaches v4');
  t.same((await h.call('/tmf-api/pc/items', { headers: { 'Api-Version': 'v5' } })).json().url, '/five/items', 'Header: Api-Version: v5 reaches v5');
  t.equal((await h.call('/tmf-api/pc/items', { headers: { 'api-version': 'v7' } })).status, 404, 'Header: an unknown version');

  // The Original version (empty apiVersion) answers when no version is given.
  await api(h, 'pc-original', { path: 'tmf-api/pc', version: '', set: setId, serviceUrl: `${v4.url}/original` });
  t.same((await h.call('/tmf-api/pc/items')).json().url, '/original/items', 'Header: no version given reaches the Original version');
  t.equal(v4.received.length + v5.received.length, 7, 'every routed call reached a backend, the refused ones none');
});

// Versions and revisions compose: a revision of a version keeps the set and version (the API version is locked on a
// non-current revision, api-management-revisions), and its URL is the version's URL with `;rev=N` appended before
// the query string (api-management-revisions, "Accessing specific revisions"; api-management-versions for the
// version part).
t.test('revisions of a version: set and version kept and locked, called as <path>/<version>;rev=N or <path>;rev=N with the version', async (t) => {
  const h = await startGatewayHarness(t);
  const b = await startBackend(t);
  const setId = h.servicePath('/apiVersionSets/pc');
  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Segment' });
  await api(h, 'pc-v4', { path: 'tmf-api/pc', version: 'v4', set: setId, serviceUrl: `${b.url}/four` });
  await api(h, 'pc-v5', { path: 'tmf-api/pc', version: 'v5', set: setId, serviceUrl: `${b.url}/five` });
  const rev = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'pc-v4;rev=2', { path: 'tmf-api/pc', sourceApiId: h.servicePath('/apis/pc-v4'), serviceUrl: `${b.url}/four-r2` }, h.lro);
  t.equal(rev.apiVersion, 'v4', 'the revision keeps its API\'s version');
  t.match(rev.apiVersionSetId ?? '', /\/apiVersionSets\/pc$/i, 'and its set');

  const locked = await failure(h.client.api.update(h.rg, h.svc, 'pc-v4;rev=2', '*', { apiVersion: 'v6' }));
  t.equal(locked.statusCode, 400);
  t.match(locked.message, "Can't change property ApiVersion for non-current revision", 'the version of a non-current revision is locked');
  const taken = await failure(h.client.api.update(h.rg, h.svc, 'pc-v4;rev=2', '*', { apiVersionSetId: null, apiVersion: '' } as never));
  t.equal(taken.statusCode, 400);
  t.ok((taken.body?.error.details ?? []).some((d) => d.target === 'path' && /same Path 'tmf-api\/pc'/.test(d.message)), 'leaving the set is refused: its versions hold the path');

  t.same((await h.call('/tmf-api/pc/v4;rev=2/items')).json().url, '/four-r2/items', 'Segment: <path>/v4;rev=2/… reaches revision 2 of v4');
  t.same((await h.call('/tmf-api/pc/v4;rev=1/items')).json().url, '/four/items', 'Segment: ;rev=1 is the current revision of v4');
  t.same((await h.call('/tmf-api/pc/v4/items')).json().url, '/four/items', 'Segment: the plain version URL keeps the current revision');
  t.equal((await h.call('/tmf-api/pc/v5;rev=2/items')).status, 404, 'Segment: v5 has no revision 2');
  t.equal((await h.call('/tmf-api/pc;rev=2/v4/items')).status, 404, 'Segment: ;rev=N goes after the version, not before');

  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Query', versionQueryName: 'api-version' });
  t.same((await h.call('/tmf-api/pc;rev=2/items?api-version=v4')).json().url, '/four-r2/items?api-version=v4', 'Query: <path>;rev=2/…?api-version=v4 reaches revision 2 of v4');
  t.equal((await h.call('/tmf-api/pc;rev=2/items?api-version=v5')).status, 404, 'Query: v5 has no revision 2');
  t.same((await h.call('/tmf-api/pc;rev=1/items?api-version=v5')).json().url, '/five/items?api-version=v5', 'Query: ;rev=1 of v5 is its current revision');

  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'pc', { displayName: 'pc', versioningScheme: 'Header', versionHeaderName: 'Api-Version' });
  t.same((await h.call('/tmf-api/pc;rev=2/items', { headers: { 'api-version': 'v4' } })).json().url, '/four-r2/items', 'Header: <path>;rev=2/… with Api-Version: v4');

  await h.client.apiRelease.createOrUpdate(h.rg, h.svc, 'pc-v4', 'rel-2', { apiId: '/apis/pc-v4;rev=2', notes: 'x' });
  const current = await h.client.api.get(h.rg, h.svc, 'pc-v4');
  t.equal(current.apiRevision, '2');
  t.equal(current.apiVersion, 'v4', 'the released revision is still v4 of the set');
  t.same((await h.call('/tmf-api/pc/items', { headers: { 'api-version': 'v4' } })).json().url, '/four-r2/items', 'after the release the version answers with revision 2');
});

t.test('the APIs list by path ($filter path eq, as the executor\'s URL guard reads it), with the set detailed', async (t) => {
  const h = await startHarness(t);
  await h.client.apiVersionSet.createOrUpdate(h.rg, h.svc, 'seg', { displayName: 'seg', versioningScheme: 'Segment' });
  await api(h, 'plain', { path: 'taken/v4' });
  await api(h, 'in-set', { path: 'taken', version: 'v4', set: h.servicePath('/apiVersionSets/seg') });
  await api(h, 'elsewhere', { path: 'taken/v5' });
  const names = async (filter: string): Promise<string[]> => {
    const r = await h.raw('GET', h.servicePath(`/apis?api-version=2024-05-01&$filter=${encodeURIComponent(filter)}&expandApiVersionSet=true`));
    t.equal(r.status, 200, filter);
    return (r.body.value as { name: string }[]).map((a) => a.name);
  };
  t.same(await names("properties/path eq 'taken/v4'"), ['plain'], 'properties/path eq: the one API at that path');
  t.same(await names("path eq 'taken/v4'"), ['plain'], 'the bare field name of the REST reference reads the same');
  t.same(await names("properties/path eq 'Taken/V4'"), ['plain'], 'without case (unverified, like APIM\'s other path comparisons)');
  t.same(await names("properties/path eq 'taken/v'"), [], 'eq is whole-value, not a prefix');
  t.same(await names("properties/path eq 'a and b'"), [], 'a quoted literal containing `and` is one clause');
  const r = await h.raw('GET', h.servicePath(`/apis?api-version=2024-05-01&$filter=${encodeURIComponent("properties/path eq 'taken'")}&expandApiVersionSet=true`));
  t.match(r.body.value[0].properties.apiVersionSet, { id: h.servicePath('/apiVersionSets/seg'), versioningScheme: 'Segment' }, 'the set, detailed');
  t.equal(r.body.value[0].properties.apiVersion, 'v4');
  const bare = await h.raw('GET', h.servicePath(`/apis?api-version=2024-05-01&$filter=${encodeURIComponent("properties/path eq 'taken'")}`));
  t.equal(bare.body.value[0].properties.apiVersionSet, undefined, 'without expandApiVersionSet the list names the set by id only');
  t.equal(bare.body.value[0].properties.apiVersionSetId, h.servicePath('/apiVersionSets/seg'));
  const refused = await h.raw('GET', h.servicePath(`/apis?api-version=2024-05-01&$filter=${encodeURIComponent("tolower(properties/path) eq 'taken'")}`));
  t.equal(refused.status, 400, 'a $filter the emulator cannot evaluate is refused, not ignored');
});
