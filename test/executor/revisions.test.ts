// Revisions end to end: the executor as a Job runs it, the real control plane, the APIM emulator and its gateway.
// With APIM_REVISIONS=on the first publication is revision 1 as always; a change goes into revision 2, is checked
// (operation count, policy, the gateway on `<path>;rev=2/…`) and made current by a release whose notes name the spec
// hash; a change whose check fails leaves the current revision serving and says so (Imported RevisionCheckFailed naming
// the revision, Serving True PreviousRevision); the same change run again checks that revision again instead of making
// another; old revisions of ours beyond APIM_REVISIONS_KEEP go, a portal-made one stays; delete removes them all.
// Without revisions a failed re-apply says Serving False (the parent Component entry then stops being ready), and the
// next good apply says Serving True again.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { componentEntryReady } from '../../core/exposedapi-status.ts';
import { condition, executorBench, type ExecutorBench } from './harness.ts';

function itemsDocument(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    openapi: '3.0.3',
    info: { title: 'Items', version: '1.0' },
    paths: {
      '/items': { get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } } },
      '/items/{id}': { get: { operationId: 'getItem', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } } },
      ...extra,
    },
  });
}

const moreOperations = (n: number): Record<string, unknown> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`/extra${i}`, { get: { operationId: `extra${i}`, responses: { '200': { description: 'ok' } } } }]));

async function listen(t: Test, status: number, body: string): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

interface Fixture {
  b: ExecutorBench;
  backend: { url: string; hits: string[] };
  env: Record<string, string>;
  apply(name: string, doc: string, extraSpec?: Record<string, unknown>, env?: Record<string, string>): Promise<{ code: number | null; hash: string; obj: Record<string, any>; stdout: string }>;
  api(id: string): Record<string, any> | undefined;
  revisions(apiId: string): { name: string; revision: string; current: boolean; description: string }[];
}

async function fixture(t: Test): Promise<Fixture> {
  const b = await executorBench(t);
  const backend = await listen(t, 200, '{"items":[]}');
  const env = { APIM_REVISIONS: 'on', APIM_GATEWAY_URL: b.emu.gatewayUrl, OUTBOUND_ALLOW_HTTP: 'true', OUTBOUND_ALLOW_PRIVATE: 'true' };
  let docs = 0;
  return {
    b,
    backend,
    env,
    async apply(name, doc, extraSpec = {}, extraEnv = {}) {
      const file = `doc-${++docs}.json`;
      b.specs.put(file, doc);
      const p = await b.put({
        apiVersion: 'oda.tmforum.org/v1',
        kind: 'ExposedAPI',
        metadata: { name },
        spec: { name: 'items', apiType: 'openapi', implementation: `${name}-svc`, path: `/${name}/v1`, port: 8080, specification: { url: b.specs.url(file), version: 'v1' }, ...extraSpec, apim: { backend: { url: `${backend.url}/api` }, ...(extraSpec['apim'] as object | undefined) } },
      });
      const r = await b.execute('apply', p.name, p.hash, { ...env, ...extraEnv });
      return { code: r.code, hash: p.hash, obj: (await b.get(name))!, stdout: r.stdout };
    },
    api: (id) => b.emu.state().apis.find((a) => a.name === id),
    revisions: (apiId) => b.emu.state().apis
      .filter((a) => a.name === apiId || a.name.startsWith(`${apiId};rev=`))
      .map((a) => ({ name: a.name, revision: String(a.properties['apiRevision']), current: a.properties['isCurrent'] !== false, description: String(a.properties['apiRevisionDescription'] ?? '') }))
      .sort((x, y) => Number(x.revision) - Number(y.revision)),
  };
}

