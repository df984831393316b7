// Outages heal themselves: the whole path — webhook, dispatcher, real Job controller, the real executor in its Jobs,
// the APIM emulator — through an APIM management-plane outage longer than a Job's whole retry chain. ExposedAPIs
// applied during it fail their first Job (every pod exit 1) and their first retry; once APIM answers again, the
// dispatcher's next retry publishes them, without anyone touching them.
//
// Budgets scaled down by configuration: each Job makes JOB_BACKOFF_LIMIT + 1 = 2 pods, each spending at most
// RETRY_BUDGET_SECONDS = 15 s; the dispatcher's retries wait 2 s doubling to 4 s (JOB_RETRY_*). The outage
// lasts until every API has seen two whole Jobs fail, whatever the machine's speed (we wait for that, never sleep).
//
// "No more APIM writes per API than without the outage": the emulator counts every request it receives, including
// those an injected fault refused. Each outage API has its own fault rules for PUT, PATCH and DELETE ahead of the
// catch-all, so the rules' hit counts are exactly the refused writes per API; the writes APIM accepted are the
// counted writes less those. They must equal the writes of an API applied while APIM was up (same spec shape): the
// refused attempts changed nothing in APIM, and the retry that succeeded did what a first Job would have done.
import t, { type Test } from 'tap';
import { CoreV1Api } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivedApiId } from '../../core/api-id.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';
import { ATTEMPT_LABEL, jobName } from '../../dispatcher/job-manifest.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { applyManifest } from '../e2e/webhook-in-cluster.ts';
import { openapi3 } from '../helpers/fixtures.ts';
import { installExecutorRbac, emulatorConnection } from '../executor/harness.ts';
import { condition, finished, setUpDispatcher, specHashOf, watchJobs } from './dispatcher-harness.ts';

type Obj = Record<string, any>;
const WRITE_METHODS = ['PUT', 'PATCH', 'DELETE'] as const;

