// executor/azure-token.ts: the client-credentials grant against the emulator's Entra ID (a secret, and a federated
// token file as AKS workload identity projects it), which environment picks which form, and Entra ID's refusals as
// errors that name the cause and never the secret.
import t from 'tap';
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, clientCredentials, tokenOf, tokenSourceKind } from '../../executor/azure-token.ts';
import { classifyApimError } from '../../executor/apim-error.ts';
import { startHarness, tempDir } from '../emulator/harness.ts';

function decodePayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A projected service-account token as the kubelet writes it: RS256, audience api://AzureADTokenExchange. */
function serviceAccountToken(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify({ iss: 'https://kubernetes.default.svc.cluster.local', sub: 'system:serviceaccount:apim-system:exposedapi-executor', aud: ['api://AzureADTokenExchange'], iat: now, nbf: now, exp: now + 3600 })).toString('base64url');
  return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), privateKey).toString('base64url')}`;
}

t.test('which form the environment asks for (DefaultAzureCredential\'s order)', async (t) => {
  const base = { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c' };
  t.equal(tokenSourceKind({ ...base, AZURE_CLIENT_SECRET: 's', AZURE_FEDERATED_TOKEN_FILE: '/f' }), 'client-secret');
  t.equal(tokenSourceKind({ ...base, AZURE_FEDERATED_TOKEN_FILE: '/f' }), 'workload-identity');
  t.equal(tokenSourceKind({ ...base }), 'default-azure-credential', 'managed identity and the rest: @azure/identity');
  t.equal(tokenSourceKind({ AZURE_CLIENT_SECRET: 's', AZURE_CLIENT_ID: 'c' }), 'default-azure-credential', 'no tenant');
});

t.test('a secret and a federated token get ARM tokens; one POST each, no discovery', async (t) => {
  const h = await startHarness(t);
  const scope = `${h.emu.url}/.default`;
  const common = { authorityHost: h.emu.authorityHost, tenantId: h.emu.tenantId, clientId: h.emu.clientId, ca: h.emu.caPem };
  const bySecret = await clientCredentials({ ...common, secret: { clientSecret: h.emu.clientSecret } }).getToken(scope);
  t.equal(decodePayload(bySecret!.token)['aud'], h.emu.url);
  t.ok(bySecret!.expiresOnTimestamp > Date.now() + 3_000_000, 'about an hour');
  const dir = await tempDir(t);
  const file = join(dir, 'azure-identity-token');
  await writeFile(file, `${serviceAccountToken()}\n`);
  const byAssertion = await clientCredentials({ ...common, secret: { federatedTokenFile: file } }).getToken(scope);
  t.equal(decodePayload(byAssertion!.token)['appid'], h.emu.clientId);
  const counts = h.emu.state().requests.byPath;
  t.equal(counts[`POST /${h.emu.tenantId}/oauth2/v2.0/token`], 2);
  t.notOk(counts[`GET /${h.emu.tenantId}/v2.0/.well-known/openid-configuration`], 'no discovery round trip');
});

t.test('refusals: Entra ID\'s words, retriable for the run, never the secret', async (t) => {
  const h = await startHarness(t);
  const common = { authorityHost: h.emu.authorityHost, tenantId: h.emu.tenantId, clientId: h.emu.clientId, ca: h.emu.caPem };
  const e = await clientCredentials({ ...common, secret: { clientSecret: 'not-the-secret' } }).getToken(`${h.emu.url}/.default`).catch((x: unknown) => x as Error);
  t.ok(e instanceof AuthenticationError);
  t.match((e as Error).message, /^Entra ID refused the token request \(401\): invalid_client: AADSTS7000215: Invalid client secret provided/);
  t.notMatch((e as Error).message, /not-the-secret/);
  const c = classifyApimError(e);
  t.same([c.retriable, c.reason], [true, 'AzureAuthenticationFailed']);
  await t.rejects(clientCredentials({ ...common, secret: { federatedTokenFile: '/nonexistent/token' } }).getToken(`${h.emu.url}/.default`), /AZURE_FEDERATED_TOKEN_FILE=\/nonexistent\/token cannot be read/);
  t.throws(() => clientCredentials({ ...common, tenantId: '../evil', secret: { clientSecret: 's' } }), /AZURE_TENANT_ID="..\/evil" is not a tenant id/);
  t.throws(() => tokenOf({ status: 200, text: 'not json' }, 0), /refused the token request \(200\): HTTP 200/);
  t.same(tokenOf({ status: 200, text: '{"access_token":"x","expires_in":60}' }, 1000), { token: 'x', expiresOnTimestamp: 61_000 });
});
