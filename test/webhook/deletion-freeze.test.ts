// The validating decision on objects being deleted: what was applied is frozen (spec, reconcile-at), everything that
// finishes or detaches the deletion stays allowed — even for an object that today's rules would reject.
import t from 'tap';
import { DETACH_ANNOTATION, FINALIZER, RECONCILE_AT_ANNOTATION, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { defaultValidationContext } from '../../core/validate-exposedapi.ts';
import type { AdmissionRequest } from '../../webhook/admission-review.ts';
import { deletionFreezeErrors } from '../../webhook/deletion-freeze.ts';
import { validateDecision } from '../../webhook/validate-decision.ts';
import { exposedApi } from '../helpers/fixtures.ts';

type Obj = Record<string, any>;
const DELETED_AT = '2026-11-21T10:00:00Z';

/** A stored object: stamped, with our finalizer, optionally being deleted; `spec` overrides merge into the fixture. */
function stored(o: { deleting?: boolean; spec?: Obj; annotations?: Obj } = {}): Obj {
  const obj = exposedApi({ spec: o.spec ?? {} });
  obj['metadata'] = {
    ...obj['metadata'],
    annotations: { [SPEC_HASH_ANNOTATION]: 'a'.repeat(64), ...o.annotations },
    finalizers: [FINALIZER],
    ...(o.deleting === false ? {} : { deletionTimestamp: DELETED_AT }),
  };
  return obj;
}

function edit(obj: Obj, fn: (copy: Obj) => void): Obj {
  const copy = structuredClone(obj);
  fn(copy);
  return copy;
}

const update = (oldObject: Obj, object: Obj): AdmissionRequest => ({
  uid: 'u-1', operation: 'UPDATE', namespace: 'components', name: oldObject['metadata'].name, oldObject, object,
});

const ctx = defaultValidationContext();
const old = stored();
// Stored under older rules: port 0 is invalid today. Finishing its deletion must not depend on that.
const legacy = stored({ spec: { port: 0 } });

const cases: { name: string; req: AdmissionRequest; denied: string[] }[] = [
  { name: 'finalizer removal', req: update(old, edit(old, (o) => { o.metadata.finalizers = []; })), denied: [] },
  { name: 'finalizer removal of an object invalid today', req: update(legacy, edit(legacy, (o) => { delete o.metadata.finalizers; })), denied: [] },
  { name: 'status write', req: update(legacy, edit(legacy, (o) => { o.status = { deploymentStatus: 'Deleting', conditions: [] }; })), denied: [] },
  { name: 'label edit', req: update(old, edit(old, (o) => { o.metadata.labels = { team: 'b' }; })), denied: [] },
  { name: 'detach-on-delete annotation', req: update(old, edit(old, (o) => { o.metadata.annotations[DETACH_ANNOTATION] = 'true'; })), denied: [] },
  { name: 'spec-hash annotation untouched, other annotation removed', req: update(stored({ annotations: { note: 'x' } }), stored()), denied: [] },
  { name: 'spec keys reordered (same canonical spec)', req: update(old, edit(old, (o) => { o.spec = Object.fromEntries(Object.entries(o.spec).reverse()); })), denied: [] },
  {
    name: 'spec.apim.apiId change',
    req: update(old, edit(old, (o) => { o.spec.apim = { apiId: 'payments-prod' }; })),
    denied: ['spec'],
  },
  { name: 'spec.path change', req: update(old, edit(old, (o) => { o.spec.path = '/billing/v1'; })), denied: ['spec'] },
  { name: 'a field removed from the spec', req: update(old, edit(old, (o) => { delete o.spec.developerUI; })), denied: ['spec'] },
  { name: 'spec removed', req: update(old, edit(old, (o) => { delete o.spec; })), denied: ['spec'] },
  {
    name: 'reconcile-at added',
    req: update(old, edit(old, (o) => { o.metadata.annotations[RECONCILE_AT_ANNOTATION] = '2026-11-21T10:05:00Z'; })),
    denied: [`metadata.annotations[${RECONCILE_AT_ANNOTATION}]`],
  },
  {
    name: 'reconcile-at removed',
    req: update(stored({ annotations: { [RECONCILE_AT_ANNOTATION]: '1' } }), stored()),
    denied: [`metadata.annotations[${RECONCILE_AT_ANNOTATION}]`],
  },
  { name: 'empty reconcile-at removed (the same, as in the spec hash)', req: update(stored({ annotations: { [RECONCILE_AT_ANNOTATION]: '' } }), stored()), denied: [] },
  {
    name: 'spec and reconcile-at both changed: both reported',
    req: update(old, edit(old, (o) => { o.spec.port = 9090; o.metadata.annotations[RECONCILE_AT_ANNOTATION] = 'now'; })),
    denied: ['spec', `metadata.annotations[${RECONCILE_AT_ANNOTATION}]`],
  },
  // A live object is judged by the ordinary rules, not by this one.
  { name: 'live object: spec change', req: update(stored({ deleting: false }), edit(stored({ deleting: false }), (o) => { o.spec.port = 9090; })), denied: [] },
];

t.test('deletionFreezeErrors', async (t) => {
  for (const c of cases) {
    t.same(deletionFreezeErrors(c.req).map((e) => [e.field, e.reason]), c.denied.map((f) => [f, 'Forbidden']), c.name);
  }
  t.same(deletionFreezeErrors({ uid: 'u', operation: 'CREATE', object: old }), [], 'CREATE');
  t.same(deletionFreezeErrors({ uid: 'u', operation: 'DELETE', oldObject: old, object: null }), [], 'DELETE');
});

t.test('validateDecision on objects being deleted', async (t) => {
  for (const c of cases.filter((c) => c.name !== 'live object: spec change')) {
    const { response, outcome } = await validateDecision(c.req, ctx);
    t.equal(response.allowed, c.denied.length === 0, `${c.name}: ${c.denied.length === 0 ? 'allowed' : 'denied'}`);
    t.equal(outcome, c.denied.length === 0 ? 'allowed-deleting' : 'denied', `${c.name}: outcome`);
    if (c.denied.length > 0) t.same(response.status?.details?.causes.map((x) => x.field), c.denied, `${c.name}: causes`);
  }
});

t.test('the denial says why and what to do instead, in kubectl\'s form', async (t) => {
  const { response } = await validateDecision(update(old, edit(old, (o) => { o.spec.apim = { apiId: 'payments-prod' }; })), ctx);
  t.equal(response.status?.code, 422);
  t.equal(response.status?.reason, 'Invalid');
  const name = old['metadata'].name;
  t.equal(response.status?.message, `ExposedAPI "${name}" is invalid: spec: Forbidden: may not be changed while the ExposedAPI is being deleted `
    + `(since ${DELETED_AT}): the delete Job removes from APIM what was applied, and a changed spec would point it elsewhere; `
    + 'wait for the deletion to finish and create the ExposedAPI again, or release it without touching APIM: '
    + `kubectl annotate exposedapi ${name} -n components ${DETACH_ANNOTATION}=true`);
  t.same(response.status?.details?.causes, [{ reason: 'FieldValueForbidden', field: 'spec', message: response.status!.message.split('spec: ')[1] }]);
});

t.test('a spec change of a live object is still validated (and a valid one admitted)', async (t) => {
  const live = stored({ deleting: false });
  const bad = await validateDecision(update(live, edit(live, (o) => { o.spec.port = 0; })), ctx);
  t.equal(bad.outcome, 'denied');
  t.match(bad.response.status?.message, 'spec.port: Invalid value: 0');
  const good = await validateDecision(update(live, edit(live, (o) => { o.spec.port = 9090; })), { ...ctx, remoteMode: 'off' });
  t.equal(good.outcome, 'allowed', JSON.stringify(good.response.status));
});
