// A Microsoft Entra ID (AAD v2.0) token service for one tenant, enough for @azure/identity's ClientSecretCredential,
// ClientAssertionCredential and WorkloadIdentityCredential (the latter two via DefaultAzureCredential): OpenID
// discovery, JWKS, and the client-credentials grant with a secret or a client assertion. Errors are AADSTS-style
// JSON with the real codes, because MSAL surfaces `error_description` as the message users see.
//
// Workload identity (client_assertion): the assertion is a JWT as a Kubernetes projected service-account token is.
// The emulator checks its shape, not its signature (it has no view of the cluster's signing keys):
//   header `alg` present and not "none"; payload `iss` and `sub` strings, `aud` containing
//   "api://AzureADTokenExchange", `exp` in the future, `nbf` (if any) not in the future.
// `sub` must be `system:serviceaccount:<namespace>:<name>` unless federated credentials are configured for the
// client, in which case `iss` and `sub` must match one of them exactly (else AADSTS70021, as Entra ID answers).
import { createHash, randomUUID } from 'node:crypto';
import type { SigningKey } from './access-token.ts';
import { decodeJwt, publicJwk, signJwt, verifyJwt } from './access-token.ts';

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

export interface FederatedCredential {
  issuer: string;
  subject: string;
}

export interface ClientRegistration {
  clientId: string;
  clientSecret?: string;
  /** Trusted (issuer, subject) pairs for client assertions; empty → any service-account subject is accepted. */
  federatedCredentials?: FederatedCredential[];
}

export interface TokenServiceConfig {
  tenantId: string;
  clients: ClientRegistration[];
  tokenLifetimeSeconds: number;
}

export interface TokenReply {
  status: number;
  body: Record<string, unknown>;
}

export interface Principal {
  clientId: string;
  objectId: string;
}

const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:[^:]+:[^:]+$/;

export function objectIdFor(clientId: string): string {
  const h = createHash('sha256').update(`emulator-principal:${clientId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function openidConfiguration(origin: string, tenantId: string, alg = 'RS256'): Record<string, unknown> {
  const base = `${origin}/${tenantId}`;
  return {
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: [alg],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'oid', 'appid'],
    tenant_region_scope: null,
    cloud_instance_name: 'emulator.local',
  };
}

export function jwks(key: SigningKey): Record<string, unknown> {
  return { keys: [publicJwk(key)] };
}

/** An Entra ID error reply: `AADSTSnnnnn: message` plus trace and correlation ids and a timestamp. */
export function aadError(status: number, error: string, code: number, message: string, now = new Date()): TokenReply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

export function unknownTenant(tenant: string): TokenReply {
  return aadError(
    400,
    'invalid_tenant',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );
}

function checkAssertion(assertion: string, client: ClientRegistration, nowSeconds: number): TokenReply | undefined {
  const jwt = decodeJwt(assertion);
  if (!jwt) return aadError(400, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
  const alg = jwt.header['alg'];
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') {
    return aadError(400, 'invalid_client', 50027, `JWT token is invalid or malformed: the assertion must be signed (alg '${String(alg)}').`);
  }
  const { iss, sub, aud, exp, nbf } = jwt.payload;
  if (typeof iss !== 'string' || typeof sub !== 'string') {
    return aadError(400, 'invalid_client', 50027, `JWT token is invalid or malformed: 'iss' and 'sub' claims are required.`);
  }
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(TOKEN_EXCHANGE_AUDIENCE)) {
    return aadError(400, 'invalid_client', 700212, `No matching federated identity record found for presented assertion audience '${String(aud)}'. Expected '${TOKEN_EXCHANGE_AUDIENCE}'.`);
  }
  if (typeof exp !== 'number' || exp <= nowSeconds) {
    return aadError(400, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${new Date(nowSeconds * 1000).toISOString()}, assertion valid until ${typeof exp === 'number' ? new Date(exp * 1000).toISOString() : 'unknown (no exp claim)'}.`);
  }
  if (typeof nbf === 'number' && nbf > nowSeconds + 300) {
    return aadError(400, 'invalid_client', 700024, `Client assertion is not within its valid time range: it is not valid before ${new Date(nbf * 1000).toISOString()}.`);
  }
  const federated = client.federatedCredentials ?? [];
  const matches = federated.length > 0 ? federated.some((f) => f.issuer === iss && f.subject === sub) : SERVICE_ACCOUNT_SUBJECT.test(sub);
  if (!matches) {
    return aadError(
      400,
      'invalid_client',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${TOKEN_EXCHANGE_AUDIENCE}'.`,
    );
  }
  return undefined;
}

