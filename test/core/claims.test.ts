// core/rules/claims.ts: who may hold which path and apiId. Table-driven: a holder is in the table, a claimant asks.
import t from 'tap';
import { derivedApiId } from '../../core/api-id.ts';
import { renderFieldError } from '../../core/field-error.ts';
import { checkClaims, ClaimTable, conflictText, pathRelation, ranksBefore, type Claimant } from '../../core/rules/claims.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
/** A claimant; the apiId is derived from namespace/name unless given. */
const c = (namespace: string, name: string, path: string, o: Partial<Claimant> = {}): Claimant => ({
  namespace, name, path, apiId: o.apiId ?? derivedApiId(namespace, name), apiIdDerived: o.apiId === undefined, createdMs: T0, ...o,
});

t.test('segment-wise path relations', async (t) => {
  const rows: [string, string, string | undefined][] = [
    ['payments/v1', 'payments/v1', 'same'],
    ['payments/v1/transfer', 'payments/v1', 'inside'],
    ['payments', 'payments/v1', 'contains'],
    ['payments/v10', 'payments/v1', undefined],
    ['payments/v1', 'payments/v10', undefined],
    ['payments-v1', 'payments', undefined],
  ];
  for (const [a, b, want] of rows) t.equal(pathRelation(a, b), want, `${a} vs ${b}`);
});

/** Holder in the table (created first), then a new object asks at admission. */
const admission: { name: string; holder: Claimant; claimant: Claimant; errors: string[] }[] = [
  { name: 'nested inside another namespace\'s path', holder: c('team-a', 'payments', '/payments/v1'), claimant: c('team-b', 'transfer', '/payments/v1/transfer'),
    errors: ['spec.path: Forbidden: path "/payments/v1/transfer" is inside path "/payments/v1", claimed by ExposedAPI team-a/payments of another namespace, and paths of different namespaces must not nest; choose a path outside "/payments/v1"'] },
  { name: 'a prefix of another namespace\'s path', holder: c('team-a', 'transfer', '/payments/v1/transfer'), claimant: c('team-b', 'payments', '/payments'),
    errors: ['spec.path: Forbidden: path "/payments" contains path "/payments/v1/transfer", claimed by ExposedAPI team-a/transfer of another namespace, and paths of different namespaces must not nest; choose a path that is not a prefix of "/payments/v1/transfer"'] },
  { name: 'nesting is compared case-insensitively', holder: c('team-a', 'payments', '/Payments/V1'), claimant: c('team-b', 'transfer', '/payments/v1/transfer'), errors: ['is inside path "/Payments/V1"'] },
  { name: 'nesting within one namespace is allowed', holder: c('team-a', 'payments', '/payments/v1'), claimant: c('team-a', 'transfer', '/payments/v1/transfer'), errors: [] },
  { name: 'a prefix within one namespace is allowed', holder: c('r1', 'catalog', '/r1-productcatalog/tmf-api/productCatalogManagement/v4'), claimant: c('r1', 'metrics', '/r1-productcatalog'), errors: [] },
  { name: 'v1 and v10 are different paths', holder: c('team-a', 'payments', '/payments/v1'), claimant: c('team-b', 'payments', '/payments/v10'), errors: [] },
  { name: 'the same path in another namespace', holder: c('team-a', 'payments', '/payments/v1'), claimant: c('team-b', 'payments', '/PAYMENTS/v1'),
    errors: ['spec.path: Forbidden: path "/PAYMENTS/v1" is already claimed by ExposedAPI team-a/payments in the same APIM service; choose another path or delete that ExposedAPI first'] },
  { name: 'the same path in the same namespace', holder: c('team-a', 'payments', '/payments/v1'), claimant: c('team-a', 'payments-2', '/payments/v1'), errors: ['already claimed by ExposedAPI team-a/payments'] },
  { name: 'an explicit apiId held by another object (case-insensitive)', holder: c('team-a', 'payments', '/a', { apiId: 'payments-prod' }), claimant: c('team-b', 'x', '/b', { apiId: 'Payments-Prod' }),
    errors: ['spec.apim.apiId: Forbidden: apiId "Payments-Prod" is already claimed by ExposedAPI team-a/payments (APIM compares ids case-insensitively); choose another spec.apim.apiId or delete that ExposedAPI first'] },
  { name: 'an explicit apiId equal to another object\'s derived id', holder: c('team-a', 'payments', '/a'), claimant: c('team-b', 'x', '/b', { apiId: 'team-a-payments' }), errors: ['apiId "team-a-payments" is already claimed by ExposedAPI team-a/payments'] },
  { name: 'derived ids: a-b/c then a/b-c', holder: c('a-b', 'c', '/one'), claimant: c('a', 'b-c', '/two'),
    errors: ['spec.apim.apiId: Forbidden: the apiId derived from namespace and name, "a-b-c", is already claimed by ExposedAPI a-b/c (APIM compares ids case-insensitively); set spec.apim.apiId to an id of its own'] },
  { name: 'path and apiId both taken: both reported', holder: c('team-a', 'payments', '/payments/v1', { apiId: 'pay' }), claimant: c('team-b', 'x', '/payments/v1/x', { apiId: 'pay' }),
    errors: ['spec.path: Forbidden: path "/payments/v1/x" is inside', 'spec.apim.apiId: Forbidden: apiId "pay"'] },
];

