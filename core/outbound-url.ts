// Which URLs a tenant may make APIM call: spec.apim.backend.url (every request the API forwards) and the JWT
// discovery URL (fetched by the gateway with its own identity). APIM runs inside the operator's network and trusts
// nothing about who wrote the URL, so the same guard as for specification fetches applies: https, public addresses,
// never link-local or cloud metadata, no cluster-internal names. Pure: DNS answers are judged by
// checkResolvedAddresses, given the addresses by whoever resolved them (the executor).
import { classifyAddress } from './address-guard.ts';
import { forbidden, invalid, type FieldError } from './field-error.ts';
import { hostAllowed } from './spec-fetch.ts';

export interface OutboundPolicy {
  /** Allow plain http (OUTBOUND_ALLOW_HTTP); never applies to the JWT discovery URL, which APIM requires as https. */
  allowHttp: boolean;
  /** Allow loopback, private, CGNAT and unique-local addresses and internal names (OUTBOUND_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /**
   * Host names the URL must match (exact, or ".example.com" for a domain and its subdomains); absent or empty = any.
   * It narrows what is allowed and never opens anything the other rules refuse.
   */
  allowedHosts?: string[];
}

/** What applies when nothing is configured. */
export const STRICT_OUTBOUND_POLICY: OutboundPolicy = { allowHttp: false, allowPrivate: false };

// Names that only mean something inside a cluster, a cloud network or one machine. Last labels here are not
// delegated top-level domains (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal), or are Kubernetes' own.
const INTERNAL_SUFFIXES = ['localhost', 'local', 'localdomain', 'internal', 'svc', 'default', 'home.arpa', 'lan', 'intranet', 'corp', 'home', 'private'];
// Metadata services by name: refused even when private addresses are allowed.
const METADATA_NAMES = ['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal'];
// A public top-level domain is letters only, or an internationalised one in its xn-- form.
const PUBLIC_TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

export type HostClass = { kind: 'public' } | { kind: 'private' | 'never'; reason: string };

/** How a host (a URL's hostname: lower-case, IPv6 in brackets) is classified before any DNS lookup. */
export function classifyHost(hostname: string): HostClass {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const address = classifyAddress(host);
  if (address === 'never') return { kind: 'never', reason: `${host} is a link-local, metadata, multicast or unspecified address` };
  if (address === 'private') return { kind: 'private', reason: `${host} is a loopback or private address` };
  if (address === 'public') return { kind: 'public' };
  if (METADATA_NAMES.includes(host)) return { kind: 'never', reason: `${host} names a cloud metadata service` };
  const labels = host.split('.');
  if (labels.length === 1) return { kind: 'private', reason: `${host} is a single-label name, which only resolves inside a cluster or a local network` };
  if (host === 'kubernetes.default' || INTERNAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`))) {
    return { kind: 'private', reason: `${host} is a cluster-internal or local name` };
  }
  if (!PUBLIC_TLD.test(labels[labels.length - 1]!)) {
    // <service>.<namespace> resolves through a pod's DNS search path; "team-b" or "ns1" is no public TLD.
    return { kind: 'private', reason: `${host} does not end in a public top-level domain, so it can only be an internal name (such as <service>.<namespace>)` };
  }
  return { kind: 'public' };
}

const PRIVATE_FIX = 'use a public host name, or ask the platform team to set OUTBOUND_ALLOW_PRIVATE=true if APIM is meant to reach internal addresses';

/**
 * The errors of one outbound URL; [] when it is allowed. A URL that does not parse is left to the field's own rule
 * (which says what shape is expected), so it is reported once.
 */
export function checkOutboundUrl(field: string, url: string, policy: OutboundPolicy = STRICT_OUTBOUND_POLICY, options: { httpsOnly?: boolean } = {}): FieldError[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const httpAllowed = policy.allowHttp && !options.httpsOnly;
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && httpAllowed)) {
    const fix = u.protocol === 'http:' && !options.httpsOnly ? 'use https (plain http needs OUTBOUND_ALLOW_HTTP=true in the operator configuration)' : 'use https';
    return [invalid(field, url, `must be an https URL: ${fix}`)];
  }
  if (u.username !== '' || u.password !== '') {
    return [invalid(field, url, 'must not carry a user name or password: APIM would keep them readable in the API settings; remove them')];
  }
  const allowed = policy.allowedHosts ?? [];
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!hostAllowed(host, allowed)) {
    return [forbidden(field, `${url}: host ${host} is not among the hosts allowed here (${allowed.join(', ')}); use one of them`, url)];
  }
  const c = classifyHost(u.hostname);
  if (c.kind === 'never') return [forbidden(field, `${url}: ${c.reason}; APIM is never pointed there`, url)];
  if (c.kind === 'private' && !policy.allowPrivate) return [forbidden(field, `${url}: ${c.reason}; ${PRIVATE_FIX}`, url)];
  return [];
}

/** The errors for the addresses a URL's host name resolved to: every one must be allowed. */
export function checkResolvedAddresses(field: string, url: string, addresses: readonly string[], policy: OutboundPolicy = STRICT_OUTBOUND_POLICY): FieldError[] {
  const host = new URL(url).hostname;
  for (const a of addresses) {
    const c = classifyAddress(a);
    if (c === 'never') return [forbidden(field, `${url}: ${host} resolves to ${a}, a link-local, metadata, multicast or unspecified address; APIM is never pointed there`, url)];
    if (c === 'private' && !policy.allowPrivate) return [forbidden(field, `${url}: ${host} resolves to ${a}, a loopback or private address; ${PRIVATE_FIX}`, url)];
  }
  return [];
}