t.test('revisions on: a change becomes revision 2, checked and released with the spec hash; a failed check leaves revision 2 serving', async (t) => {
  const f = await fixture(t);
  const { b } = f;
  const apiId = b.apiId('rev-items');

  const first = await f.apply('rev-items', itemsDocument());
  t.equal(first.code, 0, first.stdout);
  t.same(f.revisions(apiId).map((r) => [r.name, r.revision, r.current]), [[apiId, '1', true]], 'the first publication is revision 1, as without revisions');
  t.equal(condition(first.obj, 'Serving')?.reason, 'CurrentSpec');

  const second = await f.apply('rev-items', itemsDocument(moreOperations(1)));
  t.equal(second.code, 0, second.stdout);
  t.same(f.revisions(apiId).map((r) => [r.name, r.revision, r.current]), [[`${apiId};rev=1`, '1', false], [apiId, '2', true]], 'revision 2 is current, revision 1 stays');
  const imported = condition(second.obj, 'Imported')!;
  t.equal(imported.reason, 'Released');
  t.match(imported.message, /revision 2 made current by release rev-2-/);
  t.equal(second.obj['status'].apim.revision, '2', 'status.apim.revision names the current revision');
  t.equal(second.obj['status'].appliedSpecHash, second.hash);
  t.equal(f.api(apiId)!.operations.length, 3, 'the current revision has the new document');
  const releases = [];
  for await (const r of b.client().apiRelease.listByService(b.emu.resourceGroup, b.emu.serviceName, apiId)) releases.push(r);
  t.equal(releases.length, 1);
  t.equal(releases[0]!.notes, `exposedapi-apim: ExposedAPI ${b.ns}/rev-items, spec-hash ${second.hash}`, 'the release notes name the spec hash');
  t.ok(f.backend.hits.some((h) => h === 'GET /api/items'), 'the check called revision 2 through the gateway (it reached the backend)');

  // A gateway that does not serve the new revision: the check fails, nothing current changes.
  const elsewhere = await listen(t, 404, '{ "statusCode": 404, "message": "Resource not found" }');
  const third = await f.apply('rev-items', itemsDocument(moreOperations(2)), {}, { APIM_GATEWAY_URL: elsewhere.url });
  t.equal(third.code, 42, 'a failed check is permanent for this run');
  const failed = condition(third.obj, 'Imported')!;
  t.equal(failed.status, 'False');
  t.equal(failed.reason, 'RevisionCheckFailed');
  t.match(failed.message, new RegExp(`revision 3 of APIM API '${apiId}' was not made current: the gateway answered 404 "Resource not found" at ${elsewhere.url}/rev-items/v1;rev=3/items`));
  t.match(failed.message, /Revision 2 keeps serving/);
  t.same(elsewhere.hits, ['GET /rev-items/v1;rev=3/items'], 'the probe called the revision URL');
  t.equal(third.obj['status'].appliedSpecHash, second.hash, 'appliedSpecHash still names the served change');
  const serving = condition(third.obj, 'Serving')!;
  t.same([serving.status, serving.reason], ['True', 'PreviousRevision'], 'Serving: the previous revision, whole');
  t.equal(componentEntryReady(true, third.obj['status'].conditions), true, 'the Component entry keeps the current revision\'s state');
  t.same(f.revisions(apiId).map((r) => [r.revision, r.current]), [['1', false], ['2', true], ['3', false]], 'revision 2 still current; revision 3 left for inspection');
  t.equal(f.api(apiId)!.operations.length, 3, 'the current revision is untouched');
  const plain = await fetchGateway(b, '/rev-items/v1/items');
  t.equal(plain, 200, 'the plain path still serves revision 2');

  // The same change again, with the right gateway: revision 3 is checked again and released, no revision 4.
  const writesBefore = Object.keys(b.emu.state().requests.byPath).filter((k) => k.startsWith('PUT') && k.includes(';rev=4'));
  t.same(writesBefore, []);
  const again = await b.execute('apply', 'rev-items', third.hash, f.env);
  t.equal(again.code, 0, again.stdout);
  const afterAgain = (await b.get('rev-items'))!;
  t.match(condition(afterAgain, 'Imported')!.message, /revision 3 made current/);
  t.same(f.revisions(apiId).map((r) => [r.revision, r.current]), [['1', false], ['2', false], ['3', true]], 'revision 3 reused and released');
  t.equal(f.api(apiId)!.operations.length, 4);
  t.same([condition(afterAgain, 'Serving')!.status, condition(afterAgain, 'Serving')!.reason], ['True', 'CurrentSpec']);

  const unchanged = await b.execute('apply', 'rev-items', third.hash, f.env);
  t.equal(unchanged.code, 0);
  t.equal(f.revisions(apiId).length, 3, 'a run with nothing to change makes no revision');
  t.equal(condition((await b.get('rev-items'))!, 'Imported')!.reason, 'UpToDate');
});

