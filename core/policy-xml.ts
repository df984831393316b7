// The API-scope APIM policy rendered from an ExposedAPI's policy fields. Pure and deterministic: the same spec always
// renders the same text, which is what lets the executor compare it with the stored policy and skip unchanged writes.
//
// The document is sent with format "xml", so every value is XML-escaped (policy expressions included: their quotes
// become &quot;, which APIM decodes before compiling the expression). The validation rules guarantee that names and
// values are tokens, so escaping is a second line of defence, never what makes a value safe. Escaping cannot stop
// APIM from reading `{{named-value}}` or `@(expression)` in a value, so every value from the spec passes apimSafe
// (core/rules/apim-value-safety.ts) and rendering throws rather than emit one validation would have refused.
//
// Counters are per API: APIM keeps one counter per counter-key value across every API (and scope) that uses that
// value (docs: rate-limit-by-key "a single counter for each counter-key value"; quota-by-key "the counter-key must be
// unique across all the APIs … unless you want to share the total"), so a key of the caller's IP alone would give
// every ExposedAPI limited by IP one shared budget. Every key therefore starts with the API's id and a colon: a
// constant taken from the apiId the rules validated (not context.Api.Id, which is only known to the gateway and
// cannot be seen in the rendered text), and unambiguous because APIM ids may not contain ":". The id passes apimSafe
// and sits inside a C# string literal, so it cannot open an expression or name a named value.
//
// Inbound order: cors first (preflights must be answered before anything can reject them, including inherited
// policies), then <base/>, token validation (a claim-keyed counter needs the validated token), counters, request
// validation, and the template fragment last, so it sees the request as the gateway will forward it.
import type { ExposedApiSpec, JwtSettings } from './exposedapi-model.ts';
import { parsePolicyIdentifier, type PolicyIdentifier } from './policy-identifier.ts';
import { apimSafe } from './rules/apim-value-safety.ts';

export interface PolicyInput {
  spec: Pick<ExposedApiSpec, 'rateLimit' | 'quota' | 'cors' | 'oasValidation' | 'template'>;
  /** The APIM apiId the policy is written to: the scope of every counter (see the header). */
  apiId: string;
  /** JWT validation for this API (spec.apim.authentication.jwt or the operator default); absent = none. */
  jwt?: JwtSettings;
  quotaRenewalPeriodSeconds: number;
  /**
   * Whether APIM holds a document to validate against. Pass-through APIs (prometheus, openmetrics, mcp) have none,
   * so OASValidation does not apply to them.
   */
  documentValidation: boolean;
  /** validate-content's max-size in bytes (VALIDATE_CONTENT_MAX_SIZE); absent = APIM's current maximum. */
  validateContentMaxSize?: number;
}

/** The variable validate-jwt stores the token in, for claim-keyed counters. */
export const JWT_VARIABLE = 'jwt';
/** What a counter is keyed by when the header, parameter or claim is missing: all such callers share one counter. */
export const ANONYMOUS_KEY = 'anonymous';
/**
 * APIM's largest body validate-content can check today: "Maximum allowed value: 4 MB" (docs validate-content-policy);
 * earlier versions of the same page said 102,400 bytes (100 KB), which the executor setting can select.
 */
export const VALIDATE_CONTENT_MAX_SIZE = 4194304;
/** The limit of older service versions (the docs page before the 4 MB change). */
export const VALIDATE_CONTENT_MAX_SIZE_OLD = 102400;
/** Separates the API's id from the caller's key; APIM ids never contain it (^[^*#&+:<>?]+$). */
const KEY_SEPARATOR = ':';

