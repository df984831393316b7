// The emulator's realism modes (issue 11), each through the real @azure/arm-apimanagement client: realistic import
// durations and what a second client can find of a running import, the 404 window after an import, imports that do
// not apply their other properties, re-imports resetting serviceUrl, JWT settings cleared with nulls, path slashes,
// loggers, apisByTags, and the settings API that switches them.
import t from 'tap';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { realisticImportDurationMs } from '../../emulator/import-duration.ts';
import { clientOptions, deserialize, failure, readReference, startHarness, until } from './harness.ts';
import type { Harness } from './harness.ts';

const V = '?api-version=2024-05-01';

function smallDoc(title: string, server?: string): string {
  return JSON.stringify({
    openapi: '3.0.1',
    info: { title, version: '1', description: `${title} from the document` },
    ...(server ? { servers: [{ url: server }] } : {}),
    paths: { '/items': { get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } } } },
  });
}

async function importApi(h: Harness, apiId: string, extra: Record<string, unknown> = {}, doc = smallDoc('Items', 'https://doc.example/items')): Promise<void> {
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, apiId, { path: apiId, format: 'openapi+json', value: doc, ...extra }, h.lro);
}

t.test('realistic import: minutes for TMF620; a second client sees 404, 409 and a pollable Location until it ends', async (t) => {
  const h = await startHarness(t, { importDurationMs: 'realistic' });
  const doc = await readReference('specs/TMF620-ProductCatalog-v4.0.0.swagger.json');
  const accepted = await h.raw('PUT', h.servicePath(`/apis/tmf620${V}`), { properties: { path: 'tmf620', format: 'swagger-json', value: doc } });
  t.equal(accepted.status, 202);
  const location = accepted.headers['location']!;

  const running = await until(async () => {
    const r = await h.raw('GET', '/_emulator/imports');
    return r.body.imports.find((i: { apiId: string; expectedEndTime: string | null }) => i.apiId === 'tmf620' && i.expectedEndTime !== null);
  });
  const bytes = Buffer.byteLength(doc);
  t.equal(running.documentBytes, bytes);
  const planned = Date.parse(running.expectedEndTime) - Date.parse(running.startTime);
  t.ok(Math.abs(planned - realisticImportDurationMs(bytes)) <= 1000, `the import is planned to take ${planned} ms (the model: ${realisticImportDurationMs(bytes)})`);
  t.ok(planned > 450_000, 'over 7.5 minutes, as Azure/apiops-cli #251 reports for documents this size');

  // A new client (its own credential and token) knows nothing of the first one's LRO.
  const credential = new ClientSecretCredential(h.emu.tenantId, h.emu.clientId, h.emu.clientSecret, {
    authorityHost: h.emu.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: h.emu.caPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  const second = new ApiManagementClient(credential, h.emu.subscriptionId, clientOptions(h.emu));
  const get = await failure(second.api.get(h.rg, h.svc, 'tmf620'));
  t.equal(get.statusCode, 404, 'a new API is not there while it imports');
  t.equal(get.body?.error.message, 'Api not found.');
  const write = await failure(second.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'tmf620', { path: 'tmf620', format: 'swagger-json', value: doc }, h.lro));
  t.equal(write.statusCode, 409, 'a second import is refused, not restarted');
  t.equal(write.body?.error.code, 'PessimisticConcurrencyConflict');
  const poll = await second.sendRequest(
    (await import('@azure/core-rest-pipeline')).createPipelineRequest({ url: location, method: 'GET' }),
  );
  t.equal(poll.status, 202, 'the Location URL, kept by the first client, is pollable by any client');
});

t.test('importDelayMs stays the fixed form; the settings API checks what it is given', async (t) => {
  const h = await startHarness(t, { importDelayMs: 30 });
  t.equal(h.emu.settings.importDurationMs, undefined, 'the library default is the fast fixed delay');
  const set = await h.raw('PATCH', '/_emulator/settings', { importDurationMs: 'realistic', notFoundAfterImportMs: 5, importAppliesProperties: false });
  t.equal(set.status, 200);
  t.match(set.body, { importDurationMs: 'realistic', notFoundAfterImportMs: 5, importAppliesProperties: false });
  const back = await h.raw('PATCH', '/_emulator/settings', { importDelayMs: 20 });
  t.equal(back.body.importDelayMs, 20);
  t.notOk('importDurationMs' in back.body, 'importDelayMs alone makes imports fixed again');
  const cases: [body: Record<string, unknown>, message: RegExp][] = [
    [{ importDurationMs: 'slow' }, /'importDurationMs' must be a non-negative number of milliseconds or 'realistic'/],
    [{ notFoundAfterImportMs: -1 }, /'notFoundAfterImportMs' must be a non-negative number/],
    [{ importAppliesProperties: 'no' }, /'importAppliesProperties' must be true or false/],
    [{ authenticationSettingsNulls: 'maybe' }, /'authenticationSettingsNulls' must be 'ignore', 'refuse' or 'clear'/],
    [{ apiPathSlashes: 'keep' }, /'apiPathSlashes' must be 'refuse' or 'trim'/],
    [{ importDuration: 10 }, /unknown setting\(s\) 'importDuration'/],
  ];
  for (const [body, message] of cases) {
    const r = await h.raw('PATCH', '/_emulator/settings', body);
    t.equal(r.status, 400, JSON.stringify(body));
    t.match(r.body.error.message, message);
  }
});

t.test('notFoundAfterImportMs: the poll and every read of the API answer 404 "Api not found." until the window ends', async (t) => {
  const h = await startHarness(t, { notFoundAfterImportMs: 120_000 });
  const e = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'late', { path: 'late', format: 'openapi+json', value: smallDoc('Late') }, h.lro));
  t.equal(e.statusCode, 404, 'the import succeeded, yet the poll says 404 (terraform-provider-azurerm #23322)');
  t.same(e.body, { error: { code: 'ResourceNotFound', message: 'Api not found.', details: null } });
  for (const suffix of ['', '/operations', '/policies/policy', '/tags']) {
    t.equal((await h.raw('GET', h.servicePath(`/apis/late${suffix}${V}`))).status, 404, `GET apis/late${suffix}`);
  }
  t.ok(h.emu.state().apis.some((a) => a.name === 'late'), 'the API exists all along');

  h.emu.settings.notFoundAfterImportMs = 200;
  await importApi(h, 'soon').catch(() => undefined);
  const seen = await until(async () => ((await h.raw('GET', h.servicePath(`/apis/soon${V}`))).status === 200 ? true : undefined));
  t.ok(seen, 'after the window the API answers 200');
  t.equal((await h.raw('GET', h.servicePath(`/apis/late${V}`))).status, 404, 'a longer window is still running');
});