t.test('old revisions beyond APIM_REVISIONS_KEEP go (ours only); a policy-only change is a revision too; delete removes every revision', async (t) => {
  const f = await fixture(t);
  const { b } = f;
  const apiId = b.apiId('keep-items');
  const keep = { APIM_REVISIONS_KEEP: '1' };
  t.equal((await f.apply('keep-items', itemsDocument(), {}, keep)).code, 0);
  // A revision made in the portal (no mark): never deleted, never counted.
  await b.client().api.beginCreateOrUpdateAndWait(b.emu.resourceGroup, b.emu.serviceName, `${apiId};rev=2`, { path: `keep-items`, sourceApiId: `/subscriptions/${b.emu.subscriptionId}/resourceGroups/${b.emu.resourceGroup}/providers/Microsoft.ApiManagement/service/${b.emu.serviceName}/apis/${apiId}`, apiRevisionDescription: 'tried in the portal' }, { updateIntervalInMs: 10 });
  for (let i = 1; i <= 3; i++) {
    const r = await f.apply('keep-items', itemsDocument(moreOperations(i)), {}, keep);
    t.equal(r.code, 0, r.stdout);
  }
  t.same(f.revisions(apiId).map((r) => [r.revision, r.current]), [['2', false], ['4', false], ['5', true]], 'revision 5 current, one old revision of ours (4) and the portal\'s (2)');
  t.equal(f.revisions(apiId).find((r) => r.revision === '2')!.description, 'tried in the portal');
  const pruned = condition((await b.get('keep-items'))!, 'Imported')!.message;
  t.match(pruned, /earlier revisions deleted: 3/);

  const policyOnly = await f.apply('keep-items', itemsDocument(moreOperations(3)), { rateLimit: { enabled: true, identifier: 'IP', limit: '10', interval: 'pm' } }, keep);
  t.equal(policyOnly.code, 0, policyOnly.stdout);
  t.same(f.revisions(apiId).map((r) => [r.revision, r.current]), [['2', false], ['5', false], ['6', true]], 'a policy change goes through revision 6');
  t.match(f.api(apiId)!.policy?.raw ?? '', /rate-limit-by-key/, 'the current revision has the new policy');
  t.notMatch(f.api(`${apiId};rev=5`)!.policy?.raw ?? '', /rate-limit-by-key/, 'the previous revision kept its own');

  const r = await b.cp.kubectl(['delete', 'exposedapi.v1.oda.tmforum.org', 'keep-items', '-n', b.ns, '--wait=false']);
  t.equal(r.code, 0);
  const deleted = await b.execute('delete', 'keep-items', policyOnly.hash, f.env);
  t.equal(deleted.code, 0, deleted.stdout);
  t.same(f.revisions(apiId), [], 'deleteRevisions: every revision is gone, the portal\'s too (it belongs to the API)');
});

t.test('spec.apim.revisions: false opts one API out; without revisions a failed re-apply says Serving False until a good apply', async (t) => {
  const f = await fixture(t);
  const { b } = f;
  const apiId = b.apiId('plain-items');
  const optOut = { apim: { revisions: false } };
  t.equal((await f.apply('plain-items', itemsDocument(), optOut)).code, 0);
  t.equal((await f.apply('plain-items', itemsDocument(moreOperations(1)), optOut)).code, 0);
  t.same(f.revisions(apiId).map((r) => r.revision), ['1'], 're-imported in place: no revision');

  // A document APIM refuses (two operations with one signature): the import fails after nothing else changed.
  const bad = itemsDocument({ '/Items': { get: { operationId: 'listItemsAgain', responses: { '200': { description: 'ok' } } } } });
  const failedRun = await f.apply('plain-items', bad, optOut, { REMOTE_SPEC_CHECK: 'off' });
  t.equal(failedRun.code, 42, failedRun.stdout);
  const serving = condition(failedRun.obj, 'Serving')!;
  t.same([serving.status, serving.reason], ['False', 'ChangeNotApplied']);
  t.match(serving.message, /APIM serves the last applied change .* and possibly parts of this one/);
  t.equal(componentEntryReady(true, failedRun.obj['status'].conditions), false, 'the parent Component entry is not ready: the Canvas does not say Complete');
  t.ok(failedRun.obj['status'].apiStatus.url, 'apiStatus.url stays: the previous version is still served there');

  const good = await f.apply('plain-items', itemsDocument(moreOperations(2)), optOut);
  t.equal(good.code, 0, good.stdout);
  t.same([condition(good.obj, 'Serving')!.status, condition(good.obj, 'Serving')!.reason], ['True', 'CurrentSpec'], 'a good apply: Serving True again');
  t.equal(componentEntryReady(true, good.obj['status'].conditions), true, 'and the Component entry ready again');
  t.equal(good.obj['status'].apim.revision, undefined, 'no revision recorded without revisions');
});

async function fetchGateway(b: ExecutorBench, path: string): Promise<number> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${b.emu.gatewayUrl}${path}`, { ca: b.emu.caPem }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
