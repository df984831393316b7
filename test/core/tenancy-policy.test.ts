// The tenancy policy (core/tenancy-policy.ts, core/rules/tenancy.ts): parsing with every problem reported, the rule
// that applies to a namespace, and the field errors it gives, through the one validation entry point.
import t from 'tap';
import { readExposedApi } from '../../core/exposedapi-model.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { checkTenancy } from '../../core/rules/tenancy.ts';
import { parseTenancyPolicy, ruleFor, underPrefix, type TenancyPolicy } from '../../core/tenancy-policy.ts';
import { defaultValidationContext, validateExposedApi } from '../../core/validate-exposedapi.ts';
import { exposedApi } from '../helpers/fixtures.ts';

const POLICY_YAML = `
rules:
  - namespaces: ["team-*"]
    pathPrefixes: ["/{namespace}"]
    apiIdPrefix: "{namespace}-"
    products: ["{namespace}-*", "public"]
    tags: ["tmf*"]
    backendHosts: ["*.{namespace}.example.com"]
    jwtIssuers: ["https://issuer.example.com/*"]
  - namespaces: ["platform"]
    allowAdoption: true
`;

const policy = (() => {
  const parsed = parseTenancyPolicy(POLICY_YAML);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.policy;
})();

t.test('parsing: every problem named with where it is', async (t) => {
  t.same(parseTenancyPolicy(''), { ok: true, policy: { rules: [] } }, 'no policy = unrestricted');
  const bad = parseTenancyPolicy('rules:\n  - namespaces: []\n    pathPrefixes: ["payments/"]\n    apiIdPrefix: 3\n    allowAdoption: "yes"\n    color: red\nextra: 1');
  t.equal(bad.ok, false);
  const errors = bad.ok ? [] : bad.errors;
  for (const e of [
    'TENANCY_POLICY.extra is not a known key',
    'TENANCY_POLICY.rules[0].color is not a known key',
    'TENANCY_POLICY.rules[0].namespaces must list the namespaces',
    'TENANCY_POLICY.rules[0].pathPrefixes[0] = "payments/" must start with "/"',
    'TENANCY_POLICY.rules[0].apiIdPrefix must be a non-empty string',
    'TENANCY_POLICY.rules[0].allowAdoption must be true or false',
  ]) t.ok(errors.some((x) => x.startsWith(e)), e);
  t.match(parseTenancyPolicy('rules: [').ok ? '' : 'invalid', 'invalid', 'YAML errors are reported, not thrown');
  const config = readWebhookConfig({ TENANCY_POLICY: 'rules: 7' });
  t.equal(config.ok, false, 'the webhook refuses to start with a bad policy');
});

t.test('the first matching rule applies, with {namespace} filled in', async (t) => {
  t.same(ruleFor(policy, 'team-a'), {
    index: 0,
    allowAdoption: false,
    pathPrefixes: ['/team-a'],
    products: ['team-a-*', 'public'],
    tags: ['tmf*'],
    backendHosts: ['*.team-a.example.com'],
    jwtIssuers: ['https://issuer.example.com/*'],
    apiIdPrefix: 'team-a-',
  });
  t.same(ruleFor(policy, 'platform'), { index: 1, allowAdoption: true });
  t.equal(ruleFor(policy, 'components'), undefined, 'no rule: unrestricted (ODA Canvas paths keep working)');
  t.ok(underPrefix('/team-a/payments/v1', '/team-a'));
  t.ok(underPrefix('/TEAM-A', '/team-a'), 'APIM paths compare case-insensitively');
  t.notOk(underPrefix('/team-ab/payments', '/team-a'), 'segment-wise, not by characters');
});

const model = (ns: string, spec: Record<string, unknown>, name = 'payments') => readExposedApi(exposedApi({ metadata: { name, namespace: ns }, spec })).model;

