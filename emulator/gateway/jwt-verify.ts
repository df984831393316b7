// Checking a compact JWS against the keys of an OpenID configuration, as validate-jwt does with `openid-config`:
// the algorithm must be one validate-jwt supports (GatewaySettings.jwtAlgorithms), the key is the one the token's
// `kid` names (or, without a kid, any key that verifies), and the signature must hold. Pure apart from crypto.
import { constants, verify, type KeyObject } from 'node:crypto';
import type { SigningJwk } from './openid-keys.ts';

export interface DecodedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

export function decodeToken(token: string): DecodedToken | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (header === null || typeof header !== 'object' || Array.isArray(header) || payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return { header: header as Record<string, unknown>, payload: payload as Record<string, unknown>, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return undefined;
  }
}

const VERIFIERS: Record<string, (input: Buffer, key: KeyObject, signature: Buffer) => boolean> = {
  RS256: (i, k, s) => verify('sha256', i, k, s),
  RS384: (i, k, s) => verify('sha384', i, k, s),
  RS512: (i, k, s) => verify('sha512', i, k, s),
  PS256: (i, k, s) => verify('sha256', i, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, s),
  PS384: (i, k, s) => verify('sha384', i, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, s),
  PS512: (i, k, s) => verify('sha512', i, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, s),
  ES256: (i, k, s) => verify('sha256', i, { key: k, dsaEncoding: 'ieee-p1363' }, s),
  ES384: (i, k, s) => verify('sha384', i, { key: k, dsaEncoding: 'ieee-p1363' }, s),
  ES512: (i, k, s) => verify('sha512', i, { key: k, dsaEncoding: 'ieee-p1363' }, s),
};

export type SignatureCheck = { ok: true } | { ok: false; reason: 'algorithm' | 'key-not-found' | 'signature'; detail: string };

export function checkSignature(token: DecodedToken, keys: SigningJwk[], algorithms: string[]): SignatureCheck {
  const alg = token.header['alg'];
  if (typeof alg !== 'string' || !algorithms.includes(alg) || !VERIFIERS[alg]) {
    return { ok: false, reason: 'algorithm', detail: `the token's algorithm '${String(alg)}' is not one validate-jwt accepts (${algorithms.join(', ')})` };
  }
  const kid = typeof token.header['kid'] === 'string' ? token.header['kid'] : undefined;
  const candidates = keys.filter((k) => (kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg));
  if (candidates.length === 0) return { ok: false, reason: 'key-not-found', detail: `no signing key${kid !== undefined ? ` with kid '${kid}'` : ''} for ${alg}` };
  const input = Buffer.from(token.signingInput);
  for (const k of candidates) {
    try {
      if (VERIFIERS[alg]!(input, k.key, token.signature)) return { ok: true };
    } catch {
      // A key of the wrong type for the algorithm does not verify; the next may.
    }
  }
  return { ok: false, reason: 'signature', detail: 'the signature does not verify' };
}
