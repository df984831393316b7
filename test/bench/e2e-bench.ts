// bench:e2e — the whole system on the sandbox: dispatch latency (spec hash visible → Job created) beside the control
// plane's own create → watch round trip; apply → status.apiStatus.url with an instant import and with the emulator's
// realistic (size-scaled) import duration, reported beside that duration; and N ExposedAPIs created at once (default
// 500) with ARM throttling enforced at the real bucket sizes (writes: 200, refilled 10/s): time to all Ready beside
// the ARM floor for the writes made ((writes − 200) / 10 s), peak RSS of the webhook+dispatcher process, APIM writes
// per API. Paced phases (issue 12): TMF620 by URL created at a steady rate (20 at 1/s, 100 at 5/s) → apply → url
// p50/p99. Per change, from each Job's own log (its final 'done' line carries process.resourceUsage(),
// executor/job-log.ts): CPU-seconds (user+sys, summed over the Job's pods) and the executor's peak RSS; and the most
// Jobs that ran at once, which the adaptive cap decides (docs/dispatcher.md). Prints figures and ratios; asserts
// nothing. Start → first APIM request of one Job process in isolation is bench:executor-process.
//
// Sizes (environment), full by default; a CI-sized run:
//   BENCH_E2E_SINGLE=3 BENCH_E2E_PACED=5@1,10@5 BENCH_E2E_REALISTIC=0 BENCH_E2E_BURST=50 node test/bench/e2e-bench.ts
//   BENCH_E2E_SINGLE    APIs applied one at a time (default 10)
//   BENCH_E2E_PACED     paced phases, N@rate per second, comma-separated (default 20@1,100@5; empty = none)
//   BENCH_E2E_REALISTIC APIs applied together with the realistic import duration (default 3; 0 = skip: TMF672
//                       is modelled at 144 s, too long for CI)
//   BENCH_E2E_BURST     APIs created at once with ARM throttling on (default 500; 0 = skip)
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { runWatchLoop } from '../../dev-cluster/control-plane/watch-loop.ts';
import { SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { SANDBOX_NAMESPACE, SAMPLE_SERVICE, startSandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import { exposedApi, REFERENCE_DIR } from '../helpers/fixtures.ts';
import { percentile } from './load.ts';
import { memoryOf } from './process-memory.ts';

type Obj = Record<string, any>;
function size(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${JSON.stringify(raw)} must be a whole number ≥ 0 (default ${fallback})`);
  return n;
}
const BURST = size('BENCH_E2E_BURST', 500);
const SINGLE = size('BENCH_E2E_SINGLE', 10);
const REALISTIC_N = size('BENCH_E2E_REALISTIC', 3);
const PACED = (process.env['BENCH_E2E_PACED'] ?? '20@1,100@5').split(',').filter((x) => x.trim() !== '').map((phase) => {
  const m = /^\s*(\d+)@(\d+(?:\.\d+)?)\s*$/.exec(phase);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new Error(`BENCH_E2E_PACED: ${JSON.stringify(phase)} must be N@rate, e.g. 20@1 (20 APIs, one per second)`);
  return { n: Number(m[1]), perSecond: Number(m[2]) };
});
const TMF620 = 'TMF620-ProductCatalog-v4.0.0.swagger.json';
const ns = SANDBOX_NAMESPACE;

const stats = (xs: number[]) => {
  if (xs.length === 0) return 'none seen';
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms (n=${s.length})`;
};
const spec = (name: string, doc = 'TMF672-UserRolePermission-v4.0.0.swagger.json') =>
  exposedApi({ metadata: { name, namespace: undefined }, spec: { implementation: SAMPLE_SERVICE, path: `/${name}/v4`, developerUI: undefined, specification: { url: `\${SANDBOX_SPEC_BASE}/${doc}`, version: 'v4' } } });

const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-bench-e2e-'));
const started = performance.now();
const sandbox = await startSandbox({ dir, log: () => {} });
process.stdout.write(`sandbox up in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
try {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.lcp.kubeconfig);
  const watch = new Watch(kc);
  // Watches of ExposedAPIs and Jobs: when each spec hash became visible, and when its Job appeared.
  const hashSeen = new Map<string, number>();
  const jobSeen = new Map<string, number>();
  const urlSeen = new Map<string, number>();
  // These two watches must last the whole run (minutes without an event during the realistic import): a bare
  // watch ends at the server's or the client's timeout, so they are list-watch loops that resume.
  const { BatchV1Api, CustomObjectsApi } = await import('@kubernetes/client-node');
  const custom = kc.makeApiClient(CustomObjectsApi);
  const batch = kc.makeApiClient(BatchV1Api);
  const w1 = runWatchLoop<Obj>({
    kubeConfig: kc,
    path: `/apis/oda.tmforum.org/v1/namespaces/${ns}/exposedapis`,
    list: async () => (await custom.listNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'exposedapis' })) as { items: Obj[] },
    onEvent: (_phase, o: Obj) => {
      const h = o?.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
      const key = `${o?.metadata?.name}/${h}`;
      if (h && !hashSeen.has(key)) hashSeen.set(key, performance.now());
      if (o?.status?.apiStatus?.url && o?.status?.appliedSpecHash === h && !urlSeen.has(key)) urlSeen.set(key, performance.now());
    },
  });
  // Jobs running now, and the most at once since `jobs.maxActive` was last reset (what the cap allowed).
  const jobs = { active: new Set<string>(), maxActive: 0 };
  const w2 = runWatchLoop<Obj>({
    kubeConfig: kc,
    path: `/apis/batch/v1/namespaces/${OPERATOR_NAMESPACE}/jobs`,
    list: async () => (await batch.listNamespacedJob({ namespace: OPERATOR_NAMESPACE })) as unknown as { items: Obj[] },
    onEvent: (phase, o: Obj) => {
      const job = o?.metadata?.name as string;
      const ended = (o?.status?.conditions ?? []).some((c: Obj) => (c['type'] === 'Complete' || c['type'] === 'Failed') && c['status'] === 'True');
      if (phase === 'DELETED' || ended) jobs.active.delete(job);
      else jobs.active.add(job);
      jobs.maxActive = Math.max(jobs.maxActive, jobs.active.size);
      const name = o?.metadata?.labels?.[JOB_LABELS.name];
      const hash = o?.metadata?.annotations?.['exposedapi-apim.io/spec-hash'];
      if (name && hash && !jobSeen.has(`${name}/${hash}`)) jobSeen.set(`${name}/${hash}`, performance.now());
    },
  });
  await Promise.all([w1.synced, w2.synced]);
  // The floor: a ConfigMap create → its watch event, on the same control plane, in the same run.
  const cmSeen = new Map<string, number>();
  const w3 = await watch.watch(`/api/v1/namespaces/${ns}/configmaps`, {}, (phase: string, o: Obj) => {
    if (phase === 'ADDED') cmSeen.set(o.metadata.name, performance.now());
  }, () => {});
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(CoreV1Api);
  const roundTrips: number[] = [];
  for (let i = 0; i < 100; i++) {
    const name = `rt-${i}`;
    const t0 = performance.now();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    while (!cmSeen.has(name)) await new Promise((r) => setImmediate(r));
    roundTrips.push(cmSeen.get(name)! - t0);
  }

  // One API at a time: apply → status.apiStatus.url, and dispatch latency without a queue.
  const applyToUrl: number[] = [];
  for (let i = 0; i < SINGLE; i++) {
    const name = `single-${i}`;
    const t0 = performance.now();
    await sandbox.apply([spec(name, TMF620)]);
    for (;;) {
      const key = [...urlSeen.keys()].find((k) => k.startsWith(`${name}/`));
      if (key) {
        applyToUrl.push(urlSeen.get(key)! - t0);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // The same with APIM's import duration modelled (emulator 'realistic': scaled by document size). Applied together so
  // the phase costs one import's time; each API's overhead is its apply → url minus its own import's duration.
  // One of the documents the sandbox's sample backend serves (dev-cluster/sandbox/sample-backend.ts SAMPLE_DOCUMENTS).
  const realisticDoc = 'TMF672-UserRolePermission-v4.0.0.swagger.json';
  const emu = sandbox.emulator as unknown as { settings: Record<string, unknown> };
  emu.settings['importDurationMs'] = 'realistic';
  const realisticUrl = new Map<string, number>();
  const r0 = performance.now();
  const realisticNames = Array.from({ length: REALISTIC_N }, (_, i) => `realistic-${i}`);
  if (REALISTIC_N > 0) await sandbox.apply(realisticNames.map((n) => spec(n, realisticDoc)));
  while (realisticUrl.size < REALISTIC_N && performance.now() - r0 < 30 * 60_000) {
    for (const name of realisticNames) {
      const key = [...urlSeen.keys()].find((k) => k.startsWith(`${name}/`));
      if (key && !realisticUrl.has(name)) realisticUrl.set(name, urlSeen.get(key)! - r0);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  emu.settings['importDurationMs'] = 0;
  const { realisticImportDurationMs } = await import('../../emulator/import-duration.ts');
  const { statSync } = await import('node:fs');
  const realisticImportMs = realisticImportDurationMs(statSync(`${REFERENCE_DIR}specs/${realisticDoc}`).size);

  const singleCost = await costOf(Array.from({ length: SINGLE }, (_, i) => `single-${i}`));

  // Paced: N ExposedAPIs (TMF620 by URL) created at a steady rate, each create sent on its own schedule (a slow
  // create does not push the next one back); apply → url from each create's start.
  const specBase = sandbox.backend.url;
  const create = (name: string, doc?: string) => custom.createNamespacedCustomObject({
    group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'exposedapis',
    body: JSON.parse(JSON.stringify(spec(name, doc)).replaceAll('${SANDBOX_SPEC_BASE}', specBase)),
  });
  const pacedReports: string[] = [];
  for (const [p, phase] of PACED.entries()) {
    await sandbox.waitJobsIdle(10 * 60_000);
    jobs.maxActive = jobs.active.size;
    const names = Array.from({ length: phase.n }, (_, i) => `paced${p}-${String(i).padStart(3, '0')}`);
    const sentAt = new Map<string, number>();
    const p0 = performance.now();
    const creates: Promise<unknown>[] = [];
    for (const [i, name] of names.entries()) {
      const due = p0 + (i * 1000) / phase.perSecond;
      while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, due - performance.now()))));
      sentAt.set(name, performance.now());
      creates.push(create(name, TMF620));
    }
    await Promise.all(creates);
    const latencies = new Map<string, number>();
    while (latencies.size < names.length && performance.now() - p0 < 30 * 60_000) {
      for (const name of names) {
        const key = !latencies.has(name) && [...urlSeen.keys()].find((k) => k.startsWith(`${name}/`));
        if (key) latencies.set(name, urlSeen.get(key)! - sentAt.get(name)!);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const cost = await costOf(names);
    pacedReports.push(`apply → status.apiStatus.url, TMF620 by URL, ${phase.n} created at ${phase.perSecond}/s: ${latencies.size > 0 ? stats([...latencies.values()]) : 'none'}` +
      `${latencies.size < names.length ? ` — ${names.length - latencies.size} without a URL after 30 min` : ''}  (target for 20 at 1/s: p50 ≤ 2000 ms, p99 ≤ 5000 ms)\n` +
      `  at most ${jobs.maxActive} Jobs at once (the adaptive cap is ${await capNow()} now); ${costText(cost)}\n`);
  }

  // The APIs applied one at a time only (the other phases queue behind the cap).
  const single = [...jobSeen.entries()].filter(([k]) => k.startsWith('single-') && hashSeen.has(k)).map(([k, at]) => at - hashSeen.get(k)!);
  process.stdout.write(`\ncontrol plane create → watch event (ConfigMap):  ${stats(roundTrips)}\n`);
  if (single.length > 0) {
    process.stdout.write(`dispatch latency, one API at a time (hash visible → Job created): ${stats(single)}\n`);
    process.stdout.write(`  ratio: one-at-a-time dispatch p99 / control-plane round trip p99 = ${(percentile([...single].sort((a, b) => a - b), 99) / percentile([...roundTrips].sort((a, b) => a - b), 99)).toFixed(2)}\n`);
  }
  if (applyToUrl.length > 0) {
    process.stdout.write(`apply → status.apiStatus.url, TMF620, one API:     ${stats(applyToUrl)}  (target p50 ≤ 3000 ms)\n`);
    process.stdout.write(`  one at a time: ${costText(singleCost)}\n`);
  }
  for (const r of pacedReports) process.stdout.write(r);
  const realisticDone = [...realisticUrl.values()];
  if (realisticDone.length > 0) {
    const p50 = percentile([...realisticDone].sort((a, b) => a - b), 50);
    process.stdout.write(`apply → url with the realistic import duration (${realisticDoc}, ${REALISTIC_N} at once): ${stats(realisticDone)}\n`);
    process.stdout.write(`  beside the modelled import duration ${realisticImportMs} ms: p50 overhead ${(p50 - realisticImportMs).toFixed(0)} ms, ratio ${(p50 / realisticImportMs).toFixed(2)}\n`);
  } else if (REALISTIC_N > 0) process.stdout.write(`apply → url with the realistic import duration: none finished within 30 min\n`);

  // A burst: BURST ExposedAPIs created at once.
  if (BURST > 0) await burst();
  w1.stop();
  w2.stop();
  w3.abort();

  async function burst(): Promise<void> {
    await sandbox.waitJobsIdle(10 * 60_000);
    jobs.maxActive = jobs.active.size;
    const pid = sandbox.webhooks[0]!.pid;
    const before = memoryOf(pid);
    const writesBefore = armWrites(sandbox.emulator.state() as Obj);
    const bucketWritesBefore = armBucketWrites(sandbox.emulator.state() as Obj);
    // ARM throttling enforced at the real bucket sizes for the burst (emulator/throttling.ts DEFAULT_THROTTLING).
    const throttling = sandbox.emulator.throttling as { configure(patch: unknown): unknown; config: { writes: { capacity: number; refillPerSecond: number } } };
    throttling.configure({ enabled: true });
    const bucket = throttling.config.writes;
    const names = Array.from({ length: BURST }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
    const t0 = performance.now();
    // "At once": 20 concurrent writers, as a GitOps sync or a component install would create them.
    let nextIndex = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (nextIndex < names.length) {
        await create(names[nextIndex++]!);
      }
    }));
    process.stdout.write(`  (${BURST} created in ${((performance.now() - t0) / 1000).toFixed(1)} s through admission)\n`);
    let peak = before.peakMb;
    const sampler = setInterval(() => {
      peak = Math.max(peak, memoryOf(pid).rssMb);
    }, 250);
    const states = await sandbox.waitSettled(names.map((name) => ({ ns, name })), 30 * 60_000);
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const after = memoryOf(pid);
    const ready = Object.values(states).filter((s) => s === 'ready').length;
    const writes = armWrites(sandbox.emulator.state() as Obj) - writesBefore;
    const bucketWrites = armBucketWrites(sandbox.emulator.state() as Obj) - bucketWritesBefore;
    // The fastest any client could make these writes: the bucket's capacity at once, then its refill rate.
    const floorS = Math.max(0, bucketWrites - bucket.capacity) / bucket.refillPerSecond;
    const burstDispatch = names.flatMap((n) => [...jobSeen.entries()].filter(([k]) => k.startsWith(`${n}/`) && hashSeen.has(k)).map(([k, at]) => at - hashSeen.get(k)!));
    process.stdout.write(`\n${BURST} ExposedAPIs created at once: ${ready}/${BURST} Ready in ${elapsed.toFixed(1)} s (${(ready / elapsed).toFixed(1)} APIs/s, at most ${jobs.maxActive} Jobs at a time; the adaptive cap is ${await capNow()} at the end)\n`);
    process.stdout.write(`  ${costText(await costOf(names))}\n`);
    process.stdout.write(`  webhook+dispatcher RSS: before ${before.rssMb.toFixed(0)} MB, peak ${Math.max(peak, after.peakMb).toFixed(0)} MB (target ≤ 200 MB), after ${after.rssMb.toFixed(0)} MB\n`);
    process.stdout.write(`  APIM writes: ${writes} for ${BURST} APIs = ${(writes / BURST).toFixed(2)} per API (PUT/PATCH/DELETE)\n`);
    process.stdout.write(`  ARM throttling on (writes bucket ${bucket.capacity}, refilled ${bucket.refillPerSecond}/s): ${bucketWrites} writes to the bucket (PUT/PATCH/POST), floor ${floorS.toFixed(0)} s; elapsed / floor = ${floorS > 0 ? (elapsed / floorS).toFixed(2) : 'n/a (within the bucket)'} (target ≤ 1.5)\n`);
    process.stdout.write(`  hash visible → Job created during the burst (includes waiting for the cap): ${stats(burstDispatch)}\n`);
  }

  /** The dispatcher's cap in force (its metric; the one sandbox replica leads). Its certificate is the sandbox's own. */
  async function capNow(): Promise<string> {
    const { get } = await import('node:https');
    const text = await new Promise<string>((resolve) => {
      get(`${sandbox.webhooks[0]!.url}/metrics`, { rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      }).on('error', (e) => resolve(`error ${e.message}`));
    });
    return /^exposedapi_apim_dispatcher_job_cap (\d+)$/m.exec(text)?.[1] ?? '(unknown)';
  }

  /**
   * What each change cost, from the logs of its Jobs' pods: the final 'done' line of each executor process carries
   * its user and system CPU (µs) and peak RSS (KiB). A change's CPU is the sum over its pods (a retried pod costs
   * again); its RSS the highest. Changes without a 'done' line (a process killed before it) are counted apart.
   */
  async function costOf(apiNames: string[]): Promise<{ cpuS: number[]; rssMb: number[]; missing: number }> {
    const wanted = new Set(apiNames);
    const pods = JSON.parse(await sandbox.lcp.k(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] };
    const byChange = new Map<string, { cpuS: number; rssMb: number }>();
    let missing = 0;
    for (const pod of pods.items) {
      const api = pod['metadata']?.['labels']?.[JOB_LABELS.name];
      if (!wanted.has(api)) continue;
      const log = await sandbox.lcp.cp.podLog(OPERATOR_NAMESPACE, pod['metadata']['name']).catch(() => '');
      const done = log.split('\n').filter((l) => l.startsWith('{') && l.includes('"resourceUsage"')).map((l) => {
        try {
          return JSON.parse(l) as Obj;
        } catch {
          return undefined; // a line cut short by a killed process
        }
      }).filter((x) => x !== undefined).at(-1);
      if (!done) {
        missing++;
        continue;
      }
      const u = done['resourceUsage'];
      const prev = byChange.get(api) ?? { cpuS: 0, rssMb: 0 };
      byChange.set(api, { cpuS: prev.cpuS + (u.userCPUTime + u.systemCPUTime) / 1e6, rssMb: Math.max(prev.rssMb, u.maxRSS / 1024) });
    }
    return { cpuS: [...byChange.values()].map((c) => c.cpuS), rssMb: [...byChange.values()].map((c) => c.rssMb), missing };
  }
} finally {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** Requests ARM draws from the writes bucket (emulator/throttling.ts requestKind: everything but GET, HEAD, DELETE). */
function armBucketWrites(state: Obj): number {
  const byPath: Record<string, number> = state['requests']?.['byPath'] ?? {};
  return Object.entries(byPath).filter(([k]) => /^(PUT|PATCH|POST) \/subscriptions\//.test(k)).reduce((n, [, v]) => n + v, 0);
}

function armWrites(state: Obj): number {
  const byPath: Record<string, number> = state['requests']?.['byPath'] ?? {};
  return Object.entries(byPath).filter(([k]) => /^(PUT|PATCH|DELETE) \/subscriptions\//.test(k)).reduce((n, [, v]) => n + v, 0);
}

/** CPU-seconds per change and the executor's peak RSS, as p50/p99/max, beside the issue 12 targets. */
function costText(c: { cpuS: number[]; rssMb: number[]; missing: number }): string {
  if (c.cpuS.length === 0) return `no Job logged its cost${c.missing ? ` (${c.missing} pods without a 'done' line)` : ''}`;
  const f = (xs: number[], digits: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return `p50 ${percentile(s, 50).toFixed(digits)}, p99 ${percentile(s, 99).toFixed(digits)}, max ${s[s.length - 1]!.toFixed(digits)}`;
  };
  return `CPU per change (user+sys of its Job's processes) ${f(c.cpuS, 2)} s (target ≤ 0.3 s); executor peak RSS ${f(c.rssMb, 0)} MB (target ≤ 80 MB); n=${c.cpuS.length}` +
    (c.missing ? `, ${c.missing} pods without a 'done' line` : '');
}
