// The sandbox's --gateway-host: status URLs in the real service's form (`https://apim-emulator.azure-api.net:<port>`)
// that resolve to the emulator's gateway without touching the machine's resolver — the printed curl (with
// --resolve), a Node program started with the sandbox's preload (NODE_OPTIONS=--import=…, http and fetch), and an
// in-process lookup — each reaching the gateway under that name with its certificate verified. Also the summary's
// curl lines, with and without a name.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { lookup as systemLookup } from 'node:dns';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';
import { curlResolve, gatewayCurls, gatewayLookup, gatewayName, writeGatewayResolution } from '../../dev-cluster/sandbox/gateway-access.ts';

const HOST = 'apim-emulator.azure-api.net';
const NOT_FOUND = '{ "statusCode": 404, "message": "Resource not found" }';

t.test('names, flags and summary lines', async (t) => {
  const g = gatewayName(`https://${HOST}:8443`, '127.0.0.1');
  t.same(g, { host: HOST, address: '127.0.0.1', port: 8443 });
  t.equal(curlResolve(g), `--resolve ${HOST}:8443:127.0.0.1`);
  t.equal(curlResolve(gatewayName(`https://${HOST}:8443`, '::1')), `--resolve ${HOST}:8443:[::1]`, 'IPv6 addresses in brackets, as curl wants them');

  const exposed = [{ status: { apiStatus: { url: `https://${HOST}:8443/catalog/v4` }, apim: { apiId: 'sandbox-catalog' } } }];
  const apis = [{ name: 'sandbox-catalog', properties: {}, operations: [{ properties: { method: 'GET', urlTemplate: '/catalog/{id}' } }, { properties: { method: 'GET', urlTemplate: '/catalog' } }] }];
  const plain = gatewayCurls(exposed, apis, '/s/ca.crt');
  t.same(plain.slice(1), ['Call an API through the gateway (the emulator enforces its policies):', `  curl --cacert /s/ca.crt https://${HOST}:8443/catalog/v4/catalog`], 'the first GET without parameters');
  const dir = mkdtempSync(join(tmpdir(), 'gateway-access-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const resolution = writeGatewayResolution(dir, g);
  const named = gatewayCurls(exposed, apis, '/s/ca.crt', resolution);
  t.equal(named[2], `  curl --cacert /s/ca.crt --resolve ${HOST}:8443:127.0.0.1 https://${HOST}:8443/catalog/v4/catalog`);
  t.match(named.join('\n'), `export NODE_OPTIONS=--import=${join(dir, 'gateway-resolve.mjs')}`, 'how Node programs resolve it');
  t.equal(readFileSync(resolution.hostsFile, 'utf8'), `127.0.0.1 ${HOST}\n`, 'a hosts(5) line');
});

t.test("curl, a Node program with the sandbox's preload, and an in-process lookup reach the gateway by name", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-access-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const emu = await startApimEmulator({ dir: join(dir, 'emulator'), importDelayMs: 0, gatewayHost: HOST });
  t.teardown(() => emu.close());
  t.match(emu.gatewayUrl, new RegExp(`^https://${HOST.replaceAll('.', '\\.')}:\\d+$`));
  const resolution = writeGatewayResolution(dir, gatewayName(emu.gatewayUrl, '127.0.0.1'));
  const url = `${emu.gatewayUrl}/nothing`;

  const curl = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
    execFile('curl', ['-sS', '--max-time', '60', '--cacert', emu.caFile, ...curlResolve(resolution.name).split(' '), url], (err, out, errOut) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut })),
  );
  t.same([curl.code, curl.out], [0, NOT_FOUND], `curl with --resolve answers (${curl.err})`);

  // The name is looked up first: a preload that did not answer it must never send the request off the machine.
  const script = `const dns = await import('node:dns');
const viaPromise = (await dns.promises.lookup(${JSON.stringify(HOST)})).address;
const viaCallback = await new Promise((ok) => dns.lookup(${JSON.stringify(HOST)}, (e, a) => ok(e ? String(e.code) : a)));
if (viaPromise !== '127.0.0.1' || viaCallback !== '127.0.0.1') { process.stdout.write(JSON.stringify({ viaPromise, viaCallback })); process.exit(3); }
const r = await fetch(${JSON.stringify(url)}); const viaFetch = await r.text();
const https = await import('node:https');
const viaHttps = await new Promise((ok, no) => https.get(${JSON.stringify(url)}, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => ok(res.statusCode + ' ' + b)); }).on('error', no));
process.stdout.write(JSON.stringify({ fetch: r.status + ' ' + viaFetch, https: viaHttps }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: `--import=${resolution.preloadFile}`, NODE_EXTRA_CA_CERTS: emu.caFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 0, err);
  t.same(JSON.parse(out || '{}'), { fetch: `404 ${NOT_FOUND}`, https: `404 ${NOT_FOUND}` }, 'fetch and https resolve the name through the preload');

  const inProcess = await new Promise<number>((resolve, reject) => {
    https.get(url, { ca: emu.caPem, lookup: gatewayLookup(resolution.name, systemLookup) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  t.equal(inProcess, 404, 'the in-process lookup');
});
