// The real Job controller driving pods that the node agent runs as local processes: backoffLimit, podFailurePolicy,
// activeDeadlineSeconds and ttlSecondsAfterFinished behave as in a cluster, with real exit codes in the pod statuses.
import t from 'tap';
import { BatchV1Api, CoreV1Api, type V1Job, type V1JobCondition, type V1Pod } from '@kubernetes/client-node';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { terminated, watchPodHistory, type PodHistory } from '../control-plane/pod-history.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { isAlive } from '../../dev-cluster/control-plane/state-file.ts';
import { runWatchLoop } from '../../dev-cluster/control-plane/watch-loop.ts';

const cp = await useControlPlane(t);
const batch = cp.kubeConfig().makeApiClient(BatchV1Api);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);

function shJob(name: string, script: string, spec: Partial<NonNullable<V1Job['spec']>> = {}, terminationGracePeriodSeconds?: number): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: {
        spec: {
          restartPolicy: 'Never',
          ...(terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds } : {}),
          containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', script] }],
        },
      },
    },
  };
}

/** The pods' final states: the watch may deliver them a moment after the Job's own status says finished. */
async function finalPods(pods: PodHistory, count: number): Promise<Map<string, V1Pod>> {
  return waitFor(`${count} finished pod(s)`, () => {
    const all = pods.latest();
    const done = [...all.values()].every((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
    return all.size >= count && done ? all : undefined;
  });
}

async function finished(namespace: string, name: string, timeoutMs = 60_000): Promise<{ job: V1Job; condition: V1JobCondition }> {
  return waitFor(`Job ${namespace}/${name} to finish`, async () => {
    const job = await batch.readNamespacedJob({ name, namespace });
    const condition = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    return condition && { job, condition };
  }, { timeoutMs, intervalMs: 100 });
}

t.test('a successful pod completes the Job; exit code 0, reason Completed, log kept', async (t) => {
  const ns = await cp.newNamespace(t);
  const pods = await watchPodHistory(cp.kubeConfig(), ns);
  t.teardown(pods.stop);
  const started = Date.now();
  await batch.createNamespacedJob({ namespace: ns, body: shJob('ok', 'echo hello from $HOSTNAME; echo to stderr >&2') });
  const { job, condition } = await finished(ns, 'ok');
  t.comment(`Job complete in ${Date.now() - started} ms`);
  t.equal(condition.type, 'Complete');
  t.equal(job.status?.succeeded, 1);
  const [podName, pod] = [...(await finalPods(pods, 1))][0]!;
  const term = terminated(pod);
  t.equal(term?.exitCode, 0);
  t.equal(term?.reason, 'Completed');
  t.ok(term?.startedAt && term?.finishedAt, 'startedAt and finishedAt are set');
  t.equal(pod.status?.phase, 'Succeeded');
  t.equal(await cp.podLog(ns, podName), `hello from ${podName}\nto stderr\n`);
});

t.test('backoffLimit: the Job fails after backoffLimit + 1 failed pods, each with its real exit code', async (t) => {
  const ns = await cp.newNamespace(t);
  const pods = await watchPodHistory(cp.kubeConfig(), ns);
  t.teardown(pods.stop);
  const started = Date.now();
  await batch.createNamespacedJob({ namespace: ns, body: shJob('flaky', 'echo failing; exit 2', { backoffLimit: 1 }) });
  const { job, condition } = await finished(ns, 'flaky');
  t.comment(`Job failed in ${Date.now() - started} ms (the Job controller waits 10 s before the retry)`);
  t.equal(condition.type, 'Failed');
  t.equal(condition.reason, 'BackoffLimitExceeded');
  t.equal(job.status?.failed, 2, 'two pods failed: the first run and one retry');
  const final = await finalPods(pods, 2);
  t.equal(final.size, 2, 'exactly two pods were created');
  for (const [name, pod] of final) {
    t.equal(terminated(pod)?.exitCode, 2, `${name} exit code`);
    t.equal(terminated(pod)?.reason, 'Error', `${name} reason`);
    t.equal(pod.status?.phase, 'Failed', `${name} phase`);
    t.equal(await cp.podLog(ns, name), 'failing\n');
  }
});

t.test('podFailurePolicy: FailJob on exit code 42 fails the Job at once, without retries', async (t) => {
  const ns = await cp.newNamespace(t);
  const pods = await watchPodHistory(cp.kubeConfig(), ns);
  t.teardown(pods.stop);
  const started = Date.now();
  await batch.createNamespacedJob({
    namespace: ns,
    body: shJob('fatal', 'exit 42', {
      backoffLimit: 6,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }] },
    }),
  });
  const { job, condition } = await finished(ns, 'fatal');
  t.comment(`Job failed in ${Date.now() - started} ms`);
  t.equal(condition.type, 'Failed');
  t.equal(condition.reason, 'PodFailurePolicy');
  t.match(condition.message, /exit code 42/);
  t.equal(job.status?.failed, 1);
  const final = await finalPods(pods, 1);
  t.equal(final.size, 1, 'no retry despite backoffLimit 6');
  t.equal(terminated([...final.values()][0])?.exitCode, 42);
});

