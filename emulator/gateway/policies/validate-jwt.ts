// validate-jwt (https://learn.microsoft.com/azure/api-management/validate-jwt-policy) in the form core/policy-xml.ts
// renders: the token in the Authorization header behind the Bearer scheme, keys and issuer from `openid-config`,
// optional audiences, issuers and required claims, failures answered with failed-validation-httpcode and
// failed-validation-error-message, the token stored in output-token-variable-name for claim-keyed counters.
// From the page: an `exp` claim is required (require-expiration-time defaults to true), clock-skew defaults to 0,
// tokens must be signed (require-signed-tokens defaults to true) with PS256, RS256 or RS512 (gateway-settings.ts);
// "audiences … If multiple audience values are present, then each value is tried until … one succeeds" — without
// `audiences` the audience is not checked (the page's own Entra ID customer-tenant example has none); `match`
// defaults to `all`. Without `issuers`, the issuer must be the one the OpenID configuration names ("from which signing
// keys and issuer can be obtained"); with `issuers`, it must be one of them (whether the configuration's issuer is
// also accepted then is unverified: the stricter reading). Default messages (without failed-validation-error-message)
// follow the error-handling page: "JWT not present." and, for any other failure, "Invalid JWT." (unverified).
import type { XmlElement } from '../../xml-document.ts';
import { attribute } from '../../xml-document.ts';
import { errorReply, NotModelled } from '../gateway-errors.ts';
import type { GatewaySettings } from '../gateway-settings.ts';
import { checkSignature, decodeToken, type DecodedToken } from '../jwt-verify.ts';
import type { OpenIdConfiguration, OpenIdKeys } from '../openid-keys.ts';
import { constant, integer, onlyAttributes, onlyChildren, placeOf, text } from '../policy-elements.ts';
import type { JwtValue } from '../policy-expressions.ts';
import type { InboundStep } from '../policy-step.ts';
import { headerValues } from '../request-state.ts';

interface ClaimRule {
  name: string;
  match: 'all' | 'any';
  values: string[];
}

function claimValues(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  return [typeof v === 'string' ? v : JSON.stringify(v)];
}