t.test('admission: a new claim is refused naming the holder and the fix', async (t) => {
  for (const row of admission) {
    const table = new ClaimTable();
    table.set(row.holder);
    const { createdMs: _, ...claim } = row.claimant;
    const got = checkClaims(claim, table).map(renderFieldError);
    t.equal(got.length, row.errors.length, `${row.name}: ${got.join(' | ') || 'no error'}`);
    for (const [i, e] of row.errors.entries()) t.match(got[i] ?? '', e, row.name);
  }
});

t.test('admission: a claim already held keeps its rank; a new or changed claim ranks last', async (t) => {
  const table = new ClaimTable();
  const older = c('team-a', 'payments', '/payments/v1', { createdMs: T0 });
  // Both got in (two replicas, or before the rule): the newer holds a conflicting path.
  const newer = c('team-b', 'transfer', '/payments/v1/transfer', { createdMs: T0 + 5000 });
  table.set(older);
  table.set(newer);
  const strip = ({ createdMs: _, ...rest }: Claimant) => rest;
  t.same(checkClaims(strip(older), table), [], 'the oldest holder can still be updated (same path)');
  t.match(checkClaims(strip(newer), table).map(renderFieldError), ['is inside path "/payments/v1"'], 'the newer one cannot be updated while the conflict lasts');
  t.match(checkClaims({ ...strip(older), path: '/payments/v1/transfer/x' }, table).map(renderFieldError), ['is inside path "/payments/v1/transfer", claimed by ExposedAPI team-b/transfer'],
    'moving the older onto a path the newer holds is a new claim: refused, whoever is older');
  t.same(checkClaims({ ...strip(newer), path: '/transfers/v1' }, table), [], 'moving the newer away is fine');
  t.same(checkClaims(strip(older), undefined), [], 'no claims known: no rule');
});

t.test('ranking: creation time, then namespace, then name; the same answer in any insertion order', async (t) => {
  const a = c('ns-a', 'z', '/p', { createdMs: T0 });
  const b = c('ns-b', 'a', '/p', { createdMs: T0 });
  const d = c('ns-a', 'y', '/p/x', { createdMs: T0 });
  const early = c('ns-z', 'late-name', '/p', { createdMs: T0 - 1000 });
  t.ok(ranksBefore(a, b) && !ranksBefore(b, a), 'same second: namespace order');
  t.ok(ranksBefore(d, a), 'same second and namespace: name order');
  t.ok(ranksBefore(early, a), 'an earlier creation wins over any name');
  t.notOk(ranksBefore(a, a), 'not before itself');
  const orders = [[a, b, d, early], [early, d, b, a], [b, early, a, d]];
  const answers = orders.map((order) => {
    const table = new ClaimTable();
    for (const x of order) table.set(x);
    return [a, b, d, early].map((x) => table.conflictsOf(x).map((k) => `${k.kind}:${k.holder.namespace}/${k.holder.name}`));
  });
  t.same(answers[1], answers[0]);
  t.same(answers[2], answers[0]);
  t.same(answers[0], [['path:ns-z/late-name'], ['path:ns-z/late-name'], ['path:ns-z/late-name'], []], 'every later claimant loses to the earliest; the earliest loses nothing');
});

