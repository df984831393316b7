// The node agent as kubelet: environment and volumes from the API, the ServiceAccount token mapping, the project's
// image mapped to its CLI, restarts, init containers, start errors, and deletion with SIGTERM then SIGKILL.
import t from 'tap';
import { CoreV1Api, RbacAuthorizationV1Api, type V1Container, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { watchPodHistory } from '../control-plane/pod-history.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { isAlive } from '../../dev-cluster/control-plane/state-file.ts';

const cp = await useControlPlane(t);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);

function pod(name: string, container: Partial<V1Container>, spec: Partial<V1PodSpec> = {}): V1Pod {
  return {
    metadata: { name },
    spec: { restartPolicy: 'Never', ...spec, containers: [{ name: 'main', image: 'busybox:1.36', ...container }] },
  };
}

async function finishedPod(namespace: string, name: string, timeoutMs = 30_000): Promise<V1Pod> {
  return waitFor(`pod ${namespace}/${name} to finish`, async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
  }, { timeoutMs });
}

async function runningPid(namespace: string, name: string): Promise<number> {
  return waitFor(`pod ${namespace}/${name} to run`, async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    const cs = p.status?.containerStatuses?.[0];
    return p.status?.phase === 'Running' && cs?.state?.running && cs.containerID ? Number(cs.containerID.replace('local://', '')) : undefined;
  });
}

t.test('env: plain values, $(VAR) expansion, configMapKeyRef, secretKeyRef, fieldRef, envFrom', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'settings' }, data: { colour: 'blue', SIZE: 'large' } } });
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'creds' }, stringData: { password: 's3cret', USER: 'ada' } } });
  await core.createNamespacedPod({
    namespace: ns,
    body: pod('env', {
      command: ['sh', '-c', 'echo "$GREETING|$COLOUR|$PASSWORD|$POD_NAME|$POD_NAMESPACE|$CFG_SIZE|$USER|$(GREETING)|$KUBERNETES_SERVICE_HOST"'],
      env: [
        { name: 'NAME', value: 'world' },
        { name: 'GREETING', value: 'hello $(NAME)' },
        { name: 'COLOUR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'colour' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'MISSING', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
      ],
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
    }),
  });
  const p = await finishedPod(ns, 'env');
  t.equal(p.status?.phase, 'Succeeded');
  t.equal(await cp.podLog(ns, 'env'), `hello world|blue|s3cret|env|${ns}|large|ada|hello world|127.0.0.1\n`);
});

t.test('a missing ConfigMap holds the pod in CreateContainerConfigError until it exists', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedPod({
    namespace: ns,
    body: pod('late', { command: ['sh', '-c', 'echo "$VALUE"'], env: [{ name: 'VALUE', valueFrom: { configMapKeyRef: { name: 'late', key: 'v' } } }] }),
  });
  // The first report is ContainerCreating; the config error follows once the agent has looked for the ConfigMap.
  const waiting = await waitFor('the config error to be reported', async () => {
    const w = (await core.readNamespacedPod({ name: 'late', namespace: ns })).status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === 'CreateContainerConfigError' ? w : undefined;
  });
  t.match(waiting.message, /configmap "late" not found/);
  t.equal((await core.readNamespacedPod({ name: 'late', namespace: ns })).status?.phase, 'Pending', 'the pod waits in Pending');
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'late' }, data: { v: 'arrived' } } });
  t.equal((await finishedPod(ns, 'late')).status?.phase, 'Succeeded');
  t.equal(await cp.podLog(ns, 'late'), 'arrived\n');
});

t.test('the ServiceAccount token volume maps to EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR and works in-cluster', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'runner' } } });
  const rbac = cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'pods' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] } });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: { metadata: { name: 'runner-pods' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pods' }, subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: ns }] },
  });
  // A Node script with in-cluster credentials: who am I, and may I read my own pod (granted) and secrets (not)?
  const script = `
    const fs = require('node:fs'), https = require('node:https');
    const dir = process.env.EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR;
    const token = fs.readFileSync(dir + '/token', 'utf8'), ca = fs.readFileSync(dir + '/ca.crt'), ns = fs.readFileSync(dir + '/namespace', 'utf8');
    const call = (method, path, body) => new Promise((resolve, reject) => {
      const req = https.request({ host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, method, path, ca,
        headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' } }, (res) => {
        let data = ''; res.on('data', (d) => data += d); res.on('end', () => resolve({ status: res.statusCode, body: data }));
      });
      req.on('error', reject); req.end(body && JSON.stringify(body));
    });
    (async () => {
      const who = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
      console.log(JSON.parse(who.body).status.userInfo.username);
      console.log(ns);
      console.log((await call('GET', '/api/v1/namespaces/' + ns + '/pods/' + process.env.HOSTNAME)).status);
      console.log((await call('GET', '/api/v1/namespaces/' + ns + '/secrets')).status);
    })().catch((e) => { console.error(e); process.exit(1); });`;
  await core.createNamespacedPod({
    namespace: ns,
    body: pod('in-cluster', { image: 'registry.example/exposedapi-apim:test', command: ['node', '-e', script] }, { serviceAccountName: 'runner' }),
  });
  const p = await finishedPod(ns, 'in-cluster');
  const log = await cp.podLog(ns, 'in-cluster');
  t.equal(p.status?.phase, 'Succeeded', log);
  t.equal(log, `system:serviceaccount:${ns}:runner\n${ns}\n200\n403\n`);
  t.ok(p.spec?.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken)), 'the volume came from the ServiceAccount admission plugin');
});

