// Character classes from the HTTP and URI RFCs. Everything that later lands in policy XML or a URL is held to one of
// these, so no value can carry markup (<, >, &, quotes) or whitespace into a rendered policy.

/** A header or query-parameter name we are willing to render: a token without the characters XML would escape. */
export const SAFE_NAME = /^[A-Za-z0-9!#$%*+\-.^_`|~]{1,128}$/;
/**
 * A path segment we accept: RFC 3986 pchar without percent-escapes and without ";". Every string that passes names its
 * path one way only — an escape (%70 = "p", %2e%2e = "..") is decoded by APIM and backends, and ";" starts path
 * parameters that servlet containers and some proxies strip (`/a;x/b` reaches them as `/a/b`), so either would let
 * two different strings reach one path. core/rules/api-path.ts reports both with their own fix.
 */
export const PATH_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,=:@]+$/;
/** DNS-1035 label: the rule for Service names. */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Ids of APIM products, tags and policy fragments we create or reference: conservative, URL- and XML-safe. */
export const APIM_RESOURCE_ID = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;
/** Characters APIM forbids in an apiId (its own pattern is ^[^*#&+:<>?]+$). */
export const APIM_API_ID_FORBIDDEN = /[*#&+:<>?]/;
/** Control characters are never legitimate in names, URLs or claim values. */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function isHttpUrl(s: string, opts: { httpsOnly?: boolean } = {}): boolean {
  if (CONTROL_CHARS.test(s) || /\s/.test(s)) return false;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  if (opts.httpsOnly) return u.protocol === 'https:' && u.hostname !== '';
  return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
}
