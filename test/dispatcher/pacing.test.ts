// Pacing on the real control plane: with DISPATCH_MAX_ACTIVE_JOBS=2, a burst of six changes in one namespace and a
// single change in another never run more than two Jobs at once, and the other namespace's change goes next rather
// than after the whole burst (namespaces take turns).
import t from 'tap';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { finished, setUpDispatcher, watchJobs } from './dispatcher-harness.ts';
import { STAND_IN } from './stand-in-executor.ts';

const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t, { namespaces: 2, env: { DISPATCH_MAX_ACTIVE_JOBS: '2' } });
const [burst, team] = setup.namespaces as [string, string];
const history = await watchJobs(setup);
t.teardown(() => history.stop());

const ownerOf = (job: string) => {
  const labels = history.latest.get(job)?.metadata?.labels ?? {};
  return `${labels[JOB_LABELS.namespace] === burst ? 'burst' : 'team'}/${labels[JOB_LABELS.name]}`;
};
const running = () => history.order.filter((j) => !history.deleted.has(j) && !finished(history.latest.get(j)));

t.test('at most two Jobs at once; the other namespace does not wait for the whole burst', async (t) => {
  const hold = { metadata: { annotations: { [STAND_IN.hold]: 'true' } } };
  for (let i = 1; i <= 6; i++) await setup.create(burst, `api-${i}`, hold);
  await waitFor('two Jobs', () => (history.order.length === 2 ? true : undefined), { timeoutMs: 20_000 });
  await setup.create(team, 'single', hold);
  await waitFor('the queue to hold five changes', async () => {
    const text = await setup.webhook.metrics.registry.metrics();
    return /^exposedapi_apim_dispatcher_queue_depth 5$/m.test(text) ? true : undefined;
  }, { timeoutMs: 10_000 });
  t.equal(history.order.length, 2, 'the cap holds the rest back');

  // Let the running Jobs finish one at a time and watch who goes next.
  for (let step = 0; step < 5; step++) {
    const [first] = running();
    const [ns, name] = ownerOf(first!).split('/') as [string, string];
    await setup.patch(ns === 'burst' ? burst : team, name, { metadata: { annotations: { [STAND_IN.hold]: 'false' } } });
    await waitFor(`Job ${step + 3}`, () => (history.order.length === step + 3 ? true : undefined), { timeoutMs: 30_000 });
  }
  const order = history.order.map(ownerOf);
  t.comment(`Job order: ${order.join(', ')}`);
  t.same(order.slice(0, 2).sort(), ['burst/api-1', 'burst/api-2'], 'the first two (created concurrently, in either order)');
  t.equal(order[2], 'burst/api-3', 'the burst\'s namespace had the turn when the first place freed up');
  t.equal(order[3], 'team/single', 'then the other namespace, not after the whole burst');
  t.same(order.slice(4), ['burst/api-4', 'burst/api-5', 'burst/api-6']);
  for (const api of ['api-1', 'api-2', 'api-3', 'api-4', 'api-5', 'api-6']) await setup.patch(burst, api, { metadata: { annotations: { [STAND_IN.hold]: 'false' } } });
  await setup.patch(team, 'single', { metadata: { annotations: { [STAND_IN.hold]: 'false' } } });
  await waitFor('every Job to finish', () => (history.order.every((j) => finished(history.latest.get(j))) ? true : undefined), { timeoutMs: 30_000 });
  t.equal(history.maxActive, 2, 'never more than two Jobs running at once');
  t.equal(history.order.length, 7, 'one Job per change');
});
