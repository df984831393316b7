// The fault matrix: APIM failing in each way it does (429 with Retry-After, 500, 409 in progress, slow answers,
// dropped connections, failed asynchronous imports in both polling modes, a synchronous rejection with a target), and
// a run killed half-way. Each ends in the right exit code and status, with APIM's code, target and message kept.
import t from 'tap';
import { armWrites, condition, executorBench, type ExecutorBench } from './harness.ts';
import { waitFor } from '../control-plane/wait-for.ts';

type Obj = Record<string, any>;

/**
 * RETRY_BUDGET_SECONDS for runs that must spend it on the faulted call: the budget counts from the executor's start,
 * and on a loaded machine start-up and the steps before the fault (module loading, the token, validation, the route)
 * took more than 6 s, so the budget ran out before the faulted step and its condition was never written.
 */
const BUDGET_PAST_STARTUP = 15;
/** The conditions, for a failure message that shows where a run did end. */
const conditionsOf = (obj: Obj | undefined) => JSON.stringify((obj?.['status']?.['conditions'] ?? []).map((c: Obj) => `${c['type']}=${c['status']} ${c['reason']}`));

function inlineApi(name: string, doc?: Obj): Obj {
  const document = doc ?? {
    openapi: '3.0.3',
    info: { title: name, version: '1' },
    paths: { '/items': { get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } } } },
  };
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name },
    spec: { name, apiType: 'openapi', implementation: `${name}-svc`, path: `/faults/${name}`, port: 8080, specification: JSON.stringify(document), rateLimit: { enabled: true, identifier: 'IP', limit: '10', interval: 'ps' } },
  };
}

/** The same operation (GET /items) under a new operationId: APIM's re-import refuses it, on the poll. */
const renamed: Obj = {
  openapi: '3.0.3',
  info: { title: 'renamed', version: '1' },
  paths: { '/items': { get: { operationId: 'getItems', responses: { '200': { description: 'ok' } } } } },
};

function count(b: ExecutorBench, method: string, suffix: string): number {
  return Object.entries(b.emu.state().requests.byPath)
    .filter(([k]) => k.startsWith(`${method} `) && k.endsWith(suffix))
    .reduce((n, [, v]) => n + v, 0);
}

