// bench:executor-process — what one Job's process costs, from the production bundle (`node <bundle> execute …`), for
// TMF620 (350 KB, 50 operations) given by URL, against a private control plane and the APIM emulator (in this
// process, which notes when each request arrives). Per scenario — apply of a new API as admitted (document digest
// recorded), apply with nothing to change, delete, apply of a new API with the document's full checks — it prints
// medians of: process start → first request to APIM (the token request) and → first ARM
// request, beside bare `node -e 0` measured the same way in the same series; start → exit; the process's user+sys
// CPU seconds and its peak RSS (getrusage of the child through /usr/bin/time: ru_maxrss is the process's VmHWM).
// The executor connects to the apiserver as in a Job pod (ServiceAccount token and CA files, KUBERNETES_SERVICE_HOST).
// With --profile, one more run per bundle and scenario under --cpu-prof says where the CPU went, by package or project
// folder (through the bundle's source maps); --profile-dir DIR keeps the profiles (DIR/<label>/<n>.cpuprofile).
//
// Several bundles can run in the same series, alternating, so "before" and "after" see the same load:
//   node test/bench/executor-process-bench.ts [--runs N] [--profile] [--bundle LABEL=PATH]...
// default: --bundle current=dist/exposedapi-apim.mjs; a before/after pair e.g. from a worktree of an older commit:
//   git worktree add /work/before <rev> && ln -s $PWD/node_modules /work/before/node_modules
//   (cd /work/before && node scripts/build.ts)
//   node test/bench/executor-process-bench.ts --bundle before=/work/before/dist/exposedapi-apim.mjs --bundle after=dist/exposedapi-apim.mjs
// A label ending in "-nocache" runs that bundle with NODE_DISABLE_COMPILE_CACHE=1 (the bundle's shipped compile
// cache off). Prints figures against the targets of issue 12; asserts nothing.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { mkdtemp, rm } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_DIR, referenceText, TMF620_V4 } from '../helpers/fixtures.ts';
import { executorBench } from '../executor/harness.ts';
import { documentDigest } from '../../core/document-digest.ts';
import { DOCUMENT_DIGEST_ANNOTATION } from '../../core/exposedapi-model.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    bundle: { type: 'string', multiple: true },
  },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a whole number ≥ 1, got ${JSON.stringify(values.runs)}`);
const TIME = '/usr/bin/time';
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for the child's CPU and peak RSS: apt-get install time`);

interface Bundle {
  label: string;
  entry: string;
  env: Record<string, string>;
}
const bundles: Bundle[] = (values.bundle ?? [`current=${join(REPO_DIR, 'dist/exposedapi-apim.mjs')}`]).map((spec) => {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--bundle takes LABEL=PATH, got ${JSON.stringify(spec)}`);
  const label = spec.slice(0, eq);
  const entry = resolve(spec.slice(eq + 1));
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build it with \`node scripts/build.ts\` (npm run bench:executor-process does)`);
  const env: Record<string, string> = label.endsWith('-nocache') ? { NODE_DISABLE_COMPILE_CACHE: '1' } : {};
  return { label, entry, env };
});

const teardowns: (() => unknown)[] = [];
const bench = { name: 'executor-process-bench', teardown: (fn: () => unknown) => teardowns.push(fn) };

// When requests reach the emulator, on this process's clock (performance.now), reset before each run.
let firstAny: number | undefined;
let firstArm: number | undefined;
const b = await executorBench(bench, {
  emulator: {
    importDelayMs: 0,
    log: (line) => {
      const now = performance.now();
      firstAny ??= now;
      if (line.includes(' /subscriptions/')) firstArm ??= now;
    },
  },
});

interface Sample {
  wallMs: number;
  firstMs?: number;
  firstArmMs?: number;
  cpuS: number;
  userS: number;
  sysS: number;
  rssMb: number;
}

