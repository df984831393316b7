// Nothing a tenant writes may become code or a secret in APIM. APIM reads three things inside policy documents (and
// in some API settings) that plain XML escaping does not neutralise: `{{name}}` is replaced by a named value before
// the policy runs (a tenant could make the gateway send a secret to its own host, or enumerate names from the errors),
// `@(…)` / `@{…}` are C# expressions run by the gateway, and markup ends the element the value was put in. Control
// and invisible bidirectional characters make a value read differently to people than to APIM.
//
// Many fields are already held to token character classes by their own rules; this rule covers every value that
// reaches APIM, so a field whose own rule is loose (display names, JWT audiences and claim values, URLs) is safe too.
// The same test guards the renderers (core/policy-xml.ts, executor/desired-api.ts) as a second line.
import { invalid, type FieldError } from '../field-error.ts';
import type { ExposedApi } from '../exposedapi-model.ts';

/**
 * C0/C1 controls (Cc), format characters (Cf: zero-width spaces and joiners U+200B-U+200F, embeddings and overrides
 * U+202A-U+202E, isolates U+2066-U+2069, the BOM U+FEFF, soft hyphen, tag characters…), line and paragraph
 * separators, and lone surrogates (no valid UTF-8 form).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** Printable ASCII without any character the checks below look for: the common case, settled by one scan. */
const PLAIN = /^[\x20-\x3b\x3d\x3f\x41-\x7a\x7c\x7e]*$/;

/** Why a value may not reach APIM, or undefined when it may. The reason names what the value would become. */
export function unsafeApimValueReason(value: string): string | undefined {
  if (PLAIN.test(value)) return undefined;
  if (value.includes('{{') || value.includes('}}')) {
    return 'must not contain "{{" or "}}": APIM reads {{name}} as a reference to a named value (a secret) and substitutes it';
  }
  if (value.trimStart().startsWith('@') || value.includes('@(') || value.includes('@{')) {
    return 'must not start with "@" or contain "@(" or "@{": APIM runs such a value as a C# policy expression';
  }
  if (value.includes('<') || value.includes('>')) return 'must not contain "<" or ">": the value would become policy markup';
  const invisible = INVISIBLE.exec(value);
  if (invisible) {
    const cp = invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control or invisible formatting characters (found U+${cp}): they make the value read differently from what APIM uses`;
  }
  return undefined;
}

/** Thrown by a renderer given a value validation would have refused: it never reaches APIM, whoever skipped the rules. */
export class UnsafeApimValueError extends Error {
  readonly field: string;
  readonly value: string;
  constructor(field: string, value: string, reason: string) {
    super(`${field}: refusing to send ${JSON.stringify(value)} to APIM: ${reason}`);
    this.name = 'UnsafeApimValueError';
    this.field = field;
    this.value = value;
  }
}

/** The value, unchanged, when it is safe to send to APIM; otherwise throws UnsafeApimValueError naming the field. */
export function apimSafe(field: string, value: string): string {
  const reason = unsafeApimValueReason(value);
  if (reason) throw new UnsafeApimValueError(field, value, reason);
  return value;
}

/**
 * Every tenant-written value that reaches APIM, with the field it was read from: as an API setting, an id, a policy
 * attribute or text, or a URL APIM fetches. Blocks only count when in use, as the renderers only send them then.
 */
export function apimValues(api: ExposedApi): [field: string, value: string][] {
  const s = api.spec;
  const out: [string, string][] = [
    ['spec.name', s.name],
    ['spec.path', s.path],
  ];
  if (s.developerUI !== undefined) out.push(['spec.developerUI', s.developerUI]);
  for (const src of s.specification) if (src.kind === 'url') out.push([src.field, src.url]);
  if (s.apiKeyVerification.enabled) out.push(['spec.apiKeyVerification.location', s.apiKeyVerification.location]);
  if (s.rateLimit.enabled) out.push(['spec.rateLimit.identifier', s.rateLimit.identifier]);
  if (s.quota.limit !== '' || s.quota.identifier !== '') out.push(['spec.quota.identifier', s.quota.identifier]);
  if (s.cors.enabled) {
    // CSV fields are reported whole, as the CORS rule does (the field holds one string).
    out.push(['spec.CORS.allowOrigins', s.cors.allowOrigins.join(', ')]);
    out.push(['spec.CORS.handlePreflightRequests.allowMethods', s.cors.preflight.allowMethods.join(', ')]);
    out.push(['spec.CORS.handlePreflightRequests.allowHeaders', s.cors.preflight.allowHeaders.join(', ')]);
  }
  if (s.template !== '') out.push(['spec.template', s.template]);
  const a = s.apim;
  if (a.apiId !== undefined) out.push(['spec.apim.apiId', a.apiId]);
  if (a.displayName !== undefined) out.push(['spec.apim.displayName', a.displayName]);
  a.products.forEach((p, i) => out.push([`spec.apim.products[${i}]`, p]));
  a.tags.forEach((tag, i) => out.push([`spec.apim.tags[${i}]`, tag]));
  if (a.jwt) {
    const f = 'spec.apim.authentication.jwt';
    out.push([`${f}.openidConfigUrl`, a.jwt.openidConfigUrl]);
    a.jwt.audiences.forEach((v, i) => out.push([`${f}.audiences[${i}]`, v]));
    a.jwt.issuers.forEach((v, i) => out.push([`${f}.issuers[${i}]`, v]));
    for (const claim of a.jwt.requiredClaims) {
      const cf = `${f}.requiredClaims.${claim.name}`;
      out.push([cf, claim.name]);
      claim.values.forEach((v, i) => out.push([`${cf}[${i}]`, v]));
    }
  }
  if (a.backend.url !== undefined) out.push(['spec.apim.backend.url', a.backend.url]);
  return out;
}

export function checkApimValueSafety(api: ExposedApi): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, value] of apimValues(api)) {
    const reason = unsafeApimValueReason(value);
    if (reason) errors.push(invalid(field, value, `${reason}; remove it`));
  }
  return errors;
}