t.test('podFailurePolicy: an exit code the rules do not match counts against backoffLimit as usual', async (t) => {
  const ns = await cp.newNamespace(t);
  await batch.createNamespacedJob({
    namespace: ns,
    body: shJob('counted', 'exit 3', {
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }] },
    }),
  });
  const { condition } = await finished(ns, 'counted');
  t.equal(condition.reason, 'BackoffLimitExceeded');
});

t.test('activeDeadlineSeconds: the Job fails with DeadlineExceeded and its running pod is stopped (SIGTERM → 143)', async (t) => {
  const ns = await cp.newNamespace(t);
  const pods = await watchPodHistory(cp.kubeConfig(), ns);
  t.teardown(pods.stop);
  const started = Date.now();
  await batch.createNamespacedJob({ namespace: ns, body: shJob('slow', 'echo started; sleep 300', { activeDeadlineSeconds: 2, backoffLimit: 0 }) });
  const { condition } = await finished(ns, 'slow');
  const elapsed = Date.now() - started;
  t.comment(`Job failed in ${elapsed} ms`);
  t.equal(condition.type, 'Failed');
  t.equal(condition.reason, 'DeadlineExceeded');
  t.ok(elapsed >= 2000, 'not before the deadline');
  const [name, pod] = await waitFor('the pod to be gone', () => {
    const entry = [...pods.latest()][0];
    return entry && pods.deleted().has(entry[0]) ? entry : undefined;
  });
  const term = terminated(pod);
  t.equal(term?.exitCode, 143, 'killed by SIGTERM');
  t.equal(pod.status?.phase, 'Failed');
  const pid = Number(pod.status?.containerStatuses?.[0]?.containerID?.replace('local://', ''));
  t.ok(pid > 0, 'containerID names the local PID');
  t.notOk(isAlive(pid), 'the process is gone');
  t.equal(await cp.podLog(ns, name), 'started\n');
});

t.test('ttlSecondsAfterFinished: the finished Job and its pods are deleted', async (t) => {
  // Observed through watches begun before the Job exists: with a 1 s TTL, the TTL controller may delete the Job before
  // a poll ever sees it finished (on a loaded machine it did, and a poll then waits on a 404 until it times out).
  const ns = await cp.newNamespace(t);
  const pods = await watchPodHistory(cp.kubeConfig(), ns);
  t.teardown(pods.stop);
  const jobs = new Map<string, V1Job>();
  const deletedJobs = new Set<string>();
  const loop = runWatchLoop<V1Job>({
    kubeConfig: cp.kubeConfig(),
    path: `/apis/batch/v1/namespaces/${ns}/jobs`,
    list: () => batch.listNamespacedJob({ namespace: ns }),
    onEvent: (type, job) => {
      jobs.set(job.metadata!.name!, job);
      if (type === 'DELETED') deletedJobs.add(job.metadata!.name!);
    },
  });
  t.teardown(loop.stop);
  await loop.synced;
  const started = Date.now();
  await batch.createNamespacedJob({ namespace: ns, body: shJob('short-lived', 'exit 0', { ttlSecondsAfterFinished: 1 }) });
  await waitFor('the Job to be deleted', () => (deletedJobs.has('short-lived') ? true : undefined), { timeoutMs: 120_000 });
  const last = jobs.get('short-lived');
  t.ok(last?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'), 'deleted once complete, not before');
  await waitFor('its pods to be garbage-collected', () => (pods.latest().size > 0 && [...pods.latest().keys()].every((name) => pods.deleted().has(name)) ? true : undefined), { timeoutMs: 120_000 });
  t.same([...pods.latest().values()].map((p) => p.status?.phase), ['Succeeded']);
  t.comment(`Job and pod gone ${Date.now() - started} ms after creation`);
});
