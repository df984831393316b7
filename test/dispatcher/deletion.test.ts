// Deletion through the dispatcher on the real control plane: a delete Job whose executor removes the finalizer; a
// delete that keeps failing (Event + DeleteBlocked naming the escape hatch); detach-on-delete releasing the finalizer
// within seconds, without a Job.
import t from 'tap';
import { DETACH_ANNOTATION, FINALIZER } from '../../core/exposedapi-model.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { jobName } from '../../dispatcher/job-manifest.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, finished, setUpDispatcher, specHashOf, watchJobs } from './dispatcher-harness.ts';
import { STAND_IN } from './stand-in-executor.ts';

const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t);
const [ns] = setup.namespaces as [string];
const history = await watchJobs(setup);
t.teardown(() => history.stop());

const jobsOf = (name: string) => history.order.filter((j) => history.latest.get(j)?.metadata?.labels?.[JOB_LABELS.name] === name);
const appliedAndSettled = (name: string, hash: string) => waitFor(`${name} applied`, async () => {
  const obj = await setup.get(ns, name);
  return obj?.['status']?.appliedSpecHash === hash && condition(obj, 'Progressing')?.['status'] === 'False' ? obj : undefined;
}, { timeoutMs: 30_000 });
const gone = (name: string, timeoutMs: number) => waitFor(`${name} to be gone`, async () => ((await setup.get(ns, name)) === undefined ? true : undefined), { timeoutMs, intervalMs: 50 });

t.test('delete: a delete Job runs, the executor removes the finalizer, the object is gone', async (t) => {
  const hash = specHashOf(await setup.create(ns, 'catalog'));
  const obj = await appliedAndSettled('catalog', hash);
  t.same(obj['metadata'].finalizers, [FINALIZER], 'the webhook added our finalizer');
  const started = Date.now();
  await setup.remove(ns, 'catalog');
  await gone('catalog', 30_000);
  t.comment(`gone ${Date.now() - started} ms after the delete request`);
  const del = jobName({ namespace: ns, name: 'catalog', specHash: hash, action: 'delete' });
  t.same(jobsOf('catalog'), [jobName({ namespace: ns, name: 'catalog', specHash: hash, action: 'apply' }), del]);
  t.equal(history.latest.get(del)?.metadata?.labels?.[JOB_LABELS.action], 'delete');
  t.same(history.latest.get(del)?.spec?.template.spec?.containers[0]?.args?.slice(0, 2), ['execute', 'delete']);
  await waitFor('the delete Job to complete', () => (finished(history.latest.get(del)) === 'Complete' ? true : undefined));
});

t.test('deleted while its apply Job runs: the delete waits, then runs', async (t) => {
  const hash = specHashOf(await setup.create(ns, 'orders', { metadata: { annotations: { [STAND_IN.hold]: 'true' } } }));
  const apply = jobName({ namespace: ns, name: 'orders', specHash: hash, action: 'apply' });
  await waitFor('the apply Job', () => (history.latest.has(apply) ? true : undefined));
  await setup.remove(ns, 'orders');
  await new Promise((r) => setTimeout(r, 1000));
  t.same(jobsOf('orders'), [apply], 'no delete Job while the apply Job runs');
  await setup.patch(ns, 'orders', { metadata: { annotations: { [STAND_IN.hold]: 'false' } } });
  await gone('orders', 30_000);
  t.same(jobsOf('orders'), [apply, jobName({ namespace: ns, name: 'orders', specHash: hash, action: 'delete' })]);
  t.equal(finished(history.latest.get(apply)), 'Complete', 'the apply Job finished before the delete Job was created');
});

t.test('a delete that fails: an Event and DeleteBlocked naming the escape hatch; detach then releases it in seconds', async (t) => {
  const hash = specHashOf(await setup.create(ns, 'stuck', { metadata: { annotations: { [STAND_IN.deleteExitCode]: '42' } } }));
  await appliedAndSettled('stuck', hash);
  await setup.remove(ns, 'stuck');
  const blocked = await waitFor('DeleteBlocked', async () => {
    const c = condition(await setup.get(ns, 'stuck'), 'DeleteBlocked');
    return c?.['status'] === 'True' ? c : undefined;
  }, { timeoutMs: 30_000 });
  const del = jobName({ namespace: ns, name: 'stuck', specHash: hash, action: 'delete' });
  t.match(blocked['message'], `the delete Job ${setup.ops}/${del} failed: PodFailurePolicy`);
  t.match(blocked['message'], `kubectl annotate exposedapi -n ${ns} stuck ${DETACH_ANNOTATION}=true`);
  t.equal(blocked['specHash'], hash);
  const events = await setup.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=stuck' });
  const warning = events.items.find((e) => e.reason === 'DeleteBlocked');
  t.equal(warning?.type, 'Warning', 'a Warning Event');
  t.match(warning?.message ?? '', DETACH_ANNOTATION);
  t.ok(await setup.get(ns, 'stuck'), 'the object stays while the delete is blocked');

  const started = Date.now();
  await setup.patch(ns, 'stuck', { metadata: { annotations: { [DETACH_ANNOTATION]: 'true' } } });
  await gone('stuck', 10_000);
  const elapsed = Date.now() - started;
  t.comment(`detach: gone ${elapsed} ms after the annotation`);
  t.ok(elapsed < 10_000, 'released within seconds (the ODA test kit allows 30 s)');
  t.equal(jobsOf('stuck').length, 2, 'no further Job');
});

t.test('detach-on-delete set in advance: no delete Job at all', async (t) => {
  const hash = specHashOf(await setup.create(ns, 'legacy', { metadata: { annotations: { [DETACH_ANNOTATION]: 'true' } } }));
  await appliedAndSettled('legacy', hash);
  const started = Date.now();
  await setup.remove(ns, 'legacy');
  await gone('legacy', 10_000);
  t.comment(`gone ${Date.now() - started} ms after the delete request`);
  t.same(jobsOf('legacy'), [jobName({ namespace: ns, name: 'legacy', specHash: hash, action: 'apply' })], 'only the apply Job');
});

t.test('a blocked delete is retried when its failed Job is deleted (after fixing the cause)', async (t) => {
  const hash = specHashOf(await setup.create(ns, 'retry', { metadata: { annotations: { [STAND_IN.deleteExitCode]: '42' } } }));
  await appliedAndSettled('retry', hash);
  await setup.remove(ns, 'retry');
  await waitFor('DeleteBlocked', async () => (condition(await setup.get(ns, 'retry'), 'DeleteBlocked')?.['status'] === 'True' ? true : undefined), { timeoutMs: 30_000 });
  await setup.patch(ns, 'retry', { metadata: { annotations: { [STAND_IN.deleteExitCode]: '0' } } });
  const del = jobName({ namespace: ns, name: 'retry', specHash: hash, action: 'delete' });
  await setup.batch.deleteNamespacedJob({ name: del, namespace: setup.ops, propagationPolicy: 'Background' });
  await gone('retry', 30_000);
  t.equal(history.added.get(del), 2, 'the delete Job ran a second time under the same name');
});
