// Version sets end to end: the control plane, the APIM emulator (told to keep empty sets, so the executor must remove
// them itself) and the executor run as a Job runs it. TMF620 v4 and v5 (../shared/reference) as two ExposedAPIs of one
// base path become one version set with two APIs; the gateway answers on both ODA URLs; the configured scheme moves
// the set to Header and back; deleting v4 leaves v5 and the set; deleting v5 removes the set. An API created before
// version sets joins its set on its next apply; a set under our id that we did not create is never touched. A public
// URL another API already serves (a plain API at <base>/<version>, or the reverse) is refused before any write.
import t, { type Test } from 'tap';
import https from 'node:https';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { versionSetIdOf } from '../../core/api-versioning.ts';
import { EXIT_PERMANENT } from '../../core/exposedapi-status.ts';
import { documentDigest } from '../../core/document-digest.ts';
import { DOCUMENT_DIGEST_ANNOTATION } from '../../core/exposedapi-model.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { referenceText, TMF620_V4, TMF620_V5 } from '../helpers/fixtures.ts';
import { armWrites, condition, executorBench, type ExecutorBench } from './harness.ts';

const BASE = '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement';

interface Backend {
  url: string;
  calls: string[];
}

/** A backend that answers every request with its own name and the path it received. */
async function startBackend(t: Test, name: string): Promise<Backend> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    calls.push(req.url ?? '');
    const body = JSON.stringify({ backend: name, url: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

function gateway(b: ExecutorBench, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${b.emu.gatewayUrl}${path}`, { ca: b.emu.caPem, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function tmf620(b: ExecutorBench, major: 4 | 5, backend: Backend): Record<string, any> {
  const doc = major === 4 ? 'TMF620-ProductCatalog-v4.0.0.swagger.json' : 'TMF620-Product_Catalog_Management-v5.0.0.oas.yaml';
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    // Stamped as admission stamps a document it checked, so each run skips the full check (seconds for TMF620 v5).
    metadata: { name: `ctk-productcatalogmanagement-productcatalogmanagement-v${major}`, annotations: { [DOCUMENT_DIGEST_ANNOTATION]: documentDigest(referenceText(major === 4 ? TMF620_V4 : TMF620_V5)) } },
    spec: {
      name: 'productcatalogmanagement',
      apiType: 'openapi',
      implementation: 'ctk-prodcatapi',
      path: `${BASE}/v${major}`,
      port: 8080,
      specification: { url: b.specs.url(doc), version: `v${major}.0.0` },
      apim: { backend: { mode: 'url', url: `${backend.url}/v${major}` } },
    },
  };
}

// The backends listen on loopback over plain http: the platform team's switches for that.
const ENV = { OUTBOUND_ALLOW_HTTP: 'true', OUTBOUND_ALLOW_PRIVATE: 'true' };

async function startDeletion(b: ExecutorBench, name: string): Promise<void> {
  const r = await b.cp.kubectl(['delete', 'exposedapi.v1.oda.tmforum.org', name, '-n', b.ns, '--wait=false']);
  if (r.code !== 0) throw new Error(r.stderr);
  await waitFor(`deletionTimestamp on ${name}`, async () => ((await b.get(name))?.['metadata'].deletionTimestamp ? true : undefined));
}

async function bench(t: Test): Promise<ExecutorBench> {
  const b = await executorBench(t, { emulator: { versionSetRemovedWithLastApi: false } });
  b.specs.put('TMF620-ProductCatalog-v4.0.0.swagger.json', referenceText(TMF620_V4));
  b.specs.put('TMF620-Product_Catalog_Management-v5.0.0.oas.yaml', referenceText(TMF620_V5));
  return b;
}

t.test('TMF620 v4 and v5: one version set, two APIs, both URLs answer; the set stays with v5 and goes with it', async (t) => {
  const b = await bench(t);
  const be4 = await startBackend(t, 'v4');
  const be5 = await startBackend(t, 'v5');
  const v4 = await b.put(tmf620(b, 4, be4));
  const v5 = await b.put(tmf620(b, 5, be5));
  const [r4, r5] = await Promise.all([b.execute('apply', v4.name, v4.hash, ENV), b.execute('apply', v5.name, v5.hash, ENV)]);
  t.equal(r4.code, 0, `v4 applied ${r4.code === 0 ? '' : r4.stdout}`);
  t.equal(r5.code, 0, `v5 applied ${r5.code === 0 ? '' : r5.stdout}`);

  const setId = versionSetIdOf({ cluster: 'default', namespace: b.ns, basePath: BASE });
  const sets = () => b.emu.state().apiVersionSets;
  t.same(sets().map((s) => s.name), [setId], 'one version set, created for both versions (applied at the same time)');
  t.same(
    { ...sets()[0]!.properties, description: undefined },
    { displayName: BASE.slice(1), versioningScheme: 'Segment', description: undefined },
    'Segment (the default), named after the base path',
  );
  t.match(sets()[0]!.properties['description'], new RegExp(`^exposedapi-apim version-set cluster=default owner=[0-9a-f]{16} key=[0-9a-f]{16} ref=${b.ns}${BASE}$`), 'carries the namespace\'s mark');
  const apis = b.emu.state().apis;
  for (const [p, version] of [[v4, 'v4'], [v5, 'v5']] as const) {
    const a = apis.find((x) => x.name === b.apiId(p.name));
    t.ok(a, `${version}: its own API`);
    t.equal(a?.properties['path'], BASE.slice(1), `${version}: the shared base path`);
    t.equal(a?.properties['apiVersion'], version, `${version}: the path's version segment is its version`);
    t.equal(String(a?.properties['apiVersionSetId']).split('/').at(-1), setId, `${version}: in the set`);
  }

  const c4 = await gateway(b, `${BASE}/v4/category?limit=1`);
  t.same([c4.status, JSON.parse(c4.body)], [200, { backend: 'v4', url: '/v4/category?limit=1' }], 'the ODA URL of v4 answers from v4');
  const c5 = await gateway(b, `${BASE}/v5/productCatalog`);
  t.same([c5.status, JSON.parse(c5.body)], [200, { backend: 'v5', url: '/v5/productCatalog' }], 'the ODA URL of v5 answers from v5');
  t.match((await b.get(v5.name))?.['status'].apiStatus.url, new RegExp(`^https://[^/]+${BASE}/v5$`), 'status.apiStatus.url is the ODA path');

  b.emu.requests.reset();
  const again = await b.execute('apply', v5.name, v5.hash, ENV);
  t.equal(again.code, 0);
  t.same(armWrites(b.emu), {}, 'a second apply writes nothing, the set included');

  t.test('the configured scheme moves the set (Header) and back (Segment)', async (t) => {
    const header = await b.execute('apply', v5.name, v5.hash, { ...ENV, APIM_VERSIONING_SCHEME: 'Header', APIM_VERSION_HEADER_NAME: 'X-Api-Version' });
    t.equal(header.code, 0, header.code === 0 ? 'applied with Header' : header.stdout);
    t.same([sets()[0]!.properties['versioningScheme'], sets()[0]!.properties['versionHeaderName']], ['Header', 'X-Api-Version'], 'the set now selects by header');
    t.equal(JSON.parse((await gateway(b, `${BASE}/category`, { 'x-api-version': 'v4' })).body).backend, 'v4', 'Header: v4 by its header');
    t.equal(JSON.parse((await gateway(b, `${BASE}/productCatalog`, { 'x-api-version': 'v5' })).body).backend, 'v5', 'Header: v5 by its header');
    t.equal((await gateway(b, `${BASE}/v5/productCatalog`)).status, 404, 'Header: the ODA path no longer reaches it');
    t.match((await b.get(v5.name))?.['status'].apiStatus.url, new RegExp(`${BASE}$`), 'Header: status.apiStatus.url is the base path');
    t.match(condition(await b.get(v5.name), 'Imported')?.['message'], /version v5 in API version set '.*' \(Header, set updated: versioningScheme, versionHeaderName\)/, 'the condition says so');
    const back = await b.execute('apply', v5.name, v5.hash, ENV);
    t.equal(back.code, 0);
    t.equal(sets()[0]!.properties['versioningScheme'], 'Segment');
    t.equal((await gateway(b, `${BASE}/v4/category`)).status, 200, 'Segment again');
  });

  t.test('deleting v4 leaves v5 and the set; deleting v5 removes the set', async (t) => {
    await startDeletion(b, v4.name);
    const d4 = await b.execute('delete', v4.name, v4.hash, ENV);
    t.equal(d4.code, 0, d4.code === 0 ? 'v4 deleted' : d4.stdout);
    t.notOk(b.emu.state().apis.some((a) => a.name === b.apiId(v4.name)), 'v4 is gone');
    t.ok(b.emu.state().apis.some((a) => a.name === b.apiId(v5.name)), 'v5 stays');
    t.same(sets().map((s) => s.name), [setId], 'the set stays: v5 is in it');
    t.ok(d4.logs.some((l) => l['msg'] === `APIM API version set '${setId}' stays: API(s) ${b.apiId(v5.name)} still use it`), 'the log says why');
    t.equal((await gateway(b, `${BASE}/v4/category`)).status, 404, 'v4 no longer answers');
    t.equal((await gateway(b, `${BASE}/v5/productCatalog`)).status, 200, 'v5 still does');

    await startDeletion(b, v5.name);
    const d5 = await b.execute('delete', v5.name, v5.hash, ENV);
    t.equal(d5.code, 0, d5.code === 0 ? 'v5 deleted' : d5.stdout);
    t.same(sets(), [], 'the last version went: so did the set (deleted by the executor; this emulator keeps empty sets)');
    t.ok(Object.keys(armWrites(b.emu)).some((k) => k.startsWith('DELETE ') && k.endsWith(`/apiVersionSets/${setId}`)), 'one DELETE of the set');
  });
});

