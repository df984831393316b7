// bench:dispatcher — the dispatcher on a private control plane, run as in production: a webhook process
// (`node cli/main.ts webhook`, the Deployment's memory settings) with the dispatcher, as the webhook's ServiceAccount
// with the shipped RBAC, admission registered by URL (so objects are stamped by the real webhook).
//   1. dispatch latency: ExposedAPI visible (watch ADDED) → its Job created (watch ADDED), p50/p99, beside the
//      control plane's own create → watch round trip (ConfigMap) measured in the same run;
//   2. the dispatcher's RSS with --cached ExposedAPIs (default 5,000) in its cache, already applied;
//   3. its peak RSS over a burst of --burst new ExposedAPIs (default 500; cap 10, the stand-in executor), and how
//      long the burst takes to drain.
// Prints figures; asserts nothing.
//
//   npm run bench:dispatcher [-- --samples 200 --cached 5000 --burst 500]   (builds the bundle first: the dispatcher
//   runs as `node dist/exposedapi-apim.mjs webhook`, like the image)
import { CustomObjectsApi, CoreV1Api, Watch, type KubernetesObject, type V1Job } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readExposedApi, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { specHash } from '../../core/spec-hash.ts';
import { freeLoopbackPorts } from '../../dev-cluster/control-plane/free-port.ts';
import { stateDir, supervisorLogFor } from '../../dev-cluster/control-plane/state-file.ts';
import { launchSupervisor, stopSupervisor } from '../../dev-cluster/control-plane/supervisor-process.ts';
import { controlPlaneClient } from '../../dev-cluster/control-plane/control-plane-client.ts';
import type { TestLike } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { runWatchLoop } from '../../dev-cluster/control-plane/watch-loop.ts';
import { setUpDispatcher, type ChildDispatcher, type DispatcherSetup } from '../dispatcher/dispatcher-harness.ts';
import { exposedApi } from '../helpers/fixtures.ts';
import { deploymentProcessEnv } from '../../dev-cluster/sandbox/sandbox.ts';
import { memoryOf } from './process-memory.ts';

