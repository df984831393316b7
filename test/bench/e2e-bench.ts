// bench:e2e — the whole system on the sandbox: dispatch latency (spec hash visible → Job created) beside the control
// plane's own create → watch round trip; apply → status.apiStatus.url with an instant import and with the emulator's
// realistic (size-scaled) import duration, reported beside that duration; and N ExposedAPIs created at once (default
// 500) with ARM throttling enforced at the real bucket sizes (writes: 200, refilled 10/s): time to all Ready beside
// the ARM floor for the writes made ((writes − 200) / 10 s), peak RSS of the webhook+dispatcher process, APIM writes
// per API. Prints figures and ratios; asserts nothing.
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { SANDBOX_NAMESPACE, SAMPLE_SERVICE, startSandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import { exposedApi, REFERENCE_DIR } from '../helpers/fixtures.ts';
import { percentile } from './load.ts';
import { memoryOf } from './process-memory.ts';

type Obj = Record<string, any>;
const BURST = Number(process.env['BENCH_E2E_BURST'] ?? 500);
const ns = SANDBOX_NAMESPACE;

const stats = (xs: number[]) => {
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
  const w1 = await watch.watch(`/apis/oda.tmforum.org/v1/namespaces/${ns}/exposedapis`, {}, (phase: string, o: Obj) => {
    const h = o?.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
    const key = `${o?.metadata?.name}/${h}`;
    if (h && !hashSeen.has(key)) hashSeen.set(key, performance.now());
    if (o?.status?.apiStatus?.url && o?.status?.appliedSpecHash === h && !urlSeen.has(key)) urlSeen.set(key, performance.now());
  }, () => {});
  const w2 = await watch.watch(`/apis/batch/v1/namespaces/${OPERATOR_NAMESPACE}/jobs`, {}, (phase: string, o: Obj) => {
    if (phase !== 'ADDED') return;
    const name = o?.metadata?.labels?.[JOB_LABELS.name];
    const hash = o?.metadata?.annotations?.['exposedapi-apim.io/spec-hash'];
    if (name && hash) jobSeen.set(`${name}/${hash}`, performance.now());
  }, () => {});
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
  for (let i = 0; i < 10; i++) {
    const name = `single-${i}`;
    const t0 = performance.now();
    await sandbox.apply([spec(name, 'TMF620-ProductCatalog-v4.0.0.swagger.json')]);
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
  const REALISTIC_N = Number(process.env['BENCH_E2E_REALISTIC'] ?? 3);
  const realisticDoc = 'TMF671-Promotion-v4.0.0.swagger.json';
  const emu = sandbox.emulator as unknown as { settings: Record<string, unknown> };
  emu.settings['importDurationMs'] = 'realistic';
  const realisticUrl = new Map<string, number>();
  const r0 = performance.now();
  const realisticNames = Array.from({ length: REALISTIC_N }, (_, i) => `realistic-${i}`);
  await sandbox.apply(realisticNames.map((n) => spec(n, realisticDoc)));
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

  const dispatchLatency = () => [...jobSeen.entries()].filter(([k]) => hashSeen.has(k)).map(([k, at]) => at - hashSeen.get(k)!);
  const single = dispatchLatency();
  process.stdout.write(`\ncontrol plane create → watch event (ConfigMap):  ${stats(roundTrips)}\n`);
  process.stdout.write(`dispatch latency, one API at a time (hash visible → Job created): ${stats(single)}\n`);
  process.stdout.write(`apply → status.apiStatus.url, TMF620, one API:     ${stats(applyToUrl)}  (target p50 ≤ 3000 ms)\n`);
  const realisticDone = [...realisticUrl.values()];
  if (realisticDone.length > 0) {
    const p50 = percentile([...realisticDone].sort((a, b) => a - b), 50);
    process.stdout.write(`apply → url with the realistic import duration (${realisticDoc}, ${REALISTIC_N} at once): ${stats(realisticDone)}\n`);
    process.stdout.write(`  beside the modelled import duration ${realisticImportMs} ms: p50 overhead ${(p50 - realisticImportMs).toFixed(0)} ms, ratio ${(p50 / realisticImportMs).toFixed(2)}\n`);
  } else process.stdout.write(`apply → url with the realistic import duration: none finished within 30 min\n`);

  // A burst: BURST ExposedAPIs created at once.
  const pid = sandbox.webhooks[0]!.pid;
  const before = memoryOf(pid);
  const writesBefore = armWrites(sandbox.emulator.state() as Obj);
  const bucketWritesBefore = armBucketWrites(sandbox.emulator.state() as Obj);
  // ARM throttling enforced at the real bucket sizes for the burst (emulator/throttling.ts DEFAULT_THROTTLING).
  const throttling = sandbox.emulator.throttling as { configure(patch: unknown): unknown; config: { writes: { capacity: number; refillPerSecond: number } } };
  throttling.configure({ enabled: true });
  const bucket = throttling.config.writes;
  const names = Array.from({ length: BURST }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
  const { CustomObjectsApi } = await import('@kubernetes/client-node');
  const custom = kc.makeApiClient(CustomObjectsApi);
  const specBase = sandbox.backend.url;
  const t0 = performance.now();
  // "At once": 20 concurrent writers, as a GitOps sync or a component install would create them.
  let nextIndex = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (nextIndex < names.length) {
      const body = JSON.parse(JSON.stringify(spec(names[nextIndex++]!)).replaceAll('${SANDBOX_SPEC_BASE}', specBase));
      await custom.createNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'exposedapis', body });
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
  process.stdout.write(`\n${BURST} ExposedAPIs created at once: ${ready}/${BURST} Ready in ${elapsed.toFixed(1)} s (${(ready / elapsed).toFixed(1)} APIs/s, at most 10 Jobs at a time)\n`);
  process.stdout.write(`  webhook+dispatcher RSS: before ${before.rssMb.toFixed(0)} MB, peak ${Math.max(peak, after.peakMb).toFixed(0)} MB (target ≤ 200 MB), after ${after.rssMb.toFixed(0)} MB\n`);
  process.stdout.write(`  APIM writes: ${writes} for ${BURST} APIs = ${(writes / BURST).toFixed(2)} per API (PUT/PATCH/DELETE)\n`);
  process.stdout.write(`  ARM throttling on (writes bucket ${bucket.capacity}, refilled ${bucket.refillPerSecond}/s): ${bucketWrites} writes to the bucket (PUT/PATCH/POST), floor ${floorS.toFixed(0)} s; elapsed / floor = ${floorS > 0 ? (elapsed / floorS).toFixed(2) : 'n/a (within the bucket)'} (target ≤ 1.5)\n`);
  process.stdout.write(`  hash visible → Job created during the burst (includes waiting for the cap): ${stats(burstDispatch)}\n`);
  process.stdout.write(`  ratio: one-at-a-time dispatch p99 / control-plane round trip p99 = ${(percentile([...single].sort((a, b) => a - b), 99) / percentile([...roundTrips].sort((a, b) => a - b), 99)).toFixed(2)}\n`);
  w1.abort();
  w2.abort();
  w3.abort();
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