/** Runs `node <args>` under GNU time; times are from just before the spawn. */
async function timed(args: string[], env: Record<string, string>): Promise<Sample & { code: number | null; out: string }> {
  firstAny = undefined;
  firstArm = undefined;
  const t0 = performance.now();
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolvePromise, reject) => {
    // GNU time writes its line last on stderr; the marker keeps it apart from the child's own output.
    const child = spawn(TIME, ['-f', '@@time %U %S %M', process.execPath, ...args], { env, cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, out, err }));
  });
  const wallMs = performance.now() - t0;
  const m = /@@time ([\d.]+) ([\d.]+) (\d+)/.exec(r.err);
  if (!m) throw new Error(`no GNU time figures in the child's stderr: ${r.err.slice(-500)}`);
  const userS = Number(m[1]);
  const sysS = Number(m[2]);
  return {
    code: r.code,
    out: r.out + r.err.replace(/@@time.*\n?/, ''),
    wallMs,
    ...(firstAny !== undefined ? { firstMs: firstAny - t0 } : {}),
    ...(firstArm !== undefined ? { firstArmMs: firstArm - t0 } : {}),
    userS,
    sysS,
    cpuS: userS + sysS,
    rssMb: Number(m[3]) / 1024,
  };
}

// 'apply (new API)' is the change as admission leaves it (the document's digest recorded, so the executor skips the
// document's full checks: core/document-digest.ts); 'full checks' is the same without the digest (a document changed
// at its URL since admission, or a bundle that predates the digest).
type Scenario = 'apply (new API)' | 'apply (unchanged)' | 'delete' | 'apply (new API, full checks)';
const SCENARIOS: Scenario[] = ['apply (new API)', 'apply (unchanged)', 'delete', 'apply (new API, full checks)'];

const TMF620 = {
  apiVersion: 'oda.tmforum.org/v1',
  kind: 'ExposedAPI',
  metadata: { name: 'bench-tmf620' },
  spec: { name: 'productcatalogmanagement', apiType: 'openapi', implementation: 'pc', path: '/bench/productCatalogManagement/v4', port: 8080, specification: { url: '', version: 'v4' } },
};
const TMF620_TEXT = referenceText(TMF620_V4);

async function deleteObject(name: string): Promise<void> {
  const r = await b.cp.kubectl(['delete', 'exposedapi.v1.oda.tmforum.org', name, '-n', b.ns, '--wait=false']);
  if (r.code !== 0) throw new Error(`kubectl delete: ${r.stderr}`);
}

async function waitGone(name: string): Promise<void> {
  // Bounded: the delete Job removed our finalizer, so the apiserver drops the object at once.
  for (let i = 0; i < 100; i++) {
    if ((await b.get(name)) === undefined) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`ExposedAPI ${name} still exists 10 s after its delete Job`);
}

const serviceAccountDir = await mkdtemp(join(tmpdir(), 'executor-process-bench-sa-'));
teardowns.push(() => rm(serviceAccountDir, { recursive: true, force: true }));
/**
 * The environment a Job pod gives the executor: the ServiceAccount token and CA as mounted files and the apiserver in
 * KUBERNETES_SERVICE_HOST/PORT (executor/in-cluster-config.ts), instead of the harness's kubeconfig, whose YAML parse
 * a pod never pays.
 */