t.test('fault matrix', async (t) => {
  const b = await executorBench(t);
  const apply = async (name: string, env: Record<string, string> = {}, doc?: Obj) => {
    const p = await b.put(inlineApi(name, doc));
    const r = await b.execute('apply', p.name, p.hash, env);
    return { ...r, p, obj: await b.get(p.name), apiId: b.apiId(p.name) };
  };
  const importPath = (name: string) => `/apis/${b.apiId(name)}?api-version`;

  t.test('429 with Retry-After, once: honoured, then applied', async (t) => {
    b.emu.faults.add({ method: 'PUT', pathPattern: importPath('throttled-once'), status: 429, retryAfter: 2, times: 1 });
    const r = await apply('throttled-once');
    t.equal(r.code, 0, r.stdout);
    t.equal(count(b, 'PUT', `/apis/${r.apiId}`), 2, 'the import PUT was sent twice');
    t.ok(r.ms >= 2000, `waited for Retry-After (${r.ms} ms)`);
    t.equal(condition(r.obj, 'Published')?.['status'], 'True');
  });

  t.test('429 that does not stop: EXIT_RETRIABLE within the budget, APIM\'s words in status', async (t) => {
    b.emu.faults.add({ method: 'PUT', pathPattern: importPath('throttled'), status: 429, retryAfter: 1, times: 1000 });
    const r = await apply('throttled', { RETRY_BUDGET_SECONDS: String(BUDGET_PAST_STARTUP) });
    t.equal(r.code, 1);
    t.ok(r.ms < (BUDGET_PAST_STARTUP + 15) * 1000, `gave up in time (${r.ms} ms)`);
    const c = condition(r.obj, 'Imported');
    t.same([c?.['status'], c?.['reason']], ['False', 'Throttled'], `the import is where the budget ran out: ${conditionsOf(r.obj)}`);
    t.match(c?.['message'], new RegExp(`did not succeed within the retry budget of ${BUDGET_PAST_STARTUP} s \\(RETRY_BUDGET_SECONDS\\); last error: 429 SubscriptionRequestsThrottled: Number of requests exceeded the limit`));
    t.notOk(condition(r.obj, 'Ready'), 'Ready is the dispatcher\'s summary of this (docs/status.md)');
    t.notOk(r.obj?.['status']['appliedSpecHash'], 'not applied');
    b.emu.faults.clear();
  });

  t.test('a budget spent before the faulted step still leaves the reason in status', async (t) => {
    // What a loaded machine did to the 429 test above with a 6 s budget: the run ends in an earlier step. Whatever the
    // step, the Job must say why in status (docs/status.md), not only in its log.
    b.emu.faults.add({ method: 'GET', pathPattern: importPath('starved'), delayMs: 8000, times: 5 });
    const r = await apply('starved', { RETRY_BUDGET_SECONDS: '3' });
    t.equal(r.code, 1, 'retriable');
    const failed = (r.obj?.['status']?.['conditions'] ?? []).filter((c: Obj) => c['status'] === 'False' && c['specHash'] === r.p.hash);
    t.ok(failed.length > 0, `a failure condition for this change: ${conditionsOf(r.obj)}`);
    t.match(failed.map((c: Obj) => c['message']).join(' | '), /did not succeed within the retry budget of 3 s \(RETRY_BUDGET_SECONDS\)/);
    t.notOk(r.obj?.['status']?.['appliedSpecHash'], 'not applied');
    b.emu.faults.clear();
  });

  t.test('500 once: retried; 500 that persists: retriable failure naming the step', async (t) => {
    b.emu.faults.add({ method: 'PUT', pathPattern: `/apis/${b.apiId('error-once')}/policies/policy`, status: 500, times: 1 });
    const once = await apply('error-once');
    t.equal(once.code, 0);
    t.equal(count(b, 'PUT', `/apis/${once.apiId}/policies/policy`), 2);
    b.emu.faults.add({ method: 'PUT', pathPattern: `/apis/${b.apiId('error-always')}/policies/policy`, status: 500, times: 1000 });
    const always = await apply('error-always', { RETRY_BUDGET_SECONDS: String(BUDGET_PAST_STARTUP) });
    t.equal(always.code, 1);
    t.equal(condition(always.obj, 'Imported')?.['status'], 'True', `the steps before it are done: ${conditionsOf(always.obj)}`);
    const c = condition(always.obj, 'PoliciesApplied');
    t.same([c?.['status'], c?.['reason']], ['False', 'ApimUnavailable']);
    t.match(c?.['message'], /^writing the policy of API '.*' did not succeed within the retry budget of 15 s .*500 InternalServerError: An unexpected error occurred while processing the request \(injected fault/);
    b.emu.faults.clear();
  });

  t.test('409 in progress (never retried by the SDK): retried by the executor', async (t) => {
    b.emu.faults.add({ method: 'PUT', pathPattern: importPath('busy'), status: 409, times: 2 });
    const r = await apply('busy');
    t.equal(r.code, 0);
    t.equal(count(b, 'PUT', `/apis/${r.apiId}`), 3);
    t.equal(r.logs.filter((l) => l['msg'] === 'retrying' && l['reason'] === 'ApimBusy').length, 2, 'each retry logged with its reason');
    t.match(r.logs.find((l) => l['msg'] === 'retrying')?.['error'], '409 PessimisticConcurrencyConflict: Operation on the API is in progress');
  });

  t.test('slow answers and a slow import: polled until done', async (t) => {
    b.emu.settings.importDelayMs = 1200;
    b.emu.faults.add({ method: 'GET', pathPattern: importPath('slow'), delayMs: 1500, times: 1 });
    const r = await apply('slow');
    b.emu.settings.importDelayMs = 20;
    t.equal(r.code, 0);
    t.ok(count(b, 'GET', `/apis/${r.apiId}`) >= 4, 'a read, several polls, a read after the import');
    t.equal(b.emu.state().apis.find((a) => a.name === r.apiId)?.operations.length, 1);
  });

  t.test('a dropped connection: retried', async (t) => {
    b.emu.faults.add({ method: 'PUT', pathPattern: importPath('dropped'), drop: true, times: 1 });
    const r = await apply('dropped');
    t.equal(r.code, 0, r.stdout);
    t.equal(count(b, 'PUT', `/apis/${r.apiId}`), 2);
  });

  // The document passes every admission rule; only APIM, holding the previous operations, can refuse it.
  const failedImport = async (name: string) => {
    const first = await apply(name);
    t.equal(first.code, 0, 'the first version imports');
    return apply(name, {}, renamed);
  };

  t.test('a failed asynchronous import (Location polling: a RestError): permanent, APIM\'s code and message', async (t) => {
    const r = await failedImport('renamed-location');
    t.equal(r.code, 42);
    const c = condition(r.obj, 'Imported');
    t.same([c?.['status'], c?.['reason']], ['False', 'ApimRejected']);
    // APIM puts the duplicate's text in details[] with target urlTemplate (apim-contract.md); both are kept.
    t.match(c?.['message'], /^import of API '.*' into APIM \(openapi\+json, \d+ bytes\): 400 ValidationError(?: \(target urlTemplate\))?: (?:.*: )?Operation with the same method and URL template already exists: GET, \/items/);
    t.match(c?.['message'], 'an operationId changed', 'with the fix');
    t.ok(r.logs.some((l) => l['level'] === 'error' && l['apim']?.code === 'ValidationError'), 'the Job log carries APIM\'s code');
    t.equal(b.emu.state().apis.find((a) => a.name === r.apiId)?.operations[0]?.name, 'listitems', 'the API keeps serving the previous document');
  });

  t.test('a failed asynchronous import (Azure-AsyncOperation polling: a plain Error): the same outcome', async (t) => {
    b.emu.settings.asyncMode = 'azure-async-operation';
    const r = await failedImport('renamed-async');
    b.emu.settings.asyncMode = 'location';
    t.equal(r.code, 42);
    const c = condition(r.obj, 'Imported');
    t.same([c?.['status'], c?.['reason']], ['False', 'ApimRejected']);
    // The executor polls the Location APIM also sends in this mode (import-operation.ts), so the answer is the same.
    t.match(c?.['message'], /ValidationError(?: \(target urlTemplate\))?: (?:.*: )?Operation with the same method and URL template already exists/);
  });

  t.test('a synchronous rejection keeps the target: the path belongs to another API', async (t) => {
    await b.client().api.beginCreateOrUpdateAndWait(b.emu.resourceGroup, b.emu.serviceName, 'squatter', { path: 'faults/taken', displayName: 'Squatter', protocols: ['https'], serviceUrl: 'http://x/' }, { updateIntervalInMs: 10 });
    const p = await b.put({ ...inlineApi('taken'), spec: { ...inlineApi('taken')['spec'], path: '/faults/taken' } });
    const r = await b.execute('apply', p.name, p.hash);
    t.equal(r.code, 42);
    const c = condition(await b.get(p.name), 'Imported');
    t.match(c?.['message'], /400 ValidationError \(target path\): One or more fields contain incorrect values: Cannot create API '.*' with the same Path 'faults\/taken' as API 'squatter'/);
  });

  t.test('a run killed during its import is completed by the next run', async (t) => {
    b.emu.settings.importDelayMs = 1500;
    const p = await b.put(inlineApi('killed'));
    const apiId = b.apiId(p.name);
    const { child, done } = b.start('apply', p.name, p.hash);
    await waitFor('the import to start', () => (b.emu.state().importsInProgress.includes(apiId) ? true : undefined), { intervalMs: 20 });
    child.kill('SIGKILL');
    t.equal((await done).code, null, 'killed');
    t.notOk(condition(await b.get(p.name), 'Ready'), 'no status yet');
    const r = await b.execute('apply', p.name, p.hash);
    b.emu.settings.importDelayMs = 20;
    t.equal(r.code, 0, 'the next Job finishes the change (waiting out the import in progress)');
    const obj = await b.get(p.name);
    t.equal(obj?.['status']['appliedSpecHash'], p.hash);
    t.ok(b.emu.state().apis.find((a) => a.name === apiId)?.policy, 'policy written');
    b.emu.requests.reset();
    t.equal((await b.execute('apply', p.name, p.hash)).code, 0);
    t.same(armWrites(b.emu), {}, 'and then nothing is left to do');
  });
});
