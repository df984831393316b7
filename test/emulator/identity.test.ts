// The emulator's Entra ID side through @azure/identity: client secret, workload identity (client assertion) via
// DefaultAzureCredential driven by the environment, and the ARM side's token checks through the SDK client.
import t from 'tap';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClientSecretCredential, ClientAssertionCredential } from '@azure/identity';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { bearerTokenAuthenticationPolicyName } from '@azure/core-rest-pipeline';
import { clientOptions, failure, here, startHarness, tempDir } from './harness.ts';

function decodePayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A projected service-account token as the kubelet writes it: RS256, audience api://AzureADTokenExchange. */
function serviceAccountToken(claims: Record<string, unknown>): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'test' })).toString('base64url');
  const body = Buffer.from(
    JSON.stringify({
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: 'system:serviceaccount:apim-system:exposedapi-executor',
      aud: ['api://AzureADTokenExchange'],
      iat: now,
      nbf: now,
      exp: now + 3600,
      ...claims,
    }),
  ).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), privateKey).toString('base64url');
  return `${head}.${body}.${signature}`;
}

function staticCredential(token: string): TokenCredential {
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

async function runChild(env: Record<string, string>, args: string[]): Promise<{ ok: boolean; message?: string; service?: string; apis?: string[] }> {
  const child = spawn(process.execPath, [here('./fixtures/default-credential-client.ts'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = out.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`child exited ${code}: ${err}`);
  return JSON.parse(line) as { ok: boolean };
}

t.test('client secret: discovery, token, and the token is accepted by ARM', async (t) => {
  const h = await startHarness(t);
  const token = await h.credential.getToken(`${h.emu.url}/.default`);
  t.ok(token, 'a token');
  const claims = decodePayload(token!.token);
  t.equal(claims['tid'], h.emu.tenantId);
  t.equal(claims['appid'], h.emu.clientId);
  t.equal(claims['aud'], h.emu.url);
  t.ok(token!.expiresOnTimestamp > Date.now() + 3_000_000, 'about an hour of validity');
  const counts = h.emu.state().requests.byPath;
  t.equal(counts[`GET /${h.emu.tenantId}/v2.0/.well-known/openid-configuration`], 1, 'MSAL read the OpenID configuration');
  t.equal(counts[`POST /${h.emu.tenantId}/oauth2/v2.0/token`], 1, 'one token request');
  const service = await h.client.apiManagementService.get(h.rg, h.svc);
  t.equal(service.name, h.svc);
});

t.test('a wrong secret gets no token (AADSTS7000215) and no ARM call happens', async (t) => {
  const h = await startHarness(t);
  const wrong = new ClientSecretCredential(h.emu.tenantId, h.emu.clientId, 'not-the-secret', {
    authorityHost: h.emu.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: h.emu.caPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  await t.rejects(wrong.getToken(`${h.emu.url}/.default`), /AADSTS7000215: Invalid client secret provided/);
  const client = new ApiManagementClient(wrong, h.emu.subscriptionId, clientOptions(h.emu));
  await t.rejects(client.api.get(h.rg, h.svc, 'anything'), /AADSTS7000215/);
  const counts = h.emu.state().requests.byMethod;
  t.equal(counts['PUT'] ?? 0, 0);
  t.notOk(Object.keys(h.emu.state().requests.byPath).some((p) => p.includes('/subscriptions/')), 'the SDK never reached ARM');
});

t.test('unknown application and unknown tenant', async (t) => {
  const h = await startHarness(t);
  const opts = { authorityHost: h.emu.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: h.emu.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3];
  await t.rejects(new ClientSecretCredential(h.emu.tenantId, '00000000-0000-0000-0000-000000000001', 's', opts).getToken(`${h.emu.url}/.default`), /AADSTS700016: Application with identifier '00000000-0000-0000-0000-000000000001' was not found/);
  // MSAL reads the tenant's OpenID configuration first; the 400 (AADSTS90002) there surfaces only as
  // endpoints_resolution_error, as it does against Entra ID.
  await t.rejects(new ClientSecretCredential('00000000-0000-0000-0000-0000000000aa', h.emu.clientId, h.emu.clientSecret, opts).getToken(`${h.emu.url}/.default`), /endpoints_resolution_error/);
  const discovery = await h.raw('GET', '/00000000-0000-0000-0000-0000000000aa/v2.0/.well-known/openid-configuration');
  t.equal(discovery.status, 400);
  t.match(discovery.body.error_description, /^AADSTS90002: Tenant '00000000-0000-0000-0000-0000000000aa' not found/);
});

t.test('ARM without a token, with a foreign token, with an expired token: 401 in the ARM error shape', async (t) => {
  const h = await startHarness(t, { tokenLifetimeSeconds: 1 });
  const noAuth = new ApiManagementClient(h.credential, h.emu.subscriptionId, clientOptions(h.emu));
  noAuth.pipeline.removePolicy({ name: bearerTokenAuthenticationPolicyName });
  const e1 = await failure(noAuth.api.get(h.rg, h.svc, 'x'));
  t.equal(e1.statusCode, 401);
  t.equal(e1.code, 'AuthenticationFailed');
  t.match(e1.message, /'Authorization' header is missing/);

  const forged = new ApiManagementClient(staticCredential(serviceAccountToken({})), h.emu.subscriptionId, clientOptions(h.emu));
  const e2 = await failure(forged.api.get(h.rg, h.svc, 'x'));
  t.equal(e2.statusCode, 401);
  t.equal(e2.code, 'InvalidAuthenticationToken', 'a token the emulator did not sign');

  const issued = await h.credential.getToken(`${h.emu.url}/.default`);
  await new Promise((r) => setTimeout(r, 1100));
  const stale = new ApiManagementClient(staticCredential(issued!.token), h.emu.subscriptionId, clientOptions(h.emu));
  const e3 = await failure(stale.api.get(h.rg, h.svc, 'x'));
  t.equal(e3.statusCode, 401);
  t.equal(e3.code, 'ExpiredAuthenticationToken');
  t.match(e3.message, /expiry UTC time/);
});

t.test('workload identity: client assertions are checked for shape, audience, expiry and federation', async (t) => {
  const h = await startHarness(t, {
    federatedCredentials: [{ issuer: 'https://kubernetes.default.svc.cluster.local', subject: 'system:serviceaccount:apim-system:exposedapi-executor' }],
  });
  const opts = { authorityHost: h.emu.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: h.emu.caPem } } as ConstructorParameters<typeof ClientAssertionCredential>[3];
  const good = new ClientAssertionCredential(h.emu.tenantId, h.emu.clientId, async () => serviceAccountToken({}), opts);
  const token = await good.getToken(`${h.emu.url}/.default`);
  t.equal(decodePayload(token!.token)['appid'], h.emu.clientId);
  const client = new ApiManagementClient(good, h.emu.subscriptionId, clientOptions(h.emu));
  t.equal((await client.apiManagementService.get(h.rg, h.svc)).name, h.svc, 'the federated token works against ARM');

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['expired', { exp: Math.floor(Date.now() / 1000) - 10 }, /AADSTS700024: Client assertion is not within its valid time range/],
    ['other subject', { sub: 'system:serviceaccount:default:someone-else' }, /AADSTS70021: No matching federated identity record found for presented assertion\. Assertion Issuer: 'https:\/\/kubernetes\.default\.svc\.cluster\.local'\. Assertion Subject: 'system:serviceaccount:default:someone-else'/],
    ['wrong audience', { aud: ['https://kubernetes.default.svc'] }, /AADSTS700212/],
    ['no subject', { sub: undefined }, /AADSTS50027/],
  ];
  for (const [name, claims, expected] of cases) {
    const cred = new ClientAssertionCredential(h.emu.tenantId, h.emu.clientId, async () => serviceAccountToken(claims), opts);
    await t.rejects(cred.getToken(`${h.emu.url}/.default`), expected, name);
  }
  const malformed = new ClientAssertionCredential(h.emu.tenantId, h.emu.clientId, async () => 'not-a-jwt', opts);
  await t.rejects(malformed.getToken(`${h.emu.url}/.default`), /AADSTS50027: JWT token is invalid or malformed/);
});

t.test('DefaultAzureCredential from the environment, CA trusted through NODE_EXTRA_CA_CERTS', async (t) => {
  const h = await startHarness(t);
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo', { displayName: 'Echo', path: 'echo', serviceUrl: 'https://echo.example' }, h.lro);
  const dir = await tempDir(t);
  const base = {
    NODE_EXTRA_CA_CERTS: h.emu.caFile,
    AZURE_TENANT_ID: h.emu.tenantId,
    AZURE_CLIENT_ID: h.emu.clientId,
    AZURE_AUTHORITY_HOST: h.emu.authorityHost,
  };
  const args = [h.emu.url, h.emu.subscriptionId, h.rg, h.svc];

  const secret = await runChild({ ...base, AZURE_CLIENT_SECRET: h.emu.clientSecret }, args);
  t.same(secret, { ok: true, service: h.svc, apis: ['echo'] }, 'EnvironmentCredential with a client secret');

  const tokenFile = join(dir, 'azure-identity-token');
  await writeFile(tokenFile, serviceAccountToken({}));
  const federated = await runChild({ ...base, AZURE_FEDERATED_TOKEN_FILE: tokenFile }, args);
  t.same(federated, { ok: true, service: h.svc, apis: ['echo'] }, 'WorkloadIdentityCredential with a projected token file');

  const wrong = await runChild({ ...base, AZURE_CLIENT_SECRET: 'wrong' }, args);
  t.equal(wrong.ok, false);
  t.match(wrong.message, /AADSTS7000215/);

  const untrusted = await runChild({ ...base, NODE_EXTRA_CA_CERTS: '', AZURE_CLIENT_SECRET: h.emu.clientSecret }, args);
  // The TLS failure is hidden by MSAL behind the same endpoints_resolution_error as an unknown tenant.
  t.equal(untrusted.ok, false, 'without the CA the TLS handshake fails');
  t.match(untrusted.message, /endpoints_resolution_error/);
});
