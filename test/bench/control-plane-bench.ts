// Benchmark of the test control plane: how long it takes to start with cached binaries (supervisor launch until the
// state file says ready: etcd, kube-apiserver, kube-controller-manager, node agent, ingress faker), and the
// create → watch-event round trip (create a ConfigMap, time until the watch delivers ADDED).
//
//   npm run bench:control-plane [-- --starts 3 --iterations 200]
import { CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchSupervisor, stopSupervisor } from '../../dev-cluster/control-plane/supervisor-process.ts';
import { stateDir, supervisorLogFor, type ControlPlaneState } from '../../dev-cluster/control-plane/state-file.ts';

const { values } = parseArgs({ options: { starts: { type: 'string', default: '3' }, iterations: { type: 'string', default: '200' } } });
const starts = Number(values.starts);
const iterations = Number(values.iterations);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (n: number): string => `${n.toFixed(1)} ms`;

async function launch(): Promise<{ state: ControlPlaneState; elapsed: number; stateFile: string }> {
  const stateFile = join(stateDir(), `bench-${process.pid}-${randomBytes(3).toString('hex')}.json`);
  const t0 = performance.now();
  const { state } = await launchSupervisor({ stateFile, parentPid: process.pid });
  return { state, elapsed: performance.now() - t0, stateFile };
}

async function stop(plane: { state: ControlPlaneState; stateFile: string }): Promise<void> {
  await stopSupervisor(plane.state);
  await rm(supervisorLogFor(plane.stateFile), { force: true });
}

const startTimes: number[] = [];
let plane: Awaited<ReturnType<typeof launch>> | undefined;
try {
  for (let i = 0; i < starts; i++) {
    plane = await launch();
    startTimes.push(plane.elapsed);
    const t = plane.state.timings;
    console.log(`start ${i + 1}/${starts}: ready in ${ms(plane.elapsed)} (inside the supervisor: apiserver /readyz at ${t['apiserver /readyz']} ms, ` +
      `controllers at ${t['total']} ms, node agent + ingress faker at ${t['ready']} ms; the rest is Node start-up and module loading)`);
    if (i < starts - 1) {
      await stop(plane);
      plane = undefined;
    }
  }
  const sortedStarts = [...startTimes].sort((a, b) => a - b);
  console.log(`control plane start (binaries cached, ${starts} runs): min ${ms(sortedStarts[0]!)}, median ${ms(percentile(sortedStarts, 50))}, max ${ms(sortedStarts.at(-1)!)}`);

  const kc = new KubeConfig();
  kc.loadFromFile(plane!.state.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = 'bench';
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const waiting = new Map<string, (at: number) => void>();
  const watch = await new Watch(kc).watch(`/api/v1/namespaces/${namespace}/configmaps`, {}, (type: string, obj: V1ConfigMap) => {
    if (type === 'ADDED') waiting.get(obj.metadata!.name!)?.(performance.now());
  }, (err: unknown) => {
    if (err && (err as Error).name !== 'AbortError') console.error(`watch ended: ${(err as Error).message}`);
  });
  // Warm-up: connection setup and the first write to a new resource prefix are not what we measure.
  const roundTrip = async (name: string): Promise<number> => {
    const seen = new Promise<number>((resolve) => waiting.set(name, resolve));
    const t0 = performance.now();
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { i: name } } });
    const t1 = await Promise.race([seen, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`no ADDED event for ${name} within 10 s`)), 10_000))]);
    waiting.delete(name);
    return t1 - t0;
  };
  for (let i = 0; i < 10; i++) await roundTrip(`warmup-${i}`);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) samples.push(await roundTrip(`cm-${i}`));
  watch.abort();
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(`create → watch ADDED round trip (ConfigMap, ${iterations} iterations): p50 ${ms(percentile(sorted, 50))}, ` +
    `p99 ${ms(percentile(sorted, 99))}, min ${ms(sorted[0]!)}, max ${ms(sorted.at(-1)!)}`);
} finally {
  if (plane) await stop(plane);
}
