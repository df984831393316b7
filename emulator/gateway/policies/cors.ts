// cors (https://learn.microsoft.com/azure/api-management/cors-policy):
// - allowed-origins: a single `*` or URIs with scheme, host and port ("If the port is omitted in a URI, port 80 is
//   used for HTTP and port 443 is used for HTTPS"); allowed-methods: "If this section isn't present, GET and POST are
//   supported", `*` means all, `preflight-result-max-age` becomes Access-Control-Max-Age (default 0);
//   allowed-headers / expose-headers: header names (`*` allowed in allowed-headers);
// - "Only the cors policy is evaluated on the OPTIONS request during preflight"; an operation with the OPTIONS method
//   takes the preflight instead (the pipeline checks that);
// - terminate-unmatched-request: a preflight whose Origin does not match is answered with an empty 200 (true), or
//   the next cors policy of the inbound section is tried and, when none matches, an empty 200 (false); a GET or HEAD
//   with an unmatched Origin gets an empty 200 (true) or goes on without CORS headers (false). Other methods are
//   treated like GET and HEAD (unverified: the page describes only those);
// - allow-credentials sets Access-Control-Allow-Credentials.
// Which values the preflight answer echoes is not documented (unverified): the request's origin (or `*` when `*` is
// configured without credentials), the requested method and headers, and Vary: Origin. CORS headers stay on every
// later answer of the request, errors included (the common advice "put cors first so a 401 of validate-jwt carries
// CORS headers" presumes it).
import type { XmlElement } from '../../xml-document.ts';
import { attribute } from '../../xml-document.ts';
import type { GatewayReply } from '../gateway-errors.ts';
import { NotModelled } from '../gateway-errors.ts';
import type { GatewaySettings } from '../gateway-settings.ts';
import { boolean, constant, integer, onlyAttributes, onlyChildren, placeOf, text } from '../policy-elements.ts';
import type { CorsStep, Preflight } from '../policy-step.ts';
import type { RequestState } from '../request-state.ts';

const normalized = new Map<string, string | undefined>();

/** scheme://host:port with the default port made explicit, lower-cased; undefined if it is no origin. */
export function normalizeOrigin(value: string): string | undefined {
  if (normalized.has(value)) return normalized.get(value);
  if (normalized.size > 10_000) normalized.clear();
  const n = parseOrigin(value);
  normalized.set(value, n);
  return n;
}

function parseOrigin(value: string): string | undefined {
  try {
    const u = new URL(value.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
    return `${u.protocol}//${u.hostname}:${port}`.toLowerCase();
  } catch {
    return undefined;
  }
}

function emptyOk(headers: Record<string, string> = {}): GatewayReply {
  return { status: 200, headers: { 'content-length': '0', ...headers }, body: '' };
}

export function compileCors(el: XmlElement, scope: string, settings: GatewaySettings): CorsStep {
  onlyAttributes(el, ['allow-credentials', 'terminate-unmatched-request'], scope);
  const credentials = boolean(el, 'allow-credentials', scope, false);
  const terminateUnmatched = attribute(el, 'terminate-unmatched-request') === undefined ? settings.corsTerminateUnmatchedDefault : boolean(el, 'terminate-unmatched-request', scope, false);
  let anyOrigin = false;
  const origins = new Set<string>();
  let methods: Set<string> | 'any' = new Set(['GET', 'POST']);
  let headers: Set<string> | 'any' = new Set();
  let expose: string[] = [];
  let maxAge = 0;
  for (const c of onlyChildren(el, ['allowed-origins', 'allowed-methods', 'allowed-headers', 'expose-headers'], scope)) {
    if (c.name === 'allowed-origins') {
      onlyAttributes(c, [], scope);
      for (const o of onlyChildren(c, ['origin'], scope)) {
        const v = text(o, scope);
        if (v === '*') anyOrigin = true;
        else {
          const n = normalizeOrigin(v);
          if (!n) throw new NotModelled(`the origin '${v}' in ${placeOf(el, scope)}`);
          origins.add(n);
        }
      }
    } else if (c.name === 'allowed-methods') {
      onlyAttributes(c, ['preflight-result-max-age'], scope);
      maxAge = integer(c, 'preflight-result-max-age', scope) ?? 0;
      const list = onlyChildren(c, ['method'], scope).map((m) => text(m, scope).toUpperCase());
      methods = list.includes('*') ? 'any' : new Set(list);
    } else if (c.name === 'allowed-headers') {
      onlyAttributes(c, [], scope);
      const list = onlyChildren(c, ['header'], scope).map((h) => text(h, scope).toLowerCase());
      headers = list.includes('*') ? 'any' : new Set(list);
    } else {
      onlyAttributes(c, [], scope);
      expose = onlyChildren(c, ['header'], scope).map((h) => text(h, scope));
    }
  }
  const originAllowed = (origin: string): boolean => anyOrigin || origins.has(normalizeOrigin(origin) ?? '');
  const methodAllowed = (m: string): boolean => methods === 'any' || methods.has(m.toUpperCase());
  const allowOrigin = (origin: string): string => (anyOrigin && !credentials ? '*' : origin);
  const common = (origin: string): Record<string, string> => ({
    'access-control-allow-origin': allowOrigin(origin),
    ...(credentials ? { 'access-control-allow-credentials': 'true' } : {}),
    vary: 'Origin',
  });

  return {
    name: 'cors',
    terminateUnmatched,
    preflight(p: Preflight) {
      if (!originAllowed(p.origin) || !methodAllowed(p.method)) return 'unmatched';
      if (headers !== 'any' && p.headers.some((h) => !(headers as Set<string>).has(h.toLowerCase()))) return 'unmatched';
      return emptyOk({
        ...common(p.origin),
        'access-control-allow-methods': p.method,
        ...(p.headers.length > 0 ? { 'access-control-allow-headers': p.headers.join(',') } : {}),
        ...(maxAge > 0 ? { 'access-control-max-age': String(maxAge) } : {}),
      });
    },
    run(state: RequestState) {
      const origin = state.headers['origin'];
      if (origin === undefined) return undefined;
      if (!originAllowed(origin) || !methodAllowed(state.method)) return terminateUnmatched ? emptyOk() : undefined;
      Object.assign(state.responseHeaders, common(origin), expose.length > 0 ? { 'access-control-expose-headers': expose.join(',') } : {});
      return undefined;
    },
  };
}