/** The client-credentials grant (POST {tenant}/oauth2/v2.0/token). */
export function issueToken(form: URLSearchParams, tenant: string, cfg: TokenServiceConfig, key: SigningKey, origin: string, now = Date.now()): TokenReply {
  if (tenant.toLowerCase() !== cfg.tenantId.toLowerCase()) return unknownTenant(tenant);
  const grant = form.get('grant_type');
  if (grant !== 'client_credentials') {
    return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${String(grant)}'; the emulator supports client_credentials.`);
  }
  const clientId = form.get('client_id') ?? '';
  const client = cfg.clients.find((c) => c.clientId.toLowerCase() === clientId.toLowerCase());
  if (!client) {
    return aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${cfg.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    );
  }
  const nowSeconds = Math.floor(now / 1000);
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (secret !== null) {
    if (client.clientSecret === undefined || secret !== client.clientSecret) {
      return aadError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${client.clientId}'.`,
      );
    }
  } else if (assertion !== null) {
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return aadError(400, 'invalid_request', 50027, `client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.`);
    }
    const problem = checkAssertion(assertion, client, nowSeconds);
    if (problem) return problem;
  } else {
    return aadError(401, 'invalid_client', 7000218, `The request body must contain the following parameter: 'client_assertion' or 'client_secret'.`);
  }
  const scopes = (form.get('scope') ?? '').split(/\s+/).filter((s) => s !== '');
  const resourceScope = scopes.find((s) => s.endsWith('/.default'));
  if (!resourceScope) {
    return aadError(400, 'invalid_scope', 1002012, `The provided value for scope ${scopes.join(' ') || '(none)'} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  const lifetime = cfg.tokenLifetimeSeconds;
  const objectId = objectIdFor(client.clientId);
  const accessToken = signJwt(key, {
    aud: resourceScope.slice(0, -'/.default'.length),
    iss: `${origin}/${cfg.tenantId}/v2.0`,
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + lifetime,
    appid: client.clientId,
    azp: client.clientId,
    idtyp: 'app',
    oid: objectId,
    sub: objectId,
    tid: cfg.tenantId,
    ver: '2.0',
  });
  return { status: 200, body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken } };
}

export type TokenCheck = { ok: true; principal: Principal } | { ok: false; code: string; message: string };

// Signature checks are the costliest part of a small ARM call (a signature verify per request), and clients send the
// same token for an hour: verified tokens are remembered (expiry is still checked on every call).
const verified = new Map<string, Record<string, unknown>>();
const VERIFIED_MAX = 1000;

function verifiedPayload(key: SigningKey, token: string): Record<string, unknown> | undefined {
  const known = verified.get(`${key.kid}:${token}`);
  if (known) return known;
  const jwt = verifyJwt(key, token);
  if (!jwt) return undefined;
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  verified.set(`${key.kid}:${token}`, jwt.payload);
  return jwt.payload;
}

/** Checks `Authorization: Bearer …` on an ARM call: a token this emulator issued, unexpired, for its tenant. */
export function checkBearer(authorization: string | undefined, cfg: TokenServiceConfig, key: SigningKey, now = Date.now()): TokenCheck {
  if (authorization === undefined || authorization.trim() === '') {
    return { ok: false, code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." };
  }
  const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!m) return { ok: false, code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is provided in an invalid format." };
  const payload = verifiedPayload(key, m[1]!);
  if (!payload) return { ok: false, code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' };
  const exp = payload['exp'];
  if (typeof exp !== 'number' || exp * 1000 <= now) {
    const at = typeof exp === 'number' ? new Date(exp * 1000).toISOString() : 'unknown';
    return { ok: false, code: 'ExpiredAuthenticationToken', message: `The access token expiry UTC time '${at}' is earlier than current UTC time '${new Date(now).toISOString()}'.` };
  }
  if (String(payload['tid']).toLowerCase() !== cfg.tenantId.toLowerCase()) {
    return { ok: false, code: 'InvalidAuthenticationTokenTenant', message: `The access token is from the wrong issuer '${String(payload['iss'])}'. It must match the tenant '${cfg.tenantId}' associated with this subscription.` };
  }
  return { ok: true, principal: { clientId: String(payload['appid']), objectId: String(payload['oid']) } };
}
