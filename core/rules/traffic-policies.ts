// rateLimit, quota and apiKeyVerification: the values that become rate-limit-by-key, quota-by-key and the API's
// subscription settings. Checked only when the block is in use; the ODA component operator emits disabled blocks
// with empty strings, and those must pass.
import { forbidden, invalid, notSupported, type FieldError } from '../field-error.ts';
import type { ExposedApi } from '../exposedapi-model.ts';
import { SAFE_NAME } from '../http-tokens.ts';
import { parsePolicyIdentifier, type PolicyIdentifier } from '../policy-identifier.ts';

/** APIM's `calls` attributes are 32-bit integers. */
export const MAX_CALLS = 2147483647;
export const RATE_LIMIT_INTERVALS = ['ps', 'pm'] as const;

export interface TrafficPolicyContext {
  /** JWT validation configured for this API (spec.apim.authentication.jwt or the operator default). */
  jwtConfigured: boolean;
}

function checkCalls(field: string, value: string): FieldError[] {
  if (!/^[1-9][0-9]*$/.test(value)) {
    return [invalid(field, value, 'must be a positive whole number written as a string, e.g. "100"')];
  }
  if (Number(value) > MAX_CALLS) return [invalid(field, value, `must be at most ${MAX_CALLS} (APIM counts calls in a 32-bit integer)`)];
  return [];
}

function checkIdentifier(field: string, raw: string, api: ExposedApi, ctx: TrafficPolicyContext): FieldError[] {
  const parsed = parsePolicyIdentifier(raw);
  if (!parsed.ok) return [invalid(field, raw, parsed.detail)];
  return checkIdentifierUsable(field, raw, parsed.identifier, api, ctx);
}

function checkIdentifierUsable(
  field: string,
  raw: string,
  id: PolicyIdentifier,
  api: ExposedApi,
  ctx: TrafficPolicyContext,
): FieldError[] {
  if (id.kind === 'subscription' && !api.spec.apiKeyVerification.enabled) {
    return [
      invalid(field, raw, 'counting by subscription needs spec.apiKeyVerification.enabled: true (without a key APIM has no subscription to count)'),
    ];
  }
  if (id.kind === 'claim' && !ctx.jwtConfigured) {
    return [
      invalid(field, raw, 'counting by a token claim needs JWT validation: set spec.apim.authentication.jwt (or the operator default JWT settings)'),
    ];
  }
  return [];
}

export function checkTrafficPolicies(api: ExposedApi, ctx: TrafficPolicyContext): FieldError[] {
  const errors: FieldError[] = [];
  const { rateLimit, quota, apiKeyVerification } = api.spec;
  if (rateLimit.enabled) {
    if (rateLimit.limit === '') errors.push(invalid('spec.rateLimit.limit', '', 'is required when rateLimit.enabled is true, e.g. "100"'));
    else errors.push(...checkCalls('spec.rateLimit.limit', rateLimit.limit));
    if (!(RATE_LIMIT_INTERVALS as readonly string[]).includes(rateLimit.interval)) {
      errors.push(notSupported('spec.rateLimit.interval', rateLimit.interval, RATE_LIMIT_INTERVALS, 'ps = per second, pm = per minute'));
    }
    errors.push(...checkIdentifier('spec.rateLimit.identifier', rateLimit.identifier, api, ctx));
  }
  if (quota.limit !== '') {
    errors.push(...checkCalls('spec.quota.limit', quota.limit));
    errors.push(...checkIdentifier('spec.quota.identifier', quota.identifier, api, ctx));
  } else if (quota.identifier !== '' && !parsePolicyIdentifier(quota.identifier).ok) {
    // An unused block may carry an identifier; it still must not be something we could never render.
    errors.push(...checkIdentifier('spec.quota.identifier', quota.identifier, api, ctx));
  }
  if (apiKeyVerification.enabled) errors.push(...checkApiKeyLocation(apiKeyVerification.location));
  return errors;
}

/**
 * `apiKeyVerification.location` names where the key is read. Empty, `header` or `query` keep APIM's own names
 * (Ocp-Apim-Subscription-Key / subscription-key); any other name token is used as both the header and query name;
 * `header:<name>` / `query:<name>` set one of them.
 */
export function checkApiKeyLocation(location: string): FieldError[] {
  const field = 'spec.apiKeyVerification.location';
  const m = /^(header|query):(.*)$/i.exec(location);
  const name = m ? m[2]!.trim() : location;
  if (name === '' && !m) return [];
  if (/^(header|query)$/i.test(location)) return [];
  if (!SAFE_NAME.test(name)) {
    return [invalid(field, location, 'must be a header or query parameter name token (letters, digits, - _ .), e.g. x-api-key or header:x-api-key')];
  }
  return [];
}

export interface KeyParameterNames {
  header: string;
  query: string;
}

export const APIM_DEFAULT_KEY_NAMES: KeyParameterNames = { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' };

/** The subscriptionKeyParameterNames an apiKeyVerification.location stands for (see checkApiKeyLocation). */
export function keyParameterNames(location: string): KeyParameterNames {
  const m = /^(header|query):(.*)$/i.exec(location);
  if (m) {
    const kind = m[1]!.toLowerCase();
    const name = m[2]!.trim();
    return kind === 'header' ? { ...APIM_DEFAULT_KEY_NAMES, header: name } : { ...APIM_DEFAULT_KEY_NAMES, query: name };
  }
  if (location === '' || /^(header|query)$/i.test(location)) return { ...APIM_DEFAULT_KEY_NAMES };
  return { header: location, query: location };
}

export function checkTemplate(api: ExposedApi): FieldError[] {
  const t = api.spec.template;
  if (t === '') return [];
  if (!/^[A-Za-z0-9-]{1,80}$/.test(t)) {
    return [invalid('spec.template', t, 'names an APIM policy fragment: 1-80 letters, digits or "-", e.g. oda-standard-headers')];
  }
  return [];
}

export { forbidden };
