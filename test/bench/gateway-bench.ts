// bench:gateway — what the emulator's gateway adds to a request: the same POST sent straight to a backend and through
// the gateway with the full policy set core/policy-xml.ts renders (CORS, validate-jwt, rate-limit-by-key,
// quota-by-key, request and response OAS validation) plus a subscription key, in one run. The backend, the emulator
// and a bare TLS proxy each run as their own process (`--backend`, `--emulator`, `--tls-proxy` re-run this file); the
// load comes from this process over keep-alive connections (plain HTTP to the backend, HTTPS to the gateway, as a
// cluster's clients would reach them). Two phases, each direct / bare TLS proxy / gateway:
// - throughput: BENCH_CONCURRENCY (default 8) connections, each sending its next POST when the last is answered, so
//   the slowest process saturates; requests/s, p50/p99 (which are then mostly queueing) and CPU per request;
// - latency: one request at a time, so p50/p99 are what a request costs end to end and their difference is the
//   gateway's own overhead.
// The bare TLS proxy (Node's https server forwarding with a keep-alive agent, no policies) is the floor a Node gateway
// cannot go under on this machine: gateway minus proxy is what routing and the policies cost. Prints the load average
// beside the figures (the machine may be shared) and the targets (p99 overhead ≤ 2 ms, gateway throughput ≥ 50 % of
// direct); asserts nothing. BENCH_SECONDS (default 5 per measurement), BENCH_PROFILE_DIR (a CPU profile of the
// emulator process).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { readExposedApi } from '../../core/exposedapi-model.ts';
import { renderPolicyXml } from '../../core/policy-xml.ts';
import { exposedApi } from '../helpers/fixtures.ts';

const SELF = fileURLToPath(import.meta.url);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const REPLY = JSON.stringify({ id: '42', name: 'bench item' });

const mode = process.argv[2];
if (mode === '--backend') {
  // The backend: answers every request with a small JSON body, as a TM Forum API's GET by id would.
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(REPLY)) });
      res.end(REPLY);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`));
  process.on('SIGTERM', () => process.exit(0));
} else if (mode === '--tls-proxy') {
  // The floor: a TLS proxy with nothing to decide, built as the gateway forwards (node:https in, keep-alive node:http
  // agent out, the response piped back). Its certificate comes from the emulator's CA (the same home directory).
  const { openEmulatorHome } = await import('../../emulator/emulator-home.ts');
  const { issueCertificate } = await import('../../certs/pki.ts');
  const home = await openEmulatorHome(process.argv[3]!);
  const cert = await issueCertificate(home.ca, { commonName: 'bench proxy', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const backendUrl = new URL(process.argv[4]!);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem, keepAliveTimeout: 65_000 }, (req, res) => {
    const headers = { ...req.headers, host: backendUrl.host };
    delete headers['connection'];
    const out = http.request({ method: req.method, hostname: backendUrl.hostname, port: backendUrl.port, path: req.url, headers, agent }, (up) => {
      const back = { ...up.headers };
      delete back['connection'];
      delete back['keep-alive'];
      res.writeHead(up.statusCode ?? 502, back);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`));
  process.on('SIGTERM', () => process.exit(0));
} else if (mode === '--emulator') {
  const { startApimEmulator } = await import('../../emulator/apim-emulator.ts');
  const emu = await startApimEmulator({ dir: process.argv[3]!, importDelayMs: 0 });
  process.stdout.write(`${JSON.stringify({ ...emu.info(), gatewayUrl: emu.gatewayUrl, caPem: emu.caPem })}\n`);
  process.on('SIGTERM', () => void emu.close().then(() => process.exit(0)));
} else {
  await main();
}

async function startChild(args: string[], nodeArgs: string[] = []): Promise<{ child: ChildProcess; line: Record<string, string> }> {
  const child = spawn(process.execPath, [...nodeArgs, SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))) as Record<string, string>;
  return { child, line };
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

interface Phase {
  perSecond: number;
  /** CPU milliseconds per request, by process. */
  cpuPerRequest: Record<string, number>;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  cpu: Record<string, number>;
  /** Status and body of the first failed request. */
  firstError?: string;
}

