// Nothing a tenant writes becomes a named-value reference, a policy expression or markup in APIM: for every value
// that reaches APIM, each payload is refused at admission with an error naming the field, and the renderers refuse
// the raw (unvalidated) model, so nothing unsafe reaches policy XML or the API settings even if validation is skipped.
import t from 'tap';
import { readExposedApi, type ExposedApi } from '../../core/exposedapi-model.ts';
import { renderFieldError } from '../../core/field-error.ts';
import { renderPolicyXml } from '../../core/policy-xml.ts';
import { apimSafe, unsafeApimValueReason, UnsafeApimValueError } from '../../core/rules/apim-value-safety.ts';
import { defaultValidationContext, validateExposedApi } from '../../core/validate-exposedapi.ts';
import { desiredApi } from '../../executor/desired-api.ts';
import { openidProviderContract } from '../../executor/openid-provider.ts';
import { exitCodeOf, inStep } from '../../executor/step-outcome.ts';
import { StepFailure } from '../../executor/step-failure.ts';
import { EXIT_PERMANENT } from '../../core/exposedapi-status.ts';
import { exposedApi } from '../helpers/fixtures.ts';

type Obj = Record<string, any>;

const PAYLOADS: [string, string][] = [
  ['named value', '{{secret}}'],
  ['expression', '@(context.Variables["x"])'],
  ['multi-statement expression', '@{return 1;}'],
  ['markup', '<set-header name="x"/>'],
  ['bidi override', 'ab\u202Ecd'],
];

const JWT_OK = { openidConfigUrl: 'https://login.example.com/.well-known/openid-configuration' };
const cors = (o: Obj): Obj => ({ spec: { CORS: { enabled: true, allowOrigins: 'https://a.example.com', ...o } } });
const jwt = (o: Obj): Obj => ({ spec: { apim: { authentication: { jwt: { ...JWT_OK, ...o } } } } });

/** Every value that reaches APIM: where the payload goes in an ExposedAPI, and the field the error must name. */
const FIELDS: { field: (p: string) => string; patch: (p: string) => Obj; policy?: boolean; api?: boolean }[] = [
  { field: () => 'spec.name', patch: (p) => ({ spec: { name: p } }), api: true },
  { field: () => 'spec.path', patch: (p) => ({ spec: { path: `/api/${p}` } }), api: true },
  { field: () => 'spec.developerUI', patch: (p) => ({ spec: { developerUI: `/docs/${p}` } }) },
  { field: () => 'spec.specification.url', patch: (p) => ({ spec: { specification: { url: `https://specs.example.com/${p}` } } }) },
  { field: () => 'spec.apiKeyVerification.location', patch: (p) => ({ spec: { apiKeyVerification: { enabled: true, location: p } } }), api: true },
  { field: () => 'spec.rateLimit.identifier', patch: (p) => ({ spec: { rateLimit: { enabled: true, limit: '10', identifier: p } } }), policy: true },
  { field: () => 'spec.quota.identifier', patch: (p) => ({ spec: { quota: { limit: '10', identifier: p } } }), policy: true },
  { field: () => 'spec.CORS.allowOrigins', patch: (p) => cors({ allowOrigins: `https://a.example.com, ${p}` }), policy: true },
  { field: () => 'spec.CORS.handlePreflightRequests.allowMethods', patch: (p) => cors({ handlePreflightRequests: { allowMethods: `GET, ${p}` } }), policy: true },
  { field: () => 'spec.CORS.handlePreflightRequests.allowHeaders', patch: (p) => cors({ handlePreflightRequests: { allowHeaders: `Content-Type, ${p}` } }), policy: true },
  { field: () => 'spec.template', patch: (p) => ({ spec: { template: p } }), policy: true },
  { field: () => 'spec.apim.apiId', patch: (p) => ({ spec: { apim: { apiId: p } } }), api: true },
  { field: () => 'spec.apim.displayName', patch: (p) => ({ spec: { apim: { displayName: p } } }), api: true },
  { field: () => 'spec.apim.products[1]', patch: (p) => ({ spec: { apim: { products: ['oda-core', p] } } }) },
  { field: () => 'spec.apim.tags[0]', patch: (p) => ({ spec: { apim: { tags: [p] } } }) },
  { field: () => 'spec.apim.authentication.jwt.openidConfigUrl', patch: (p) => jwt({ openidConfigUrl: `https://login.example.com/${p}/.well-known/openid-configuration` }), policy: true },
  { field: () => 'spec.apim.authentication.jwt.audiences[1]', patch: (p) => jwt({ audiences: ['api://pc', p] }), policy: true },
  { field: () => 'spec.apim.authentication.jwt.issuers[0]', patch: (p) => jwt({ issuers: [p] }), policy: true },
  { field: (p) => `spec.apim.authentication.jwt.requiredClaims.${p}`, patch: (p) => jwt({ requiredClaims: { [p]: 'x' } }), policy: true },
  { field: () => 'spec.apim.authentication.jwt.requiredClaims.roles[0]', patch: (p) => jwt({ requiredClaims: { roles: [p] } }), policy: true },
  { field: () => 'spec.apim.backend.url', patch: (p) => ({ spec: { apim: { backend: { mode: 'url', url: `https://backend.example.com/${p}` } } } }), api: true },
];