export function compileValidateJwt(el: XmlElement, scope: string, keys: OpenIdKeys, settings: GatewaySettings): InboundStep {
  onlyAttributes(el, ['header-name', 'failed-validation-httpcode', 'failed-validation-error-message', 'require-scheme', 'output-token-variable-name'], scope);
  const headerName = constant(el, 'header-name', scope);
  if (headerName === undefined) throw new NotModelled(`${placeOf(el, scope)} without header-name (query-parameter-name and token-value are not modelled)`);
  const status = integer(el, 'failed-validation-httpcode', scope) ?? 401;
  const message = constant(el, 'failed-validation-error-message', scope);
  const scheme = constant(el, 'require-scheme', scope);
  const variable = attribute(el, 'output-token-variable-name');
  let openidUrl: string | undefined;
  let audiences: string[] | undefined;
  let issuers: string[] | undefined;
  const claims: ClaimRule[] = [];
  for (const c of onlyChildren(el, ['openid-config', 'audiences', 'issuers', 'required-claims'], scope)) {
    if (c.name === 'openid-config') {
      onlyAttributes(c, ['url'], scope);
      onlyChildren(c, [], scope);
      if (openidUrl !== undefined) throw new NotModelled(`more than one openid-config in ${placeOf(el, scope)}`);
      openidUrl = constant(c, 'url', scope);
    } else if (c.name === 'audiences') {
      audiences = onlyChildren(c, ['audience'], scope).map((a) => text(a, scope));
    } else if (c.name === 'issuers') {
      issuers = onlyChildren(c, ['issuer'], scope).map((i) => text(i, scope));
    } else {
      for (const claim of onlyChildren(c, ['claim'], scope)) {
        onlyAttributes(claim, ['name', 'match'], scope);
        const name = constant(claim, 'name', scope)!;
        const match = (constant(claim, 'match', scope) ?? 'all') as 'all' | 'any';
        if (match !== 'all' && match !== 'any') throw new NotModelled(`the match '${String(match)}' in ${placeOf(el, scope)}`);
        claims.push({ name, match, values: onlyChildren(claim, ['value'], scope).map((v) => text(v, scope)) });
      }
    }
  }
  if (openidUrl === undefined) throw new NotModelled(`${placeOf(el, scope)} without openid-config (issuer-signing-keys and decryption-keys are not modelled)`);
  const url = openidUrl;
  const fail = (defaultMessage: string) => errorReply(status, message ?? defaultMessage);
  /**
   * The token decoded, its signature verified by the configuration's keys. A token verified before is taken from the
   * configuration's cache without decoding or verifying again; the configuration itself is looked up at most once a
   * second on that path (keys.get refreshes it hourly).
   */
  let current: { config: OpenIdConfiguration; at: number } | undefined;
  // Settings changes recompile the policy (compiled-policies.ts), so the algorithm list is read once here.
  const algorithms = settings.jwtAlgorithms.join(',');
  const verified = async (token: string): Promise<{ jwt: DecodedToken; config: OpenIdConfiguration } | undefined> => {
    const cacheKey = `${algorithms} ${token}`;
    if (current && Date.now() - current.at < 1000) {
      const known = current.config.verified.get(cacheKey);
      if (known) return { jwt: known, config: current.config };
    }
    const jwt = decodeToken(token);
    if (!jwt) return undefined;
    let config: OpenIdConfiguration;
    try {
      config = await keys.get(url, typeof jwt.header['kid'] === 'string' ? jwt.header['kid'] : undefined);
    } catch {
      return undefined;
    }
    current = { config, at: Date.now() };
    const known = config.verified.get(cacheKey);
    if (known) return { jwt: known, config };
    if (!checkSignature(jwt, config.keys, settings.jwtAlgorithms).ok) return undefined;
    if (config.verified.size >= 1000) config.verified.delete(config.verified.keys().next().value!);
    config.verified.set(cacheKey, jwt);
    return { jwt, config };
  };

  /**
   * What a verified token's claims say under this policy, apart from the clock: issuer, audience and required claims
   * (the configuration's issuer counts, so the answer belongs to one configuration), and the Jwt value for
   * output-token-variable-name. Worked out once per token and configuration.
   */
  const claimsChecked = new WeakMap<DecodedToken, { config: OpenIdConfiguration; ok: boolean; value: JwtValue | undefined }>();
  const checkClaims = (jwt: DecodedToken, config: OpenIdConfiguration): { ok: boolean; value: JwtValue | undefined } => {
    const known = claimsChecked.get(jwt);
    if (known && known.config === config) return known;
    const { iss, aud } = jwt.payload;
    const validIssuers = issuers ?? (config.issuer !== undefined ? [config.issuer] : []);
    let ok = true;
    if (validIssuers.length > 0 && (typeof iss !== 'string' || !validIssuers.includes(iss))) ok = false;
    else if (audiences !== undefined && !claimValues(aud).some((a) => audiences!.includes(a))) ok = false;
    else {
      for (const rule of claims) {
        const present = claimValues(jwt.payload[rule.name]);
        if (present.length === 0 || (rule.values.length > 0 && !(rule.match === 'any' ? rule.values.some((v) => present.includes(v)) : rule.values.every((v) => present.includes(v))))) {
          ok = false;
          break;
        }
      }
    }
    const value: JwtValue | undefined = ok && variable !== undefined ? { claims: new Map(Object.entries(jwt.payload).map(([k, v]) => [k, claimValues(v)])) } : undefined;
    const answer = { config, ok, value };
    claimsChecked.set(jwt, answer);
    return answer;
  };

  return {
    name: 'validate-jwt',
    async run(state) {
      const raw = headerValues(state.headers, headerName)?.[0];
      if (raw === undefined || raw.trim() === '') return fail('JWT not present.');
      let token = raw.trim();
      // "When using a custom header (header-name), the configured required scheme (require-scheme) will be ignored."
      if (scheme !== undefined && headerName.toLowerCase() === 'authorization') {
        const m = /^(\S+)\s+(\S+)$/.exec(token);
        if (!m || m[1]!.toLowerCase() !== scheme.toLowerCase()) return fail('JWT not present.');
        token = m[2]!;
      }
      const checked = await verified(token);
      if (!checked) return fail('Invalid JWT.');
      const { jwt, config } = checked;
      const now = Date.now() / 1000;
      const { exp, nbf } = jwt.payload;
      if (typeof exp !== 'number' || exp <= now) return fail('Invalid JWT.');
      if (typeof nbf === 'number' && nbf > now) return fail('Invalid JWT.');
      const claimsAnswer = checkClaims(jwt, config);
      if (!claimsAnswer.ok) return fail('Invalid JWT.');
      if (variable !== undefined) state.variables.set(variable, claimsAnswer.value);
      return undefined;
    },
  };
}
