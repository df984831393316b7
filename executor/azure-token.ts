// The executor's Azure token: the OAuth 2.0 client-credentials grant against Microsoft Entra ID, in its two forms a
// Job uses: a federated token (AKS workload identity: AZURE_FEDERATED_TOKEN_FILE) or a client secret (the emulator,
// service principals). Both are one POST to {authority}/{tenant}/oauth2/v2.0/token (Microsoft identity platform,
// "client credentials flow": client_secret, or client_assertion_type jwt-bearer with client_assertion). Anything else
// (managed identity through IMDS, certificates, a developer's Azure CLI) goes to @azure/identity's
// DefaultAzureCredential, loaded only then. Why not always DefaultAzureCredential: the identity package and MSAL cost
// a Job about 0.15 CPU-seconds to load and one discovery round trip before the token request (docs/executor.md,
// "The Job's process"), on every change. The precedence is DefaultAzureCredential's own: environment (secret) first,
// then workload identity.
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import type { ExecutorConfig } from '../core/executor-config.ts';

export interface AccessToken {
  token: string;
  expiresOnTimestamp: number;
}

/** The shape @azure/identity's credentials have (structurally the same: either fits where the other is expected). */
export interface TokenCredential {
  getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal }): Promise<AccessToken | null>;
}

export type TokenSourceKind = 'client-secret' | 'workload-identity' | 'default-azure-credential';

interface GrantSettings {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  /** The secret itself, or where to read the federated token (read on every request: kubelet rotates it). */
  secret: { clientSecret: string } | { federatedTokenFile: string };
  /** CA certificates to trust besides the system's (tests; in a pod, NODE_EXTRA_CA_CERTS does this). */
  ca?: string;
}

/** Which way the environment asks for tokens (DefaultAzureCredential's order for the two we speak ourselves). */
export function tokenSourceKind(env: NodeJS.ProcessEnv): TokenSourceKind {
  const has = (n: string): boolean => (env[n] ?? '') !== '';
  if (has('AZURE_TENANT_ID') && has('AZURE_CLIENT_ID') && has('AZURE_CLIENT_SECRET')) return 'client-secret';
  if (has('AZURE_TENANT_ID') && has('AZURE_CLIENT_ID') && has('AZURE_FEDERATED_TOKEN_FILE')) return 'workload-identity';
  return 'default-azure-credential';
}

/** The credential for this run: our client-credentials grant when the environment gives one of its two forms. */
export async function loadCredential(config: ExecutorConfig, env: NodeJS.ProcessEnv = process.env): Promise<TokenCredential> {
  const kind = tokenSourceKind(env);
  if (kind === 'default-azure-credential') {
    const { DefaultAzureCredential } = await import('@azure/identity');
    return new DefaultAzureCredential({
      authorityHost: config.apim.authorityHost,
      // MSAL would otherwise ask login.microsoftonline.com whether the authority is known, which fails for the
      // emulator and private clouds.
      disableInstanceDiscovery: config.apim.disableInstanceDiscovery,
    });
  }
  return clientCredentials({
    authorityHost: config.apim.authorityHost,
    tenantId: env['AZURE_TENANT_ID']!,
    clientId: env['AZURE_CLIENT_ID']!,
    secret: kind === 'client-secret' ? { clientSecret: env['AZURE_CLIENT_SECRET']! } : { federatedTokenFile: env['AZURE_FEDERATED_TOKEN_FILE']! },
  });
}

/** Thrown when Entra ID refuses or cannot be reached: the name apim-error.ts (and @azure/identity) use. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

const TIMEOUT_MS = 30_000;

export function clientCredentials(g: GrantSettings): TokenCredential {
  // A tenant is a GUID or a domain: anything else would change the token URL's path.
  if (!/^[0-9A-Za-z.-]+$/.test(g.tenantId)) throw new AuthenticationError(`AZURE_TENANT_ID=${JSON.stringify(g.tenantId)} is not a tenant id or domain`);
  const url = `${g.authorityHost.replace(/\/+$/, '')}/${g.tenantId}/oauth2/v2.0/token`;
  const agent = new https.Agent({ keepAlive: false, ...(g.ca ? { ca: g.ca } : {}) });
  return {
    async getToken(scopes, options) {
      const form = new URLSearchParams({ client_id: g.clientId, scope: [scopes].flat().join(' '), grant_type: 'client_credentials' });
      if ('clientSecret' in g.secret) {
        form.set('client_secret', g.secret.clientSecret);
      } else {
        let assertion: string;
        try {
          assertion = (await readFile(g.secret.federatedTokenFile, 'utf8')).trim();
        } catch (e) {
          throw new AuthenticationError(`the federated token file AZURE_FEDERATED_TOKEN_FILE=${g.secret.federatedTokenFile} cannot be read: ${(e as Error).message}`);
        }
        form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        form.set('client_assertion', assertion);
      }
      const sentAt = Date.now();
      let answer: { status: number; text: string };
      try {
        answer = await postForm(agent, url, form.toString(), options?.abortSignal);
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        throw new AuthenticationError(`the token endpoint ${url} could not be reached: ${(e as Error).message}`);
      }
      return tokenOf(answer, sentAt);
    },
  };
}

/** Entra ID's answer: the token, or its error (error, error_description: never the request, which holds the secret). */
export function tokenOf(answer: { status: number; text: string }, sentAtMs: number): AccessToken {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    // Reported below with the status.
  }
  if (answer.status === 200 && typeof body['access_token'] === 'string' && typeof body['expires_in'] === 'number') {
    return { token: body['access_token'], expiresOnTimestamp: sentAtMs + body['expires_in'] * 1000 };
  }
  const description = typeof body['error_description'] === 'string' ? body['error_description'].split(/\r?\n/)[0] : `HTTP ${answer.status}`;
  const code = typeof body['error'] === 'string' ? `${body['error']}: ` : '';
  throw new AuthenticationError(`Entra ID refused the token request (${answer.status}): ${code}${description}`);
}

function postForm(agent: https.Agent, url: string, body: string, signal?: AbortSignal): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: TIMEOUT_MS,
        ...(signal ? { signal } : {}),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), accept: 'application/json', 'user-agent': 'exposedapi-apim-executor' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