t.test('importAppliesProperties false: the import keeps the document, a PATCH applies the rest', async (t) => {
  const h = await startHarness(t, { importAppliesProperties: false });
  const extra = { displayName: 'Mine', description: 'set by me', subscriptionRequired: false, serviceUrl: 'https://mine.example', protocols: ['http', 'https'] };
  await importApi(h, 'dropped', extra);
  const api = await h.client.api.get(h.rg, h.svc, 'dropped');
  t.match(api, { displayName: 'Items', description: 'Items from the document', subscriptionRequired: true, serviceUrl: 'https://doc.example/items', protocols: ['https'], path: 'dropped' });
  const patched = await h.client.api.update(h.rg, h.svc, 'dropped', api.eTag!, extra);
  t.match(patched, extra, 'the second request of a two-request import applies them');

  h.emu.settings.importAppliesProperties = true;
  await importApi(h, 'kept', extra);
  t.match(await h.client.api.get(h.rg, h.svc, 'kept'), extra, 'the default: the import applies its body');
});

t.test('a re-import resets serviceUrl and JWT settings it does not carry', async (t) => {
  const h = await startHarness(t);
  await h.client.openIdConnectProvider.createOrUpdate(h.rg, h.svc, 'idp', { displayName: 'IdP', metadataEndpoint: 'https://idp.example/.well-known/openid-configuration', clientId: 'c' });
  const auth = { openid: { openidProviderId: 'idp', bearerTokenSendingMethods: ['authorizationHeader'] } };
  await importApi(h, 'reimported', { serviceUrl: 'https://backend.example', authenticationSettings: auth });
  t.equal((await h.client.api.get(h.rg, h.svc, 'reimported')).serviceUrl, 'https://backend.example');
  await importApi(h, 'reimported', {}, smallDoc('Items'));
  const after = await h.client.api.get(h.rg, h.svc, 'reimported');
  t.notOk(after.serviceUrl, 'no serviceUrl in the body nor a server in the document: cleared (Azure/azure-cli #29363)');
  t.notOk(after.authenticationSettings?.openid, 'user authorization reset (Azure/azure-cli #22871)');
  await importApi(h, 'reimported', {});
  t.equal((await h.client.api.get(h.rg, h.svc, 'reimported')).serviceUrl, 'https://doc.example/items', 'or the document\'s server');
});