t.test('the dispatcher\'s view: the claims each stored object loses', async (t) => {
  const table = new ClaimTable();
  const holder = c('team-a', 'payments', '/payments/v1', { createdMs: T0 });
  const loser = c('team-b', 'transfer', '/payments/v1/transfer', { createdMs: T0 + 1000 });
  const sibling = c('team-a', 'admin', '/payments/v1/admin', { createdMs: T0 + 2000 });
  const idClash = c('a', 'b-c', '/abc', { createdMs: T0 + 3000 });
  const idHolder = c('a-b', 'c', '/abc2', { createdMs: T0 + 2500 });
  for (const x of [loser, holder, sibling, idClash, idHolder]) table.set(x);
  t.same(table.conflictsOf(holder), [], 'the oldest keeps its path');
  t.same(table.conflictsOf(sibling), [], 'its namespace\'s nested path is fine');
  const lost = table.conflictsOf(loser);
  t.same(lost.map((k) => [k.kind, k.relation, k.holder.name]), [['path', 'inside', 'payments']]);
  t.match(conflictText(lost[0]!), 'path "/payments/v1/transfer" is inside path "/payments/v1", claimed by ExposedAPI team-a/payments');
  t.same(table.conflictsOf(idClash).map((k) => [k.kind, `${k.holder.namespace}/${k.holder.name}`]), [['apiId', 'a-b/c']]);
  t.same(table.conflictsOf(idHolder), []);
});

t.test('set and release name the objects whose standing may change; unchanged claims name none', async (t) => {
  const table = new ClaimTable();
  const holder = c('team-a', 'payments', '/payments/v1', { createdMs: T0 });
  const loser = c('team-b', 'transfer', '/payments/v1/transfer', { createdMs: T0 + 1000 });
  const sibling = c('team-a', 'admin', '/payments/v1/admin', { createdMs: T0 + 2000 });
  t.same(table.set(holder), []);
  t.same(table.set(loser), ['team-a/payments']);
  t.same(table.set(sibling), [], 'nested in its own namespace\'s path, beside the other namespace\'s: nobody affected');
  t.same(table.set({ ...holder }), [], 'a status write: same claims, nothing to re-plan');
  t.same(table.set({ ...holder, path: '/PAYMENTS/v1' }), [], 'a different spelling of the same claim');
  t.same(table.set({ ...holder, path: '/payments/v2' }).sort(), ['team-b/transfer'], 'the holder moved: the loser is planned again');
  t.same(table.conflictsOf(loser), [], 'and now wins');
  t.same(table.set({ ...holder, path: '/payments/v1' }), ['team-b/transfer']);
  t.same(table.release(holder), ['team-b/transfer'], 'the holder is gone: the loser is planned again');
  t.same(table.release(holder), [], 'twice is harmless');
  t.equal(table.size, 2);
});

t.test('thousands of objects: a check is a few look-ups', async (t) => {
  const table = new ClaimTable();
  const n = 5000;
  for (let i = 0; i < n; i++) table.set(c(`ns-${i % 100}`, `api-${i}`, `/r${i % 100}-component/tmf-api/api${i}/v4`, { createdMs: T0 + i }));
  const started = performance.now();
  let conflicts = 0;
  for (let i = 0; i < n; i++) conflicts += checkClaims({ namespace: 'other', name: `new-${i}`, path: `/r${i % 100}-component/tmf-api/api${i}/v4/x`, apiId: `new-${i}`, apiIdDerived: false }, table).length;
  const ms = performance.now() - started;
  t.equal(conflicts, n, 'every nested claim from another namespace is found');
  t.ok(ms < 2000, `${n} checks against ${n} holders in ${ms.toFixed(0)} ms`);
});
