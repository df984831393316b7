// validate-jwt as core/policy-xml.ts renders it from JWT settings, with keys from the emulator's own identity
// endpoint (tokens obtained by @azure/identity's client-credentials flow) and from another issuer (a loopback OIDC
// server the test runs): 401 with the configured message for a missing token, a wrong scheme, garbage, another
// audience, a failed required claim, a forged or expired token and an algorithm APIM does not accept; 200 for a valid
// token, which reaches the backend; claim-keyed rate limits read the validated token.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { ClientSecretCredential } from '@azure/identity';
import type { JwtSettings } from '../../core/exposedapi-model.ts';
import { itemsDocument, renderedPolicy, startBackend, startGatewayHarness } from './gateway-harness.ts';
import type { GatewayHarness } from './gateway-harness.ts';
import type { Teardown } from './harness.ts';

const UNAUTHORIZED = '{ "statusCode": 401, "message": "Unauthorized" }';

function emulatorJwt(h: GatewayHarness, overrides: Partial<JwtSettings> = {}): JwtSettings {
  return {
    openidConfigUrl: `${h.emu.url}/${h.emu.tenantId}/v2.0/.well-known/openid-configuration`,
    audiences: ['api://catalog'],
    issuers: [],
    requiredClaims: [],
    ...overrides,
  };
}

