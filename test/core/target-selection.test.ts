// Which instance an ExposedAPI publishes into (core/target-selection.ts): spec.apim.target, else the namespace
// selector, else the default, else the operator's own instance; under the tenancy policy's `targets`; every refusal
// an answer with its field and fix. And the one rulebook at admission: the choice's tier, its refusal, and claims
// that are unique per instance (the same path on two targets is allowed, on one it is refused).
import t from 'tap';
import { TargetDirectory, type TargetChoice } from '../../core/target-selection.ts';
import { parseTenancyPolicy, NO_POLICY, type TenancyPolicy } from '../../core/tenancy-policy.ts';
import { ClaimTable } from '../../core/rules/claims.ts';
import { defaultValidationContext, validateExposedApi } from '../../core/validate-exposedapi.ts';
import { renderFieldError } from '../../core/field-error.ts';
import { exposedApi } from '../helpers/fixtures.ts';

const SUB = '00000000-0000-0000-0000-0000000000aa';
const id = (service: string) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/${service}`;
const target = (name: string, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { resourceId: id(name), ...spec } });
const policyOf = (yaml: string): TenancyPolicy => {
  const p = parseTenancyPolicy(yaml);
  if (!p.ok) throw new Error(p.errors.join('; '));
  return p.policy;
};
const summary = (c: TargetChoice): string => (c.kind === 'target' ? `${c.target.name} via ${c.via}` : c.kind === 'operator' ? 'operator' : `${c.reason} at ${c.field}`);

function directory(targets: object[], namespaces: Record<string, Record<string, string>> = {}, operatorServiceId?: string): TargetDirectory {
  const d = new TargetDirectory(operatorServiceId);
  for (const tg of targets) d.setTarget(tg);
  for (const [ns, labels] of Object.entries(namespaces)) d.setNamespace(ns, labels);
  return d;
}

t.test('the order: spec.apim.target, namespace selector, default, the operator\'s instance', async (t) => {
  const d = directory(
    [target('weu', { namespaceSelector: { matchLabels: { region: 'weu' } } }), target('neu', { default: true }), target('spare')],
    { 'team-a': { region: 'weu' }, 'team-b': {} },
  );
  const cases: [string, string | undefined, string][] = [
    ['team-a', 'spare', 'spare via spec.apim.target'],
    ['team-a', undefined, 'weu via namespaceSelector'],
    ['team-b', undefined, 'neu via default'],
    ['unlabelled', undefined, 'neu via default'],
    ['team-b', 'nowhere', 'TargetNotFound at spec.apim.target'],
  ];
  for (const [ns, explicit, want] of cases) t.equal(summary(d.choose(ns, explicit, NO_POLICY)), want, `${ns} ${explicit ?? '(none)'}`);
  t.equal(summary(directory([]).choose('team-b', undefined, NO_POLICY)), 'operator', 'no ApimTarget at all: the operator\'s own instance');
  t.equal(summary(directory([target('x')]).choose('team-b', undefined, NO_POLICY)), 'operator', 'targets, but none selects or defaults');
});

t.test('refusals name the field, the value and the fix', async (t) => {
  const d = directory(
    [
      target('a', { namespaceSelector: { matchLabels: { shared: 'yes' } } }),
      target('b', { namespaceSelector: { matchExpressions: [{ key: 'shared', operator: 'Exists' }] } }),
      target('broken', { tier: 'Gold' }),
      target('twin', { resourceId: id('a') }),
    ],
    { both: { shared: 'yes' } },
  );
  const ambiguous = d.choose('both', undefined, NO_POLICY);
  t.match(ambiguous, { kind: 'refused', reason: 'TargetAmbiguous', message: /namespace "both" is selected by the namespaceSelector of ApimTargets "a", "b"; set spec\.apim\.target/ });
  t.equal(summary(d.choose('both', 'b', NO_POLICY)), 'b via spec.apim.target', 'naming one settles it');
  t.match(d.choose('x', 'broken', NO_POLICY), { kind: 'refused', reason: 'TargetInvalid', message: /ApimTarget "broken" is not usable: spec\.tier: Unsupported value: "Gold"/ });
  t.match(d.choose('x', 'twin', NO_POLICY), { kind: 'refused', reason: 'TargetInvalid', message: /names the same APIM instance as ApimTarget "a"/ }, 'two targets for one instance: the second is unusable');
  t.match(d.choose('x', 'nope', NO_POLICY), { kind: 'refused', reason: 'TargetNotFound', message: /ApimTarget "nope" does not exist; use one of "a", "b"/ });
  const twoDefaults = directory([target('d1', { default: true }), target('d2', { default: true })]);
  t.match(twoDefaults.choose('x', undefined, NO_POLICY), { kind: 'refused', reason: 'TargetAmbiguous', message: /"d1", "d2" are all spec\.default: true/ });
});

t.test('the tenancy policy says which targets a namespace may use', async (t) => {
  const policy = policyOf(`
rules:
  - namespaces: ["team-*"]
    targets: ["shared-*", "{namespace}"]
  - namespaces: ["locked"]
    targets: []