/** Closed-loop load: `concurrency` keep-alive connections, each sending the next POST when the last is answered. */
async function load(url: string, headers: Record<string, string>, body: string, ca: string | undefined, watch: Record<string, number>, seconds: number, concurrency = CONCURRENCY): Promise<Phase> {
  const secure = url.startsWith('https:');
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: concurrency, ...(ca ? { ca } : {}) }) : new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const client = secure ? https : http;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = client.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          if (res.statusCode !== 200) {
            errors++;
            firstError ??= `${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`;
          }
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const cpu0 = Object.fromEntries(Object.entries(watch).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const self0 = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) await one();
  }));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const self = process.cpuUsage(self0);
  const cpu = Object.fromEntries(Object.entries(watch).map(([k, pid]) => [k, (cpuSeconds(pid) - cpu0[k]!) / elapsed]));
  cpu['load generator'] = (self.user + self.system) / 1e6 / elapsed;
  latencies.sort((a, b) => a - b);
  const cpuPerRequest = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, latencies.length > 0 ? (v * elapsed * 1000) / latencies.length : NaN]));
  return { perSecond: latencies.length / elapsed, cpuPerRequest, p50: percentile(latencies, 50), p99: percentile(latencies, 99), requests: latencies.length, errors, cpu, ...(firstError ? { firstError } : {}) };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-bench-'));
  const backend = await startChild(['--backend']);
  // BENCH_PROFILE_DIR: the emulator process writes a V8 CPU profile there when it stops.
  const profileDir = process.env['BENCH_PROFILE_DIR'];
  const emulator = await startChild(['--emulator', dir], profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);
  const proxy = await startChild(['--tls-proxy', dir, backend.line['url']!]);
  try {
    const info = emulator.line;
    const ca = info['caPem']!;
    const credential = new ClientSecretCredential(info['tenantId']!, info['clientId']!, info['clientSecret']!, {
      authorityHost: info['authorityHost']!,
      disableInstanceDiscovery: true,
      tlsOptions: { ca },
    } as ConstructorParameters<typeof ClientSecretCredential>[3]);
    const arm = new ApiManagementClient(credential, info['subscriptionId']!, { endpoint: info['url']!, tlsOptions: { ca } } as ApiManagementClientOptionalParams);
    const rg = info['resourceGroup']!;
    const svc = info['serviceName']!;
    const document = {
      openapi: '3.0.3',
      info: { title: 'Bench', version: '1' },
      paths: {
        '/items': {
          post: {
            operationId: 'createItem',
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/ItemCreate' } } } },
            responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } } },
          },
        },
      },
      components: {
        schemas: {
          ItemCreate: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 100 }, tags: { type: 'array', items: { type: 'string' } } } },
          Item: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
        },
      },
    };
    await arm.api.beginCreateOrUpdateAndWait(rg, svc, 'bench', { path: 'bench', format: 'openapi+json', value: JSON.stringify(document), serviceUrl: backend.line['url']!, subscriptionRequired: true, protocols: ['https'] }, { updateIntervalInMs: 10 });
    const { model } = readExposedApi(exposedApi({
      spec: {
        CORS: { enabled: true, allowOrigins: 'https://app.example.com' },
        rateLimit: { enabled: true, identifier: 'IP', limit: '100000000', interval: 'pm' },
        quota: { identifier: 'header:x-client', limit: '1000000000' },
        OASValidation: { requestEnabled: true, responseEnabled: true, allowUnspecifiedHeaders: true },
      },
    }));
    const jwt = { openidConfigUrl: `${info['url']}/${info['tenantId']}/v2.0/.well-known/openid-configuration`, audiences: ['api://bench'], issuers: [], requiredClaims: [{ name: 'appid', values: [info['clientId']!] }] };
    const xml = renderPolicyXml({ spec: model.spec, apiId: 'bench', jwt, quotaRenewalPeriodSeconds: 86400, documentValidation: true });
    await arm.apiPolicy.createOrUpdate(rg, svc, 'bench', 'policy', { value: xml, format: 'xml' });
    await arm.subscription.createOrUpdate(rg, svc, 'bench', { scope: '/apis/bench', displayName: 'Bench', state: 'active', primaryKey: 'bench-subscription-key-0000000001' });
    const token = (await credential.getToken('api://bench/.default'))!.token;
    const body = JSON.stringify({ name: 'bench item', tags: ['a', 'b'] });
    const common = { 'content-type': 'application/json', origin: 'https://app.example.com', 'x-client': 'bench' };
    const gatewayHeaders = { ...common, authorization: `Bearer ${token}`, 'ocp-apim-subscription-key': 'bench-subscription-key-0000000001' };
    const watch = { backend: backend.child.pid!, emulator: emulator.child.pid!, proxy: proxy.child.pid! };
    const direct = `${backend.line['url']}/items`;
    const viaProxy = `${proxy.line['url']}/items`;
    const viaGateway = `${info['gatewayUrl']}/bench/items`;
    const loads = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

    process.stdout.write(`gateway ${viaGateway} → backend ${backend.line['url']}; ${SECONDS} s per measurement, ${Buffer.byteLength(body)}-byte JSON POST, ${Buffer.byteLength(REPLY)}-byte reply\n`);
    process.stdout.write(`policies: ${[...xml.matchAll(/<(cors|validate-jwt|rate-limit-by-key|quota-by-key|validate-content|validate-parameters|validate-headers|validate-status-code)\b/g)].map((m) => m[1]).join(', ')} + subscription key\n`);
    process.stdout.write(`load average before: ${loads()} (1, 5, 15 min; ${availableParallelism()} CPUs)\n\n`);
    // Warm-up: connections, JIT, the gateway's compiled policy, schema validators and OpenID keys.
    await load(direct, common, body, undefined, watch, 1);
    await load(viaProxy, common, body, ca, watch, 1);
    const warm = await load(viaGateway, gatewayHeaders, body, ca, watch, 1);
    if (warm.errors > 0) throw new Error(`the gateway answered ${warm.errors} of ${warm.requests} warm-up requests with an error, first: ${warm.firstError}`);
    const row = (name: string, p: Phase, process: string): string =>
      `  ${name.padEnd(16)} ${p.perSecond.toFixed(0).padStart(6)} req/s  p50 ${p.p50.toFixed(2).padStart(6)} ms  p99 ${p.p99.toFixed(2).padStart(6)} ms  ${process === '' ? '' : `${process} CPU ${p.cpuPerRequest[process]!.toFixed(3)} ms/request  `}(${p.requests} requests, ${p.errors} errors; CPU ${Object.entries(p.cpu).filter(([, v]) => v >= 0.01).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ')})\n`;

    process.stdout.write(`throughput: ${CONCURRENCY} keep-alive connections, closed loop\n`);
    const d = await load(direct, common, body, undefined, watch, SECONDS);
    const pr = await load(viaProxy, common, body, ca, watch, SECONDS);
    const g = await load(viaGateway, gatewayHeaders, body, ca, watch, SECONDS);
    process.stdout.write(row('direct', d, 'backend'));
    process.stdout.write(row('bare TLS proxy', pr, 'proxy'));
    process.stdout.write(row('through gateway', g, 'emulator'));
    process.stdout.write(`latency: 1 connection, one request at a time\n`);
    const d1 = await load(direct, common, body, undefined, watch, SECONDS, 1);
    const pr1 = await load(viaProxy, common, body, ca, watch, SECONDS, 1);
    const g1 = await load(viaGateway, gatewayHeaders, body, ca, watch, SECONDS, 1);
    process.stdout.write(row('direct', d1, 'backend'));
    process.stdout.write(row('bare TLS proxy', pr1, 'proxy'));
    process.stdout.write(row('through gateway', g1, 'emulator'));
    const errors = [d, pr, g, d1, pr1, g1].reduce((n, p) => n + p.errors, 0);
    process.stdout.write(`\nlatency overhead (one at a time): p50 +${(g1.p50 - d1.p50).toFixed(2)} ms, p99 +${(g1.p99 - d1.p99).toFixed(2)} ms (target ≤ 2 ms; bare TLS proxy p99 +${(pr1.p99 - d1.p99).toFixed(2)} ms)\n`);
    process.stdout.write(`under saturation (${CONCURRENCY} connections): p50 +${(g.p50 - d.p50).toFixed(2)} ms, p99 +${(g.p99 - d.p99).toFixed(2)} ms\n`);
    process.stdout.write(`throughput: gateway ${((g.perSecond / d.perSecond) * 100).toFixed(0)} % of direct (target ≥ 50 %); bare TLS proxy ${((pr.perSecond / d.perSecond) * 100).toFixed(0)} % of direct; gateway ${((g.perSecond / pr.perSecond) * 100).toFixed(0)} % of the bare proxy\n`);
    process.stdout.write(`gateway CPU per request ${g.cpuPerRequest['emulator']!.toFixed(3)} ms, of which the bare proxying ${pr.cpuPerRequest['proxy']!.toFixed(3)} ms\n`);
    process.stdout.write(`load average after: ${loads()}${errors > 0 ? `; ${errors} errors, first: ${[d, pr, g, d1, pr1, g1].find((p) => p.firstError)?.firstError}` : ''}\n`);
  } finally {
    for (const c of [proxy.child, emulator.child, backend.child]) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  }
}
