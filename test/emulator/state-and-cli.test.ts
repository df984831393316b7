// The emulator as tests and the sandbox use it: /_emulator/state and /reset, persistence to a state file, the CA and
// identity kept in --dir across restarts, and the `exposedapi-apim emulator` command as a process.
import t from 'tap';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { here, startHarness, tempDir, until } from './harness.ts';

function httpsGet(url: string, ca: string, lookup?: (host: string, options: unknown, cb: (err: null, addresses: { address: string; family: number }[]) => void) => void): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, ...(lookup ? { lookup: lookup as unknown as LookupFunction } : {}) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

t.test('/_emulator/state holds everything, with request counts; /_emulator/reset clears it', async (t) => {
  const h = await startHarness(t);
  const { client, rg, svc, lro } = h;
  await client.api.beginCreateOrUpdateAndWait(rg, svc, 'orders', { path: 'orders', format: 'openapi+json', value: JSON.stringify({ openapi: '3.0.1', info: { title: 'Orders', version: '1' }, paths: { '/orders': { get: { operationId: 'listOrders', tags: ['orders'], responses: { '200': { description: 'ok' } } } } } }) }, lro);
  await client.apiPolicy.createOrUpdate(rg, svc, 'orders', 'policy', { value: '<policies><inbound><base /></inbound></policies>' });
  await client.product.createOrUpdate(rg, svc, 'gold', { displayName: 'Gold' });
  await client.productApi.createOrUpdate(rg, svc, 'gold', 'orders');
  await client.tag.createOrUpdate(rg, svc, 'team-a', { displayName: 'Team A' });
  await client.tag.assignToApi(rg, svc, 'orders', 'team-a');
  await client.openIdConnectProvider.createOrUpdate(rg, svc, 'idp', { displayName: 'IdP', metadataEndpoint: 'https://idp.example/.well-known/openid-configuration', clientId: 'c', clientSecret: 's' });
  await client.backend.createOrUpdate(rg, svc, 'orders-backend', { url: 'https://orders.internal', protocol: 'http' });
  await client.policyFragment.beginCreateOrUpdateAndWait(rg, svc, 'cors', { format: 'xml', value: '<fragment><base /></fragment>' }, lro);
  await client.namedValue.beginCreateOrUpdateAndWait(rg, svc, 'key', { displayName: 'key', value: 'v', secret: true }, lro);

  const state = (await h.raw('GET', '/_emulator/state')).body;
  t.match(state.service, { subscriptionId: h.emu.subscriptionId, resourceGroup: rg, serviceName: svc, sku: 'Developer' });
  t.match(state.apis, [{ name: 'orders', properties: { displayName: 'Orders', path: 'orders' }, operations: [{ name: 'listorders', tags: ['orders'] }], policy: { format: 'xml', xml: '<policies>\r\n  <inbound>\r\n    <base />\r\n  </inbound>\r\n</policies>' }, tags: ['team-a'], products: ['gold'] }]);
  t.match(state.products, [{ name: 'gold', apis: ['orders'] }]);
  t.same(state.tags.map((x: { name: string }) => x.name).sort(), ['orders', 'team-a']);
  t.match(state.openidConnectProviders, [{ name: 'idp', properties: { clientSecret: 's' } }], 'the state shows secrets (local use only)');
  t.match(state.backends, [{ name: 'orders-backend', properties: { url: 'https://orders.internal' } }]);
  t.match(state.policyFragments, [{ name: 'cors', policy: { xml: '<base />' } }]);
  t.match(state.namedValues, [{ name: 'key', properties: { value: 'v', secret: true } }]);
  t.same(state.importsInProgress, []);
  t.equal(state.requests.byPath[`PUT ${h.servicePath('/apis/orders')}`], 1);
  t.ok(state.requests.writes >= 10, 'writes are totalled');
  t.ok(state.requests.byMethod.GET >= 1);
  t.equal(state.requests.byPath['GET /_emulator/state'], undefined, 'admin calls are not counted');

  t.equal((await h.raw('POST', '/_emulator/reset')).status, 204);
  const empty = (await h.raw('GET', '/_emulator/state')).body;
  t.same([empty.apis, empty.products, empty.tags, empty.requests.total], [[], [], [], 0]);
  t.ok(await client.tag.createOrUpdate(rg, svc, 'after', { displayName: 'After' }), 'identity survives a reset');

  const settings = await h.raw('PATCH', '/_emulator/settings', { importDelayMs: 5, asyncMode: 'azure-async-operation' });
  t.match(settings.body, { importDelayMs: 5, asyncMode: 'azure-async-operation' });
  t.equal((await h.raw('PATCH', '/_emulator/settings', { asyncMode: 'sometimes' })).status, 400);
  t.equal((await h.raw('GET', '/_emulator/nothing')).status, 404);
});

