// Revisions and releases as APIM has them: `x;rev=N` created from a source (operations and policy copied, never
// current), the properties only the current revision may change, an import into a revision, the revision list,
// releases that make a revision current (the plain id follows the current revision), deletes of non-current and
// current revisions, and the gateway serving `<path>;rev=N/…` beside the current revision's plain path.
import t from 'tap';
import type { ApiUpdateContract } from '@azure/arm-apimanagement';
import { failure, until } from './harness.ts';
import { itemsDocument, startBackend, startGatewayHarness } from './gateway-harness.ts';

const POLICY = '<policies><inbound><base /><set-header name="x-rev" exists-action="override"><value>one</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';

function twoOperationDocument(title = 'Items'): Record<string, unknown> {
  const doc = itemsDocument() as { info: { title: string }; paths: Record<string, unknown> };
  doc.info.title = title;
  delete doc.paths['/items/{id}'];
  return doc;
}

t.test('a revision from sourceApiId copies the API, is never current, and only the current revision changes shared properties', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('items', { path: 'items-api', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('items', POLICY);

  const refused = await h.raw('PUT', h.servicePath('/apis/items;rev=2?api-version=2024-05-01'), { properties: { path: 'items-api', isCurrent: true, sourceApiId: h.servicePath('/apis/items') } });
  t.equal(refused.status, 400, 'a new revision cannot be created current');
  t.same(refused.body.error.details, [{ code: 'ValidationError', target: 'IsCurrent', message: "Can't set new revision as current." }]);

  const badSource = await h.raw('PUT', h.servicePath('/apis/items;rev=2?api-version=2024-05-01'), { properties: { path: 'items-api', sourceApiId: h.servicePath('/apis/nothing') } });
  t.equal(badSource.status, 400, 'the source must be a revision of the same API');
  t.equal(badSource.body.error.details[0].target, 'sourceApiId');

  const rev2 = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'items;rev=2', { path: 'items-api', sourceApiId: h.servicePath('/apis/items'), apiRevisionDescription: 'next', serviceUrl: `${backend.url}/two` }, h.lro);
  t.equal(rev2.apiRevision, '2');
  t.equal(rev2.isCurrent, false);
  t.equal(rev2.displayName, 'Items', 'the shared properties come from the source');
  const ops = [];
  for await (const o of h.client.apiOperation.listByApi(h.rg, h.svc, 'items;rev=2')) ops.push(o.name);
  t.same(ops.sort(), ['createitem', 'getitem', 'listitems'], 'operations copied');
  const policy = await h.raw('GET', h.servicePath('/apis/items;rev=2/policies/policy?api-version=2024-05-01&format=rawxml'));
  t.equal(policy.status, 200, 'the policy is copied ("the same security settings as the current revision")');

  const one = await h.client.api.get(h.rg, h.svc, 'items;rev=1');
  t.equal(one.name, 'items', '`x;rev=<current>` is the current revision itself');
  t.equal(one.isCurrent, true);

  const locked: [ApiUpdateContract, string][] = [
    [{ path: 'elsewhere' }, 'Path'],
    [{ displayName: 'Other' }, 'Name'],
    [{ subscriptionRequired: true }, 'SubscriptionRequired'],
    [{ protocols: ['http', 'https'] }, 'Protocols'],
  ];
  for (const [body, property] of locked) {
    const patched = await failure(h.client.api.update(h.rg, h.svc, 'items;rev=2', '*', body));
    t.equal(patched.statusCode, 400, `PATCH ${property} of a non-current revision`);
    t.equal(patched.body?.error.message, `Can't change property ${property} for non-current revision `);
  }
  const put = await h.raw('PUT', h.servicePath('/apis/items;rev=2?api-version=2024-05-01'), { properties: { path: 'items-api', displayName: 'Renamed' } });
  t.equal(put.status, 400, 'PUT of a locked property too');
  t.equal(put.body.error.message, "Can't change property Name for non-current revision ");
  await h.client.api.update(h.rg, h.svc, 'items;rev=2', '*', { serviceUrl: `${backend.url}/two-b`, apiRevisionDescription: 'changed' });
  t.equal((await h.client.api.get(h.rg, h.svc, 'items;rev=2')).serviceUrl, `${backend.url}/two-b`, 'serviceUrl is the revision\'s own');

  const revisions = [];
  for await (const r of h.client.apiRevision.listByService(h.rg, h.svc, 'items')) revisions.push(r);
  t.same(revisions.map((r) => [r.apiRevision, r.isCurrent, r.privateUrl, r.description]).sort(), [
    ['1', true, '/items-api;rev=1', null],
    ['2', false, '/items-api;rev=2', 'changed'],
  ]);
});