const cp = await useControlPlane(t);
const dir = await mkdtemp(join(tmpdir(), 'exposedapi-apim-outage-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const emu = await startApimEmulator({ dir: join(dir, 'emulator'), importDelayMs: 20, importDurationMs: 20 });
t.teardown(() => emu.close());
const caFile = join(dir, 'emulator-ca.crt');
await writeFile(caFile, emu.caPem);

const setup = await setUpDispatcher(cp, t, {
  env: {
    // The real executor: the node agent runs any exposedapi-apim image as cli/main.ts with the project's Node.
    EXECUTOR_IMAGE: 'ghcr.io/exposedapi-apim/exposedapi-apim:test',
    EXECUTOR_COMMAND: '',
    JOB_BACKOFF_LIMIT: '1',
    JOB_ACTIVE_DEADLINE_SECONDS: '180',
    JOB_RETRY_BASE_SECONDS: '2',
    JOB_RETRY_MAX_SECONDS: '4',
  },
});
const [ns] = setup.namespaces as [string];
// The executor's identity with its shipped RBAC, and its configuration (the Jobs' envFrom): the emulator, small budgets.
await installExecutorRbac(cp, setup.ops);
await applyManifest(cp, [{
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exposedapi-apim-config', namespace: setup.ops },
  data: {
    ...emulatorConnection(emu, caFile),
    APIM_POLL_INTERVAL_MS: '20',
    // Counted from the executor's start, which alone took 6 s on a loaded 2-core machine.
    RETRY_BUDGET_SECONDS: '15',
    ROUTE_WAIT_SECONDS: '20',
    LOG_LEVEL: 'info',
  },
}]);
const history = await watchJobs(setup);
t.teardown(() => history.stop());
const core = cp.kubeConfig().makeApiClient(CoreV1Api);

const document = JSON.stringify(openapi3([['get', '/items', 'listItems'], ['post', '/items', 'createItem'], ['get', '/items/{id}', 'getItem']]));
const create = (name: string) => setup.create(ns, name, { spec: { developerUI: undefined, specification: document, port: 8080 } });
const apiPath = (apiId: string) => new RegExp(`/apis/${apiId}(/|$)`);
/** Write requests the emulator received for one API (its own path and what hangs under it: policy, tag and product links). */
const writesTo = (apiId: string): number => Object.entries(emu.state().requests.byPath)
  .filter(([k]) => WRITE_METHODS.some((m) => k.startsWith(`${m} /subscriptions/`)) && apiPath(apiId).test(k.slice(k.indexOf(' ') + 1)))
  .reduce((n, [, c]) => n + c, 0);
const published = (name: string, hash: string) => waitFor(`${name} Ready / Published for ${hash.slice(0, 8)}`, async () => {
  const obj = await setup.get(ns, name);
  const ready = condition(obj, 'Ready');
  const progressing = condition(obj, 'Progressing');
  // Ready True is written when the executor records the change; JobComplete once the Job controller says so too.
  return obj?.['status']?.appliedSpecHash === hash && ready?.['status'] === 'True' && ready['specHash'] === hash && progressing?.['reason'] === 'JobComplete' ? obj : undefined;
}, { timeoutMs: 180_000, intervalMs: 250 });
const jobsOf = (name: string) => history.order.filter((j) => history.latest.get(j)?.metadata?.labels?.[JOB_LABELS.name] === name);

/** The writes an API costs when APIM is up: measured once, on an API of the same shape. */
let baseline: number | undefined;
async function baselineWrites(t: Test): Promise<number> {
  if (baseline !== undefined) return baseline;
  const base = await create('steady');
  await published('steady', specHashOf(base));
  await waitFor('the steady Job seen complete', () => (jobsOf('steady').map((j) => finished(history.latest.get(j))).join() === 'Complete' ? true : undefined), { timeoutMs: 30_000 });
  baseline = writesTo(derivedApiId(ns, 'steady'));
  t.ok(baseline > 0, `an apply writes to APIM when it is up (${baseline} writes)`);
  return baseline;
}

/**
 * Every management-plane request fails with `fault` (a 503, or a dropped connection) while `names` are applied, until
 * each has had two whole Jobs fail and a further retry scheduled; then APIM recovers and each must converge.
 */
async function outage(t: Test, names: string[], fault: { status: number } | { drop: true }): Promise<void> {
  const expected = await baselineWrites(t);
  const ids = names.map((n) => derivedApiId(ns, n));
  const rules = emu.faults;
  // The writes of each API by rules of its own (their hit counts are the refused writes), then everything else.
  const perApi = new Map<string, number[]>();
  for (const id of ids) perApi.set(id, WRITE_METHODS.map((method) => rules.add({ method, pathPattern: apiPath(id).source, times: 1_000_000, ...fault }).id));
  const catchAll = rules.add({ pathPattern: '/subscriptions/', times: 1_000_000, ...fault }).id;

  const hashes = new Map<string, string>();
  for (const n of names) hashes.set(n, specHashOf(await create(n)));

  // Held until each API's first Job and first retry have failed — two whole Job retry chains — and a further retry
  // is scheduled; meanwhile status says when the next attempt is. Each API is in that state for the few seconds
  // between a failed Job and its retry: each is recorded when seen.
  const seen: Obj = {};
  const retrying = await waitFor('every API: two failed Jobs and a further retry scheduled', async () => {
    for (const n of names.filter((x) => !seen[x])) {
      const failed = jobsOf(n).filter((j) => finished(history.latest.get(j)) === 'Failed');
      const ready = condition(await setup.get(ns, n), 'Ready');
      if (failed.length >= 2 && ready?.['reason'] === 'RetryScheduled') seen[n] = { failed, ready };
    }
    return names.every((n) => seen[n]) ? seen : undefined;
  }, { timeoutMs: 300_000, intervalMs: 200 });
  for (const n of names) {
    const { failed, ready } = retrying[n];
    const first = jobName({ namespace: ns, name: n, specHash: hashes.get(n)!, action: 'apply' });
    t.same(failed.slice(0, 2), [first, `${first}-r1`], `${n}: each attempt is a Job of its own, named for it`);
    t.equal(history.latest.get(`${first}-r1`)?.metadata?.labels?.[ATTEMPT_LABEL], '1', `${n}: its attempt is on the Job`);
    t.equal(history.latest.get(first)?.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'BackoffLimitExceeded', `${n}: every pod of the first Job failed (exit 1)`);
    t.match(ready['message'], /^retry \d+ of 100 \(Job .+-r\d+\) at \d{4}-\d\d-\d\dT[\d:.]+Z, \ds after the failed Job ended, because every retry of the Job failed/, `${n}: Ready says when and why`);
    t.match(ready['message'], /the executor reported \w+: ./, `${n}: and what the executor saw`);
    const events = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${n}` })).items.filter((e) => e.reason === 'RetryScheduled');
    t.ok(events.length >= 2, `${n}: an Event per scheduled retry (${events.length})`);
  }

  // APIM answers again (the rules' counts read in the same tick, so no refusal falls between). Nobody touches the
  // ExposedAPIs.
  const hits = new Map(rules.list().map((r) => [r.id, r.hits]));
  rules.clear();
  for (const n of names) {
    const obj = await published(n, hashes.get(n)!);
    t.equal(specHashOf(obj), hashes.get(n), `${n}: the same change, no reconcile-at`);
    const jobs = await waitFor(`${n}: its last Job seen complete`, () => {
      const all = jobsOf(n);
      return finished(history.latest.get(all.at(-1)!)) === 'Complete' ? all : undefined;
    }, { timeoutMs: 30_000 });
    t.ok(jobs.slice(0, -1).every((j) => finished(history.latest.get(j)) === 'Failed'), `${n}: every earlier attempt failed, the last completed (${jobs.length} Jobs)`);
  }

  // Writes: what APIM accepted per API equals an API applied without an outage.
  t.ok((hits.get(catchAll) ?? 0) >= names.length * 4, `the executor's requests failed throughout (${hits.get(catchAll)} reads and others)`);
  for (const [i, id] of ids.entries()) {
    const refused = perApi.get(id)!.reduce((n, ruleId) => n + (hits.get(ruleId) ?? 0), 0);
    const total = writesTo(id);
    t.equal(total - refused, expected, `${names[i]}: ${total - refused} writes accepted, as many as without the outage (${expected}); ${refused} refused during it`);
  }
}

t.test('APIM answers 503 to everything for longer than a Job\'s retry chain: every API applied meanwhile converges, with no extra writes', (t) =>
  outage(t, ['down-a', 'down-b', 'down-c'], { status: 503 }));

t.test('APIM drops every connection (unreachable) for as long: the same', (t) =>
  outage(t, ['cut-a', 'cut-b'], { drop: true }));