t.test('entities persist to the state file; the CA and identity persist in the directory', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'state.json');
  const first = await startHarness(t, { dir, stateFile });
  await first.client.api.beginCreateOrUpdateAndWait(first.rg, first.svc, 'kept', { displayName: 'Kept', path: 'kept' }, first.lro);
  await first.client.tag.createOrUpdate(first.rg, first.svc, 'kept-tag', { displayName: 'Kept tag' });
  const etag = (await first.client.api.getEntityTag(first.rg, first.svc, 'kept')).eTag;
  await until(async () => (await stat(stateFile).catch(() => undefined)) !== undefined);
  await first.emu.close();
  const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { apis: Record<string, unknown> };
  t.ok(saved.apis['kept'], 'written to the file');
  t.ok((await stat(join(dir, 'ca.crt'))).isFile());

  const second = await startHarness(t, { dir, stateFile });
  t.equal(second.emu.caPem, first.emu.caPem, 'the CA is reused');
  t.same([second.emu.tenantId, second.emu.clientId, second.emu.clientSecret, second.emu.subscriptionId], [first.emu.tenantId, first.emu.clientId, first.emu.clientSecret, first.emu.subscriptionId], 'the identity is reused');
  const api = await second.client.api.get(second.rg, second.svc, 'kept');
  t.equal(api.displayName, 'Kept');
  t.equal(api.eTag, etag, 'ETags survive');
  t.equal((await second.client.tag.get(second.rg, second.svc, 'kept-tag')).displayName, 'Kept tag');
  const next = await second.client.tag.createOrUpdate(second.rg, second.svc, 'new-tag', { displayName: 'New' });
  t.not(next.eTag, etag, 'the version counter continues');
});

// The command module is run directly: the dispatcher (cli/main.ts) lists its subcommands, and `emulator` must be
// among them for `exposedapi-apim emulator` to reach this same run().
const COMMAND = here('../../cli/emulator-command.ts');