t.test('an API created before version sets joins its set on its next apply; a set we did not create is left alone', async (t) => {
  const b = await bench(t);
  const be = await startBackend(t, 'v4');
  const v4 = await b.put(tmf620(b, 4, be));
  t.equal((await b.execute('apply', v4.name, v4.hash, ENV)).code, 0);
  const apiId = b.apiId(v4.name);
  const setId = versionSetIdOf({ cluster: 'default', namespace: b.ns, basePath: BASE });
  // What an older operator left: the ODA path as the API's path, no set (and then no set at all).
  await b.client().api.update(b.emu.resourceGroup, b.emu.serviceName, apiId, '*', { path: `${BASE.slice(1)}/v4`, apiVersion: '', apiVersionSetId: null as unknown as string });
  await b.client().apiVersionSet.delete(b.emu.resourceGroup, b.emu.serviceName, setId, '*');
  t.equal((await gateway(b, `${BASE}/v4/category`)).status, 200, 'the old layout answers on the same URL');

  const r = await b.execute('apply', v4.name, v4.hash, ENV);
  t.equal(r.code, 0, r.code === 0 ? 'applied again' : r.stdout);
  const api = b.emu.state().apis.find((a) => a.name === apiId)!;
  t.same([api.properties['path'], api.properties['apiVersion'], String(api.properties['apiVersionSetId']).split('/').at(-1)], [BASE.slice(1), 'v4', setId], 'moved into its set by an update, not re-created');
  t.notOk(Object.keys(armWrites(b.emu)).some((k) => k.startsWith('DELETE ') && k.includes(`/apis/${apiId}`)), 'the API was never deleted');
  t.equal((await gateway(b, `${BASE}/v4/category`)).status, 200, 'and the URL still answers');

  // A set under the id a second base path derives, made by hand: the apply stops and the set is unchanged.
  const other = tmf620(b, 5, be);
  other['metadata'].name = 'other-v5';
  other['spec'].path = '/other/v5';
  const foreignId = versionSetIdOf({ cluster: 'default', namespace: b.ns, basePath: '/other' });
  await b.client().apiVersionSet.createOrUpdate(b.emu.resourceGroup, b.emu.serviceName, foreignId, { displayName: 'made by hand', versioningScheme: 'Query', versionQueryName: 'v' });
  const o = await b.put(other);
  const refused = await b.execute('apply', o.name, o.hash, ENV);
  t.equal(refused.code, EXIT_PERMANENT, 'a permanent failure');
  const imported = condition(await b.get(o.name), 'Imported');
  t.equal(imported?.['reason'], 'VersionSetNotOwned');
  t.match(imported?.['message'], /was not created by exposedapi-apim/);
  const foreign = b.emu.state().apiVersionSets.find((s) => s.name === foreignId)!;
  t.same(foreign.properties, { displayName: 'made by hand', versioningScheme: 'Query', versionQueryName: 'v' }, 'the foreign set is unchanged');
  t.notOk(b.emu.state().apis.some((a) => a.name === b.apiId(o.name)), 'no API was created');
});