`);
  const d = directory([target('shared-weu'), target('team-a'), target('team-b'), target('prod', { default: true })]);
  const cases: [string, string | undefined, string][] = [
    ['team-a', 'shared-weu', 'shared-weu via spec.apim.target'],
    ['team-a', 'team-a', 'team-a via spec.apim.target'],
    ['team-a', 'team-b', 'TargetNotAllowed at spec.apim.target'],
    ['team-a', undefined, 'TargetNotAllowed at metadata.namespace'],
    ['locked', 'shared-weu', 'TargetNotAllowed at spec.apim.target'],
    ['other', 'team-b', 'team-b via spec.apim.target'],
  ];
  for (const [ns, explicit, want] of cases) t.equal(summary(d.choose(ns, explicit, policy)), want, `${ns} → ${explicit ?? '(default)'}`);
  t.match(d.choose('team-a', 'team-b', policy), { message: /namespace "team-a" may not publish into ApimTarget "team-b" \(the operator's tenancy policy \(TENANCY_POLICY\), rule 0\); use one of "shared-\*", "team-a"/ });
  t.match(d.choose('team-a', undefined, policy), { message: /chosen by its spec\.default; set spec\.apim\.target to an allowed one/ });
  t.match(d.choose('locked', 'shared-weu', policy), { message: /remove spec\.apim\.target to use the operator's own instance/ });
  t.equal(summary(directory([]).choose('locked', undefined, policy)), 'operator', 'the operator\'s own instance is always allowed');
});

t.test('the directory follows its watches: changes are reported, namespace labels matter only with selectors', async (t) => {
  const d = new TargetDirectory();
  t.equal(d.setTarget(target('a')), true);
  t.equal(d.setTarget(target('a')), false, 'the same object again: no change');
  t.equal(d.selectsByLabel, false);
  t.equal(d.setTarget(target('a', { namespaceSelector: { matchLabels: { x: 'y' } } })), true);
  t.equal(d.selectsByLabel, true);
  t.equal(d.setNamespace('n', { x: 'y' }), true);
  t.equal(d.setNamespace('n', { x: 'y' }), false);
  t.equal(summary(d.choose('n', undefined, NO_POLICY)), 'a via namespaceSelector');
  t.equal(d.removeTarget('a'), true);
  t.equal(d.removeTarget('a'), false);
  t.equal(summary(d.choose('n', undefined, NO_POLICY)), 'operator');
});

t.test('claim scopes: the instance\'s ARM id, the operator\'s own when known', async (t) => {
  const d = directory([target('weu'), target('same', { resourceId: id('operator').toUpperCase().replace('/SUBSCRIPTIONS/', '/subscriptions/') })], {}, id('operator'));
  t.equal(d.scopeOf(d.choose('n', 'weu', NO_POLICY)), id('weu').toLowerCase());
  t.equal(d.scopeOf(d.choose('n', undefined, NO_POLICY)), id('operator').toLowerCase());
  t.equal(d.scopeOf(d.choose('n', 'same', NO_POLICY)), d.scopeOf(d.choose('n', undefined, NO_POLICY)), 'a target for the operator\'s own instance shares its claims');
  t.equal(d.scopeOf(d.choose('n', 'nope', NO_POLICY)), undefined, 'a refused choice claims nothing');
  t.equal(new TargetDirectory().scopeOf({ kind: 'operator' }), '', 'instance unknown: its own scope');
});

t.test('admission: the choice, its tier and per-instance claims, in the one rulebook', async (t) => {
  const d = directory([target('weu', { tier: 'Consumption' }), target('neu')], {});
  const table = new ClaimTable();
  // team-a holds /payments/v1 on weu, team-c the same path on the operator's instance.
  table.set({ namespace: 'team-a', name: 'pay', path: '/payments/v1', apiId: 'team-a-pay', apiIdDerived: true, createdMs: 1, scope: d.scopeOf(d.choose('team-a', 'weu', NO_POLICY)) });
  table.set({ namespace: 'team-c', name: 'pay', path: '/payments/v1', apiId: 'team-c-pay', apiIdDerived: true, createdMs: 2, scope: '' });
  const ctx = defaultValidationContext({ remoteMode: 'off', claims: table, targets: d });
  const check = async (apim: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const obj = exposedApi({ metadata: { name: 'pay', namespace: 'team-b' }, spec: { path: '/payments/v1', apim, ...extra } });
    return (await validateExposedApi(obj, ctx)).errors.map(renderFieldError);
  };
  t.same(await check({ target: 'neu' }), [], 'the same path on another target is allowed');
  t.match((await check({ target: 'weu' })).join('\n'), /spec\.path: Forbidden: path "\/payments\/v1" is already claimed by ExposedAPI team-a\/pay in the same APIM service/, 'the same path on the same target is refused');
  t.match((await check({})).join('\n'), /already claimed by ExposedAPI team-c\/pay/, 'the operator\'s instance is an instance like the others');
  t.match((await check({ target: 'nope' })).join('\n'), /spec\.apim\.target: Forbidden: ApimTarget "nope" does not exist/);
  t.match((await check({ target: 'neu', apiId: 'team-a-pay' })).join('\n'), /^$/, 'apiIds are per instance too');
  t.match((await check({ target: 'weu' }, { path: '/other/v1', rateLimit: { enabled: true, limit: '5', interval: 'ps' } })).join('\n'), /the Consumption tier does not offer \(ApimTarget "weu" \(spec\.tier\)/, 'the target\'s tier is checked');
});