t.test('the emulator command prints one JSON line, serves the SDK, stops on SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(process.execPath, [COMMAND, '--port', '0', '--dir', dir, '--import-delay', '10', '--async-mode', 'location'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout });
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    new Promise<string>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ready line: ${stderr}`)), 20_000))),
  ]).finally(() => clearTimeout(timer));
  const info = JSON.parse(first) as Record<string, string>;
  t.same(Object.keys(info), ['url', 'gatewayUrl', 'caFile', 'authorityHost', 'tenantId', 'clientId', 'clientSecret', 'subscriptionId', 'resourceGroup', 'serviceName']);
  t.match(info['gatewayUrl'], /^https:\/\/127\.0\.0\.1:\d+$/, 'the gateway has its own port on the listening address');
  t.not(info['gatewayUrl'], info['url']);
  // stderr's line follows stdout's: wait for it (bounded).
  await until(() => stderr.includes(`gateway ${info['gatewayUrl']}`)).catch(() => undefined);
  t.match(stderr, `management ${info['url']}, gateway ${info['gatewayUrl']}`, 'the stderr ready line names the gateway');
  t.equal(info['caFile'], join(dir, 'ca.crt'));
  const ca = await readFile(info['caFile']!, 'utf8');
  const credential = new ClientSecretCredential(info['tenantId']!, info['clientId']!, info['clientSecret']!, {
    authorityHost: info['authorityHost']!,
    disableInstanceDiscovery: true,
    tlsOptions: { ca },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  const client = new ApiManagementClient(credential, info['subscriptionId']!, { endpoint: info['url']!, tlsOptions: { ca } });
  const api = await client.api.beginCreateOrUpdateAndWait(info['resourceGroup']!, info['serviceName']!, 'cli', { displayName: 'CLI', path: 'cli' }, { updateIntervalInMs: 10 });
  t.equal(api.name, 'cli');
  t.equal((await client.apiManagementService.get(info['resourceGroup']!, info['serviceName']!)).gatewayUrl, info['gatewayUrl'], "the service's gatewayUrl is the gateway");
  const viaGateway = await httpsGet(`${info['gatewayUrl']}/cli/nothing`, ca);
  t.same([viaGateway.status, viaGateway.body], [404, '{ "statusCode": 404, "message": "Resource not found" }'], 'the gateway answers as APIM does');
  const settingsOf = async (c: ApiManagementClient, url: string): Promise<Record<string, unknown>> =>
    JSON.parse((await c.sendRequest(createPipelineRequest({ url: `${url}/_emulator/settings`, method: 'GET' }))).bodyAsText ?? '{}') as Record<string, unknown>;
  const fixed = await settingsOf(client, info['url']!);
  t.equal(fixed['importDelayMs'], 10);
  t.notOk('importDurationMs' in fixed, '--import-delay alone keeps imports fixed');
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 0, 'exit 0 after SIGTERM');
  t.match(stderr, /SIGTERM, stopping/);

  const usage = spawn(process.execPath, [COMMAND, '--async-mode', 'sometimes'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let usageErr = '';
  usage.stderr.on('data', (d: Buffer) => (usageErr += d.toString()));
  t.equal(await new Promise<number | null>((resolve) => usage.on('exit', resolve)), 2, 'a usage error exits 2');
  t.match(usageErr, /--async-mode must be "location" or "azure-async-operation"/);
  const badHost = spawn(process.execPath, [COMMAND, '--gateway-host', '10.1.2.3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let badHostErr = '';
  badHost.stderr.on('data', (d: Buffer) => (badHostErr += d.toString()));
  t.equal(await new Promise<number | null>((resolve) => badHost.on('exit', resolve)), 2, 'an address as --gateway-host is a usage error');
  t.match(badHostErr, /--gateway-host "10\.1\.2\.3": a DNS name without port or scheme, e\.g\. apim-emulator\.azure-api\.net/);

  // Without --import-delay the process imports at the realistic, size-scaled pace. With --gateway-host the gateway's
  // URL keeps the real service's form and the certificate covers it (the caller resolves the name).
  const realistic = spawn(process.execPath, [COMMAND, '--port', '0', '--dir', dir, '--not-found-after-import', '250', '--gateway-host', 'apim-emulator.azure-api.net'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (realistic.exitCode === null) realistic.kill('SIGKILL');
  });
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: realistic.stdout }).once('line', resolve)),
    new Promise<string>((_, reject) => (timer = setTimeout(() => reject(new Error('no ready line')), 20_000))),
  ]).finally(() => clearTimeout(timer));
  const realisticInfo = JSON.parse(line) as Record<string, string>;
  const realisticSettings = await settingsOf(client, realisticInfo['url']!);
  t.match(realisticInfo['gatewayUrl'], /^https:\/\/apim-emulator\.azure-api\.net:\d+$/, '--gateway-host names the gateway');
  const byName = await httpsGet(`${realisticInfo['gatewayUrl']}/nothing`, ca, (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]));
  t.equal(byName.status, 404, 'reached by that name, its certificate verified for it');
  t.equal(realisticSettings['importDurationMs'], 'realistic', 'the CLI default');
  t.equal(realisticSettings['notFoundAfterImportMs'], 250);
  realistic.kill('SIGTERM');
  t.equal(await new Promise<number | null>((resolve) => realistic.on('exit', resolve)), 0);
});

t.test('through npm, the ready line is the first stdout line only with -s; the READMEs say so', async (t) => {
  const repo = here('../..');
  /** The first stdout line of `npm run <npmArgs> cli -- emulator …`; the whole process group is stopped after. */
  const firstLine = async (npmArgs: string[]): Promise<string> => {
    const dir = await tempDir(t);
    const child = spawn('npm', ['run', ...npmArgs, 'cli', '--', 'emulator', '--port', '0', '--dir', dir], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const signalGroup = (signal: NodeJS.Signals): void => {
      if (!child.pid) return;
      try {
        process.kill(-child.pid, signal);
      } catch (e) {
        // The group is gone already (npm exits once its child has): ESRCH is then the expected answer.
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    };
    // SIGTERM to the whole group (npm and the emulator under it), whether or not npm has exited: on a loaded machine
    // npm can be gone while the emulator still starts, and its stdout pipe then kept this test process alive.
    const stop = () => signalGroup('SIGTERM');
    t.teardown(() => {
      signalGroup('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<string>((resolve) => lines.once('line', resolve)),
        new Promise<string>((_, reject) => (timer = setTimeout(() => reject(new Error(`no stdout line: ${stderr}`)), 60_000))),
      ]);
    } finally {
      clearTimeout(timer);
      stop();
    }
  };
  const silent = await firstLine(['-s']);
  t.match(JSON.parse(silent), { url: /^https:\/\/127\.0\.0\.1:\d+$/ }, 'npm run -s: the first line is the JSON');
  const noisy = await firstLine([]);
  t.throws(() => JSON.parse(noisy), `without -s npm prints its own lines first (${JSON.stringify(noisy)})`);
  for (const doc of ['README.md', 'emulator/README.md']) t.match(await readFile(join(repo, doc), 'utf8'), 'npm run -s cli -- emulator', doc);
});