const { values } = parseArgs({ options: {
  samples: { type: 'string', default: '200' },
  cached: { type: 'string', default: '5000' },
  burst: { type: 'string', default: '500' },
} });
const SAMPLES = Number(values.samples);
const CACHED = Number(values.cached);
const BURST = Number(values.burst);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const summary = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${ms(percentile(s, 50))}, p99 ${ms(percentile(s, 99))}, min ${ms(s[0]!)}, max ${ms(s.at(-1)!)} (n=${s.length})`;
};

/** RSS and peak (VmHWM) in kB. */
function memory(pid: number): { rss: number; hwm: number } {
  const m = memoryOf(pid);
  return { rss: m.rssMb * 1024, hwm: m.peakMb * 1024 };
}

/** Resets the process's peak RSS (VmHWM), so a phase's peak is its own. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

function metrics(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function startDispatcher(setup: DispatcherSetup, t: TestLike, identity: string, env: Record<string, string>): Promise<{ child: ChildDispatcher; port: number }> {
  const [port] = await freeLoopbackPorts(1);
  const child = await setup.startChild(t, identity, { ...deploymentProcessEnv(), WEBHOOK_PORT: String(port), LEASE_NAME: identity, ...env }, 'dist/exposedapi-apim.mjs');
  await waitFor(`${identity} to sync and plan`, () => (readFileSync(child.logFile, 'utf8').includes('dispatcher caches synced') ? true : undefined), { timeoutMs: 120_000, intervalMs: 100 });
  return { child, port: port! };
}

async function stopDispatcher(d: { child: ChildDispatcher }): Promise<void> {
  d.child.process.kill('SIGTERM');
  await d.child.exited;
}

/** The V8 heap as the process itself reports it (prom-client's default metrics), to tell garbage from growth. */
async function heap(port: number): Promise<string> {
  const text = await metrics(port);
  const value = (name: string) => Number(new RegExp(`^exposedapi_apim_nodejs_heap_size_${name}_bytes (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 1048576;
  return `V8 heap ${value('used').toFixed(0)} MB used of ${value('total').toFixed(0)} MB`;
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * Watch-event times (performance.now) of ExposedAPIs appearing in a namespace and of Jobs appearing and ending for
 * them. Resilient watches (a loaded apiserver can leave a watch quiet past client-node's 30 s inactivity timeout).
 */
async function eventTimes(setup: DispatcherSetup, namespace: string) {
  const seen = new Map<string, number>();
  const jobCreated = new Map<string, number>();
  const jobDone = new Map<string, number>();
  const kubeConfig = setup.cp.kubeConfig();
  const apis = runWatchLoop<KubernetesObject>({
    kubeConfig,
    path: `/apis/oda.tmforum.org/v1/namespaces/${namespace}/exposedapis`,
    list: async () => (await setup.custom.listNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace, plural: 'exposedapis' })) as { items: KubernetesObject[] },
    onEvent: (_type, obj) => {
      if (!seen.has(obj.metadata!.name!)) seen.set(obj.metadata!.name!, performance.now());
    },
  });
  const jobs = runWatchLoop<V1Job>({
    kubeConfig,
    path: `/apis/batch/v1/namespaces/${setup.ops}/jobs`,
    list: () => setup.batch.listNamespacedJob({ namespace: setup.ops }),
    onEvent: (_type, job) => {
      const labels = job.metadata?.labels ?? {};
      if (labels[JOB_LABELS.namespace] !== namespace) return;
      const name = labels[JOB_LABELS.name]!;
      if (!jobCreated.has(name)) jobCreated.set(name, performance.now());
      if (job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') && !jobDone.has(name)) jobDone.set(name, performance.now());
    },
  });
  await Promise.all([apis.synced, jobs.synced]);
  return { seen, jobCreated, jobDone, stop: () => { apis.stop(); jobs.stop(); } };
}

const stateFile = join(stateDir(), `bench-dispatcher-${process.pid}-${randomBytes(3).toString('hex')}.json`);
const { state } = await launchSupervisor({ stateFile, parentPid: process.pid });
const teardowns: (() => unknown)[] = [];
const bench: TestLike = { name: 'bench', teardown: (fn) => teardowns.push(fn) };
try {
  const cp = controlPlaneClient(state);
  const setup = await setUpDispatcher(cp, bench, { namespaces: 3, inProcess: false });
  const [latNs, cachedNs, burstNs] = setup.namespaces as [string, string, string];
  const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const core = cp.kubeConfig().makeApiClient(CoreV1Api);
  const create = (namespace: string, body: Record<string, any>) => custom.createNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace, plural: 'exposedapis', body });
  const api = (namespace: string, name: string) => exposedApi({ metadata: { name, namespace }, spec: { path: `/${namespace}/${name}`, implementation: `svc-${name}` } });

  // 1. Latency. No cap, and an executor that just waits (killed with the namespace at the end): what is measured is
  // the dispatcher and the apiserver, not Jobs queueing or finishing Jobs competing for the CPU.
  {
    const d = await startDispatcher(setup, bench, 'bench-latency', {
      WATCH_NAMESPACES: latNs, DISPATCH_MAX_ACTIVE_JOBS: '1000', DISPATCH_MIN_ACTIVE_JOBS: '1000', EXECUTOR_IMAGE: 'busybox:1.36', EXECUTOR_COMMAND: '["sh", "-c", "sleep 3600"]',
    });
    const times = await eventTimes(setup, latNs);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES + 10; i++) {
      const name = `lat-${i}`;
      await create(latNs, api(latNs, name));
      await waitFor(`the Job for ${name}`, () => (times.jobCreated.has(name) && times.seen.has(name) ? true : undefined), { timeoutMs: 10_000, intervalMs: 2 });
      if (i >= 10) samples.push(times.jobCreated.get(name)! - times.seen.get(name)!); // the first ten warm up
    }
    times.stop();
    // The control plane's own create → watch round trip, in the same run, for scale.
    const cmSeen = new Map<string, (at: number) => void>();
    const cmWatch = await new Watch(cp.kubeConfig()).watch(`/api/v1/namespaces/${latNs}/configmaps`, {}, (type: string, obj: { metadata: { name: string } }) => {
      if (type === 'ADDED') cmSeen.get(obj.metadata.name)?.(performance.now());
    }, () => {});
    const roundTrips: number[] = [];
    for (let i = 0; i < SAMPLES + 10; i++) {
      const name = `cm-${i}`;
      const seen = new Promise<number>((resolve) => cmSeen.set(name, resolve));
      const t0 = performance.now();
      await core.createNamespacedConfigMap({ namespace: latNs, body: { metadata: { name }, data: { i: name } } });
      const t1 = await Promise.race([seen, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`no ADDED event for ${name} within 10 s`)), 10_000))]);
      if (i >= 10) roundTrips.push(t1 - t0);
    }
    cmWatch.abort();
    const histogram = await metrics(d.port);
    const count = /^exposedapi_apim_dispatch_latency_seconds_count\{action="apply"\} (\d+)/m.exec(histogram)?.[1];
    console.log(`dispatch latency (ExposedAPI ADDED → Job ADDED, both seen by one watcher): ${summary(samples)}`);
    console.log(`control plane create → watch ADDED round trip (ConfigMap, same run):       ${summary(roundTrips)}`);
    console.log(`  (the dispatcher's own histogram counted ${count} dispatches; its RSS now ${mb(memory(d.child.process.pid!).rss)}, ${await heap(d.port)})`);
    await stopDispatcher(d);
    // Its Jobs wait forever: gone, or they would count against the next phases' cap (it counts every running Job).
    await setup.batch.deleteCollectionNamespacedJob({ namespace: setup.ops, labelSelector: `${JOB_LABELS.namespace}=${latNs}`, propagationPolicy: 'Background' });
  }

  // 2. RSS with many ExposedAPIs cached, already applied (nothing to do but keep them).
  {
    const started = performance.now();
    const names = Array.from({ length: CACHED }, (_, i) => `cached-${String(i).padStart(5, '0')}`);
    await pool(names, 16, async (name) => {
      const body = api(cachedNs, name);
      const hash = specHash(readExposedApi(body).model);
      body['metadata'].annotations = { [SPEC_HASH_ANNOTATION]: hash };
      body['status'] = { appliedSpecHash: hash, implementation: { ready: false } };
      await create(cachedNs, body);
    });
    console.log(`created ${CACHED} applied ExposedAPIs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const t0 = performance.now();
    const d = await startDispatcher(setup, bench, 'bench-cached', { WATCH_NAMESPACES: cachedNs });
    const pid = d.child.process.pid!;
    console.log(`dispatcher with ${CACHED} cached: synced and planning ${((performance.now() - t0) / 1000).toFixed(1)} s after start`);
    const samples: { at: number; rss: number }[] = [];
    for (let s = 0; s < 60; s++) {
      samples.push({ at: s, rss: memory(pid).rss });
      await new Promise((r) => setTimeout(r, 1000));
    }
    const m = memory(pid);
    const text = await metrics(d.port);
    const created = /^exposedapi_apim_dispatcher_jobs_created_total\{action="apply"\} (\d+)/m.exec(text)?.[1] ?? '0';
    console.log(`dispatcher RSS with ${CACHED} ExposedAPIs cached: after 10 s ${mb(samples[10]!.rss)}, after 60 s ${mb(m.rss)}, peak ${mb(m.hwm)} (target ≤ 250 MB); ${await heap(d.port)}; Jobs created: ${created}`);
    await stopDispatcher(d);
  }

  // 3. A burst: many new changes at once, the global cap (10) and the stand-in executor.
  {
    const d = await startDispatcher(setup, bench, 'bench-burst', { WATCH_NAMESPACES: burstNs });
    const pid = d.child.process.pid!;
    const times = await eventTimes(setup, burstNs);
    const before = memory(pid).rss;
    resetPeak(pid);
    let peak = 0;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, memory(pid).rss);
      } catch {
        clearInterval(sampler); // the process is gone; the wait below reports it
      }
    }, 100);
    const t0 = performance.now();
    const names = Array.from({ length: BURST }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
    await pool(names, 25, (name) => create(burstNs, api(burstNs, name)));
    const createdIn = performance.now() - t0;
    await waitFor('every Job of the burst to finish', () => (times.jobDone.size >= BURST ? true : undefined), { timeoutMs: 30 * 60_000, intervalMs: 200 });
    const drained = performance.now() - t0;
    clearInterval(sampler);
    times.stop();
    const m = memory(pid);
    const waits = names.map((n) => times.jobCreated.get(n)! - times.seen.get(n)!);
    const text = await metrics(d.port);
    const succeeded = /^exposedapi_apim_dispatcher_jobs_succeeded_total\{action="apply"\} (\d+)/m.exec(text)?.[1] ?? '0';
    console.log(`burst of ${BURST}: created in ${(createdIn / 1000).toFixed(1)} s; every Job done after ${(drained / 1000).toFixed(1)} s (${succeeded} succeeded, at most 10 at once)`);
    console.log(`  ExposedAPI → Job under the cap (queueing included): ${summary(waits)}`);
    console.log(`dispatcher RSS over the burst: before ${mb(before)}, peak ${mb(Math.max(peak, m.hwm))} (target ≤ 200 MB), after ${mb(m.rss)}; ${await heap(d.port)}`);
    await stopDispatcher(d);
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
  await stopSupervisor(state);
  await rm(supervisorLogFor(stateFile), { force: true });
}
