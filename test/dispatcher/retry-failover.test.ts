// A scheduled retry survives the death of the leader that scheduled it: the new leader derives the same attempt and
// time from the failed Job (its attempt label and the Job controller's end time), starts the retry no earlier than
// the backoff, creates it once, and records no second Event. Two webhook processes with the dispatcher (`node
// cli/main.ts webhook`, as the webhook's ServiceAccount), the stand-in executor told to exit 1 (a transient failure).
import t, { type Test } from 'tap';
import { CoreV1Api } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { ATTEMPT_LABEL, jobName } from '../../dispatcher/job-manifest.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, finished, leaseHolder, setUpDispatcher, specHashOf, watchJobs, type ChildDispatcher } from './dispatcher-harness.ts';
import { STAND_IN } from './stand-in-executor.ts';

const BACKOFF_S = 20;
const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t, {
  inProcess: false,
  // One pod per Job; a fixed wait long enough for the new leader to take over before the retry is due.
  env: { JOB_BACKOFF_LIMIT: '0', JOB_RETRY_BASE_SECONDS: String(BACKOFF_S), JOB_RETRY_MAX_SECONDS: String(BACKOFF_S), JOB_RETRY_JITTER_PERCENT: '0' },
});
const [ns] = setup.namespaces as [string];
const history = await watchJobs(setup);
t.teardown(() => history.stop());
const holder = leaseHolder(cp, setup);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
const dumpLogs = async (t: Test, ...children: ChildDispatcher[]) => {
  for (const c of children) t.comment(`--- ${c.identity} ---\n${(await readFile(c.logFile, 'utf8').catch(() => '')).slice(-4000)}`);
};

t.test('the leader dies while a retry waits; the next leader starts it on time, once', async (t) => {
  const a = await setup.startChild(t, 'dispatcher-a');
  await waitFor('dispatcher-a to lead', async () => ((await holder()) === 'dispatcher-a' ? true : undefined), { timeoutMs: 30_000 });
  t.teardown(async () => {
    if (!t.passing()) await dumpLogs(t, a);
  });

  const hash = specHashOf(await setup.create(ns, 'flaky', { metadata: { annotations: { [STAND_IN.exitCode]: '1' } } }));
  const first = jobName({ namespace: ns, name: 'flaky', specHash: hash, action: 'apply' });
  const scheduled = await waitFor('the first Job failed and a retry is scheduled', async () => {
    const ready = condition(await setup.get(ns, 'flaky'), 'Ready');
    return ready?.['reason'] === 'RetryScheduled' ? ready : undefined;
  }, { timeoutMs: 60_000, intervalMs: 100 });
  const failedAt = Date.parse(String(history.latest.get(first)?.status?.conditions?.find((c) => c.type === 'Failed')?.lastTransitionTime));
  const dueAt = failedAt + BACKOFF_S * 1000;
  t.match(scheduled['message'], `retry 1 of 100 (Job ${setup.ops}/${first}-r1) at ${new Date(dueAt).toISOString()}, ${BACKOFF_S}s after the failed Job ended`, 'Ready names the retry, its Job and its time: the failed Job\'s end + the backoff');

  // The leader records the Event right after the status write that names the retry: the kill comes after both (a
  // kill between the two, which a loaded machine made likely, is another story than a leader dying while a retry waits).
  await waitFor('the RetryScheduled Event', async () => {
    const events = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=flaky' })).items;
    return events.some((e) => e.reason === 'RetryScheduled') ? true : undefined;
  }, { timeoutMs: 20_000, intervalMs: 100 });

  // The next attempt succeeds (the stand-in reads its orders when it runs); the leader dies before it is due.
  await setup.patch(ns, 'flaky', { metadata: { annotations: { [STAND_IN.exitCode]: null } } });
  a.process.kill('SIGKILL');
  await a.exited;
  t.ok(Date.now() < dueAt, 'the leader died before the retry was due');
  const b = await setup.startChild(t, 'dispatcher-b');
  t.teardown(async () => {
    if (!t.passing()) await dumpLogs(t, b);
  });
  await waitFor('dispatcher-b to take over', async () => ((await holder()) === 'dispatcher-b' ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
  const tookOverAt = Date.now();

  const applied = await waitFor('the retry applied the change', async () => {
    const obj = await setup.get(ns, 'flaky');
    return obj?.['status']?.appliedSpecHash === hash && condition(obj, 'Ready')?.['status'] === 'True' ? obj : undefined;
  }, { timeoutMs: 90_000, intervalMs: 200 });
  // Ready True comes from the executor's record; the Job controller's Complete may reach our watch a moment later.
  const retry = await waitFor('the retry Job seen complete', () => {
    const job = history.latest.get(`${first}-r1`);
    return finished(job) === 'Complete' ? job : undefined;
  }, { timeoutMs: 30_000 });
  t.equal(retry.metadata?.labels?.[ATTEMPT_LABEL], '1', 'the retry is a Job of its own, its attempt on it');
  const created = retry!.metadata!.creationTimestamp!;
  const createdMs = (created instanceof Date ? created : new Date(String(created))).getTime();
  // creationTimestamp has 1 s resolution (truncated): allow that, nothing more.
  t.ok(createdMs >= dueAt - 1000, `created at ${new Date(createdMs).toISOString()}, not before it was due (${new Date(dueAt).toISOString()})`);
  t.comment(`new leader from ${new Date(tookOverAt).toISOString()}; retry due ${new Date(dueAt).toISOString()}, created ${new Date(createdMs).toISOString()}`);
  t.same(history.order.filter((j) => j.startsWith(first)), [first, `${first}-r1`], 'two Jobs: the first and one retry');
  t.same([...history.added.values()].filter((n) => n !== 1), [], 'no Job created twice');
  t.equal(specHashOf(applied), hash, 'the same change: nobody bumped reconcile-at');
  const events = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=flaky` })).items.filter((e) => e.reason === 'RetryScheduled');
  t.equal(events.length, 1, 'one Event for the one scheduled retry, although two leaders planned it');
});