/** GETs of the service's API list (any $filter): the guard's read, and the delete's. */
function listReads(b: ExecutorBench): number {
  return Object.entries(b.emu.state().requests.byPath).filter(([k]) => k.startsWith('GET /subscriptions/') && k.endsWith('/apis')).reduce((n, [, c]) => n + c, 0);
}

/** An API made by hand (portal, Bicep, another cluster): no mark. */
async function handMade(b: ExecutorBench, id: string, props: Record<string, unknown>): Promise<Record<string, unknown>> {
  await b.client().api.beginCreateOrUpdateAndWait(b.emu.resourceGroup, b.emu.serviceName, id, { displayName: id, protocols: ['https'], serviceUrl: 'http://hand.example/', ...props }, { updateIntervalInMs: 20 });
  return structuredClone(b.emu.state().apis.find((a) => a.name === id)!.properties);
}

t.test('a public URL another API already serves is refused before anything is written (PathTaken), both ways', async (t) => {
  const b = await bench(t);
  const be = await startBackend(t, 'v4');
  const named = (name: string, path: string): Record<string, any> => {
    const o = tmf620(b, 4, be);
    o['metadata'].name = name;
    o['spec'].path = path;
    return o;
  };
  const refusedRun = async (t: Test, name: string, path: string, holder: string, url: string): Promise<void> => {
    const p = await b.put(named(name, path));
    b.emu.requests.reset();
    const r = await b.execute('apply', p.name, p.hash, ENV);
    t.equal(r.code, EXIT_PERMANENT, 'a permanent failure');
    t.same(armWrites(b.emu), {}, 'nothing was written to APIM: no API, no version set');
    t.equal(listReads(b), 1, 'one list read found it');
    const obj = await b.get(p.name);
    const imported = condition(obj, 'Imported');
    // Ready is the dispatcher's summary of this permanent failure (False, docs/status.md), not written by the Job.
    t.same([imported?.['status'], imported?.['reason']], ['False', 'PathTaken'], 'Imported False PathTaken');
    const message = String(imported?.['message']);
    t.match(message, `APIM API '${holder}'`, 'names the other API');
    t.match(message, new RegExp(`^spec\\.path '${path}': https://[a-z0-9.-]+\\.azure-api\\.net/${url} is already served`), 'names the field and the URL both would serve (the service\'s gateway)');
    t.match(message, 'is managed by nobody (it was not created by exposedapi-apim) and is left unchanged: choose another spec.path', 'who manages it, and the fix');
    t.notOk(b.emu.state().apis.some((a) => a.name === b.apiId(p.name)), 'no API of ours');
  };

  t.test('our Segment version at taken/v4 beside a plain API at taken/v4', async (t) => {
    const before = await handMade(b, 'made-by-hand', { path: 'taken/v4' });
    await refusedRun(t, 'taken-v4', '/taken/v4', 'made-by-hand', 'taken/v4');
    t.same(b.emu.state().apis.find((a) => a.name === 'made-by-hand')?.properties, before, 'the hand-made API is untouched');
    t.notOk(b.emu.state().apiVersionSets.some((s) => s.name === versionSetIdOf({ cluster: 'default', namespace: b.ns, basePath: '/taken' })), 'no set of ours');
  });

  t.test('our plain API at handset/beta beside version beta of a Segment set at handset', async (t) => {
    await b.client().apiVersionSet.createOrUpdate(b.emu.resourceGroup, b.emu.serviceName, 'hand-set', { displayName: 'hand set', versioningScheme: 'Segment' });
    const setId = `/subscriptions/${b.emu.subscriptionId}/resourceGroups/${b.emu.resourceGroup}/providers/Microsoft.ApiManagement/service/${b.emu.serviceName}/apiVersionSets/hand-set`;
    const before = await handMade(b, 'hand-beta', { path: 'handset', apiVersion: 'beta', apiVersionSetId: setId });
    await refusedRun(t, 'handset-beta', '/handset/beta', 'hand-beta', 'handset/beta');
    t.same(b.emu.state().apis.find((a) => a.name === 'hand-beta')?.properties, before, 'the hand-made version is untouched');
  });

  t.test('a move onto a taken URL is refused; the API keeps serving where it is; an unchanged re-apply reads no list', async (t) => {
    const p = await b.put(named('free', '/free/v4'));
    t.equal((await b.execute('apply', p.name, p.hash, ENV)).code, 0, 'applied at /free/v4');
    b.emu.requests.reset();
    const again = await b.execute('apply', p.name, p.hash, ENV);
    t.equal(again.code, 0);
    t.equal(listReads(b), 0, 'an unchanged apply makes no list read');
    t.same(armWrites(b.emu), {}, 'and no write');

    await handMade(b, 'squatter', { path: 'free/v5' });
    const moved = await b.put(named('free', '/free/v5'));
    b.emu.requests.reset();
    const r = await b.execute('apply', moved.name, moved.hash, ENV);
    t.equal(r.code, EXIT_PERMANENT, 'refused');
    t.equal(condition(await b.get(moved.name), 'Imported')?.['reason'], 'PathTaken');
    t.same(armWrites(b.emu), {}, 'nothing written');
    const api = b.emu.state().apis.find((a) => a.name === b.apiId(p.name))!;
    t.same([api.properties['path'], api.properties['apiVersion']], ['free', 'v4'], 'our API stays where it was');
    t.equal(JSON.parse((await gateway(b, '/free/v4/category')).body).backend, 'v4', 'and keeps serving /free/v4');
  });
});
