// core/address-guard.ts: every way an IPv6 address can lead to an IPv4 host is judged by that IPv4 host, in the forms
// that `new URL()` and DNS answers actually produce (hex, compressed), and metadata endpoints are refused always.
import t from 'tap';
import { isIP } from 'node:net';
import { classifyAddress, embeddedIpv4, refusedAddressReason, type AddressClass } from '../../core/address-guard.ts';

/** The host part `new URL()` makes of a literal, without brackets: what the guards are given. */
const viaUrl = (literal: string): string => new URL(`https://${literal.includes(':') ? `[${literal}]` : literal}/`).hostname.replace(/^\[|\]$/g, '');

const cases: { literal: string; url: string; v4?: string; cls: AddressClass; note: string }[] = [
  { literal: '127.0.0.1', url: '127.0.0.1', cls: 'private', note: 'IPv4 loopback' },
  { literal: '0x7f.1', url: '127.0.0.1', cls: 'private', note: 'IPv4 in hex shorthand (URL normalises it)' },
  { literal: '2130706433', url: '127.0.0.1', cls: 'private', note: 'IPv4 as one number' },
  { literal: '169.254.169.254', url: '169.254.169.254', cls: 'never', note: 'cloud metadata' },
  { literal: '100.100.100.200', url: '100.100.100.200', cls: 'never', note: 'Alibaba Cloud metadata, inside CGNAT' },
  { literal: '100.64.0.1', url: '100.64.0.1', cls: 'private', note: 'CGNAT' },
  { literal: '8.8.8.8', url: '8.8.8.8', cls: 'public', note: 'public IPv4' },
  { literal: '::ffff:127.0.0.1', url: '::ffff:7f00:1', v4: '127.0.0.1', cls: 'private', note: 'IPv4-mapped, dotted' },
  { literal: '0:0:0:0:0:ffff:7f00:1', url: '::ffff:7f00:1', v4: '127.0.0.1', cls: 'private', note: 'IPv4-mapped, uncompressed' },
  { literal: '::ffff:a9fe:a9fe', url: '::ffff:a9fe:a9fe', v4: '169.254.169.254', cls: 'never', note: 'IPv4-mapped metadata' },
  { literal: '::ffff:0:7f00:1', url: '::ffff:0:7f00:1', v4: '127.0.0.1', cls: 'private', note: 'IPv4-translated' },
  { literal: '::127.0.0.1', url: '::7f00:1', v4: '127.0.0.1', cls: 'private', note: 'IPv4-compatible, dotted' },
  { literal: '::7f00:1', url: '::7f00:1', v4: '127.0.0.1', cls: 'private', note: 'IPv4-compatible, hex' },
  { literal: '::a9fe:a9fe', url: '::a9fe:a9fe', v4: '169.254.169.254', cls: 'never', note: 'IPv4-compatible metadata' },
  { literal: '64:ff9b::127.0.0.1', url: '64:ff9b::7f00:1', v4: '127.0.0.1', cls: 'private', note: 'NAT64, dotted' },
  { literal: '64:ff9b::7f00:1', url: '64:ff9b::7f00:1', v4: '127.0.0.1', cls: 'private', note: 'NAT64, hex' },
  { literal: '64:ff9b::a9fe:a9fe', url: '64:ff9b::a9fe:a9fe', v4: '169.254.169.254', cls: 'never', note: 'NAT64 metadata' },
  { literal: '64:ff9b::a00:1', url: '64:ff9b::a00:1', v4: '10.0.0.1', cls: 'private', note: 'NAT64 to RFC 1918' },
  { literal: '64:ff9b::808:808', url: '64:ff9b::808:808', v4: '8.8.8.8', cls: 'public', note: 'NAT64 to a public address' },
  { literal: '64:ff9b:1::a00:1', url: '64:ff9b:1::a00:1', cls: 'private', note: 'local-use NAT64 (RFC 8215)' },
  { literal: '2002:7f00:1::', url: '2002:7f00:1::', v4: '127.0.0.1', cls: 'private', note: '6to4 of loopback' },
  { literal: '2002:a9fe:a9fe::1', url: '2002:a9fe:a9fe::1', v4: '169.254.169.254', cls: 'never', note: '6to4 of metadata' },
  { literal: '2002:c0a8:101::1', url: '2002:c0a8:101::1', v4: '192.168.1.1', cls: 'private', note: '6to4 of RFC 1918' },
  { literal: '2002:808:808::1', url: '2002:808:808::1', v4: '8.8.8.8', cls: 'public', note: '6to4 of a public address' },
  { literal: '2001:0:4136:e378:8000:63bf:80ff:fffe', url: '2001:0:4136:e378:8000:63bf:80ff:fffe', v4: '127.0.0.1', cls: 'private', note: 'Teredo, client address inverted' },
  { literal: 'fd00:ec2::254', url: 'fd00:ec2::254', cls: 'never', note: 'AWS IMDS over IPv6' },
  { literal: 'FD00:0EC2:0:0::254', url: 'fd00:ec2::254', cls: 'never', note: 'AWS IMDS, another spelling' },
  { literal: 'fd00:ec2::253', url: 'fd00:ec2::253', cls: 'private', note: 'a neighbour of IMDS is only unique-local' },
  { literal: 'fd12:3456::1', url: 'fd12:3456::1', cls: 'private', note: 'unique-local' },
  { literal: 'fe80::a9fe:a9fe', url: 'fe80::a9fe:a9fe', cls: 'never', note: 'link-local (OpenStack metadata over IPv6)' },
  { literal: '::1', url: '::1', cls: 'private', note: 'IPv6 loopback is not IPv4-compatible 0.0.0.1' },
  { literal: '::', url: '::', cls: 'never', note: 'unspecified' },
  { literal: 'ff02::1', url: 'ff02::1', cls: 'never', note: 'multicast' },
  { literal: '2606:4700::1111', url: '2606:4700::1111', cls: 'public', note: 'public IPv6' },
];

