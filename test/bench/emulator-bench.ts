// bench:emulator — the APIM emulator's throughput on small management requests and the time of a 4 MB import.
// The emulator runs as its own process (one Node event loop: one core); the load comes from this process over
// keep-alive HTTPS with plain agents. Prints figures, including the emulator process's CPU use; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ApimEmulatorInfo } from '../../emulator/apim-emulator.ts';
import { fileURLToPath } from 'node:url';
import { ClientSecretCredential } from '@azure/identity';
import YAML from 'yaml';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const COMMAND = fileURLToPath(new URL('../../cli/emulator-command.ts', import.meta.url));

type Info = ApimEmulatorInfo;

const dir = await mkdtemp(join(tmpdir(), 'emulator-bench-'));
const child = spawn(process.execPath, [COMMAND, '--port', '0', '--dir', dir, '--import-delay', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const info = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve))) as Info;
const ca = await readFile(info.caFile, 'utf8');
const credential = new ClientSecretCredential(info.tenantId, info.clientId, info.clientSecret, { authorityHost: info.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca } } as ConstructorParameters<typeof ClientSecretCredential>[3]);
const token = (await credential.getToken(`${info.url}/.default`))!.token;
const service = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}/providers/Microsoft.ApiManagement/service/${info.serviceName}`;
const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function request(method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = https.request(`${info.url}${path}`, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

async function load(name: string, next: (i: number) => [string, string, string?]): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const cpu0 = cpuSeconds(child.pid!);
  const started = performance.now();
  const end = started + SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const [method, path, body] = next(issued++);
      const t0 = performance.now();
      const r = await request(method, path, body).catch(() => undefined);
      latencies.push(performance.now() - t0);
      if (!r || r.status >= 400) errors++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpuUsed = cpuSeconds(child.pid!) - cpu0;
  latencies.sort((a, b) => a - b);
  // The load generator shares the machine; requests per emulator CPU-second is what one core would sustain.
  process.stdout.write(
    `${name.padEnd(26)} ${(latencies.length / seconds).toFixed(0).padStart(6)} req/s  p50 ${percentile(latencies, 50).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  emulator CPU ${((cpuUsed / seconds) * 100).toFixed(0)}% of one core → ${(latencies.length / cpuUsed).toFixed(0)} req per emulator CPU-second  (${latencies.length} requests, ${errors} errors)\n`,
  );
}

/** An OpenAPI 3 document of just under `bytes`, of many small operations (like a large real API). */
function bigDocument(bytes: number, format: 'json' | 'yaml'): { text: string; operations: number } {
  const paths: Record<string, unknown> = {};
  const doc = { openapi: '3.0.1', info: { title: 'Big', version: '1' }, servers: [{ url: 'https://backend.example/api' }], paths };
  const render = (): string => (format === 'json' ? JSON.stringify(doc) : YAML.stringify(doc));
  const pathItem = (i: number): unknown => ({
    get: {
      operationId: `getResource${i}`,
      summary: `Get resource ${i}`,
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'fields', in: 'query', schema: { type: 'string' }, description: 'Comma-separated properties to be provided in response' },
      ],
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Resource' } } } }, '404': { description: 'Not found' } },
    },
  });
  // Grow in steps, measuring the rendering only now and then, then trim back under the limit.
  let i = 0;
  let size = 0;
  while (size < bytes) {
    for (let k = 0; k < 200; k++, i++) paths[`/resources${i}/{id}`] = pathItem(i);
    size = Buffer.byteLength(render());
  }
  while (Buffer.byteLength(render()) > bytes) delete paths[`/resources${--i}/{id}`];
  return { text: render(), operations: i };
}

async function importTimed(apiId: string, format: string, value: string): Promise<{ ms: number; status: number }> {
  const body = JSON.stringify({ properties: { path: apiId, format, value } });
  const t0 = performance.now();
  const put = await request('PUT', `${service}/apis/${apiId}?api-version=2024-05-01`, body);
  if (put.status !== 202) throw new Error(`PUT ${put.status}: ${put.body}`);
  const location = new URL(String(put.headers['location']));
  for (;;) {
    const poll = await request('GET', `${location.pathname}${location.search}`);
    if (poll.status !== 202) return { ms: performance.now() - t0, status: poll.status };
    await new Promise((r) => setTimeout(r, 2));
  }
}

try {
  process.stdout.write(`APIM emulator at ${info.url} (pid ${child.pid}), ${CONCURRENCY} keep-alive connections, ${SECONDS} s per phase\n`);
  await request('PUT', `${service}/tags/bench?api-version=2024-05-01`, JSON.stringify({ properties: { displayName: 'Bench' } }));
  await request('PUT', `${service}/apis/echo?api-version=2024-05-01`, JSON.stringify({ properties: { displayName: 'Echo', path: 'echo', serviceUrl: 'https://echo.example' } }));
  await load('warm-up (GET tag)', () => ['GET', `${service}/tags/bench?api-version=2024-05-01`]);
  await load('GET tag (small entity)', () => ['GET', `${service}/tags/bench?api-version=2024-05-01`]);
  await load('PUT tag (create/update)', (i) => ['PUT', `${service}/tags/bench-${i % 500}?api-version=2024-05-01`, JSON.stringify({ properties: { displayName: `Bench ${i}` } })]);
  await load('GET/PUT API, 50/50', (i) =>
    i % 2 === 0
      ? ['GET', `${service}/apis/echo?api-version=2024-05-01`]
      : ['PUT', `${service}/apis/echo?api-version=2024-05-01`, JSON.stringify({ properties: { displayName: `Echo ${i}`, path: 'echo' } })],
  );

  const limit = 4 * 1024 * 1024;
  for (const format of ['json', 'yaml'] as const) {
    const doc = bigDocument(limit, format);
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const result = await importTimed(`big-${format}-${r}`, format === 'json' ? 'openapi+json' : 'openapi', doc.text);
      if (result.status !== 201) throw new Error(`import ended with ${result.status}`);
      runs.push(result.ms);
    }
    const ops = JSON.parse((await request('GET', `${service}/apis/big-${format}-0/operations?api-version=2024-05-01&$top=1`)).body) as { count: number };
    process.stdout.write(
      `4 MB import (${format.padEnd(4)}, ${Buffer.byteLength(doc.text)} bytes, ${ops.count} operations)  PUT → 201: ${runs.map((m) => `${m.toFixed(0)} ms`).join(', ')} (import delay 0)\n`,
    );
  }
} finally {
  agent.destroy();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(dir, { recursive: true, force: true });
}
