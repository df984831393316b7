// The executor against the emulator in the modes that reproduce what real APIM does around imports (issue 11):
// policy GETs answering bare XML, "Api not found." for a while after an import, imports that drop the other
// properties of their PUT, and an import that outlasts a Job's retry budget and is found again by the next attempt.
import t from 'tap';
import { armWrites, condition, executorBench } from './harness.ts';

type Obj = Record<string, any>;

function metrics(name: string, spec: Obj = {}): Obj {
  return { apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI', metadata: { name }, spec: { name, apiType: 'prometheus', implementation: `${name}-sm`, path: `/${name}/metrics`, port: 4000, rateLimit: { enabled: true, identifier: 'IP', limit: '5', interval: 'pm' }, apim: { backend: { url: 'https://backend.example.com/metrics' } }, ...spec } };
}

const importPuts = (writes: Record<string, number>, apiId: string): number =>
  Object.entries(writes).filter(([k]) => new RegExp(`^PUT /subscriptions/.*/apis/${apiId}$`, 'i').test(k.split('?')[0]!)).reduce((n, [, c]) => n + c, 0);

t.test('policy GETs answering bare XML are read: a second run writes nothing', async (t) => {
  const b = await executorBench(t);
  b.emu.settings.policyBodyFormat = 'xml';
  const p = await b.put(metrics('xmlpolicy'));
  const r = await b.execute('apply', p.name, p.hash);
  t.equal(r.code, 0, r.stdout);
  b.emu.requests.reset();
  const again = await b.execute('apply', p.name, p.hash);
  t.equal(again.code, 0, again.stdout);
  t.same(armWrites(b.emu), {}, 'the stored policy, read from bare XML, equals the desired one');
  t.equal(condition(await b.get(p.name), 'PoliciesApplied')?.['reason'], 'UpToDate');
});

t.test('an import that drops its properties, then 404s for a while: patched with the mark, and converged', async (t) => {
  const b = await executorBench(t);
  b.emu.settings.importAppliesProperties = false;
  b.emu.settings.notFoundAfterImportMs = 1500;
  const p = await b.put(metrics('dropped', { apim: { displayName: 'Dropped metrics', backend: { url: 'https://backend.example.com/metrics' } } }));
  const r = await b.execute('apply', p.name, p.hash);
  t.equal(r.code, 0, r.stdout);
  t.ok(r.logs.some((l) => l['msg'] === 'the import answers 404; APIM may still be settling' || l['reason'] === 'ApiNotFoundAfterImport'), 'the 404 after the import was met and waited out');
  const api = b.emu.state().apis.find((a) => a.name === b.apiId(p.name))!;
  t.match(api.properties['apiRevisionDescription'], /^exposedapi-apim cluster=default owner=[0-9a-f]{16} /, 'the ownership mark, patched after the import');
  t.equal(api.properties['displayName'], 'Dropped metrics');
  t.equal(api.properties['serviceUrl'], 'https://backend.example.com/metrics');
  t.equal(api.properties['subscriptionRequired'], false);
  t.same(api.properties['protocols'], ['https']);
  t.equal(condition(await b.get(p.name), 'Published')?.['status'], 'True');
  b.emu.requests.reset();
  const again = await b.execute('apply', p.name, p.hash);
  t.equal(again.code, 0, again.stdout);
  t.same(armWrites(b.emu), {}, 'a second run finds everything in place');
});

t.test('without the 404 window, the same 404 fails the run', async (t) => {
  const b = await executorBench(t);
  b.emu.settings.notFoundAfterImportMs = 60_000;
  const p = await b.put(metrics('nowindow'));
  const r = await b.execute('apply', p.name, p.hash, { IMPORT_NOT_FOUND_WINDOW_SECONDS: '0' });
  t.equal(r.code, 42, r.stdout);
  t.match(condition(await b.get(p.name), 'Imported')?.['message'], /404/);
});

t.test('an import longer than the retry budget survives Job retries: polled again, never restarted', async (t) => {
  const b = await executorBench(t);
  // A 5-minute-class import against a 300 s budget, scaled: 20 s against 5 s.
  b.emu.settings.importDelayMs = 20_000;
  b.emu.settings.importAppliesProperties = false;
  const p = await b.put(metrics('longimport'));
  const id = b.apiId(p.name);
  const env = { RETRY_BUDGET_SECONDS: '5' };
  const runs: { code: number | null; puts: number }[] = [];
  let sawInProgress = false;
  // Each run is one attempt of the Job's pod; a bounded number of them, each bounded by its budget.
  for (let attempt = 0; attempt < 30; attempt++) {
    const r = await b.execute('apply', p.name, p.hash, env);
    runs.push({ code: r.code, puts: importPuts(armWrites(b.emu), id) });
    if (r.code === 0) break;
    t.equal(r.code, 1, `attempt ${attempt + 1} ends retriable`, r.code === 1 ? {} : { stdout: r.stdout.slice(-3000) });
    const imported = condition(await b.get(p.name), 'Imported');
    // Written when the import is accepted, and as the failure when the budget runs out while it still runs.
    if (imported?.['reason'] === 'ImportInProgress') {
      sawInProgress = true;
      t.match(imported['message'], /running for \d+/);
      t.match((await b.get(p.name))?.['status']?.['apim']?.['import']?.['operationUrl'], /asyncId=/, 'the polling URL is recorded');
    }
  }
  t.equal(runs.at(-1)?.code, 0, `converged: ${JSON.stringify(runs)}`);
  t.equal(importPuts(armWrites(b.emu), id), 1, 'one import PUT across every attempt');
  const firstPut = runs.findIndex((r) => r.puts === 1);
  t.ok(firstPut >= 0 && firstPut < runs.length - 1, `the import began in one attempt and ended in a later one: ${JSON.stringify(runs)}`);
  t.ok(sawInProgress, 'status said the import was in progress');
  const obj = await b.get(p.name);
  t.equal(condition(obj, 'Published')?.['status'], 'True');
  t.notOk(obj?.['status']?.['apim']?.['import'], 'the record is cleared once the import ended');
  const api = b.emu.state().apis.find((a) => a.name === id)!;
  t.match(api.properties['apiRevisionDescription'], /^exposedapi-apim /, 'marked, although the import dropped the mark and another attempt finished it');
});