t.test('every textual form is classified by where it leads', async (t) => {
  for (const c of cases) {
    const host = viaUrl(c.literal);
    t.equal(host, c.url, `${c.note}: new URL() writes ${c.literal} as ${c.url}`);
    t.equal(classifyAddress(host), c.cls, `${c.note}: ${host} is ${c.cls}`);
    // Shorthand IPv4 (0x7f.1) is not an address until URL parsing normalises it; the guards only see URL hosts.
    const asWritten = isIP(c.literal) ? c.cls : 'invalid';
    t.equal(classifyAddress(c.literal), asWritten, `${c.note}: ${c.literal} as written is ${asWritten}`);
    if (host.includes(':')) t.equal(embeddedIpv4(host), c.v4, `${c.note}: embeds ${c.v4 ?? 'no IPv4 address'}`);
  }
  t.equal(classifyAddress('[::ffff:7f00:1]'), 'private', 'brackets are accepted');
  t.equal(classifyAddress('example.com'), 'invalid');
});

t.test('metadata addresses are refused even with private addresses allowed', async (t) => {
  for (const a of ['169.254.169.254', 'fd00:ec2::254', '64:ff9b::a9fe:a9fe', '::ffff:a9fe:a9fe', '2002:a9fe:a9fe::', '100.100.100.200']) {
    t.match(refusedAddressReason(a, { allowPrivate: true }), /never fetched/, `${a} refused with allowPrivate`);
  }
  for (const a of ['::7f00:1', '64:ff9b::7f00:1', '2002:7f00:1::', 'fd12::1']) {
    t.match(refusedAddressReason(a, { allowPrivate: false }), /SPEC_FETCH_ALLOW_PRIVATE=true/, `${a} refused by default`);
    t.equal(refusedAddressReason(a, { allowPrivate: true }), undefined, `${a} allowed with allowPrivate`);
  }
});