function podEnv(env: Record<string, string>): Record<string, string> {
  const { KUBECONFIG: kubeconfig, ...rest } = env;
  if (!kubeconfig) return env;
  const conn = kubeconfigFileConnection(kubeconfig);
  const server = new URL(conn.server);
  return { ...rest, KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR: serviceAccountDir };
}
const connections = new Map<string, { server: string }>();
function kubeconfigFileConnection(path: string): { server: string } {
  const known = connections.get(path);
  if (known) return known;
  const doc = YAML.parse(readFileSync(path, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const cluster = doc.clusters[0]!.cluster;
  const user = doc.users[0]!.user;
  if (!user['token']) throw new Error(`${path}: the executor's kubeconfig has no token`);
  writeFileSync(join(serviceAccountDir, 'token'), user['token']);
  writeFileSync(join(serviceAccountDir, 'ca.crt'), Buffer.from(cluster['certificate-authority-data']!, 'base64'));
  const conn = { server: cluster['server']! };
  connections.set(path, conn);
  return conn;
}

/** One round of the scenarios for a bundle: the ExposedAPI is created fresh, applied, deleted, twice. */
async function round(bundle: Bundle, profileDir?: string): Promise<Record<Scenario, Sample>> {
  b.emu.reset();
  const admitted = { ...TMF620, metadata: { ...TMF620.metadata, annotations: { [DOCUMENT_DIGEST_ANNOTATION]: documentDigest(TMF620_TEXT) } } };
  let obj = await b.put(admitted);
  let n = 0;
  const profile = (): string[] => (profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${n++}.cpuprofile`] : []);
  const args = (action: 'apply' | 'delete'): string[] => [...profile(), bundle.entry, 'execute', action, '--namespace', b.ns, '--name', obj.name, '--spec-hash', obj.hash];
  const env = { ...podEnv(b.env({ LOG_LEVEL: 'info', ...bundle.env })), ...bundle.env };
  const out = {} as Record<Scenario, Sample>;
  const check = (s: Scenario, r: Sample & { code: number | null; out: string }): void => {
    if (r.code !== 0) throw new Error(`${bundle.label}, ${s}: exit ${r.code}\n${r.out}`);
    out[s] = r;
  };
  check('apply (new API)', await timed(args('apply'), env));
  if (!b.emu.state().apis.some((a) => a.name === b.apiId(obj.name) && a.operations.length === 50)) throw new Error(`${bundle.label}: TMF620 was not imported`);
  check('apply (unchanged)', await timed(args('apply'), env));
  await deleteObject(obj.name);
  check('delete', await timed(args('delete'), env));
  await waitGone(obj.name);
  if (b.emu.state().apis.some((a) => a.name === b.apiId(obj.name))) throw new Error(`${bundle.label}: the delete left the API in APIM`);
  obj = await b.put(TMF620);
  check('apply (new API, full checks)', await timed(args('apply'), env));
  await deleteObject(obj.name);
  const cleanup = await timed(args('delete'), env);
  if (cleanup.code !== 0) throw new Error(`${bundle.label}: the clean-up delete failed: ${cleanup.out}`);
  await waitGone(obj.name);
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;

/** CPU self time of a --cpu-prof profile by where the code came from: an npm package, a project folder, Node itself. */
function cpuByOrigin(profileFile: string): Map<string, number> {
  interface Node { id: number; callFrame: { url: string; lineNumber: number; columnNumber: number; functionName: string } }
  const p = JSON.parse(readFileSync(profileFile, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const maps = new Map<string, SourceMap | undefined>();
  const origin = (n: Node): string => {
    const { url, lineNumber, columnNumber, functionName } = n.callFrame;
    if (url === '') return functionName === '(garbage collector)' ? '(garbage collector)' : functionName === '(program)' ? '(V8/Node native, compile)' : functionName === '(idle)' ? '(idle)' : '(native)';
    // Node's own JavaScript by area: node:internal/modules (the module loader), node:internal/tls, node:_http_client…
    if (url.startsWith('node:')) return url.split('/').slice(0, url.startsWith('node:internal/') ? 2 : 1).join('/');
    if (!url.startsWith('file://')) return url;
    const file = fileURLToPath(url);
    if (!maps.has(file)) maps.set(file, existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) : undefined);
    const source = maps.get(file)?.findEntry(lineNumber, columnNumber);
    // Positions the map does not cover (the chunk's own wrapper) count as the chunk's.
    if (!source || !('originalSource' in source)) return `bundle ${file.split('/').pop()} (unmapped)`;
    const original = source.originalSource;
    const nm = original.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const parts = original.slice(nm + 'node_modules/'.length).split('/');
      return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
    }
    const rel = original.replace(/^.*?\/(cli|core|executor|kube|webhook|dispatcher|certs)\//, '$1/');
    return `project ${rel.split('/')[0]}/`;
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const key = origin(byId.get(id)!);
    totals.set(key, (totals.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  totals.delete('(idle)');
  return totals;
}

try {
  b.specs.put('TMF620.json', referenceText(TMF620_V4));
  TMF620.spec.specification.url = b.specs.url('TMF620.json');
  // Warm-up (page cache, the apiserver's caches) for every bundle, not counted.
  for (const bundle of bundles) await round(bundle);

  const bare: number[] = [];
  const samples = new Map(bundles.map((x) => [x.label, SCENARIOS.map(() => [] as Sample[])]));
  for (let i = 0; i < RUNS; i++) {
    for (const bundle of bundles) {
      const bareRun = await timed(['-e', '0'], b.env());
      bare.push(bareRun.wallMs);
      const r = await round(bundle);
      SCENARIOS.forEach((s, k) => samples.get(bundle.label)![k]!.push(r[s]));
    }
  }

  const bareMs = median(bare);
  const f = (n: number | undefined, d = 0): string => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(d));
  console.log(`\nTMF620 by URL, ${RUNS} runs per bundle and scenario, alternating; medians. Bare Node (node -e 0, start → exit): ${f(bareMs)} ms.`);
  console.log('Targets (issue 12): CPU per change ≤ 0.3 s; peak RSS ≤ 80 MB; start → first APIM request ≤ 2× bare Node.\n');
  const header = ['bundle', 'scenario', 'first APIM req ms', '× bare', 'first ARM ms', 'wall ms', 'user+sys s', 'user s', 'sys s', 'peak RSS MB'];
  const rows: string[][] = [];
  for (const bundle of bundles) {
    SCENARIOS.forEach((s, k) => {
      const xs = samples.get(bundle.label)![k]!;
      const pick = (fn: (x: Sample) => number | undefined): number => median(xs.map(fn).filter((v): v is number => v !== undefined));
      const first = pick((x) => x.firstMs);
      rows.push([bundle.label, s, f(first), f(first / bareMs, 1), f(pick((x) => x.firstArmMs)), f(pick((x) => x.wallMs)), f(pick((x) => x.cpuS), 2), f(pick((x) => x.userS), 2), f(pick((x) => x.sysS), 2), f(pick((x) => x.rssMb))]);
    });
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  for (const bundle of bundles) {
    const change = samples.get(bundle.label)![0]!;
    const cpu = median(change.map((x) => x.cpuS));
    const rss = median(change.map((x) => x.rssMb));
    const first = median(change.map((x) => x.firstMs).filter((v): v is number => v !== undefined));
    const v = (ok: boolean): string => (ok ? 'within' : 'MISSES');
    console.log(`${bundle.label}: a change (new API) costs ${cpu.toFixed(2)} CPU-s (${v(cpu <= 0.3)} 0.3 s), peaks at ${rss.toFixed(0)} MB (${v(rss <= 80)} 80 MB), first APIM request at ${(first / bareMs).toFixed(1)}× bare Node (${v(first <= 2 * bareMs)} 2×)`);
  }

  if (values.profile) {
    const kept = values['profile-dir'];
    const dir = kept ? resolve(kept) : await mkdtemp(join(tmpdir(), 'executor-process-profile-'));
    if (!kept) teardowns.push(() => rm(dir, { recursive: true, force: true }));
    for (const bundle of bundles) {
      const sub = join(dir, bundle.label);
      await round(bundle, sub);
      // One profile per process, numbered in scenario order (the last one is the clean-up delete).
      const files = readdirSync(sub).filter((x) => x.endsWith('.cpuprofile')).sort((x, y) => parseInt(x) - parseInt(y)).slice(0, SCENARIOS.length);
      console.log(`\n${bundle.label}: CPU self time by origin (ms, one profiled run; --cpu-prof adds its own overhead)`);
      files.forEach((file, k) => {
        const totals = [...cpuByOrigin(join(sub, file)).entries()].sort((x, y) => y[1] - x[1]);
        const sum = totals.reduce((n, [, ms]) => n + ms, 0);
        // The origins worth a look: the largest, down to 2 % of the run.
        console.log(`  ${SCENARIOS[k] ?? file}: ${sum.toFixed(0)} ms — ${totals.filter(([, ms]) => ms >= sum / 50).slice(0, 16).map(([o, ms]) => `${o} ${ms.toFixed(0)}`).join(', ')}`);
      });
    }
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
