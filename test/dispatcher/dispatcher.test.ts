// The dispatcher against the real control plane (Job controller included), running in the webhook process as the
// webhook's ServiceAccount, with the stand-in executor in its Jobs: one Job per change, its name and labels, status
// while it runs and after, ordering of changes, reconcile-at, failed Jobs, and adopting a Job that already exists.
import t from 'tap';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { RECONCILE_AT_ANNOTATION } from '../../core/exposedapi-model.ts';
import { buildJob, jobName } from '../../dispatcher/job-manifest.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, finished, setUpDispatcher, specHashOf, STAND_IN_SCRIPT, watchJobs } from './dispatcher-harness.ts';
import { STAND_IN } from './stand-in-executor.ts';
import { readDispatcherConfig } from '../../core/dispatcher-config.ts';

const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t);
const [ns] = setup.namespaces as [string];
const history = await watchJobs(setup);
t.teardown(() => history.stop());

const metric = async (name: string, labels = ''): Promise<number> => {
  const text = await setup.webhook.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
};
/** Applied by the executor, and the dispatcher has seen its Job end (Progressing False / JobComplete for the hash). */
const applied = (name: string, hash: string) => waitFor(`${name} applied (${hash.slice(0, 8)})`, async () => {
  const obj = await setup.get(ns, name);
  const progressing = condition(obj, 'Progressing');
  return obj?.['status']?.appliedSpecHash === hash && progressing?.['reason'] === 'JobComplete' && progressing['specHash'] === hash ? obj : undefined;
}, { timeoutMs: 30_000 });
const jobsOf = (name: string) => history.order.filter((j) => history.latest.get(j)?.metadata?.labels?.[JOB_LABELS.name] === name);

t.test('one Job per change: named and labelled for the change, run as the executor, result in status', async (t) => {
  const created = await setup.create(ns, 'catalog');
  const h1 = specHashOf(created);
  t.match(h1, /^[0-9a-f]{64}$/, 'stamped by the webhook');
  const obj = await applied('catalog', h1);
  const name = jobName({ namespace: ns, name: 'catalog', specHash: h1, action: 'apply' });
  t.same(jobsOf('catalog'), [name], 'exactly one Job, with the deterministic name');
  const job = history.latest.get(name)!;
  t.same(job.metadata?.labels, {
    'app.kubernetes.io/name': 'exposedapi-apim-executor',
    'app.kubernetes.io/managed-by': 'exposedapi-apim-dispatcher',
    [JOB_LABELS.namespace]: ns, [JOB_LABELS.name]: 'catalog', [JOB_LABELS.specHash]: h1.slice(0, 63), [JOB_LABELS.action]: 'apply',
  });
  const listed = await cp.kubectl(['get', 'jobs', '-n', setup.ops, '-l', `${JOB_LABELS.name}=catalog`, '-o', 'name']);
  t.equal(listed.stdout.trim(), `job.batch/${name}`, 'kubectl get jobs -l exposedapi-apim.io/name=catalog lists the history');
  t.same(job.spec?.template.spec?.containers[0]?.args, ['execute', 'apply', '--namespace', ns, '--name', 'catalog', '--spec-hash', h1]);
  t.equal(job.spec?.template.spec?.serviceAccountName, 'exposedapi-apim-executor');
  t.equal(obj['status'].lastJob, name);
  t.equal(condition(obj, 'Progressing')?.['message'], name, 'Progressing names the Job that ran');
  t.equal(condition(obj, 'Published')?.['status'], 'True', 'the executor\'s own condition is kept');
  t.same([condition(obj, 'Ready')?.['status'], condition(obj, 'Ready')?.['reason'], condition(obj, 'Ready')?.['message']], ['True', 'Published', `applied by ${name}`], 'Ready is the dispatcher\'s summary, in the executor\'s words');

  // Writes that change nothing to apply (status, labels, other annotations) do not make Jobs.
  await setup.patch(ns, 'catalog', { metadata: { labels: { team: 'a' }, annotations: { note: 'x' } } });
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(jobsOf('catalog').length, 1, 'no Job for a label or annotation edit');

  const changed = await setup.patch(ns, 'catalog', { spec: { port: 9090 } });
  const h2 = specHashOf(changed);
  t.not(h2, h1);
  await applied('catalog', h2);
  t.same(jobsOf('catalog'), [name, jobName({ namespace: ns, name: 'catalog', specHash: h2, action: 'apply' })], 'one more Job for the change');
  t.ok([...history.added.values()].every((n) => n === 1), 'no Job was created twice');
  t.ok(await metric('exposedapi_apim_dispatcher_jobs_created_total', 'action="apply"') >= 2);
  t.ok(await metric('exposedapi_apim_dispatcher_jobs_succeeded_total', 'action="apply"') >= 2);
  t.ok(await metric('exposedapi_apim_dispatch_latency_seconds_count', 'action="apply"') >= 2, 'dispatch latency observed');
});

