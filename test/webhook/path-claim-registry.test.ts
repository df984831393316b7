// webhook/path-claim-registry.ts: the informer's summary carries the path and the effective apiId; claims admitted a
// moment ago count until the watch confirms them; the dispatcher's view ranks stored objects only.
import t from 'tap';
import { PathClaimRegistry, pathSummary } from '../../webhook/path-claim-registry.ts';

const obj = (namespace: string, name: string, path: string, apiId?: string, created = '2026-11-21T10:00:00Z') => ({
  apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI',
  metadata: { namespace, name, creationTimestamp: created },
  spec: { path, ...(apiId !== undefined ? { apim: { apiId } } : {}) },
});

t.test('the summary: path, effective apiId, creation time', async (t) => {
  t.same(pathSummary(obj('team-a', 'payments', '/payments/v1')), {
    namespace: 'team-a', name: 'payments', path: '/payments/v1', apiId: 'team-a-payments', apiIdDerived: true, createdMs: Date.parse('2026-11-21T10:00:00Z'),
  });
  t.match(pathSummary(obj('team-a', 'payments', '/p', 'Payments-Prod')), { apiId: 'Payments-Prod', apiIdDerived: false });
  t.match(pathSummary({ metadata: { namespace: 'n', name: 'x' } }), { path: '', apiId: 'n-x' }, 'no spec: no path claim, the derived id');
});

t.test('pending claims: a second create right after the first is refused; the watch then takes over', async (t) => {
  const registry = new PathClaimRegistry();
  const ask = (namespace: string, name: string, path: string, apiId = '') => registry.conflictsOf({
    namespace, name, path, apiId, apiIdDerived: false, createdMs: Number.POSITIVE_INFINITY,
  }).map((c) => `${c.kind}:${c.holder.namespace}/${c.holder.name}`);
  registry.admitted(obj('team-a', 'payments', '/payments/v1', 'pay'), 'team-a', 'payments');
  t.same(ask('team-b', 'transfer', '/payments/v1/transfer'), ['path:team-a/payments'], 'nested path, before the watch delivered the first');
  t.same(ask('team-b', 'other', '/other', 'PAY'), ['apiId:team-a/payments'], 'apiId, before the watch delivered the first');
  t.same(registry.lostBy({ namespace: 'team-b', name: 'transfer' }), [], 'the dispatcher never sees pending claims');
  t.same(registry.observed(pathSummary(obj('team-a', 'payments', '/payments/v1', 'pay'))), [], 'confirmed by the watch');
  t.same(ask('team-b', 'transfer', '/payments/v1/transfer'), ['path:team-a/payments'], 'still held, now as a stored object');
  t.same(registry.removed({ namespace: 'team-a', name: 'payments' }), []);
  t.same(ask('team-b', 'transfer', '/payments/v1/transfer'), [], 'gone with the object');
});

t.test('pending claims expire when the watch never confirms them (a create the apiserver then refused)', async (t) => {
  const registry = new PathClaimRegistry(0);
  registry.admitted(obj('team-a', 'payments', '/payments/v1'), 'team-a', 'payments');
  await new Promise((r) => setTimeout(r, 5));
  t.same(registry.conflictsOf({ namespace: 'team-b', name: 'x', path: '/payments/v1', apiId: '', apiIdDerived: false, createdMs: Infinity }), []);
});

t.test('the dispatcher\'s view: the newer of two stored conflicting objects loses, and a change names who to plan again', async (t) => {
  const registry = new PathClaimRegistry();
  t.same(registry.observed(pathSummary(obj('team-a', 'payments', '/payments/v1', undefined, '2026-11-21T10:00:00Z'))), []);
  t.same(registry.observed(pathSummary(obj('team-b', 'transfer', '/payments/v1/transfer', undefined, '2026-11-21T10:00:01Z'))), ['team-a/payments']);
  t.same(registry.lostBy({ namespace: 'team-a', name: 'payments' }), []);
  t.match(registry.lostBy({ namespace: 'team-b', name: 'transfer' }), [{ kind: 'path', relation: 'inside', holder: { namespace: 'team-a', name: 'payments' } }]);
  t.same(registry.removed({ namespace: 'team-a', name: 'payments' }), ['team-b/transfer'], 'the holder is gone: plan the loser again');
  t.same(registry.lostBy({ namespace: 'team-b', name: 'transfer' }), []);
});