t.test('clearing JWT settings with nulls on PATCH: ignored, refused or cleared by setting; empty lists always clear', async (t) => {
  const h = await startHarness(t);
  await h.client.openIdConnectProvider.createOrUpdate(h.rg, h.svc, 'idp', { displayName: 'IdP', metadataEndpoint: 'https://idp.example/.well-known/openid-configuration', clientId: 'c' });
  const openid = { openidProviderId: 'idp', bearerTokenSendingMethods: ['authorizationHeader'] };
  const reset = async (): Promise<string> => {
    const api = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'jwt', { displayName: 'JWT', path: 'jwt', authenticationSettings: { openid } }, h.lro);
    return api.eTag!;
  };
  const nulls = { properties: { authenticationSettings: { openid: null, oAuth2: null } } };
  const openidOf = async (): Promise<unknown> => (await h.raw('GET', h.servicePath(`/apis/jwt${V}`))).body.properties.authenticationSettings.openid;

  t.equal(h.emu.settings.authenticationSettingsNulls, 'ignore', 'the default');
  let etag = await reset();
  t.equal((await h.raw('PATCH', h.servicePath(`/apis/jwt${V}`), nulls, { 'if-match': etag })).status, 200);
  t.same(await openidOf(), openid, "'ignore': the PATCH succeeds and the settings stay");

  h.emu.settings.authenticationSettingsNulls = 'refuse';
  etag = await reset();
  const refused = await h.raw('PATCH', h.servicePath(`/apis/jwt${V}`), nulls, { 'if-match': etag });
  t.equal(refused.status, 400, "'refuse'");
  t.equal(refused.body.error.details[0].target, 'authenticationSettings');

  h.emu.settings.authenticationSettingsNulls = 'clear';
  etag = await reset();
  await h.raw('PATCH', h.servicePath(`/apis/jwt${V}`), nulls, { 'if-match': etag });
  t.equal(await openidOf(), null, "'clear'");

  for (const mode of ['ignore', 'refuse'] as const) {
    h.emu.settings.authenticationSettingsNulls = mode;
    etag = await reset();
    const explicit = { properties: { authenticationSettings: { openid: null, oAuth2: null, openidAuthenticationSettings: [], oAuth2AuthenticationSettings: [] } } };
    t.equal((await h.raw('PATCH', h.servicePath(`/apis/jwt${V}`), explicit, { 'if-match': etag })).status, 200);
    t.equal(await openidOf(), null, `${mode}: the form the service reports for none clears`);
  }
});

