// The SSRF guard for outbound addresses: an ExposedAPI author must not be able to make the webhook or the executor
// (which run inside the cluster) fetch from, or APIM call, cloud metadata, the apiserver or other internal services.
//
// IPv6 has several ways to carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo); each is unwrapped and the
// IPv4 address judged, so that ::7f00:1 or 64:ff9b::a9fe:a9fe is refused like 127.0.0.1 or 169.254.169.254.
// Addresses are parsed into bytes rather than matched as text, because the same address has many spellings and
// `new URL()` and DNS answers produce the hex forms (::ffff:7f00:1), not the dotted ones.
import { BlockList, isIP } from 'node:net';

export interface AddressPolicy {
  /** Allow loopback, RFC 1918, CGNAT and IPv6 unique-local addresses (needed for in-cluster or local test servers). */
  allowPrivate: boolean;
}

/** never: link-local, metadata, multicast, unspecified — refused whatever the configuration says. */
export type AddressClass = 'invalid' | 'never' | 'private' | 'public';

// Link-local (including the cloud metadata address 169.254.169.254) and unusable ranges.
const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
// Alibaba Cloud's metadata endpoint, inside CGNAT space, so "allow private" must not open it.
ALWAYS_BLOCKED.addAddress('100.100.100.200', 'ipv4');
ALWAYS_BLOCKED.addSubnet('224.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addSubnet('240.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addSubnet('::', 128, 'ipv6');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addSubnet('ff00::', 8, 'ipv6');
// AWS's instance metadata service over IPv6 (Nitro instances). It lies in fc00::/7, so it is listed here, before the
// unique-local range that "allow private" opens.
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6');

const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('192.0.0.0', 24, 'ipv4');
PRIVATE.addSubnet('198.18.0.0', 15, 'ipv4');
PRIVATE.addSubnet('::1', 128, 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
// Deprecated site-local addresses still route inside some networks.
PRIVATE.addSubnet('fec0::', 10, 'ipv6');
// RFC 8215 local-use NAT64: translates to whatever IPv4 network the operator of that translator chose.
PRIVATE.addSubnet('64:ff9b:1::', 48, 'ipv6');

/** The 16 bytes of a textual IPv6 address that isIP() accepted (any spelling, with or without a dotted tail). */
export function ipv6Bytes(addr: string): number[] {
  let text = addr.toLowerCase();
  const tail: number[] = [];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted.slice(1, 5).map(Number));
    text = text.slice(0, dotted.index) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = groups(rest);
  const words = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const bytes = words.flatMap((w) => [w >> 8, w & 255]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const dottedQuad = (b: number[]): string => b.join('.');

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one in a form that reaches an IPv4 host: IPv4-mapped
 * (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), IPv4-compatible (::/96, deprecated but still parsed by stacks),
 * well-known NAT64 (64:ff9b::/96), 6to4 (2002::/16, the IPv4 address in bits 16-47) and Teredo (2001::/32, the client
 * address inverted in the last 32 bits).
 */
export function embeddedIpv4(addr: string): string | undefined {
  const b = ipv6Bytes(addr);
  const zero = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  const last4 = b.slice(12, 16);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return dottedQuad(last4);
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return dottedQuad(last4);
  // ::/96 holds :: and ::1 too, which are IPv6's own unspecified and loopback addresses, judged as such.
  if (zero(0, 12) && !(zero(12, 15) && (b[15] === 0 || b[15] === 1))) return dottedQuad(last4);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return dottedQuad(last4);
  if (b[0] === 0x20 && b[1] === 0x02) return dottedQuad(b.slice(2, 6));
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return dottedQuad(last4.map((x) => x ^ 0xff));
  return undefined;
}

/** Which class an address is in; an IPv6 address carrying an IPv4 one is classified by the IPv4 address too. */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'invalid';
  if (family === 4) return ALWAYS_BLOCKED.check(bare, 'ipv4') ? 'never' : PRIVATE.check(bare, 'ipv4') ? 'private' : 'public';
  if (ALWAYS_BLOCKED.check(bare, 'ipv6')) return 'never';
  const v4 = embeddedIpv4(bare);
  // The stricter of the two verdicts: the IPv6 address itself and the IPv4 address it leads to.
  const v4Class = v4 === undefined ? 'public' : classifyAddress(v4);
  if (v4Class === 'never') return 'never';
  if (v4Class === 'private' || PRIVATE.check(bare, 'ipv6')) return 'private';
  return 'public';
}

/** Why an address may not be fetched from, or undefined when it may (the specification fetcher's wording). */
export function refusedAddressReason(address: string, policy: AddressPolicy): string | undefined {
  switch (classifyAddress(address)) {
    case 'invalid':
      return `"${address}" is not an IP address`;
    case 'never':
      return `${address} is a link-local, multicast, metadata or unspecified address (this includes the cloud metadata endpoint); specification URLs are never fetched from there`;
    case 'private':
      return policy.allowPrivate ? undefined : `${address} is a loopback or private address; the operator only fetches specifications from public addresses unless SPEC_FETCH_ALLOW_PRIVATE=true`;
    case 'public':
      return undefined;
  }
}
