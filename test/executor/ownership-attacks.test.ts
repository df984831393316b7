// Issue 9's attacks on APIM ownership, through the real apiserver and the APIM emulator with the executor running as
// its ServiceAccount: an API the operator did not create is never written or deleted (byte-for-byte: properties,
// operations, policy, product and tag links), a forged status changes nothing, adoption needs the platform's policy,
// and a rename after a failed first apply leaves no orphan.
import t, { type Test } from 'tap';
import { ADOPT_ANNOTATION } from '../../core/exposedapi-model.ts';
import { ownershipOf } from '../../executor/api-mark.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, executorBench, type ExecutorBench, instanceIdOf } from './harness.ts';

type Obj = Record<string, any>;

const b = await executorBench(t);

function api(name: string, spec: Obj = {}, metadata: Obj = {}): Obj {
  const document = { openapi: '3.0.3', info: { title: name, version: '1' }, paths: { '/items': { get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } } } } };
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name, ...metadata },
    spec: { name, apiType: 'openapi', implementation: `${name}-svc`, path: `/${name}/v1`, port: 8080, specification: JSON.stringify(document), ...spec },
  };
}

/** An API made outside the operator (by hand, Bicep, another tool): a document, an ip-filter policy, a product and a tag. */
async function foreignApi(id: string, path: string): Promise<void> {
  const c = b.client();
  const { resourceGroup: rg, serviceName: svc } = b.emu;
  const doc = { openapi: '3.0.3', info: { title: id, version: '1' }, paths: { '/pay': { post: { operationId: 'pay', responses: { '200': { description: 'ok' } } } } } };
  await c.api.beginCreateOrUpdateAndWait(rg, svc, id, { path, displayName: id, serviceUrl: 'https://payments.internal.example.com', protocols: ['https'], format: 'openapi+json', value: JSON.stringify(doc), apiRevisionDescription: 'owned by the payments team' }, { updateIntervalInMs: 10 });
  await c.apiPolicy.createOrUpdate(rg, svc, id, 'policy', { format: 'xml', value: '<policies><inbound><base /><ip-filter action="allow"><address>10.1.2.3</address></ip-filter></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>' });
  await c.product.createOrUpdate(rg, svc, `${id}-product`, { displayName: `${id} product`, subscriptionRequired: true, state: 'published' });
  await c.productApi.createOrUpdate(rg, svc, `${id}-product`, id);
  await c.tag.createOrUpdate(rg, svc, `${id}-tag`, { displayName: `${id} tag` });
  await c.tag.assignToApi(rg, svc, id, `${id}-tag`);
}

/** Everything APIM holds of an API, as one string (etags included: any write changes them). */
const snapshot = (id: string): string => JSON.stringify(b.emu.state().apis.find((a) => a.name === id) ?? null);
const apiNames = (): string[] => b.emu.state().apis.map((a) => a.name);

async function startDeletion(name: string): Promise<void> {
  const r = await b.cp.kubectl(['delete', 'exposedapi.v1.oda.tmforum.org', name, '-n', b.ns, '--wait=false']);
  if (r.code !== 0) throw new Error(r.stderr);
  await waitFor(`deletionTimestamp on ${name}`, async () => ((await b.get(name))?.['metadata'].deletionTimestamp ? true : undefined));
}

async function forgeStatus(name: string, apim: Obj): Promise<void> {
  const r = await b.cp.kubectl(['patch', 'exposedapi.v1.oda.tmforum.org', name, '-n', b.ns, '--type=merge', '-p', JSON.stringify({ status: { apim } })]);
  if (r.code !== 0) throw new Error(r.stderr);
}

async function apply(_t: Test, obj: Obj, env: Record<string, string> = {}): Promise<{ code: number | null; name: string; hash: string; stdout: string }> {
  const p = await b.put(obj);
  const r = await b.execute('apply', p.name, p.hash, env);
  return { ...r, ...p };
}

t.test('spec.apim.apiId naming an API the operator did not create: refused, and the API is untouched by apply and delete', async (t) => {
  await foreignApi('payments-prod', 'payments/v1');
  const before = snapshot('payments-prod');
  const r = await apply(t, api('thief', { path: '/thief/v1', apim: { apiId: 'payments-prod' } }));
  t.equal(r.code, 42, 'permanent: a person must choose another id or get adoption granted');
  const c = condition(await b.get('thief'), 'Imported');
  t.same([c?.['status'], c?.['reason']], ['False', 'ApiNotOwned']);
  t.match(c?.['message'], "APIM API 'payments-prod' exists and was not created by exposedapi-apim");
  t.equal(snapshot('payments-prod'), before, 'document, policy (ip-filter), links: byte-for-byte unchanged');

  await startDeletion('thief');
  const d = await b.execute('delete', 'thief', r.hash);
  t.equal(d.code, 0, d.stdout);
  t.equal(snapshot('payments-prod'), before, 'the delete Job leaves it too');
  await waitFor('thief gone', async () => ((await b.get('thief')) === undefined ? true : undefined));
});

