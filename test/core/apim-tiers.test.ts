// core/apim-tiers.ts: which tier offers which rendered policy, the Forbidden errors that name the field, the policy,
// the tier and the fix, and the admission check behind APIM_SKU (core/operator-config.ts, core/validate-exposedapi.ts).
import t from 'tap';
import { renderFieldError } from '../../core/field-error.ts';
import { APIM_SKUS, knownSku, POLICY_TIERS, policyOffered, tierErrors, type ApimSku } from '../../core/apim-tiers.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { policiesUsed } from '../../core/policy-xml.ts';
import { readExposedApi } from '../../core/exposedapi-model.ts';
import { defaultValidationContext, validateExposedApi } from '../../core/validate-exposedapi.ts';
import { exposedApi } from '../helpers/fixtures.ts';

const CLASSIC: ApimSku[] = ['Developer', 'Basic', 'Standard', 'Premium', 'Isolated'];
const V2: ApimSku[] = ['BasicV2', 'StandardV2', 'PremiumV2'];

t.test('the table: every tier against every policy the renderer emits', async (t) => {
  const offeredIn = (policy: string): ApimSku[] => APIM_SKUS.filter((s) => policyOffered(policy, s));
  const expected: [string, ApimSku[]][] = [
    ['quota-by-key', CLASSIC],
    ['rate-limit-by-key', [...CLASSIC, ...V2]],
    ['cors', [...APIM_SKUS]],
    ['validate-jwt', [...APIM_SKUS]],
    ['validate-content', [...APIM_SKUS]],
    ['validate-parameters', [...APIM_SKUS]],
    ['validate-headers', [...APIM_SKUS]],
    ['validate-status-code', [...APIM_SKUS]],
    ['include-fragment', [...APIM_SKUS]],
  ];
  for (const [policy, skus] of expected) t.same(offeredIn(policy).sort(), [...skus].sort(), policy);
  t.same(Object.keys(POLICY_TIERS).sort(), expected.map(([p]) => p).sort(), 'every row is tested');
  for (const [policy, row] of Object.entries(POLICY_TIERS)) t.match(row.source, /^https:\/\/learn\.microsoft\.com\//, `${policy} cites its page`);
  t.ok(policyOffered('set-header', 'Consumption'), 'a policy outside the table is left to APIM');
});

t.test('SKU names as the service reports them', async (t) => {
  const cases: [string | undefined, ApimSku | undefined][] = [
    ['StandardV2', 'StandardV2'],
    ['standardv2', 'StandardV2'],
    [' Consumption ', 'Consumption'],
    ['Isolated', 'Isolated'],
    ['PremiumV3', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [name, sku] of cases) t.equal(knownSku(name), sku, String(name));
});

const model = (spec: Record<string, unknown>, apiType = 'openapi') => readExposedApi(exposedApi({ spec: { apiType, ...spec } })).model;
const usesOf = (spec: Record<string, unknown>, apiType = 'openapi') => {
  const m = model(spec, apiType);
  return policiesUsed({ spec: m.spec, jwt: m.spec.apim.jwt, documentValidation: apiType === 'openapi' });
};

const ODA_EXAMPLE = {
  apiKeyVerification: { enabled: true },
  rateLimit: { enabled: true, identifier: 'IP', limit: '100', interval: 'pm' },
  quota: { identifier: 'test-identifier', limit: '1000' },
  OASValidation: { requestEnabled: true, responseEnabled: true },
  CORS: { enabled: true },
  template: 'oda-example',
};

t.test('tier errors per ExposedAPI and tier: the field, the policy, the tier, the fix', async (t) => {
  const cases: { name: string; spec: Record<string, unknown>; sku: ApimSku; fields: string[] }[] = [
    { name: 'ODA example on Developer', spec: ODA_EXAMPLE, sku: 'Developer', fields: [] },
    { name: 'ODA example on Premium', spec: ODA_EXAMPLE, sku: 'Premium', fields: [] },
    { name: 'ODA example on Isolated (classic)', spec: ODA_EXAMPLE, sku: 'Isolated', fields: [] },
    { name: 'ODA example on StandardV2: the quota', spec: ODA_EXAMPLE, sku: 'StandardV2', fields: ['spec.quota'] },
    { name: 'ODA example on BasicV2: the quota', spec: ODA_EXAMPLE, sku: 'BasicV2', fields: ['spec.quota'] },
    { name: 'ODA example on Consumption: rate limit and quota', spec: ODA_EXAMPLE, sku: 'Consumption', fields: ['spec.rateLimit', 'spec.quota'] },
    { name: 'rate limit alone on PremiumV2', spec: { rateLimit: { enabled: true, identifier: 'IP', limit: '5' } }, sku: 'PremiumV2', fields: [] },
    { name: 'rate limit alone on Consumption', spec: { rateLimit: { enabled: true, identifier: 'IP', limit: '5' } }, sku: 'Consumption', fields: ['spec.rateLimit'] },
    { name: 'a disabled rate limit and an empty quota on Consumption', spec: { rateLimit: { enabled: false, limit: '5' }, quota: { identifier: 'IP', limit: '' } }, sku: 'Consumption', fields: [] },
    { name: 'CORS, validation and a template on Consumption', spec: { CORS: { enabled: true }, OASValidation: { requestEnabled: true, responseEnabled: true }, template: 't' }, sku: 'Consumption', fields: [] },
  ];
  for (const c of cases) {
    const errors = tierErrors(usesOf(c.spec), c.sku, `APIM service 'apim-x'`);
    t.same(errors.map((e) => e.field), c.fields, c.name);
    for (const e of errors) {
      t.equal(e.reason, 'Forbidden', `${c.name}: Forbidden`);
      const text = renderFieldError(e);
      const policy = e.field === 'spec.quota' ? 'quota-by-key' : 'rate-limit-by-key';
      t.match(text, `${e.field}: Forbidden: renders APIM's ${policy} policy, which the ${c.sku} tier does not offer (APIM service 'apim-x'; offered in `, `${c.name}: names the policy and the tier`);
      t.match(text, `remove ${e.field} from the ExposedAPI, or publish to an API Management service of one of those tiers`, `${c.name}: says the fix`);
    }
  }
});

t.test('APIM_SKU: empty = not checked at admission; a known name; anything else refused with the list', async (t) => {
  const ok = readWebhookConfig({ APIM_SKU: 'StandardV2' });
  t.equal(ok.ok && ok.config.apimSku, 'StandardV2');
  const unset = readWebhookConfig({});
  t.equal(unset.ok && unset.config.apimSku, undefined);
  const bad = readWebhookConfig({ APIM_SKU: 'Standard_v2' });
  t.notOk(bad.ok);
  if (!bad.ok) t.match(bad.errors.join('\n'), `APIM_SKU="Standard_v2" is invalid: must be the service's sku.name, one of Consumption, Developer, Basic, Standard, Premium, Isolated, BasicV2, StandardV2, PremiumV2`);
});

t.test('admission denies a policy the configured tier lacks, and only then', async (t) => {
  const obj = exposedApi({ spec: { quota: { identifier: 'IP', limit: '1000' } } });
  const denied = await validateExposedApi(obj, defaultValidationContext({ apimSku: 'StandardV2' }));
  t.same(denied.errors.map((e) => [e.field, e.reason]), [['spec.quota', 'Forbidden']]);
  t.match(denied.errors[0]!.detail, /quota-by-key policy, which the StandardV2 tier does not offer \(APIM_SKU; offered in Developer, Basic, Standard, Premium, Isolated;/);
  t.same((await validateExposedApi(obj, defaultValidationContext({ apimSku: 'Standard' }))).errors, [], 'Standard offers it');
  t.same((await validateExposedApi(obj, defaultValidationContext())).errors, [], 'no tier configured: not checked');
  // A pass-through API has no document to validate against: OASValidation renders nothing and is never a tier issue.
  const metrics = exposedApi({ spec: { apiType: 'prometheus', specification: undefined, OASValidation: { requestEnabled: true } } });
  t.same(usesOf({ OASValidation: { requestEnabled: true } }, 'prometheus'), [], 'pass-through: no validation policies');
  t.same((await validateExposedApi(metrics, defaultValidationContext({ apimSku: 'Consumption' }))).errors, []);
});

t.test('the operator\'s table and the emulator\'s independent one agree on every tier both know', async (t) => {
  const { SKU_NAMES, offersPolicy } = await import('../../emulator/sku-tiers.ts');
  const shared = APIM_SKUS.filter((s) => SKU_NAMES.includes(s));
  t.ok(shared.length >= 8, `${shared.join(', ')}`);
  for (const sku of shared) {
    for (const policy of Object.keys(POLICY_TIERS)) t.equal(policyOffered(policy, sku), offersPolicy(sku, policy), `${policy} on ${sku}`);
  }
});
