// The SSRF guard for outbound fetches of specification URLs: an ExposedAPI author must not be able to make the
// webhook (which runs inside the cluster) read cloud metadata, the apiserver or other internal services.
import { BlockList, isIP } from 'node:net';

export interface AddressPolicy {
  /** Allow loopback, RFC 1918, CGNAT and IPv6 unique-local addresses (needed for in-cluster or local test servers). */
  allowPrivate: boolean;
}

// Link-local (including the cloud metadata address 169.254.169.254) and unusable ranges: never fetched.
const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_BLOCKED.addSubnet('224.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addSubnet('240.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addSubnet('::', 128, 'ipv6');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addSubnet('ff00::', 8, 'ipv6');

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

/** An IPv4 address embedded in an IPv6 one (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96) is judged as IPv4. */
function embeddedIpv4(addr: string): string | undefined {
  const m = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (m) return m[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(addr);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** Why an address may not be fetched from, or undefined when it may. */
export function refusedAddressReason(address: string, policy: AddressPolicy): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return `"${address}" is not an IP address`;
  const v4 = family === 6 ? embeddedIpv4(bare) : undefined;
  const [addr, type] = v4 ? [v4, 'ipv4' as const] : [bare, family === 4 ? ('ipv4' as const) : ('ipv6' as const)];
  if (ALWAYS_BLOCKED.check(addr, type)) {
    return `${address} is a link-local, multicast or unspecified address (this includes the cloud metadata endpoint); specification URLs are never fetched from there`;
  }
  if (!policy.allowPrivate && PRIVATE.check(addr, type)) {
    return `${address} is a loopback or private address; the operator only fetches specifications from public addresses unless SPEC_FETCH_ALLOW_PRIVATE=true`;
  }
  return undefined;
}