t.test('while a Job runs: Progressing True naming it; changes wait, and only the newest runs after', async (t) => {
  const created = await setup.create(ns, 'orders', { metadata: { annotations: { [STAND_IN.hold]: 'true' } } });
  const h1 = specHashOf(created);
  const first = jobName({ namespace: ns, name: 'orders', specHash: h1, action: 'apply' });
  const progressing = await waitFor('Progressing True', async () => {
    const c = condition(await setup.get(ns, 'orders'), 'Progressing');
    return c?.['status'] === 'True' ? c : undefined;
  });
  t.same({ reason: progressing['reason'], message: progressing['message'], specHash: progressing['specHash'] }, { reason: 'Applying', message: first, specHash: h1 });
  t.equal(await metric('exposedapi_apim_dispatcher_active_jobs'), 1, 'the active-Jobs gauge counts it');

  const h2 = specHashOf(await setup.patch(ns, 'orders', { spec: { port: 8081 } }));
  const h3 = specHashOf(await setup.patch(ns, 'orders', { spec: { port: 8082 } }));
  await waitFor('the queue to hold the change', async () => ((await metric('exposedapi_apim_dispatcher_queue_depth')) === 1 ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000));
  t.same(jobsOf('orders'), [first], 'no second Job while the first runs');

  await setup.patch(ns, 'orders', { metadata: { annotations: { [STAND_IN.hold]: 'false' } } });
  await applied('orders', h3);
  const third = jobName({ namespace: ns, name: 'orders', specHash: h3, action: 'apply' });
  t.same(jobsOf('orders'), [first, third], 'after it, exactly one Job: for the newest change');
  t.notOk(history.latest.has(jobName({ namespace: ns, name: 'orders', specHash: h2, action: 'apply' })), 'the intermediate change never ran');
  t.equal(finished(history.latest.get(first)), 'Complete', 'the first Job ended (superseded: the stand-in applies only its own hash)');
});

t.test('reconcile-at forces a new Job for an unchanged spec', async (t) => {
  const h1 = specHashOf(await setup.create(ns, 'promo'));
  await applied('promo', h1);
  const h2 = specHashOf(await setup.patch(ns, 'promo', { metadata: { annotations: { [RECONCILE_AT_ANNOTATION]: '2026-11-21T10:00:00Z' } } }));
  t.not(h2, h1, 'the webhook gave it a new hash');
  await applied('promo', h2);
  t.equal(jobsOf('promo').length, 2, 'a second Job ran');
});

t.test('a failed Job: exit 42 fails it at once (no retry), and the ExposedAPI says why; no automatic retry', async (t) => {
  const created = await setup.create(ns, 'broken', { metadata: { annotations: { [STAND_IN.exitCode]: '42' } } });
  const h1 = specHashOf(created);
  const name = jobName({ namespace: ns, name: 'broken', specHash: h1, action: 'apply' });
  const ready = await waitFor('Ready False / JobFailed', async () => {
    const c = condition(await setup.get(ns, 'broken'), 'Ready');
    return c?.['reason'] === 'JobFailed' ? c : undefined;
  });
  t.equal(ready['status'], 'False');
  t.equal(ready['specHash'], h1);
  t.match(ready['message'], `Job ${setup.ops}/${name} failed: PodFailurePolicy`);
  t.match(ready['message'], 'exit code 42');
  t.match(ready['message'], 'the executor reported StandInFailure: told to exit 42');
  const job = history.latest.get(name)!;
  t.equal(finished(job), 'Failed');
  t.equal(job.status?.failed, 1, 'one pod: FailJob, no retries (JOB_BACKOFF_LIMIT is 1 here)');
  t.equal(condition(await setup.get(ns, 'broken'), 'Progressing')?.['reason'], 'JobFailed');
  const events = await setup.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=broken' });
  const warnings = events.items.filter((e) => e.reason === 'JobFailed');
  t.equal(warnings.length, 1, 'one Warning Event');
  t.equal(warnings[0]?.type, 'Warning');
  await new Promise((r) => setTimeout(r, 2000));
  t.same(jobsOf('broken'), [name], 'the failure is not retried by itself');
  t.ok(await metric('exposedapi_apim_dispatcher_jobs_failed_total', 'action="apply"') >= 1);

  // The fix, then a retry on request.
  const h2 = specHashOf(await setup.patch(ns, 'broken', { metadata: { annotations: { [STAND_IN.exitCode]: null, [RECONCILE_AT_ANNOTATION]: 'retry-1' } } }));
  const obj = await applied('broken', h2);
  t.equal(condition(obj, 'Ready')?.['status'], 'True');
});

t.test('a Job that already exists (created by a previous leader) is adopted, not duplicated', async (t) => {
  // Stop dispatching, make the change, create its Job as the previous leader would have, then dispatch again.
  const dispatcher = setup.webhook.dispatcher!;
  await dispatcher.stop();
  const created = await setup.create(ns, 'adopted');
  const hash = specHashOf(created);
  const config = readDispatcherConfig({ ...setup.env }, { hostname: 'x', randomSuffix: 'y' });
  if (!config.ok) throw new Error(config.errors.join('; '));
  const change = { namespace: ns, name: 'adopted', uid: created['metadata'].uid, specHash: hash, action: 'apply' as const };
  await setup.batch.createNamespacedJob({ namespace: setup.ops, body: buildJob(change, config.config.job, setup.ops) });
  dispatcher.start();
  await applied('adopted', hash);
  t.same(jobsOf('adopted'), [jobName(change)]);
  t.equal(history.added.get(jobName(change)), 1, 'created once');
  t.equal(history.latest.get(jobName(change))?.spec?.template.spec?.containers[0]?.command?.[1], STAND_IN_SCRIPT);
});
