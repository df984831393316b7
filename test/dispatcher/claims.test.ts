// The dispatcher's claim gate on the real control plane: two ExposedAPIs that both got past admission (here: the
// second namespace is taken out of the webhook's namespaceSelector, as if a replica that had not seen the first
// claim admitted it; two replicas admitting two racing creates end the same way) — the newer gets no Job and a Ready
// False condition naming the holder, and is dispatched once the holder is gone or has moved. A deleting holder keeps
// its claims until it is gone.
import t from 'tap';
import { FINALIZER, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { exposedApi } from '../helpers/fixtures.ts';
import { condition, setUpDispatcher, specHashOf } from './dispatcher-harness.ts';
import { STAND_IN } from './stand-in-executor.ts';

type Obj = Record<string, any>;
const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t, { namespaces: 2 });
const [nsA, nsB] = setup.namespaces as [string, string];
// Paths and ids of this run only: test files share one cluster, and webhooks of other files watch every namespace.
const P = `/payments-${setup.run}`;
const ID = `catalog-${setup.run}`;

// nsB leaves admission (the label is the webhook configurations' namespaceSelector); the dispatcher still serves it.
const unlabel = await cp.kubectl(['label', 'namespace', nsB, 'exposedapi-apim.io/e2e-']);
if (unlabel.code !== 0) throw new Error(unlabel.stderr);

/** What a replica that had not seen the other claim would have stored: stamped, with our finalizer. */
const admittedElsewhere = (name: string, spec: Obj, hash: string) => waitFor(`${nsB}/${name} created without our webhook`, async () => {
  const body = exposedApi({ metadata: { name, namespace: nsB, annotations: { [SPEC_HASH_ANNOTATION]: hash }, finalizers: [FINALIZER] }, spec: { implementation: `svc-${name}`, ...spec } });
  try {
    return (await setup.custom.createNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace: nsB, plural: 'exposedapis', body })) as Obj;
  } catch (err) {
    if ((err as { code?: number }).code === 409) return (await setup.get(nsB, name))!;
    return undefined; // the apiserver has not yet seen the label go: our webhook still answers (and refuses)
  }
}, { timeoutMs: 20_000 });

const applied = (ns: string, name: string, hash: string) => waitFor(`${ns}/${name} applied`, async () => {
  const obj = await setup.get(ns, name);
  return obj?.['status']?.appliedSpecHash === hash && condition(obj, 'Progressing')?.['status'] === 'False' ? obj : undefined;
}, { timeoutMs: 30_000 });
const readyReason = (ns: string, name: string, reason: string) => waitFor(`${ns}/${name} Ready False / ${reason}`, async () => {
  const c = condition(await setup.get(ns, name), 'Ready');
  return c?.['status'] === 'False' && c['reason'] === reason ? c : undefined;
}, { timeoutMs: 20_000 });
const events = async (ns: string, name: string, reason: string) =>
  (await setup.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items;
const quietly = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a nested path in another namespace: no Job until the holder is gone; its own namespace may nest', async (t) => {
  const holder = await setup.create(nsA, 'payments', { spec: { path: `${P}/v1` } });
  await applied(nsA, 'payments', specHashOf(holder));
  const sibling = await setup.create(nsA, 'payments-admin', { spec: { path: `${P}/v1/admin` } });
  await applied(nsA, 'payments-admin', specHashOf(sibling));

  const hash = 'b'.repeat(64);
  await admittedElsewhere('transfer', { path: `${P}/v1/transfer` }, hash);
  const gated = await readyReason(nsB, 'transfer', 'PathConflict');
  t.match(gated['message'], `path "${P}/v1/transfer" is inside path "${P}/v1", claimed by ExposedAPI ${nsA}/payments of another namespace`);
  t.match(gated['message'], `choose a path outside "${P}/v1"`);
  t.match(gated['message'], 'no Job runs for this change while the conflict lasts');
  t.equal(gated['specHash'], hash);
  await quietly(1500);
  t.same((await setup.jobsFor('transfer')).length, 0, 'no Job for the object that lost its claim');
  t.equal((await events(nsB, 'transfer', 'PathConflict')).length, 1, 'one Warning Event');

  // The holder is deleted, but its delete Job is held: a deleting object keeps its claims until it is gone.
  await setup.patch(nsA, 'payments', { metadata: { annotations: { [STAND_IN.hold]: 'true' } } });
  await setup.remove(nsA, 'payments');
  await waitFor('the holder\'s delete Job', async () => ((await setup.jobsFor('payments')).some((j) => j.metadata?.labels?.['exposedapi-apim.io/action'] === 'delete') ? true : undefined));
  await quietly(1500);
  t.same((await setup.jobsFor('transfer')).length, 0, 'still no Job while the holder is being deleted');
  await setup.patch(nsA, 'payments', { metadata: { annotations: { [STAND_IN.hold]: 'false' } } });
  await waitFor('the holder to be gone', async () => ((await setup.get(nsA, 'payments')) === undefined ? true : undefined), { timeoutMs: 30_000 });

  const done = await applied(nsB, 'transfer', hash);
  t.same([condition(done, 'Ready')?.['status'], condition(done, 'Ready')?.['reason']], ['True', 'Published'], 'dispatched once the holder was gone; Ready follows the executor\'s record, replacing the conflict');
  t.equal((await setup.jobsFor('transfer')).length, 1, 'exactly one Job');
});

t.test('an apiId held by an older object: no Job until the holder moves to another id', async (t) => {
  const holder = await setup.create(nsA, 'catalog', { spec: { path: `/${ID}/v1`, apim: { apiId: ID } } });
  await applied(nsA, 'catalog', specHashOf(holder));
  const hash = 'c'.repeat(64);
  await admittedElsewhere('catalog-copy', { path: `/${ID}-copy/v1`, apim: { apiId: ID.toUpperCase() } }, hash);
  const gated = await readyReason(nsB, 'catalog-copy', 'ApiIdConflict');
  t.match(gated['message'], `apiId "${ID.toUpperCase()}" is already claimed by ExposedAPI ${nsA}/catalog (APIM compares ids case-insensitively)`);
  await quietly(1000);
  t.same((await setup.jobsFor('catalog-copy')).length, 0, 'no Job');

  const moved = await setup.patch(nsA, 'catalog', { spec: { apim: { apiId: `${ID}-2` } } });
  await applied(nsA, 'catalog', specHashOf(moved));
  await applied(nsB, 'catalog-copy', hash);
  t.equal((await setup.jobsFor('catalog-copy')).length, 1, 'dispatched once the holder moved');
});
