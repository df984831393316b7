// bench:executor — the executor as a Job runs it, from the production bundle (`node dist/exposedapi-apim.mjs execute
// …`), against a private control plane and the APIM emulator (in this process, recording when requests arrive):
//   1. start-up: process start → its first request to APIM (the token request, then the first ARM request), beside
//      bare `node -e 0` (process start → exit) measured in the same run, alternating;
//   2. a full apply of TMF620 (350 KB, 50 operations) with no import delay: process start → exit;
//   3. peak RSS with a 10 MB document given by URL (linked: APIM fetches it itself), beside the TMF620 apply.
// Prints figures and ratios against the targets; asserts nothing (`npm run bench:executor`; the script builds dist/).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_DIR, referenceText, TMF620_V4 } from '../helpers/fixtures.ts';
import { executorBench, startExecutor, startSpecServer } from '../executor/harness.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const BUNDLE = join(REPO_DIR, 'dist/exposedapi-apim.mjs');
if (!existsSync(BUNDLE)) throw new Error('dist/exposedapi-apim.mjs is missing: run `node scripts/build.ts` (npm run bench:executor does)');

const teardowns: (() => unknown)[] = [];
const bench = { name: 'executor-bench', teardown: (fn: () => unknown) => teardowns.push(fn) };

let firstAny: number | undefined;
let firstToken: number | undefined;
let firstArm: number | undefined;
const b = await executorBench(bench, {
  emulator: {
    importDelayMs: 0,
    log: (line) => {
      const now = performance.now();
      firstAny ??= now;
      if (line.startsWith('POST ') && line.includes('/oauth2/v2.0/token')) firstToken ??= now;
      if (line.includes(' /subscriptions/')) firstArm ??= now;
    },
  },
});

const median = (xs: number[]): number => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
const f = (n: number): string => `${n.toFixed(0)} ms`;
const verdict = (ok: boolean): string => (ok ? 'within target' : 'MISSES target');

function bareNode(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - t0));
  });
}

/** Runs the bundled executor; times are from just before the spawn. */
async function executor(name: string, hash: string, env: Record<string, string> = {}, wrap?: string[]): Promise<{ any?: number; token?: number; arm?: number; total: number; code: number | null; stderr: string; stdout: string }> {
  firstAny = undefined;
  firstToken = undefined;
  firstArm = undefined;
  const args = ['execute', 'apply', '--namespace', b.ns, '--name', name, '--spec-hash', hash];
  const t0 = performance.now();
  const run = wrap
    ? await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve, reject) => {
      const child = spawn(wrap[0]!, [...wrap.slice(1), process.execPath, BUNDLE, ...args], { env: b.env({ LOG_LEVEL: 'warn', ...env }), cwd: REPO_DIR });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr, stdout }));
    })
    : await startExecutor(args, b.env({ LOG_LEVEL: 'warn', ...env }), BUNDLE).done;
  const total = performance.now() - t0;
  return {
    ...(firstAny !== undefined ? { any: firstAny - t0 } : {}),
    ...(firstToken !== undefined ? { token: firstToken - t0 } : {}),
    ...(firstArm !== undefined ? { arm: firstArm - t0 } : {}),
    total,
    code: run.code,
    stderr: run.stderr,
    stdout: run.stdout,
  };
}