t.test('an import into a new revision leaves the current one serving; a title that renames the API is refused there', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('items', { path: 'items-api', document: itemsDocument(), serviceUrl: `${backend.url}/one` });
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'items;rev=2', {
    path: 'items-api', displayName: 'Items', format: 'openapi+json', value: JSON.stringify(twoOperationDocument()), serviceUrl: `${backend.url}/two`, protocols: ['https'],
  }, h.lro);
  const count = async (id: string): Promise<number> => {
    let n = 0;
    for await (const _ of h.client.apiOperation.listByApi(h.rg, h.svc, id)) n++;
    return n;
  };
  t.equal(await count('items;rev=2'), 2, 'the import replaced the revision\'s operations');
  t.equal(await count('items'), 3, 'the current revision kept its own');

  t.equal((await h.call('/items-api/items/7')).status, 200, 'the plain path is the current revision');
  t.equal((await h.call('/items-api;rev=2/items/7')).status, 404, 'revision 2 has no such operation');
  const viaRev2 = await h.call('/items-api;rev=2/items?x=1');
  t.equal(viaRev2.status, 200);
  t.equal(viaRev2.json().url, '/two/items?x=1', '`;rev=2` reaches revision 2\'s backend');
  t.equal((await h.call('/items-api;rev=1/items')).json().url, '/one/items', '`;rev=1` is the current revision');
  t.equal((await h.call('/items-api;rev=9/items')).status, 404, 'no such revision');

  h.emu.settings.importAppliesProperties = false;
  const renamed = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'items;rev=3', {
    path: 'items-api', displayName: 'Items', format: 'openapi+json', value: JSON.stringify(twoOperationDocument('Renamed Items')), protocols: ['https'],
  }, h.lro));
  t.equal(renamed.code, 'ValidationError', 'the document\'s title would rename the API (Azure/azure-powershell #9270)');
  t.match(renamed.message, /Can't change property Name for non-current revision/);
});

t.test('a release makes a revision current; the plain id, the list and the gateway follow; deletes respect the current revision', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('items', { path: 'items-api', document: itemsDocument(), serviceUrl: `${backend.url}/one` });
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'items;rev=2', { path: 'items-api', sourceApiId: h.servicePath('/apis/items'), serviceUrl: `${backend.url}/two` }, h.lro);

  const missing = await h.raw('PUT', h.servicePath('/apis/items/releases/r9?api-version=2024-05-01'), { properties: { apiId: h.servicePath('/apis/items;rev=9'), notes: 'x' } });
  t.equal(missing.status, 400, 'a release of a revision that does not exist');
  t.equal(missing.body.error.details[0].target, 'apiId');
  const foreign = await h.raw('PUT', h.servicePath('/apis/items/releases/r9?api-version=2024-05-01'), { properties: { apiId: '/apis/other;rev=2' } });
  t.equal(foreign.status, 400, 'a release of another API\'s revision');

  const release = await h.client.apiRelease.createOrUpdate(h.rg, h.svc, 'items', 'rel-2', { apiId: '/apis/items;rev=2', notes: 'spec-hash abc' });
  t.equal(release.notes, 'spec-hash abc');
  t.equal(release.apiId, h.servicePath('/apis/items;rev=2'), 'the release names the revision it made current');
  const current = await h.client.api.get(h.rg, h.svc, 'items');
  t.equal(current.apiRevision, '2', 'the plain id is now revision 2');
  t.equal(current.isCurrent, true);
  const old = await h.client.api.get(h.rg, h.svc, 'items;rev=1');
  t.equal(old.name, 'items;rev=1');
  t.equal(old.isCurrent, false);
  const listed = [];
  for await (const a of h.client.api.listByService(h.rg, h.svc)) listed.push(`${a.name}@${a.apiRevision}`);
  t.same(listed, ['items@2'], 'the API list shows the current revision');
  await until(async () => ((await h.call('/items-api/items')).json().url === '/two/items' ? true : undefined));
  t.pass('the gateway serves revision 2 on the plain path');
  t.equal((await h.call('/items-api;rev=1/items')).json().url, '/one/items', 'and revision 1 on `;rev=1`');

  const releases = [];
  for await (const r of h.client.apiRelease.listByService(h.rg, h.svc, 'items')) releases.push([r.name, r.notes]);
  t.same(releases, [['rel-2', 'spec-hash abc']]);
  const update = await h.raw('PUT', h.servicePath('/apis/items/releases/rel-2?api-version=2024-05-01'), { properties: { apiId: '/apis/items;rev=2', notes: 'again' } });
  t.equal(update.status, 400, 'updating a release needs If-Match');

  const refused = await failure(h.client.api.beginDeleteAndWait(h.rg, h.svc, 'items;rev=2', '*', h.lro));
  t.equal(refused.body?.error.message, 'Cannot delete the current revision of an API.', 'the current revision, named by its number, is refused too');
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'items;rev=1', '*', h.lro);
  t.equal((await failure(h.client.api.get(h.rg, h.svc, 'items;rev=1'))).statusCode, 404, 'a non-current revision is deleted alone');
  t.equal((await h.client.api.get(h.rg, h.svc, 'items')).apiRevision, '2', 'the current revision stays');

  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'items;rev=3', { path: 'items-api', sourceApiId: h.servicePath('/apis/items') }, h.lro);
  await h.client.api.beginDeleteAndWait(h.rg, h.svc, 'items', '*', { ...h.lro, deleteRevisions: true });
  t.same(h.emu.state().apis.map((a) => a.name), [], 'deleteRevisions removes every revision');
  await h.importApi('items', { path: 'items-api', document: itemsDocument(), serviceUrl: backend.url });
  const after = [];
  for await (const r of h.client.apiRelease.listByService(h.rg, h.svc, 'items')) after.push(r.name);
  t.same(after, [], 'the API\'s releases went with it');
});