t.test('automountServiceAccountToken: false gives no token directory', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedPod({
    namespace: ns,
    body: pod('no-token', { command: ['sh', '-c', 'echo "dir=${EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR:-none}"'] }, { automountServiceAccountToken: false }),
  });
  await finishedPod(ns, 'no-token');
  t.equal(await cp.podLog(ns, 'no-token'), 'dir=none\n');
});

t.test('a pod sees its own environment, not the test runner\'s instrumentation', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedPod({ namespace: ns, body: pod('clean', { command: ['sh', '-c', 'env | grep -cE "^(NODE_OPTIONS|_TAPJS|TAP_)" || true'] }) });
  await finishedPod(ns, 'clean');
  t.equal(await cp.podLog(ns, 'clean'), '0\n');
});

t.test('an exposedapi-apim image runs the project CLI with the container args', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedPod({ namespace: ns, body: pod('cli', { image: 'ghcr.io/example/exposedapi-apim:1.0.0', args: ['--help'] }) });
  const p = await finishedPod(ns, 'cli');
  t.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
  t.match(await cp.podLog(ns, 'cli'), /^usage: exposedapi-apim <command>/);
  await core.createNamespacedPod({ namespace: ns, body: pod('cli-bad', { image: 'ghcr.io/example/exposedapi-apim:1.0.0', args: ['no-such-command'] }) });
  const bad = await finishedPod(ns, 'cli-bad');
  t.equal(bad.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 2, 'the CLI\'s own exit code');
  t.match(await cp.podLog(ns, 'cli-bad'), /unknown command "no-such-command"/);
});

t.test('restartPolicy OnFailure restarts a failed container in place; init containers run first', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'retry' },
      spec: {
        restartPolicy: 'OnFailure',
        volumes: [{ name: 'data', emptyDir: {} }],
        initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'echo prepared > data/init'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        containers: [{
          name: 'main', image: 'busybox',
          // Fails on the first run, succeeds on the second: the emptyDir outlives container restarts.
          command: ['sh', '-c', 'cat data/init; if [ -f data/ran ]; then echo second; exit 0; fi; touch data/ran; echo first; exit 1'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        }],
      },
    },
  });
  const p = await finishedPod(ns, 'retry');
  const cs = p.status?.containerStatuses?.[0];
  t.equal(p.status?.phase, 'Succeeded');
  t.equal(cs?.restartCount, 1);
  t.equal(cs?.lastState?.terminated?.exitCode, 1, 'the failed run is the last state');
  t.equal(p.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 0);
  t.equal(await cp.podLog(ns, 'retry', 'main'), 'prepared\nfirst\nprepared\nsecond\n');
});

t.test('an image without a known entrypoint and no command fails to start (StartError, 128)', async (t) => {
  const ns = await cp.newNamespace(t);
  await core.createNamespacedPod({ namespace: ns, body: pod('no-command', { image: 'nginx:1.27' }) });
  const p = await finishedPod(ns, 'no-command');
  const term = p.status?.containerStatuses?.[0]?.state?.terminated;
  t.equal(p.status?.phase, 'Failed');
  t.equal(term?.exitCode, 128);
  t.equal(term?.reason, 'StartError');
  t.match(term?.message, /set spec.containers\[\].command/);
  await core.createNamespacedPod({ namespace: ns, body: pod('not-found', { command: ['/no/such/binary'] }) });
  t.equal((await finishedPod(ns, 'not-found')).status?.containerStatuses?.[0]?.state?.terminated?.reason, 'StartError');
});

t.test('deleting a pod sends SIGTERM; the pod reports 143 and the object is removed', async (t) => {
  const ns = await cp.newNamespace(t);
  const history = await watchPodHistory(cp.kubeConfig(), ns);
  t.teardown(history.stop);
  await core.createNamespacedPod({ namespace: ns, body: pod('sleeper', { command: ['sh', '-c', 'sleep 300'] }) });
  const pid = await runningPid(ns, 'sleeper');
  const started = Date.now();
  await core.deleteNamespacedPod({ name: 'sleeper', namespace: ns });
  await waitFor('the pod object to be gone', () => (history.deleted().has('sleeper') ? true : undefined));
  const elapsed = Date.now() - started;
  t.ok(elapsed < 5000, `gone in ${elapsed} ms, well within the 30 s grace period`);
  t.equal(history.latest().get('sleeper')?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 143);
  t.equal(history.latest().get('sleeper')?.status?.phase, 'Failed');
  t.notOk(isAlive(pid), 'the process is gone');
});

t.test('a container that ignores SIGTERM is killed after the grace period (137)', async (t) => {
  const ns = await cp.newNamespace(t);
  const history = await watchPodHistory(cp.kubeConfig(), ns);
  t.teardown(history.stop);
  await core.createNamespacedPod({
    namespace: ns,
    body: pod('stubborn', { command: ['sh', '-c', "trap '' TERM; echo ignoring; sleep 300"] }, { terminationGracePeriodSeconds: 2 }),
  });
  const pid = await runningPid(ns, 'stubborn');
  await waitFor('the trap to be set', async () => ((await cp.podLog(ns, 'stubborn')).includes('ignoring') ? true : undefined));
  const started = Date.now();
  await core.deleteNamespacedPod({ name: 'stubborn', namespace: ns });
  await waitFor('the pod object to be gone', () => (history.deleted().has('stubborn') ? true : undefined));
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 2000 && elapsed < 8000, `gone after ${elapsed} ms: the 2 s grace period, then SIGKILL`);
  t.equal(history.latest().get('stubborn')?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
  t.notOk(isAlive(pid), 'the process is gone');
});