t.test('every value that reaches APIM: each payload is one field error naming the field', async (t) => {
  for (const f of FIELDS) {
    for (const [what, p] of PAYLOADS) {
      const field = f.field(p);
      const result = await validateExposedApi(exposedApi(f.patch(p)), defaultValidationContext());
      const mine = result.errors.filter((e) => e.field === field);
      t.ok(mine.length >= 1, `${field} with a ${what}: refused (${result.errors.map(renderFieldError).join(' | ')})`);
      const fromSafetyRule = mine.filter((e) => e.detail.endsWith('; remove it'));
      t.ok(fromSafetyRule.length === 0 || mine.length === 1, `${field} with a ${what}: the safety rule adds nothing to another rule's error`);
      t.ok(renderFieldError(mine[0] ?? { field: '', reason: 'Invalid', detail: '' }).startsWith(`${field}: `), `${field} with a ${what}: the error names the field`);
    }
  }
});

t.test('the safety rule adds its error only where no other rule has refused the field', async (t) => {
  const loose = await validateExposedApi(exposedApi({ spec: { apim: { displayName: 'Orders {{secret}}' } } }), defaultValidationContext());
  t.match(loose.errors.map(renderFieldError), ['spec.apim.displayName: Invalid value: "Orders {{secret}}": must not contain "{{" or "}}": APIM reads {{name}} as a reference to a named value']);
  const tokens = await validateExposedApi(exposedApi({ spec: { apim: { products: ['{{secret}}'] } } }), defaultValidationContext());
  t.match(tokens.errors.map(renderFieldError), [/^spec\.apim\.products\[0\]: Invalid value: "\{\{secret\}\}": must be an APIM product id/], 'the product rule says what an id may be; no second error');
  const valid = await validateExposedApi(exposedApi({ spec: { apim: { displayName: 'Product Catalog (v4) – TMF620 → ODA', authentication: { jwt: { ...JWT_OK, audiences: ['api://pc'], requiredClaims: { email: 'ops@example.com', grp: '{"a":1}' } } } } } }), defaultValidationContext());
  t.same(valid.errors, [], 'ordinary text, an "@" inside a value and single braces are fine');
});

t.test('what counts as unsafe', async (t) => {
  const unsafe = ['{{x}}', 'a}}', '{{', '@x', '  @x', 'a@(b)', 'a@{b}', '<', 'a>b', 'a\u0000', 'a\u0085', 'a\u200Bb', 'a\u200Fb', 'a\u202Ab', 'a\u2066b', 'a\u2069b', '\uFEFFa', 'a\u2028b', 'a\u00ADb', 'a\uD800b', 'a\u{E0041}b'];
  // Test names in ASCII: a raw line separator would end the TAP line.
  const shown = (v: string): string => JSON.stringify(v).replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  for (const v of unsafe) t.ok(unsafeApimValueReason(v), `${shown(v)} refused`);
  const safe = ['api://pc', 'ops@example.com', '{a}', 'a{b}c', 'Größe', '日本語', 'https://x.example.com/a?b=1&c=2', '"quoted" & \'single\''];
  for (const v of safe) t.equal(unsafeApimValueReason(v), undefined, `${shown(v)} allowed`);
  t.match(unsafeApimValueReason('a\u202Eb'), /U\+202E/, 'the reason names the invisible character');
  t.throws(() => apimSafe('spec.apim.displayName', '{{x}}'), new UnsafeApimValueError('spec.apim.displayName', '{{x}}', unsafeApimValueReason('{{x}}')!));
});

