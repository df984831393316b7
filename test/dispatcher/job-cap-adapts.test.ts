// The adaptive global cap on the real control plane (dispatcher/job-cap.ts, docs/dispatcher.md "Pacing"): it starts
// at the floor (DISPATCH_MIN_ACTIVE_JOBS=1), grows while Jobs finish fast and changes wait, so a burst runs more than
// one Job at a time; and once a Job's pod fails with a retriable exit (the Job controller counts it in status.failed),
// it drops to the floor and holds there (DISPATCH_FAILURE_HOLD_SECONDS, long here so the hold surely outlasts the
// assertions): the next changes run one at a time again.
import t from 'tap';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { finished, setUpDispatcher, watchJobs } from './dispatcher-harness.ts';
import { STAND_IN } from './stand-in-executor.ts';

const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t, {
  env: { DISPATCH_MAX_ACTIVE_JOBS: '6', DISPATCH_MIN_ACTIVE_JOBS: '1', DISPATCH_FAILURE_HOLD_SECONDS: '600', JOB_RETRY_LIMIT: '0' },
});
const [ns] = setup.namespaces as [string];
const history = await watchJobs(setup);
t.teardown(() => history.stop());

const metric = async (name: string): Promise<number | undefined> => {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(await setup.webhook.metrics.registry.metrics());
  return m ? Number(m[1]) : undefined;
};
const allFinished = () => history.order.every((j) => history.deleted.has(j) || finished(history.latest.get(j)));

t.test('grows from the floor while Jobs finish fast and changes wait', async (t) => {
  t.equal(await metric('exposedapi_apim_dispatcher_job_cap'), 1, 'the term starts at the floor');
  for (let i = 1; i <= 10; i++) await setup.create(ns, `burst-${i}`);
  await waitFor('ten Jobs to finish', () => (history.order.length === 10 && allFinished() ? true : undefined), { timeoutMs: 120_000 });
  const cap = (await metric('exposedapi_apim_dispatcher_job_cap'))!;
  t.comment(`cap after the burst: ${cap}; most Jobs at once: ${history.maxActive}`);
  t.ok(cap > 1, `the cap grew (now ${cap})`);
  t.ok(history.maxActive > 1, `more than one Job ran at once (${history.maxActive}), which a fixed cap of 1 never allows`);
  t.ok(history.maxActive <= 6, 'never above DISPATCH_MAX_ACTIVE_JOBS');
});

t.test('a retriable pod failure drops the cap to the floor and holds it there', async (t) => {
  const before = history.order.length;
  await setup.create(ns, 'failing', { metadata: { annotations: { [STAND_IN.exitCode]: '1' } } });
  await waitFor('the cap to drop to the floor', async () => ((await metric('exposedapi_apim_dispatcher_job_cap')) === 1 ? true : undefined), { timeoutMs: 60_000 });
  const hold = { metadata: { annotations: { [STAND_IN.hold]: 'true' } } };
  for (let i = 1; i <= 3; i++) await setup.create(ns, `held-${i}`, hold);
  // One held Job runs (once the failing Job has ended); the other two changes wait for the cap.
  const running = () => history.order.slice(before).filter((j) => !history.deleted.has(j) && !finished(history.latest.get(j)));
  await waitFor('one held Job to run and two changes to wait', async () =>
    (running().length === 1 && running()[0]!.includes('held') && (await metric('exposedapi_apim_dispatcher_queue_depth')) === 2 ? true : undefined), { timeoutMs: 60_000 });
  t.equal(history.order.slice(before).filter((j) => j.includes('held')).length, 1, 'only one of the three held changes has a Job');
  t.equal(await metric('exposedapi_apim_dispatcher_job_cap'), 1, 'still at the floor');

  // Let them go: the rest run one after another, and nothing is left running when the test ends.
  for (let i = 1; i <= 3; i++) await setup.patch(ns, `held-${i}`, { metadata: { annotations: { [STAND_IN.hold]: 'false' } } });
  await waitFor('every Job to finish', () => (history.order.length === before + 4 && allFinished() ? true : undefined), { timeoutMs: 120_000 });
});
