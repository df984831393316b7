// Leader election across processes: two webhook processes with the dispatcher (`node cli/main.ts webhook`, each as
// the webhook's ServiceAccount) share one Lease. Killing the leader (SIGKILL: no goodbye) lets the other take over
// within the lease duration, changes made meanwhile are all dispatched, and nothing is dispatched twice; a leader that
// shuts down (SIGTERM) hands over at the next retry.
import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { leaseHolder, setUpDispatcher, specHashOf, watchJobs, type ChildDispatcher } from './dispatcher-harness.ts';

const cp = await useControlPlane(t);
// Admission in this process; the dispatchers in child processes. Lease: 3 s duration, 2 s renew deadline, 1 s retry.
const setup = await setUpDispatcher(cp, t, { inProcess: false });
const [ns] = setup.namespaces as [string];
const history = await watchJobs(setup);
t.teardown(() => history.stop());
const holder = leaseHolder(cp, setup);
const applied = (names: string[], hashes: Map<string, string>) => waitFor(`${names.length} ExposedAPIs applied`, async () => {
  for (const name of names) if ((await setup.get(ns, name))?.['status']?.appliedSpecHash !== hashes.get(name)) return undefined;
  return true;
}, { timeoutMs: 60_000 });
const dumpLogs = async (t: Test, ...children: ChildDispatcher[]) => {
  for (const c of children) t.comment(`--- ${c.identity} ---\n${(await readFile(c.logFile, 'utf8').catch(() => '')).slice(-4000)}`);
};

t.test('the leader dies; the other process takes over within seconds; nothing is duplicated', async (t) => {
  const a = await setup.startChild(t, 'dispatcher-a');
  await waitFor('dispatcher-a to lead', async () => ((await holder()) === 'dispatcher-a' ? true : undefined), { timeoutMs: 20_000 });
  const b = await setup.startChild(t, 'dispatcher-b');
  await new Promise((r) => setTimeout(r, 1500)); // b has read the Lease at least once: a candidate
  t.teardown(async () => {
    if (t.passing()) return;
    await dumpLogs(t, a, b);
  });

  const hashes = new Map<string, string>();
  for (const name of ['before-1', 'before-2']) hashes.set(name, specHashOf(await setup.create(ns, name)));
  await applied(['before-1', 'before-2'], hashes);

  // Changes in flight when the leader dies.
  const during = ['during-1', 'during-2', 'during-3', 'during-4'];
  const creating = Promise.all(during.map(async (name) => hashes.set(name, specHashOf(await setup.create(ns, name)))));
  await new Promise((r) => setTimeout(r, 20));
  const killedAt = Date.now();
  a.process.kill('SIGKILL');
  await creating;
  await a.exited;
  await waitFor('dispatcher-b to take over', async () => ((await holder()) === 'dispatcher-b' ? true : undefined), { timeoutMs: 20_000, intervalMs: 50 });
  const takeover = Date.now() - killedAt;
  t.comment(`takeover ${takeover} ms after SIGKILL (lease duration 3 s, retry 1 s)`);
  t.ok(takeover < 8000, 'within seconds');

  const after = ['after-1', 'after-2'];
  for (const name of after) hashes.set(name, specHashOf(await setup.create(ns, name)));
  await applied([...hashes.keys()], hashes);
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(history.order.length, hashes.size, 'one Job per change');
  t.same([...history.added.values()].filter((n) => n !== 1), [], 'no Job created twice');
  t.equal(history.deleted.size, 0, 'no Job deleted and recreated');
  t.equal(b.process.exitCode, null, 'the new leader keeps running');
});

t.test('a leader that shuts down hands the lease over at once', async (t) => {
  // The previous test's processes have stopped (and released the lease): a fresh pair.
  const c = await setup.startChild(t, 'dispatcher-c');
  await waitFor('dispatcher-c to lead', async () => ((await holder()) === 'dispatcher-c' ? true : undefined), { timeoutMs: 20_000 });
  const d = await setup.startChild(t, 'dispatcher-d');
  await new Promise((r) => setTimeout(r, 1500)); // d has read the Lease at least once: a candidate
  const stoppedAt = Date.now();
  c.process.kill('SIGTERM');
  t.equal(await c.exited, 0, 'clean exit');
  await waitFor('dispatcher-d to take over', async () => ((await holder()) === 'dispatcher-d' ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  const handover = Date.now() - stoppedAt;
  t.comment(`handover ${handover} ms after SIGTERM`);
  t.ok(handover < 3000, 'faster than the lease duration: the lease was released');
  const hash = specHashOf(await setup.create(ns, 'after-handover'));
  await applied(['after-handover'], new Map([['after-handover', hash]]));
  t.equal(d.process.exitCode, null);
});