/** The model as the executor would see it had validation been skipped. */
function rawModel(patch: Obj): ExposedApi {
  return readExposedApi(exposedApi(patch)).model;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
    return 'rendered';
  } catch (e) {
    return e instanceof UnsafeApimValueError ? `refused ${e.field}` : `threw ${(e as Error).message}`;
  }
}

t.test('renderPolicyXml refuses every unsafe policy value of an unvalidated model', async (t) => {
  for (const f of FIELDS.filter((x) => x.policy)) {
    for (const [what, p] of PAYLOADS) {
      const model = rawModel(f.patch(p));
      const xml = (): string => renderPolicyXml({ spec: model.spec, apiId: 'team-a-pc', jwt: model.spec.apim.jwt, quotaRenewalPeriodSeconds: 86400, documentValidation: true });
      const outcome = refusal(xml);
      // Identifiers and the template are parsed before rendering; their parsers refuse these payloads too.
      t.ok(outcome === `refused ${f.field(p)}` || (outcome.startsWith('threw ') && /identifier|template/.test(f.field(p))), `${f.field(p)} with a ${what}: ${outcome}`);
    }
  }
  const safe = rawModel({ spec: { CORS: { enabled: true, allowOrigins: 'https://a.example.com' }, ...jwt({ audiences: ['api://pc'] }).spec } });
  t.doesNotThrow(() => renderPolicyXml({ spec: safe.spec, apiId: 'team-a-pc', jwt: safe.spec.apim.jwt, quotaRenewalPeriodSeconds: 86400, documentValidation: true }), 'safe values render');
});

t.test('desiredApi and the OpenID Connect provider refuse unsafe API settings of an unvalidated model', async (t) => {
  for (const f of FIELDS.filter((x) => x.api)) {
    for (const [what, p] of PAYLOADS) {
      const model = rawModel(f.patch(p));
      const serviceUrl = model.spec.apim.backend.url ?? 'http://10.0.0.1/api';
      const options = { apiId: model.spec.apim.apiId ?? 'components-pc', serviceUrl, plan: { fingerprint: 'f' } } as unknown as Parameters<typeof desiredApi>[1];
      t.equal(refusal(() => desiredApi(model, options)), `refused ${f.field(p)}`, `${f.field(p)} with a ${what}`);
    }
  }
  for (const [what, p] of PAYLOADS) {
    const url = rawModel(jwt({ openidConfigUrl: `https://login.example.com/${p}` })).spec.apim.jwt!;
    t.equal(refusal(() => openidProviderContract(url)), 'refused spec.apim.authentication.jwt.openidConfigUrl', `provider metadata endpoint with a ${what}`);
    const audience = rawModel(jwt({ audiences: [p] })).spec.apim.jwt!;
    t.equal(refusal(() => openidProviderContract(audience)), 'refused spec.apim.authentication.jwt.audiences[0]', `provider client id with a ${what}`);
  }
});

t.test('a refused value fails the step for good, with the field in the message', async (t) => {
  const failure = await inStep('PoliciesApplied', async () => apimSafe('spec.apim.authentication.jwt.audiences[0]', '@(context.Variables["x"])')).catch((e: unknown) => e);
  t.ok(failure instanceof StepFailure);
  const f = failure as StepFailure;
  t.equal(f.info.retriable, false, 'not retried');
  t.equal(f.info.reason, 'UnsafeValue');
  t.equal(f.condition, 'PoliciesApplied');
  t.match(f.message, /^spec\.apim\.authentication\.jwt\.audiences\[0\]: refusing to send "@\(context\.Variables\[\\"x\\"\]\)" to APIM: .*C# policy expression.*correct the ExposedAPI's spec$/);
  t.equal(exitCodeOf(f), EXIT_PERMANENT);
});
