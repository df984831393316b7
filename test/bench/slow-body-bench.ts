// bench:slow-body — the webhook's memory under the slow-body attack of issue 9: 40 TLS connections each declaring a
// ~7 MB AdmissionReview (just under WEBHOOK_MAX_BODY_BYTES) and sending it slowly (BENCH_SLOW_SECONDS for the whole
// body), while a well-behaved client keeps applying a small ExposedAPI. Runs the production bundle with the
// Deployment's process settings (as bench:admission does) and prints the webhook's RSS before, during (peak) and after
// the attack against the Deployment's memory limit, with how each attacking request ended.
// Asserts nothing; the figures are in docs/resource-limits.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import YAML from 'yaml';
import { deploymentProcessEnv } from '../../dev-cluster/sandbox/sandbox.ts';
import { exposedApi, REPO_DIR } from '../helpers/fixtures.ts';
import { testTls } from '../helpers/webhook-tls.ts';
import { percentile } from './load.ts';
import { memoryOf } from './process-memory.ts';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 40);
const BODY_BYTES = Number(process.env['BENCH_BODY_BYTES'] ?? 7_000_000);
const SLOW_SECONDS = Number(process.env['BENCH_SLOW_SECONDS'] ?? 8);
const WEBHOOK_ENV: Record<string, string> = JSON.parse(process.env['BENCH_WEBHOOK_ENV'] ?? 'null') ?? deploymentProcessEnv();

function memoryLimitMi(): number {
  const deployment = YAML.parse(readFileSync(join(REPO_DIR, 'manifests/base/deployment.yaml'), 'utf8'));
  const limit: string = deployment.spec.template.spec.containers[0].resources.limits.memory;
  const m = /^(\d+)(Mi|Gi)$/.exec(limit);
  if (!m) throw new Error(`unexpected memory limit ${limit}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

function review(obj: Record<string, unknown>, uid: string): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: 'oda.tmforum.org', version: 'v1', kind: 'ExposedAPI' }, operation: 'CREATE', namespace: 'bench', name: (obj['metadata'] as { name: string }).name, object: obj } }));
}

/** An AdmissionReview of about `bytes` bytes: an ExposedAPI whose inline specification is a large document. */
function largeReview(bytes: number, uid: string): Buffer {
  const filler = 'x'.repeat(Math.max(0, bytes - 600));
  return review(exposedApi({ spec: { specification: `openapi: 3.0.3\ninfo: {title: big, version: "1", description: ${filler}}\npaths: {}\n` } }), uid);
}

function startWebhook(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; port: number }> {
  const child = spawn(process.execPath, ['dist/exposedapi-apim.mjs', 'webhook'], { cwd: REPO_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the webhook did not start')), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line);
          if (j.url) {
            clearTimeout(timer);
            child.stdout!.removeAllListeners('data');
            child.stdout!.resume();
            resolve({ child, url: j.url, port: Number(new URL(j.url).port) });
            return;
          }
        } catch {
          /* not JSON yet */
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`the webhook exited with ${code}`)));
  });
}

/** One attacking connection: headers at once, then the body in slices spread over `seconds`. Resolves with how it ended. */
function slowPost(port: number, ca: string, body: Buffer, seconds: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    let answer = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (outcome: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status && answer.includes('\r\n\r\n')) done(`HTTP ${status[1]}`);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    socket.on('close', () => done(answer === '' ? 'closed without an answer' : 'closed'));
    socket.once('secureConnect', () => {
      socket.write(`POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      const slices = Math.max(1, Math.round(seconds * 10));
      const slice = Math.ceil(body.length / slices);
      let offset = 0;
      const next = () => {
        if (settled || socket.destroyed) return;
        socket.write(body.subarray(offset, offset + slice));
        offset += slice;
        if (offset < body.length) timer = setTimeout(next, 100);
      };
      next();
    });
  });
}

function post(url: string, ca: string, body: Buffer): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = https.request(url, { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ ms: performance.now() - started, ok: res.statusCode === 200 && text.includes('"allowed":true') }));
    });
    req.on('error', () => resolve({ ms: performance.now() - started, ok: false }));
    req.end(body);
  });
}

const mb = (n: number) => `${n.toFixed(0)} MiB`;
const limitMi = memoryLimitMi();
const certs = await testTls();
let webhook: Awaited<ReturnType<typeof startWebhook>> | undefined;
try {
  webhook = await startWebhook({
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    TLS_CERT_FILE: certs.certFile,
    TLS_KEY_FILE: certs.keyFile,
    PATH_UNIQUENESS: 'false',
    REMOTE_SPEC_CHECK: 'off', // no network in the bench: the small ExposedAPI's specification URL is not fetched
    LOG_LEVEL: 'info', // the start-up line carries the URL
    ...WEBHOOK_ENV,
  });
  const pid = webhook.child.pid!;
  const ca = certs.ca.certPem;
  const small = review(exposedApi(), 'small');
  process.stdout.write(`webhook: node dist/exposedapi-apim.mjs webhook with ${JSON.stringify(WEBHOOK_ENV)}; memory limit ${limitMi}Mi (manifests/base/deployment.yaml)\n`);
  for (let i = 0; i < 50; i++) await post(`${webhook.url}/validate`, ca, small); // warm
  await new Promise((r) => setTimeout(r, 2000));
  const before = memoryOf(pid);

  const body = largeReview(BODY_BYTES, 'attack');
  let peak = before.rssMb;
  const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rssMb)), 100);
  // A well-behaved client applying a small ExposedAPI throughout the attack.
  const legit: { ms: number; ok: boolean }[] = [];
  let attacking = true;
  const legitLoop = (async () => {
    while (attacking) {
      legit.push(await post(`${webhook!.url}/validate`, ca, small));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: CONNECTIONS }, () => slowPost(webhook!.port, ca, body, SLOW_SECONDS)));
  const attackSeconds = (performance.now() - started) / 1000;
  attacking = false;
  await legitLoop;
  const endOfAttack = memoryOf(pid);
  await new Promise((r) => setTimeout(r, 3000));
  const after3 = memoryOf(pid);
  await new Promise((r) => setTimeout(r, 12_000));
  clearInterval(sampler);
  const settled = memoryOf(pid);

  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  const latencies = legit.map((l) => l.ms).sort((a, b) => a - b);
  process.stdout.write(`\nslow-body attack: ${CONNECTIONS} connections × ${(body.length / 1e6).toFixed(1)} MB AdmissionReview, each body sent over ${SLOW_SECONDS} s; attack over after ${attackSeconds.toFixed(1)} s\n`);
  process.stdout.write(`  attacking requests ended: ${[...counts].map(([k, v]) => `${v} × ${k}`).join(', ')}\n`);
  process.stdout.write(`  small ExposedAPI applied meanwhile: ${legit.filter((l) => l.ok).length}/${legit.length} allowed, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms\n`);
  process.stdout.write(`  webhook RSS before ${mb(before.rssMb)}, peak during ${mb(peak)}, at the end ${mb(endOfAttack.rssMb)}, 3 s later ${mb(after3.rssMb)}, 15 s later ${mb(settled.rssMb)}\n`);
  process.stdout.write(`  memory limit ${limitMi} MiB: peak ${peak < limitMi ? 'stays under it' : 'EXCEEDS it'} (${((peak / limitMi) * 100).toFixed(0)} %)\n`);
} finally {
  webhook?.child.kill('SIGTERM');
  certs.remove();
}