t.test('a forged status.apim naming another team\'s API changes nothing, on apply and on delete', async (t) => {
  const billing = await apply(t, api('billing', { apim: { apiId: 'billing-prod' } }));
  t.equal(billing.code, 0, 'the other team\'s API, managed by the operator');
  await foreignApi('ledger-prod', 'ledger/v1');
  const before = { billing: snapshot('billing-prod'), ledger: snapshot('ledger-prod') };

  const first = await apply(t, api('honest'));
  t.equal(first.code, 0);
  const honestId = b.apiId('honest');
  await forgeStatus('honest', { apiId: 'billing-prod', serviceName: b.emu.serviceName, pendingApiIds: ['ledger-prod'] });
  const again = await apply(t, api('honest', { apim: { displayName: 'Honest v2' } }));
  t.equal(again.code, 0, again.stdout);
  t.same({ billing: snapshot('billing-prod'), ledger: snapshot('ledger-prod') }, before, 'apply: both untouched');
  const events = await b.events('honest');
  t.ok(events.some((e) => e.reason === 'FormerApiNotOurs' && e.message.includes("'billing-prod'")), 'the forgery is reported in an Event');
  t.same((await b.get('honest'))?.['status'].apim, { apiId: honestId, serviceName: b.emu.serviceName, resourceId: instanceIdOf(b.emu), target: '' }, 'status put right');

  await forgeStatus('honest', { apiId: 'billing-prod', serviceName: b.emu.serviceName, pendingApiIds: ['ledger-prod'] });
  await startDeletion('honest');
  const d = await b.execute('delete', 'honest', again.hash);
  t.equal(d.code, 0, d.stdout);
  t.same({ billing: snapshot('billing-prod'), ledger: snapshot('ledger-prod') }, before, 'delete: both untouched');
  t.notOk(apiNames().includes(honestId), 'its own API, found by its mark, is gone');
});

t.test('adoption: only with the annotation naming the API and the platform\'s TENANCY_POLICY allowing the namespace', async (t) => {
  await foreignApi('legacy-orders', 'orders/v1');
  const before = snapshot('legacy-orders');
  const obj = api('orders', { path: '/orders/v1', apim: { apiId: 'legacy-orders' } }, { annotations: { [ADOPT_ANNOTATION]: 'legacy-orders' } });
  const refused = await apply(t, obj);
  t.equal(refused.code, 42, 'the annotation alone is not enough');
  t.equal(snapshot('legacy-orders'), before);
  t.ok((await b.events('orders')).some((e) => e.reason === 'AdoptionNotAllowed'), 'the ignored annotation is reported');

  const policy = JSON.stringify({ rules: [{ namespaces: [b.ns], allowAdoption: true }] });
  const adopted = await apply(t, { ...obj, metadata: { ...obj['metadata'], annotations: { ...obj['metadata'].annotations, 'exposedapi-apim.io/reconcile-at': '1' } } }, { TENANCY_POLICY: policy });
  t.equal(adopted.code, 0, adopted.stdout);
  const stored = b.emu.state().apis.find((a) => a.name === 'legacy-orders')!;
  const uid = (await b.get('orders'))?.['metadata'].uid as string;
  t.equal(ownershipOf(stored.properties['apiRevisionDescription'] as string, { cluster: 'default', namespace: b.ns, name: 'orders', uid }), 'ours', 'it carries our mark now');
  t.ok((await b.events('orders')).some((e) => e.reason === 'Adopted' && e.type === 'Warning'), 'the takeover is recorded in an Event');
});

t.test('a rename after a failed first apply leaves no orphan; a rename after success removes the old API after publishing', async (t) => {
  // The first apply creates the API, then fails on a product that does not exist (permanent).
  const failed = await apply(t, api('renamer', { apim: { apiId: 'renamer-one', products: ['no-such-product'] } }));
  t.equal(failed.code, 42);
  t.ok(apiNames().includes('renamer-one'), 'the failed apply left an API behind');
  t.same((await b.get('renamer'))?.['status'].apim, { apiId: 'renamer-one', serviceName: b.emu.serviceName }, 'and recorded it');

  const same = await apply(t, api('renamer', { apim: { apiId: 'renamer-two' } }));
  t.equal(same.code, 0, `same path: the earlier API held it and is replaced\n${same.stdout}`);
  t.notOk(apiNames().includes('renamer-one'), 'no orphan');
  t.ok(apiNames().includes('renamer-two'));

  const moved = await apply(t, api('renamer', { path: '/renamer/v2', apim: { apiId: 'renamer-three' } }));
  t.equal(moved.code, 0, moved.stdout);
  t.same(apiNames().filter((n) => n.startsWith('renamer-')), ['renamer-three'], 'the old one goes once the new one is published');
});