try {
  b.specs.put('TMF620.json', referenceText(TMF620_V4));
  const tmf620 = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'bench-tmf620' },
    spec: { name: 'productcatalogmanagement', apiType: 'openapi', implementation: 'pc', path: '/bench/productCatalogManagement/v4', port: 8080, specification: { url: b.specs.url('TMF620.json'), version: 'v4' } },
  });

  // 1. Start-up, on the unchanged TMF620 API (the second-run path: reads only).
  const warm = await executor(tmf620.name, tmf620.hash);
  if (warm.code !== 0) throw new Error(`warm-up apply failed (${warm.code}): ${warm.stdout}${warm.stderr}`);
  const bare: number[] = [];
  const first: number[] = [];
  const token: number[] = [];
  const arm: number[] = [];
  const unchanged: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await bareNode());
    const r = await executor(tmf620.name, tmf620.hash);
    if (r.code !== 0 || r.any === undefined || r.token === undefined || r.arm === undefined) throw new Error(`run ${i} failed: ${r.stdout}${r.stderr}`);
    first.push(r.any);
    token.push(r.token);
    arm.push(r.arm);
    unchanged.push(r.total);
  }
  const bareMs = median(bare);
  console.log(`bare Node (node -e 0, start → exit): median ${f(bareMs)} over ${RUNS} runs`);
  console.log(`executor start → first request to APIM:          median ${f(median(first))} = ${(median(first) / bareMs).toFixed(1)}× bare Node — target ≤ 300 ms and ≤ 4×: ${verdict(median(first) <= 300 && median(first) <= 4 * bareMs)}`);
  console.log(`  (MSAL's OpenID discovery GET to the emulator's Entra ID endpoint; then the token POST at median ${f(median(token))})`);
  console.log(`executor start → first ARM request (GET api):    median ${f(median(arm))} = ${(median(arm) / bareMs).toFixed(1)}× bare Node (read while TMF620 is validated, once the SDK has loaded)`);
  console.log(`executor run with nothing to change (TMF620):    median ${f(median(unchanged))} start → exit`);

  // The same with V8's compile cache (NODE_COMPILE_CACHE), as an image could ship it pre-warmed.
  const cacheDir = await mkdtemp(join(tmpdir(), 'executor-compile-cache-'));
  teardowns.push(() => rm(cacheDir, { recursive: true, force: true }));
  await executor(tmf620.name, tmf620.hash, { NODE_COMPILE_CACHE: cacheDir });
  const cachedFirst: number[] = [];
  const cachedBare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    cachedBare.push(await bareNode());
    const r = await executor(tmf620.name, tmf620.hash, { NODE_COMPILE_CACHE: cacheDir });
    if (r.any !== undefined) cachedFirst.push(r.any);
  }
  console.log(`  with a warm V8 compile cache (NODE_COMPILE_CACHE): first request median ${f(median(cachedFirst))} = ${(median(cachedFirst) / median(cachedBare)).toFixed(1)}× bare Node (${f(median(cachedBare))} in this series)`);

  // 2. A full apply of TMF620: the API is new each time (the emulator is reset), import delay 0.
  const full: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) {
    b.emu.reset();
    const r = await executor(tmf620.name, tmf620.hash);
    if (r.code !== 0) throw new Error(`full apply ${i} failed: ${r.stdout}${r.stderr}`);
    if (!b.emu.state().apis.some((a) => a.name === b.apiId(tmf620.name) && a.operations.length === 50)) throw new Error('TMF620 was not imported');
    full.push(r.total);
  }
  console.log(`full apply of TMF620 (import, policy, status):   median ${f(median(full))} start → exit — target ≤ 1500 ms: ${verdict(median(full) <= 1500)}`);

  // 3. Peak RSS with a 10 MB document by URL.
  const base = JSON.parse(referenceText(TMF620_V4)) as { paths: Record<string, Record<string, { operationId?: string }>> };
  const big = structuredClone(base);
  for (let copy = 1; JSON.stringify(big).length < 10 * 1024 * 1024; copy++) {
    for (const [path, item] of Object.entries(base.paths)) {
      const cloned = structuredClone(item);
      for (const op of Object.values(cloned)) if (op && typeof op === 'object' && op.operationId) op.operationId = `${op.operationId}Copy${copy}`;
      big.paths[`/copy${copy}${path}`] = cloned;
    }
  }
  const bigText = JSON.stringify(big);
  const plain = await startSpecServer({ plain: true });
  teardowns.push(() => plain.close());
  plain.put('big.json', bigText);
  const large = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'bench-10mb' },
    spec: { name: 'big', apiType: 'openapi', implementation: 'big', path: '/bench/big', port: 8080, specification: { url: plain.url('big.json') } },
  });
  // What a configuration that admits such a document looks like: larger fetches, remote checks as warnings (the
  // webhook's rules refuse documents above APIM's 4 MB inline limit otherwise), links for what cannot go inline.
  const bigEnv = { SPEC_FETCH_ALLOW_HTTP: 'true', SPEC_FETCH_MAX_BYTES: String(16 * 1024 * 1024), REMOTE_SPEC_CHECK: 'warn', SPEC_IMPORT_MODE: 'auto' };
  const rss = async (name: string, hash: string, env: Record<string, string>): Promise<{ mb: number; total: number }> => {
    const r = await executor(name, hash, env, ['/usr/bin/time', '-f', 'maxrss=%M']);
    if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stdout}${r.stderr}`);
    const kb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
    return { mb: kb / 1024, total: r.total };
  };
  b.emu.reset();
  const small = await rss(tmf620.name, tmf620.hash, {});
  const huge = await rss(large.name, large.hash, bigEnv);
  const imported = b.emu.state().apis.find((a) => a.name === b.apiId(large.name));
  console.log(`peak RSS, TMF620 apply (350 KB inline):          ${small.mb.toFixed(0)} MB`);
  console.log(`peak RSS, ${(Buffer.byteLength(bigText) / 1048576).toFixed(1)} MB document by URL (linked):     ${huge.mb.toFixed(0)} MB, ${f(huge.total)} start → exit, ${imported?.operations.length ?? 0} operations imported — target ≤ 150 MB: ${verdict(huge.mb <= 150)}`);
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