t.test('field errors for what the namespace may not publish', async (t) => {
  const cases: { what: string; ns: string; spec: Record<string, unknown>; apiId: string; fields: string[] }[] = [
    { what: 'all allowed', ns: 'team-a', apiId: 'team-a-payments', spec: { path: '/team-a/payments/v1', apim: { products: ['team-a-gold', 'public'], tags: ['tmf620'], backend: { mode: 'url', url: 'https://api.team-a.example.com/x' }, authentication: { jwt: { openidConfigUrl: 'https://issuer.example.com/.well-known/openid-configuration', issuers: ['https://issuer.example.com/t1'] } } } }, fields: [] },
    { what: 'another team\'s path', ns: 'team-a', apiId: 'team-a-payments', spec: { path: '/team-b/payments/v1' }, fields: ['spec.path'] },
    { what: 'an explicit apiId without the prefix', ns: 'team-a', apiId: 'payments-prod', spec: { path: '/team-a/p', apim: { apiId: 'payments-prod' } }, fields: ['spec.apim.apiId'] },
    { what: 'a derived apiId without the prefix', ns: 'team-a', apiId: 'other-payments', spec: { path: '/team-a/p' }, fields: ['metadata.name'] },
    { what: 'products and tags outside the lists', ns: 'team-a', apiId: 'team-a-p', spec: { path: '/team-a/p', apim: { products: ['team-b-gold', 'public'], tags: ['internal'] } }, fields: ['spec.apim.products[0]', 'spec.apim.tags[0]'] },
    { what: 'a backend host outside the list', ns: 'team-a', apiId: 'team-a-p', spec: { path: '/team-a/p', apim: { backend: { mode: 'url', url: 'https://billing.team-b.example.com/' } } }, fields: ['spec.apim.backend.url'] },
    { what: 'an issuer outside the list, and none listed', ns: 'team-a', apiId: 'team-a-p', spec: { path: '/team-a/p', apim: { authentication: { jwt: { openidConfigUrl: 'https://evil.example.net/.well-known/openid-configuration', issuers: ['https://evil.example.net/'] } } } }, fields: ['spec.apim.authentication.jwt.issuers[0]'] },
    { what: 'no rule for the namespace', ns: 'components', apiId: 'anything', spec: { path: '/r1-productcatalog/tmf-api/productCatalogManagement/v4', apim: { products: ['x'] } }, fields: [] },
  ];
  for (const c of cases) {
    const errors = checkTenancy(model(c.ns, c.spec), ruleFor(policy, c.ns), c.apiId);
    t.same(errors.map((e) => e.field), c.fields, c.what);
    for (const e of errors) {
      t.equal(e.reason, 'Forbidden', `${c.what}: Forbidden`);
      t.match(e.detail, `namespace "${c.ns}" (the operator's tenancy policy (TENANCY_POLICY), rule 0)`, `${c.what}: names the policy`);
    }
  }
  const noIssuers = checkTenancy(model('team-a', { path: '/team-a/p', apim: { authentication: { jwt: { openidConfigUrl: 'https://issuer.example.com/.well-known/openid-configuration' } } } }), ruleFor(policy, 'team-a'), 'team-a-p');
  t.same(noIssuers.map((e) => e.field), ['spec.apim.authentication.jwt.issuers'], 'a restricted namespace must name its issuers');
});

t.test('the one validation entry point applies the policy (webhook, validate CLI and executor alike)', async (t) => {
  const obj = exposedApi({ metadata: { name: 'payments', namespace: 'team-a' }, spec: { path: '/payments/v1' } });
  const withPolicy = await validateExposedApi(obj, defaultValidationContext({ tenancy: policy as TenancyPolicy }));
  t.same(withPolicy.errors.map((e) => e.field).sort(), ['spec.path'], 'derived id team-a-payments has the prefix; the path does not');
  const without = await validateExposedApi(obj, defaultValidationContext());
  t.same(without.errors, [], 'no policy: the same object is fine');
});
