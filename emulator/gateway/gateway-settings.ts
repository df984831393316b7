// The gateway's settings: behaviours where the public sources disagree or say nothing. Each default is the stricter
// reading (never more lenient than Azure); GET/PATCH /_emulator/gateway reads and changes them at run time.

export interface GatewaySettings {
  /**
   * Signature algorithms validate-jwt accepts. "Asymmetric - The following encryption algorithms are supported:
   * PS256, RS256, RS512" (https://learn.microsoft.com/azure/api-management/validate-jwt-policy, usage notes).
   */
  jwtAlgorithms: string[];
  /**
   * cors `terminate-unmatched-request` when the attribute is absent. The cors page's attribute table says `false`;
   * the same page's "Common configuration issues" says "its default value of `true`"
   * (https://learn.microsoft.com/azure/api-management/cors-policy). `true` (answer unmatched requests with an empty
   * 200) is the stricter. core/policy-xml.ts always renders the attribute, so this only matters for other policies.
   */
  corsTerminateUnmatchedDefault: boolean;
  /**
   * Request headers validate-parameters never counts as unspecified. No source lists any: the policy page's own
   * example overrides Authorization, User-Agent, Host and Referrer by name, which implies they are validated like
   * any other header. unverified; empty by default, so `unspecified-parameter-action="prevent"` on headers refuses a
   * request carrying any header the operation does not declare (Host included).
   */
  unvalidatedRequestHeaders: string[];
}

export function defaultGatewaySettings(): GatewaySettings {
  return { jwtAlgorithms: ['RS256', 'RS512', 'PS256'], corsTerminateUnmatchedDefault: true, unvalidatedRequestHeaders: [] };
}

const KNOWN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** Applies a PATCH of the settings; returns the problem (unknown fields or bad values) or undefined. */
export function patchGatewaySettings(settings: GatewaySettings, patch: unknown): string | undefined {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return 'gateway settings must be a JSON object';
  const p = patch as Record<string, unknown>;
  const unknown = Object.keys(p).filter((k) => !(k in settings));
  if (unknown.length > 0) return `unknown gateway setting(s) ${unknown.map((k) => `'${k}'`).join(', ')}; known: ${Object.keys(settings).join(', ')}`;
  const next = { ...settings };
  if (p['jwtAlgorithms'] !== undefined) {
    const v = p['jwtAlgorithms'];
    if (!Array.isArray(v) || v.some((a) => typeof a !== 'string' || !KNOWN_ALGORITHMS.includes(a))) return `'jwtAlgorithms' must be a list of ${KNOWN_ALGORITHMS.join(', ')}`;
    next.jwtAlgorithms = v as string[];
  }
  if (p['corsTerminateUnmatchedDefault'] !== undefined) {
    if (typeof p['corsTerminateUnmatchedDefault'] !== 'boolean') return `'corsTerminateUnmatchedDefault' must be true or false`;
    next.corsTerminateUnmatchedDefault = p['corsTerminateUnmatchedDefault'];
  }
  if (p['unvalidatedRequestHeaders'] !== undefined) {
    const v = p['unvalidatedRequestHeaders'];
    if (!Array.isArray(v) || v.some((h) => typeof h !== 'string' || h === '')) return `'unvalidatedRequestHeaders' must be a list of header names`;
    next.unvalidatedRequestHeaders = (v as string[]).map((h) => h.toLowerCase());
  }
  Object.assign(settings, next);
  return undefined;
}
