// The API-scope APIM policy rendered from an ExposedAPI's policy fields. Pure and deterministic: the same spec always
// renders the same text, which is what lets the executor compare it with the stored policy and skip unchanged writes.
//
// The document is sent with format "xml", so every value is XML-escaped (policy expressions included: their quotes
// become &quot;, which APIM decodes before compiling the expression). The validation rules guarantee that names and
// values are tokens, so escaping is a second line of defence, never what makes a value safe. Escaping cannot stop
// APIM from reading `{{named-value}}` or `@(expression)` in a value, so every value from the spec passes apimSafe
// (core/rules/apim-value-safety.ts) and rendering throws rather than emit one validation would have refused.
//
// Inbound order: cors first (preflights must be answered before anything can reject them, including inherited
// policies), then <base/>, token validation (a claim-keyed counter needs the validated token), counters, request
// validation, and the template fragment last, so it sees the request as the gateway will forward it.
import type { ExposedApiSpec, JwtSettings } from './exposedapi-model.ts';
import { parsePolicyIdentifier, type PolicyIdentifier } from './policy-identifier.ts';
import { apimSafe } from './rules/apim-value-safety.ts';

export interface PolicyInput {
  spec: Pick<ExposedApiSpec, 'rateLimit' | 'quota' | 'cors' | 'oasValidation' | 'template'>;
  /** JWT validation for this API (spec.apim.authentication.jwt or the operator default); absent = none. */
  jwt?: JwtSettings;
  quotaRenewalPeriodSeconds: number;
  /**
   * Whether APIM holds a document to validate against. Pass-through APIs (prometheus, openmetrics, mcp) have none,
   * so OASValidation does not apply to them.
   */
  documentValidation: boolean;
}

/** The variable validate-jwt stores the token in, for claim-keyed counters. */
export const JWT_VARIABLE = 'jwt';
/** What a counter is keyed by when the header, parameter or claim is missing: all such callers share one counter. */
export const ANONYMOUS_KEY = 'anonymous';
/** APIM's largest body validate-content can check. */
export const VALIDATE_CONTENT_MAX_SIZE = 4194304;

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

/** The counter-key expression of rate-limit-by-key / quota-by-key for an identifier (unescaped). */
export function counterKey(id: PolicyIdentifier): string {
  switch (id.kind) {
    case 'ip':
      return '@(context.Request.IpAddress)';
    case 'subscription':
      return '@(context.Subscription.Id)';
    case 'header':
      return `@(context.Request.Headers.GetValueOrDefault(${csString(id.name)},${csString(ANONYMOUS_KEY)}))`;
    case 'query':
      return `@(context.Request.Url.Query.GetValueOrDefault(${csString(id.name)},${csString(ANONYMOUS_KEY)}))`;
    case 'claim':
      return `@(((Jwt)context.Variables[${csString(JWT_VARIABLE)}]).Claims.GetValueOrDefault(${csString(id.name)},${csString(ANONYMOUS_KEY)}))`;
    case 'shared':
      // A constant key: one counter for every caller, named after the identifier (the ODA example's "test-identifier").
      return id.name;
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

function requestValidation(oas: PolicyInput['spec']['oasValidation']): Element[] {
  return [
    el('validate-content', [['unspecified-content-type-action', 'prevent'], ['max-size', VALIDATE_CONTENT_MAX_SIZE], ['size-exceeded-action', 'prevent']], [
      el('content', [['validate-as', 'json'], ['action', 'prevent']]),
    ]),
    // APIM validates headers, query and path parameters; it has no cookie validation, so allowUnspecifiedCookies
    // cannot be expressed (docs/executor.md).
    el('validate-parameters', [['specified-parameter-action', 'prevent'], ['unspecified-parameter-action', 'prevent']], [
      el('headers', [['specified-parameter-action', 'prevent'], ['unspecified-parameter-action', action(oas.allowUnspecifiedHeaders)]]),
      el('query', [['specified-parameter-action', 'prevent'], ['unspecified-parameter-action', action(oas.allowUnspecifiedQueryParams)]]),
    ]),
  ];
}

function responseValidation(): Element[] {
  return [
    el('validate-content', [['unspecified-content-type-action', 'prevent'], ['max-size', VALIDATE_CONTENT_MAX_SIZE], ['size-exceeded-action', 'prevent']], [
      el('content', [['validate-as', 'json'], ['action', 'prevent']]),
    ]),
    // Responses carry many headers no document lists (Date, Server, …): only declared ones are checked.
    el('validate-headers', [['specified-header-action', 'prevent'], ['unspecified-header-action', 'ignore']]),
    el('validate-status-code', [['unspecified-status-code-action', 'prevent']]),
  ];
}

/** The policy document for an API: `<base />` in every section, the ODA fields mapped as in docs/executor.md. */
export function renderPolicyXml(input: PolicyInput): string {
  const { spec } = input;
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
        ['counter-key', counterKey(id)],
      ]),
    );
  }
  if (spec.quota.limit !== '') {
    const id = identifier(spec.quota.identifier, 'spec.quota.identifier');
    inbound.push(
      el('quota-by-key', [
        ['calls', apimSafe('spec.quota.limit', spec.quota.limit)],
        ['renewal-period', input.quotaRenewalPeriodSeconds],
        ['counter-key', counterKey(id)],
      ]),
    );
  }
  if (input.documentValidation && spec.oasValidation.requestEnabled) inbound.push(...requestValidation(spec.oasValidation));
  if (spec.template !== '') inbound.push(el('include-fragment', [['fragment-id', apimSafe('spec.template', spec.template)]]));

  const outbound: Element[] = [el('base')];
  if (input.documentValidation && spec.oasValidation.responseEnabled) outbound.push(...responseValidation());

  const out: string[] = [];
  render(el('policies', [], [el('inbound', [], inbound), el('backend', [], [el('base')]), el('outbound', [], outbound), el('on-error', [], [el('base')])]), 0, out);
  return out.join('\n');
}