async function tokenFor(h: GatewayHarness, resource: string): Promise<string> {
  const credential = new ClientSecretCredential(h.emu.tenantId, h.emu.clientId, h.emu.clientSecret, {
    authorityHost: h.emu.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: h.emu.caPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  return (await credential.getToken(`${resource}/.default`)).token;
}

function jws(alg: string, key: KeyObject, kid: string, payload: Record<string, unknown>): string {
  const head = Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = Buffer.from(`${head}.${body}`);
  const signature = alg === 'ES256' ? sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', input, key);
  return `${head}.${body}.${signature.toString('base64url')}`;
}

interface Issuer {
  url: string;
  configUrl: string;
  token(alg: 'RS256' | 'ES256', payload: Record<string, unknown>): string;
  fetches: number;
}

/** Another OpenID issuer on loopback: discovery and JWKS over plain HTTP, one RSA and one EC key. */
async function startIssuer(t: Teardown): Promise<Issuer> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let url = '';
  const issuer = { url: '', configUrl: '', fetches: 0, token: (_a: 'RS256' | 'ES256', _p: Record<string, unknown>) => '' };
  const server = http.createServer((req, res) => {
    issuer.fetches++;
    const body = req.url === '/.well-known/openid-configuration'
      ? { issuer: `${url}/`, jwks_uri: `${url}/keys` }
      : { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' }, { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' }] };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  issuer.configUrl = `${url}/.well-known/openid-configuration`;
  issuer.token = (alg, payload) => jws(alg, alg === 'RS256' ? rsa.privateKey : ec.privateKey, alg === 'RS256' ? 'rsa-1' : 'ec-1', payload);
  return issuer;
}

t.test("tokens from the emulator's identity endpoint: 401 without or with a bad token, 200 with a valid one", async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('catalog', { path: 'catalog', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('catalog', renderedPolicy({}, 'catalog', { jwt: emulatorJwt(h, { requiredClaims: [{ name: 'appid', values: [h.emu.clientId] }] }) }));
  const token = await tokenFor(h, 'api://catalog');
  t.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg, 'RS256', 'the emulator signs RS256, as Entra ID does');

  for (const [headers, why] of [
    [{}, 'no Authorization header'],
    [{ authorization: `Token ${token}` }, 'another scheme than Bearer'],
    [{ authorization: 'Bearer not.a.jwt' }, 'not a JWT'],
    [{ authorization: `Bearer ${await tokenFor(h, 'api://other')}` }, 'a token for another audience'],
    [{ authorization: `Bearer ${token.slice(0, -4)}AAAA` }, 'a token whose signature does not verify'],
  ] as const) {
    const r = await h.call('/catalog/items', { headers });
    t.equal(r.status, 401, why);
    t.equal(r.text, UNAUTHORIZED, `${why}: failed-validation-error-message`);
  }
  t.equal(backend.received.length, 0, 'nothing unauthorized reached the backend');

  const ok = await h.call('/catalog/items', { headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.status, 200);
  t.equal(backend.received[0]?.headers['authorization'], `Bearer ${token}`, 'the token is forwarded');

  await h.putPolicy('catalog', renderedPolicy({}, 'catalog', { jwt: emulatorJwt(h, { requiredClaims: [{ name: 'roles', values: ['catalog.read'] }] }) }));
  t.equal((await h.call('/catalog/items', { headers: { authorization: `Bearer ${token}` } })).status, 401, 'a required claim the token lacks');
  await h.putPolicy('catalog', renderedPolicy({}, 'catalog', { jwt: emulatorJwt(h, { issuers: ['https://sts.windows.net/someone-else/'] }) }));
  t.equal((await h.call('/catalog/items', { headers: { authorization: `Bearer ${token}` } })).status, 401, 'an issuer the policy does not list');
  await h.putPolicy('catalog', renderedPolicy({}, 'catalog', { jwt: emulatorJwt(h, { issuers: [`${h.emu.url}/${h.emu.tenantId}/v2.0`] }) }));
  t.equal((await h.call('/catalog/items', { headers: { authorization: `Bearer ${token}` } })).status, 200, 'the issuer listed');
});

t.test('concurrent first requests wait for the one key fetch in flight, and all pass', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  const issuer = await startIssuer(t);
  await h.importApi('busy', { path: 'busy', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('busy', renderedPolicy({}, 'busy', { jwt: { openidConfigUrl: issuer.configUrl, audiences: [], issuers: [], requiredClaims: [] } }));
  const now = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: 8 }, (_, i) => issuer.token('RS256', { iss: `${issuer.url}/`, sub: `caller-${i}`, exp: now + 600 }));
  const statuses = await Promise.all(tokens.map(async (tk) => (await h.call('/busy/items', { headers: { authorization: `Bearer ${tk}` } })).status));
  t.same(statuses, Array(8).fill(200));
  t.equal(issuer.fetches, 2, 'one configuration and one key set fetched for all eight');
});

t.test('a token is accepted until it expires, then refused', async (t) => {
  const h = await startGatewayHarness(t, { tokenLifetimeSeconds: 5 });
  const backend = await startBackend(t);
  await h.importApi('short', { path: 'short', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('short', renderedPolicy({}, 'short', { jwt: emulatorJwt(h) }));
  const token = await tokenFor(h, 'api://catalog');
  t.equal((await h.call('/short/items', { headers: { authorization: `Bearer ${token}` } })).status, 200, 'valid while unexpired');
  const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
  while (Date.now() / 1000 <= exp + 0.5) await new Promise((r) => setTimeout(r, 100));
  const r = await h.call('/short/items', { headers: { authorization: `Bearer ${token}` } });
  t.equal(r.status, 401);
});

t.test('another issuer on loopback: its RS256 tokens validate; ES256 only when the setting allows it', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  const issuer = await startIssuer(t);
  await h.importApi('partner', { path: 'partner', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('partner', renderedPolicy({}, 'partner', { jwt: { openidConfigUrl: issuer.configUrl, audiences: ['partner-api'], issuers: [], requiredClaims: [] } }));
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: `${issuer.url}/`, aud: 'partner-api', sub: 'partner-1', iat: now, exp: now + 600 };
  t.equal((await h.call('/partner/items', { headers: { authorization: `Bearer ${issuer.token('RS256', claims)}` } })).status, 200, 'RS256 from the configuration\'s keys');
  t.equal((await h.call('/partner/items', { headers: { authorization: `Bearer ${issuer.token('RS256', { ...claims, iss: 'https://elsewhere/' })}` } })).status, 401, 'an issuer other than the configuration\'s');
  const { exp: _exp, ...noExp } = claims;
  t.equal((await h.call('/partner/items', { headers: { authorization: `Bearer ${issuer.token('RS256', noExp)}` } })).status, 401, 'a token without exp (require-expiration-time defaults to true)');
  t.equal((await h.call('/partner/items', { headers: { authorization: `Bearer ${issuer.token('RS256', { ...claims, nbf: now + 600 })}` } })).status, 401, 'a token not yet valid');
  const ec = issuer.token('ES256', claims);
  t.equal((await h.call('/partner/items', { headers: { authorization: `Bearer ${ec}` } })).status, 401, 'ES256: not an algorithm validate-jwt supports');
  const patched = await h.raw('PATCH', `${h.emu.url}/_emulator/gateway`, { jwtAlgorithms: ['RS256', 'RS512', 'PS256', 'ES256'] });
  t.equal(patched.status, 200);
  t.equal((await h.call('/partner/items', { headers: { authorization: `Bearer ${ec}` } })).status, 200, 'accepted once the setting lists it');
  const fetched = issuer.fetches;
  for (let i = 0; i < 3; i++) await h.call('/partner/items', { headers: { authorization: `Bearer ${issuer.token('RS256', claims)}` } });
  t.equal(issuer.fetches, fetched, 'the configuration and keys are cached, not fetched per request');
});

t.test('claim-keyed rate limits count per validated token claim', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  const issuer = await startIssuer(t);
  await h.importApi('claims', { path: 'claims', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('claims', renderedPolicy({ rateLimit: { enabled: true, identifier: 'claim:sub', limit: '1', interval: 'pm' } }, 'claims', {
    jwt: { openidConfigUrl: issuer.configUrl, audiences: [], issuers: [], requiredClaims: [] },
  }));
  const now = Math.floor(Date.now() / 1000);
  const tokenOf = (sub: string): string => issuer.token('RS256', { iss: `${issuer.url}/`, sub, exp: now + 600 });
  const call = async (sub: string): Promise<number> => (await h.call('/claims/items', { headers: { authorization: `Bearer ${tokenOf(sub)}` } })).status;
  t.same([await call('alice'), await call('alice'), await call('bob'), await call('bob')], [200, 429, 200, 429], 'one counter per sub');
  t.equal((await h.call('/claims/items')).status, 401, 'no token: validate-jwt refuses before the counter');
});