t.test("an API path with a leading '/': refused by default, trimmed with apiPathSlashes 'trim'", async (t) => {
  const h = await startHarness(t);
  const refused = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'slash', { displayName: 'S', path: '/tmf-api/productCatalogManagement/v4' }, h.lro));
  t.equal(refused.statusCode, 400);
  t.equal(refused.body?.error.details?.[0]?.target, 'path');
  h.emu.settings.apiPathSlashes = 'trim';
  const api = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'slash', { displayName: 'S', path: '/tmf-api/productCatalogManagement/v4/' }, h.lro);
  t.equal(api.path, 'tmf-api/productCatalogManagement/v4');
});

t.test('loggers: create, read, list, delete; secret credentials move into a Logger-Credentials named value', async (t) => {
  const h = await startHarness(t);
  const created = await h.client.logger.createOrUpdate(h.rg, h.svc, 'appinsights', { loggerType: 'applicationInsights', description: 'AI', credentials: { instrumentationKey: 'secret-key' } });
  t.match(created.credentials?.['instrumentationKey'], /^\{\{Logger-Credentials--[0-9a-f]{24}\}\}$/);
  t.equal(created.isBuffered, true, 'the default');
  const reference = created.credentials!['instrumentationKey']!.slice(2, -2);
  const nv = h.emu.state().namedValues.find((n) => n.properties['displayName'] === reference);
  t.match(nv?.properties, { secret: true, value: 'secret-key' }, 'the value lives in a secret named value');
  const raw = await h.raw('GET', h.servicePath(`/loggers/appinsights${V}`));
  t.same(deserialize('LoggerContract', raw.body).missing, []);
  t.equal(raw.body.type, 'Microsoft.ApiManagement/service/loggers');
  const listed = [];
  for await (const l of h.client.logger.listByService(h.rg, h.svc)) listed.push(l.name);
  t.same(listed, ['appinsights']);
  const bad = await failure(h.client.logger.createOrUpdate(h.rg, h.svc, 'bad', { loggerType: 'splunk' as 'azureMonitor' }));
  t.equal(bad.statusCode, 400);
  t.equal(bad.body?.error.details?.[0]?.target, 'loggerType');
  const noKey = await failure(h.client.logger.createOrUpdate(h.rg, h.svc, 'nokey', { loggerType: 'applicationInsights' }));
  t.equal(noKey.body?.error.details?.[0]?.target, 'credentials');
  await h.client.logger.createOrUpdate(h.rg, h.svc, 'monitor', { loggerType: 'azureMonitor' });
  await h.client.logger.delete(h.rg, h.svc, 'appinsights', '*');
  t.equal((await failure(h.client.logger.get(h.rg, h.svc, 'appinsights'))).statusCode, 404);
});

t.test('apisByTags: one item per API and tag; untagged APIs only when asked', async (t) => {
  const h = await startHarness(t);
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'tagged', { displayName: 'Tagged API', path: 'tagged' }, h.lro);
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'plain', { displayName: 'Plain API', path: 'plain' }, h.lro);
  for (const tagId of ['alpha', 'beta']) {
    await h.client.tag.createOrUpdate(h.rg, h.svc, tagId, { displayName: `${tagId} tag` });
    await h.client.tag.assignToApi(h.rg, h.svc, 'tagged', tagId);
  }
  const items = [];
  for await (const i of h.client.api.listByTags(h.rg, h.svc)) items.push(i);
  t.same(items.map((i) => [i.api?.id, i.api?.name, i.tag?.id, i.tag?.name]), [
    ['/apis/tagged', 'Tagged API', '/tags/alpha', 'alpha tag'],
    ['/apis/tagged', 'Tagged API', '/tags/beta', 'beta tag'],
  ]);
  const all = [];
  for await (const i of h.client.api.listByTags(h.rg, h.svc, { includeNotTaggedApis: true })) all.push([i.api?.id, i.tag?.id]);
  t.same(all, [['/apis/tagged', '/tags/alpha'], ['/apis/tagged', '/tags/beta'], ['/apis/plain', undefined]]);
  const raw = await h.raw('GET', h.servicePath(`/apisByTags${V}`));
  t.same(deserialize('TagResourceCollection', raw.body).missing, []);
});
