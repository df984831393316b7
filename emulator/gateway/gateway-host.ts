// The host name the gateway's URL may carry instead of its listening address (--gateway-host), e.g.
// `apim-emulator.azure-api.net`, the real service's form. It goes into the serving certificate's DNS names and into
// the URL the service reports, so it must be a DNS name (RFC 1123 labels): no address (the certificate lists those
// separately), no port (the gateway's own port is added), no scheme.

/** Why a --gateway-host value cannot be used, with the fix; undefined when it can. */
export function gatewayHostProblem(value: string): string | undefined {
  const example = 'e.g. apim-emulator.azure-api.net';
  if (value === '') return `must not be empty: a DNS name, ${example}`;
  if (/^[\d.]+$/.test(value) || value.includes(':')) return `"${value}": a DNS name without port or scheme, ${example} (the listening address is the default)`;
  if (value.length > 253) return `"${value}": longer than 253 characters`;
  const bad = value.split('.').find((l) => !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
  if (bad !== undefined) return `"${value}": the label "${bad}" is not a DNS label (letters, digits and inner hyphens, 1 to 63 characters), ${example}`;
  return undefined;
}