export function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A C# string literal for a policy expression (names are tokens; escaping keeps any other value inert). */
function csString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The counter-key of rate-limit-by-key / quota-by-key for an identifier (unescaped): `<apiId>:` and the caller's key,
 * so that two APIs never share a counter (see the header). A 'shared' identifier is a constant: one counter for every
 * caller of this API, under the name the ExposedAPI gives (the ODA example's "test-identifier"), still per API.
 */
export function counterKey(id: PolicyIdentifier, apiId: string): string {
  const scope = `${apimSafe('spec.apim.apiId', apiId)}${KEY_SEPARATOR}`;
  const keyed = (expression: string): string => `@(${csString(scope)} + ${expression})`;
  switch (id.kind) {
    case 'ip':
      return keyed('context.Request.IpAddress');
    case 'subscription':
      return keyed('context.Subscription.Id');
    case 'header':
      return keyed(`context.Request.Headers.GetValueOrDefault(${csString(id.name)},${csString(ANONYMOUS_KEY)})`);
    case 'query':
      return keyed(`context.Request.Url.Query.GetValueOrDefault(${csString(id.name)},${csString(ANONYMOUS_KEY)})`);
    case 'claim':
      return keyed(`((Jwt)context.Variables[${csString(JWT_VARIABLE)}]).Claims.GetValueOrDefault(${csString(id.name)},${csString(ANONYMOUS_KEY)})`);
    case 'shared':
      return `${scope}${id.name}`;
  }
}

function identifier(raw: string, field: string): PolicyIdentifier {
  const parsed = parsePolicyIdentifier(apimSafe(field, raw));
  // Validation rejects these before rendering; reaching here means a caller skipped validateExposedApi.
  if (!parsed.ok) throw new Error(`${field}: ${parsed.detail}`);
  return parsed.identifier;
}

/** A minimal element tree, rendered with two-space indentation and `<x />` for empty elements (APIM's own style). */
interface Element {
  name: string;
  attrs?: [string, string | number | boolean][];
  children?: Element[];
  text?: string;
}

const el = (name: string, attrs: Element['attrs'] = [], children: Element[] = []): Element => ({ name, attrs, children });
const textEl = (name: string, text: string, attrs: Element['attrs'] = []): Element => ({ name, attrs, text });

function render(e: Element, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  const attrs = (e.attrs ?? []).map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`).join('');
  if (e.text !== undefined) {
    out.push(`${pad}<${e.name}${attrs}>${xmlEscape(e.text)}</${e.name}>`);
  } else if (!e.children || e.children.length === 0) {
    out.push(`${pad}<${e.name}${attrs} />`);
  } else {
    out.push(`${pad}<${e.name}${attrs}>`);
    for (const c of e.children) render(c, depth + 1, out);
    out.push(`${pad}</${e.name}>`);
  }
}

function corsPolicy(cors: PolicyInput['spec']['cors']): Element {
  const children: Element[] = [el('allowed-origins', [], cors.allowOrigins.map((o) => textEl('origin', apimSafe('spec.CORS.allowOrigins', o))))];
  // Without preflight handling the allowed methods and headers are left out: APIM then answers only simple CORS
  // requests, and (terminate-unmatched-request false) preflights it does not match reach the backend.
  if (cors.preflight.enabled) {
    children.push(el('allowed-methods', [['preflight-result-max-age', cors.preflight.maxAge]], cors.preflight.allowMethods.map((m) => textEl('method', apimSafe('spec.CORS.handlePreflightRequests.allowMethods', m)))));
    children.push(el('allowed-headers', [], cors.preflight.allowHeaders.map((h) => textEl('header', apimSafe('spec.CORS.handlePreflightRequests.allowHeaders', h)))));
  }
  return el('cors', [['allow-credentials', cors.allowCredentials], ['terminate-unmatched-request', false]], children);
}

/** Named as in spec.apim.authentication.jwt; the operator's default JWT settings are held to the same rule. */
const JWT_FIELD = 'spec.apim.authentication.jwt';

function jwtPolicy(jwt: JwtSettings): Element {
  const children: Element[] = [el('openid-config', [['url', apimSafe(`${JWT_FIELD}.openidConfigUrl`, jwt.openidConfigUrl)]])];
  if (jwt.audiences.length > 0) children.push(el('audiences', [], jwt.audiences.map((a, i) => textEl('audience', apimSafe(`${JWT_FIELD}.audiences[${i}]`, a)))));
  if (jwt.issuers.length > 0) children.push(el('issuers', [], jwt.issuers.map((v, i) => textEl('issuer', apimSafe(`${JWT_FIELD}.issuers[${i}]`, v)))));
  if (jwt.requiredClaims.length > 0) {
    children.push(
      el(
        'required-claims',
        [],
        jwt.requiredClaims.map((c) => {
          const f = `${JWT_FIELD}.requiredClaims.${c.name}`;
          const name = apimSafe(f, c.name);
          return c.values.length === 0
            ? el('claim', [['name', name]])
            : el('claim', [['name', name], ['match', 'any']], c.values.map((v, i) => textEl('value', apimSafe(`${f}[${i}]`, v))));
        }),
      ),
    );
  }
  return el(
    'validate-jwt',
    [
      ['header-name', 'Authorization'],
      ['failed-validation-httpcode', 401],
      ['failed-validation-error-message', 'Unauthorized'],
      ['require-scheme', 'Bearer'],
      ['output-token-variable-name', JWT_VARIABLE],
    ],
    children,
  );
}

const action = (allow: boolean): string => (allow ? 'ignore' : 'prevent');

function validateContent(maxSize: number): Element {
  return el('validate-content', [['unspecified-content-type-action', 'prevent'], ['max-size', maxSize], ['size-exceeded-action', 'prevent']], [
    el('content', [['validate-as', 'json'], ['action', 'prevent']]),
  ]);
}

function requestValidation(oas: PolicyInput['spec']['oasValidation'], maxSize: number): Element[] {
  return [
    validateContent(maxSize),
    // APIM validates headers, query and path parameters; it has no cookie validation, so allowUnspecifiedCookies
    // cannot be expressed (docs/executor.md).
    el('validate-parameters', [['specified-parameter-action', 'prevent'], ['unspecified-parameter-action', 'prevent']], [
      el('headers', [['specified-parameter-action', 'prevent'], ['unspecified-parameter-action', action(oas.allowUnspecifiedHeaders)]]),
      el('query', [['specified-parameter-action', 'prevent'], ['unspecified-parameter-action', action(oas.allowUnspecifiedQueryParams)]]),
    ]),
  ];
}

function responseValidation(maxSize: number): Element[] {
  return [
    validateContent(maxSize),
    // Responses carry many headers no document lists (Date, Server, …): only declared ones are checked.
    el('validate-headers', [['specified-header-action', 'prevent'], ['unspecified-header-action', 'ignore']]),
    el('validate-status-code', [['unspecified-status-code-action', 'prevent']]),
  ];
}

/** The policy document for an API: `<base />` in every section, the ODA fields mapped as in docs/executor.md. */
export function renderPolicyXml(input: PolicyInput): string {
  const { spec } = input;
  const maxSize = input.validateContentMaxSize ?? VALIDATE_CONTENT_MAX_SIZE;
  const inbound: Element[] = [];
  if (spec.cors.enabled) inbound.push(corsPolicy(spec.cors));
  inbound.push(el('base'));
  if (input.jwt) inbound.push(jwtPolicy(input.jwt));
  if (spec.rateLimit.enabled) {
    const id = identifier(spec.rateLimit.identifier, 'spec.rateLimit.identifier');
    inbound.push(
      el('rate-limit-by-key', [
        ['calls', apimSafe('spec.rateLimit.limit', spec.rateLimit.limit)],
        ['renewal-period', spec.rateLimit.interval === 'pm' ? 60 : 1],
        ['counter-key', counterKey(id, input.apiId)],
      ]),
    );
  }
  if (spec.quota.limit !== '') {
    const id = identifier(spec.quota.identifier, 'spec.quota.identifier');
    inbound.push(
      el('quota-by-key', [
        ['calls', apimSafe('spec.quota.limit', spec.quota.limit)],
        ['renewal-period', input.quotaRenewalPeriodSeconds],
        ['counter-key', counterKey(id, input.apiId)],
      ]),
    );
  }
  if (input.documentValidation && spec.oasValidation.requestEnabled) inbound.push(...requestValidation(spec.oasValidation, maxSize));
  if (spec.template !== '') inbound.push(el('include-fragment', [['fragment-id', apimSafe('spec.template', spec.template)]]));

  const outbound: Element[] = [el('base')];
  if (input.documentValidation && spec.oasValidation.responseEnabled) outbound.push(...responseValidation(maxSize));

  const out: string[] = [];
  render(el('policies', [], [el('inbound', [], inbound), el('backend', [], [el('base')]), el('outbound', [], outbound), el('on-error', [], [el('base')])]), 0, out);
  return out.join('\n');
}

/** A policy element the renderer emits, and the spec field that asks for it (named in tier refusals). */
export interface PolicyUse {
  policy: string;
  field: string;
}

/**
 * The policies renderPolicyXml emits for an input, in document order, without rendering: the tier check
 * (core/apim-tiers.ts) runs before anything is written, and test/core/policy-xml.test.ts holds the two to the same
 * conditions.
 */
export function policiesUsed(input: Omit<PolicyInput, 'apiId' | 'quotaRenewalPeriodSeconds' | 'validateContentMaxSize'>): PolicyUse[] {
  const { spec } = input;
  const out: PolicyUse[] = [];
  if (spec.cors.enabled) out.push({ policy: 'cors', field: 'spec.CORS' });
  if (input.jwt) out.push({ policy: 'validate-jwt', field: JWT_FIELD });
  if (spec.rateLimit.enabled) out.push({ policy: 'rate-limit-by-key', field: 'spec.rateLimit' });
  if (spec.quota.limit !== '') out.push({ policy: 'quota-by-key', field: 'spec.quota' });
  if (input.documentValidation && spec.oasValidation.requestEnabled) {
    out.push({ policy: 'validate-content', field: 'spec.OASValidation.requestEnabled' }, { policy: 'validate-parameters', field: 'spec.OASValidation.requestEnabled' });
  }
  if (spec.template !== '') out.push({ policy: 'include-fragment', field: 'spec.template' });
  if (input.documentValidation && spec.oasValidation.responseEnabled) {
    out.push(
      { policy: 'validate-content', field: 'spec.OASValidation.responseEnabled' },
      { policy: 'validate-headers', field: 'spec.OASValidation.responseEnabled' },
      { policy: 'validate-status-code', field: 'spec.OASValidation.responseEnabled' },
    );
  }
  return out;
}
