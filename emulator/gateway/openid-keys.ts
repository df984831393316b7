// The signing keys and issuer validate-jwt reads from an `openid-config` URL. "Configuration including the JSON Web
// Key Set (JWKS) is pulled from the endpoint every 1 hour and cached. If the token being validated references a
// validation key (using kid claim) that is missing in cached configuration, or if retrieval fails, API Management
// pulls from the endpoint at most once per 5 min." (https://learn.microsoft.com/azure/api-management/validate-jwt-policy)
// The emulator's own identity endpoint is trusted through the emulator's CA; other issuers through the system's roots.
import { createPublicKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { DecodedToken } from './jwt-verify.ts';

const REFRESH_MS = 60 * 60 * 1000;
const RETRY_MS = 5 * 60 * 1000;
const FETCH_TIMEOUT_MS = 10_000;
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface SigningJwk {
  kid: string | undefined;
  /** The JWK's `alg`, when it names one. */
  alg: string | undefined;
  key: KeyObject;
}

export interface OpenIdConfiguration {
  issuer: string | undefined;
  keys: SigningJwk[];
  /**
   * Tokens whose signature these keys verified (by algorithm list and token): a caller sends the same token for its
   * whole lifetime, and an RSA verify is most of what validate-jwt costs. Dropped with the keys when they refresh.
   */
  verified: Map<string, DecodedToken>;
}

interface CacheEntry {
  config?: OpenIdConfiguration;
  fetchedAt: number;
  /** The last time a fetch was attempted (success or not): forced refreshes wait RETRY_MS after it. */
  attemptedAt: number;
  inFlight?: Promise<void>;
  error?: string;
}

function getText(url: string, ca: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const client = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new Error(`unsupported scheme in '${url}'`));
      return;
    }
    const req = client.get(u, { ...(u.protocol === 'https:' ? { ca } : {}), timeout: FETCH_TIMEOUT_MS, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url} answered ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_DOCUMENT_BYTES) req.destroy(new Error(`GET ${url}: the document exceeds ${MAX_DOCUMENT_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${FETCH_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

function readKeys(jwks: unknown): SigningJwk[] {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`the JWKS has no 'keys' list`);
  const out: SigningJwk[] = [];
  for (const k of keys) {
    if (k === null || typeof k !== 'object') continue;
    const jwk = k as Record<string, unknown>;
    if (jwk['use'] !== undefined && jwk['use'] !== 'sig') continue;
    try {
      const key = createPublicKey({ key: jwk as never, format: 'jwk' });
      out.push({ kid: typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined, alg: typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined, key });
    } catch {
      // A key the runtime cannot read cannot verify anything; the others still can.
    }
  }
  return out;
}

export class OpenIdKeys {
  readonly #cache = new Map<string, CacheEntry>();
  readonly #ca: string[];

  /** `extraCa`: PEM certificates trusted besides the system roots (the emulator's own CA). */
  constructor(extraCa: string[] = []) {
    this.#ca = [...rootCertificates, ...extraCa];
  }

  /**
   * The configuration for a URL: cached for an hour; `wantKid` names a key the token needs, and its absence forces a
   * refresh unless one was attempted in the last five minutes. Throws with the reason when nothing usable is known.
   */
  async get(url: string, wantKid: string | undefined, now = Date.now()): Promise<OpenIdConfiguration> {
    let entry = this.#cache.get(url);
    if (!entry) {
      entry = { fetchedAt: 0, attemptedAt: 0 };
      this.#cache.set(url, entry);
    }
    // A fetch already on its way answers this request too.
    if (entry.inFlight) await entry.inFlight;
    const stale = !entry.config || now - entry.fetchedAt >= REFRESH_MS;
    const missingKid = wantKid !== undefined && entry.config !== undefined && !entry.config.keys.some((k) => k.kid === wantKid);
    const mayRetry = now - entry.attemptedAt >= RETRY_MS || entry.attemptedAt === 0;
    if ((stale && (entry.config !== undefined || mayRetry)) || (missingKid && mayRetry)) await this.#refresh(url, entry, now);
    if (!entry.config) throw new Error(entry.error ?? `no OpenID configuration from '${url}'`);
    return entry.config;
  }

  reset(): void {
    this.#cache.clear();
  }

  #refresh(url: string, entry: CacheEntry, now: number): Promise<void> {
    entry.inFlight ??= (async () => {
      entry.attemptedAt = now;
      try {
        const config = JSON.parse(await getText(url, this.#ca)) as Record<string, unknown>;
        const jwksUri = config['jwks_uri'];
        if (typeof jwksUri !== 'string') throw new Error(`the OpenID configuration at '${url}' has no jwks_uri`);
        const keys = readKeys(JSON.parse(await getText(jwksUri, this.#ca)));
        entry.config = { issuer: typeof config['issuer'] === 'string' ? config['issuer'] : undefined, keys, verified: new Map() };
        entry.fetchedAt = now;
        delete entry.error;
      } catch (err) {
        entry.error = `fetching '${url}': ${(err as Error).message}`;
      } finally {
        delete entry.inFlight;
      }
    })();
    return entry.inFlight;
  }
}
