// Compact JWTs signed with the emulator's key: the access tokens it issues and checks on every ARM call, and the
// tokens the gateway's validate-jwt checks through the emulator's own OpenID configuration.
// The key is persisted next to the CA so tokens survive a restart of the emulator (a client caches its token for up
// to an hour and would otherwise get 401s it cannot explain).
//
// RS256 (RSA 2048), as Entra ID signs its tokens: APIM's validate-jwt accepts only PS256, RS256 and RS512 for
// asymmetric keys ("Usage notes", https://learn.microsoft.com/azure/api-management/validate-jwt-policy), so an ES256
// token would fail there however valid it is. Keys made before this (EC P-256, ES256) still load and sign ES256.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  privateKeyPem: string;
  /** RS256 for RSA keys, ES256 for the EC keys of emulator homes made before RS256. */
  alg: 'RS256' | 'ES256';
}

export function signingKeyFromPem(privateKeyPem: string): SigningKey {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url').slice(0, 27);
  return { privateKey, publicKey, kid, privateKeyPem, alg: privateKey.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256' };
}

/** A new RSA 2048 key, generated on the thread pool (it takes tens to hundreds of milliseconds). */
export async function createSigningKeyAsync(): Promise<SigningKey> {
  const pem = await new Promise<string>((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }, (err, _pub, priv) => (err ? reject(err) : resolve(priv))),
  );
  return signingKeyFromPem(pem);
}

export function publicJwk(key: SigningKey): JsonWebKey & { kid: string; use: string; alg: string } {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, use: 'sig', alg: key.alg };
}

/** ES256 signatures are the raw r||s pair in JWS (RFC 7518 §3.4), not DER. */
function signatureOptions(key: KeyObject, alg: SigningKey['alg']): { key: KeyObject; dsaEncoding?: 'ieee-p1363' } {
  return alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : { key };
}

function b64json(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

export function signJwt(key: SigningKey, payload: Record<string, unknown>): string {
  const head = b64json({ alg: key.alg, typ: 'JWT', kid: key.kid });
  const body = b64json(payload);
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), signatureOptions(key.privateKey, key.alg));
  return `${head}.${body}.${signature.toString('base64url')}`;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWT without checking its signature; undefined if it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (header === null || typeof header !== 'object' || payload === null || typeof payload !== 'object') return undefined;
    return {
      header: header as Record<string, unknown>,
      payload: payload as Record<string, unknown>,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** Checks a token this emulator issued: structure, signature with its key. Expiry is the caller's call. */
export function verifyJwt(key: SigningKey, token: string): DecodedJwt | undefined {
  const jwt = decodeJwt(token);
  if (!jwt || jwt.header['alg'] !== key.alg) return undefined;
  const okSignature = verify('sha256', Buffer.from(jwt.signingInput), signatureOptions(key.publicKey, key.alg), jwt.signature);
  return okSignature ? jwt : undefined;
}
