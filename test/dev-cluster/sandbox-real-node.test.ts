// The sandbox on a real node, driven through kubectl as a user would: the operator installed from its image by its
// Helm chart (webhook and dispatcher as two Deployment pods electing one dispatcher by Lease), every Job a container
// whose log `kubectl logs job/<job>` returns, the executor applying to the APIM emulator through the pod network's
// gateway. The main flows of test/e2e/sandbox-e2e.test.ts in this mode: create, update, burst, delete, failing import,
// dispatcher leader killed. Needs what test/dev-cluster/real-node.test.ts needs, plus umoci and skopeo (the image).
import t from 'tap';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { hostProblems } from '../../dev-cluster/node/node-prerequisites.ts';
import { SANDBOX_CA_PATH } from '../../dev-cluster/sandbox/operator-release.ts';
import { SANDBOX_NAMESPACE, SAMPLE_SERVICE, startSandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { holdRealNodeTestLock } from '../helpers/real-node-test-lock.ts';
import { exposedApi } from '../helpers/fixtures.ts';

// Another file's real node may hold the machine's node lock first (it waits up to 20 min); the flows take 4–5 min
// at load 17.
t.setTimeout(40 * 60_000);

const problems = hostProblems();
if (problems.length) throw new Error(`the real node cannot run on this machine:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

type Obj = Record<string, any>;
// No other real-node test file runs meanwhile (test/helpers/real-node-test-lock.ts).
await holdRealNodeTestLock(t);
const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-sandbox-real-'));
const started = Date.now();
const sandbox = await startSandbox({ dir, log: () => {}, node: 'real', chartValues: { dispatcher: { maxActiveJobs: 4 } } });
t.comment(`sandbox with a real node up in ${Date.now() - started} ms`);
t.teardown(async () => {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});
const k = sandbox.lcp.k;
const ns = SANDBOX_NAMESPACE;
const realNode = sandbox.lcp.state.realNode!;
const emulatorApis = () => (sandbox.emulator.state() as Obj)['apis'] as Obj[];
const apiNamed = (name: string) => emulatorApis().find((a) => a['name'] === `${ns}-${name}`);
const getObj = async (name: string): Promise<Obj | undefined> => {
  const r = await k(['get', 'exposedapi', name, '-n', ns, '-o', 'json']).catch(() => undefined);
  return r ? JSON.parse(r) : undefined;
};
const jobsOf = async (name: string) => (JSON.parse(await k(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-l', `${JOB_LABELS.name}=${name}`, '-o', 'json'])) as { items: Obj[] }).items;
const webhookPods = async () => (JSON.parse(await k(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-l', 'app.kubernetes.io/name=exposedapi-apim-webhook', '-o', 'json'])) as { items: Obj[] }).items;
const spec = (name: string, patch: Obj = {}) =>
  exposedApi({
    metadata: { name, namespace: undefined },
    ...patch,
    spec: { implementation: SAMPLE_SERVICE, path: `/${name}/v4`, developerUI: undefined, specification: { url: '${SANDBOX_SPEC_BASE}/TMF620-ProductCatalog-v4.0.0.swagger.json', version: 'v4' }, ...(patch['spec'] ?? {}) },
  });
const tmf672 = { specification: { url: '${SANDBOX_SPEC_BASE}/TMF672-UserRolePermission-v4.0.0.swagger.json', version: 'v4' } };
const gateway = `https://${sandbox.emulator.serviceName}.azure-api.net`;

t.test('the operator runs as the chart installs it: two webhook pods from the image, restricted, on the node', async (t) => {
  const pods = await webhookPods();
  t.equal(pods.length, 2, 'two replicas (the chart\'s default)');
  for (const p of pods) {
    t.equal(p.spec.nodeName, 'localhost');
    t.match(p.spec.containers[0].image, /^docker\.io\/library\/exposedapi-apim:sandbox-[0-9a-f]{12}$/, 'the operator image with the emulator\'s CA');
    t.match(p.status.containerStatuses[0].containerID, /^containerd:\/\//, `${p.metadata.name} runs in a container`);
    t.ok(p.status.conditions.some((c: Obj) => c.type === 'Ready' && c.status === 'True'), `${p.metadata.name} Ready (its HTTPS readiness probe passes)`);
    t.equal(p.spec.containers[0].securityContext.readOnlyRootFilesystem, true);
  }
  t.ok(sandbox.emulator.url.startsWith(`https://${realNode.gateway}:`), 'the emulator listens on the pod network\'s gateway');
  // kubectl exec into the distroless image (no shell): its own Node reports the user and the CA the sandbox added.
  const out = await k(['exec', '-n', OPERATOR_NAMESPACE, pods[0]!.metadata.name, '--', '/usr/local/bin/node', '-e',
    `console.log(process.getuid(), process.env.NODE_EXTRA_CA_CERTS, require('fs').existsSync(${JSON.stringify(SANDBOX_CA_PATH)}))`]);
  t.equal(out.trim(), `65532 ${SANDBOX_CA_PATH} true`);
  const describe = await k(['describe', 'deployment', '-n', OPERATOR_NAMESPACE, 'exposedapi-apim-webhook']);
  t.match(describe, /2 available/, 'kubectl describe shows the Deployment available');
});

t.test('create → one Job (a container) → Ready with the gateway URL; kubectl logs job/<job> shows the executor', async (t) => {
  await sandbox.apply([spec('catalog')]);
  const states = await sandbox.waitSettled([{ ns, name: 'catalog' }], 120_000);
  t.same(states, { [`${ns}/catalog`]: 'ready' });
  const obj = (await getObj('catalog'))!;
  t.equal(obj.status.apiStatus.url, `${gateway}/catalog/v4`);
  t.equal(obj.status.implementation.ready, true, 'the sample backend\'s EndpointSlice is ready');
  const jobs = await jobsOf('catalog');
  t.equal(jobs.length, 1, 'exactly one Job');
  t.equal(apiNamed('catalog')?.operations.length, 50, 'TMF620 imported into APIM');
  const pod = (JSON.parse(await k(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-l', `job-name=${jobs[0]!.metadata.name}`, '-o', 'json'])) as { items: Obj[] }).items[0]!;
  t.match(pod.status.containerStatuses[0].containerID, /^containerd:\/\//, 'the Job ran in a container');
  const log = await k(['logs', '-n', OPERATOR_NAMESPACE, `job/${jobs[0]!.metadata.name}`]);
  const lines = log.trim().split('\n').map((l) => JSON.parse(l) as Obj);
  t.ok(lines.length > 0 && lines.every((l) => l['name'] === 'catalog'), 'the executor\'s JSON log lines, about this ExposedAPI');
  t.ok(lines.some((l) => l['msg'] === `published at ${gateway}/catalog/v4`), 'the log tells where the API was published');
  t.same([lines.at(-1)!['msg'], lines.at(-1)!['exitCode']], ['done', 0], 'and ends with exit code 0');
  t.match(await sandbox.summary([{ ns, name: 'catalog' }]), `kubectl logs -n ${OPERATOR_NAMESPACE} job/${jobs[0]!.metadata.name}`, 'the summary names the command');
});

t.test('update → a new Job and the new result', async (t) => {
  await sandbox.apply([spec('catalog', { spec: { rateLimit: { enabled: true, identifier: 'IP', limit: '10', interval: 'pm' } } })]);
  await waitFor('a second Job for catalog', async () => ((await jobsOf('catalog')).length === 2 ? true : undefined), { timeoutMs: 60_000 });
  const states = await sandbox.waitSettled([{ ns, name: 'catalog' }], 120_000);
  t.same(states, { [`${ns}/catalog`]: 'ready' });
  t.match(apiNamed('catalog')?.policy?.xml, /<rate-limit-by-key calls="10" renewal-period="60"/, 'the new policy is in APIM');
});

t.test('a burst of 30 ExposedAPIs → all Ready, with the cap on concurrent Jobs respected', async (t) => {
  const names = Array.from({ length: 30 }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
  let maxActive = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const jobs = (JSON.parse(await k(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] }).items;
      maxActive = Math.max(maxActive, jobs.filter((j) => (j.status?.active ?? 0) > 0).length);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const burstStart = Date.now();
  await sandbox.apply(names.map((n) => spec(n, { spec: tmf672 })));
  const states = await sandbox.waitSettled(names.map((name) => ({ ns, name })), 480_000);
  sampling = false;
  await sampler;
  t.comment(`30 ExposedAPIs Ready in ${Date.now() - burstStart} ms`);
  t.equal(Object.values(states).filter((s) => s === 'ready').length, 30, 'all 30 Ready');
  t.ok(maxActive <= 4, `at most dispatcher.maxActiveJobs=4 Jobs ran at once (observed ${maxActive})`);
  t.ok(maxActive >= 2, 'and they did run in parallel');
  for (const n of names.slice(0, 5)) t.equal((await jobsOf(n)).length, 1, `${n}: exactly one Job`);
});

t.test('delete → APIM API and route gone, object gone', async (t) => {
  t.ok(apiNamed('catalog'), 'present before');
  await k(['delete', 'exposedapi', 'catalog', '-n', ns, '--wait=false']);
  await waitFor('catalog to be gone', async () => ((await getObj('catalog')) ? undefined : true), { timeoutMs: 120_000 });
  t.notOk(apiNamed('catalog'), 'the APIM API is deleted');
  const ingresses = (JSON.parse(await k(['get', 'ingress', '-n', ns, '-o', 'json'])) as { items: Obj[] }).items;
  t.notOk(ingresses.some((i) => JSON.stringify(i.spec).includes('/catalog/v4')), 'the route is deleted');
  t.equal((await jobsOf('catalog')).filter((j) => j.metadata.labels[JOB_LABELS.action] === 'delete').length, 1, 'one delete Job');
});

t.test('a failing import → Ready False with APIM\'s message; the Job failed without pointless retries', async (t) => {
  // A hand-made API holds the base path /taken/v4's version set needs: APIM refuses a second plain API on it.
  const client = new ApiManagementClient(
    new ClientSecretCredential(sandbox.emulator.tenantId, sandbox.emulator.clientId, sandbox.emulator.clientSecret, { authorityHost: sandbox.emulator.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sandbox.emulator.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3]),
    sandbox.emulator.subscriptionId,
    { endpoint: sandbox.emulator.url, tlsOptions: { ca: sandbox.emulator.caPem } } as ApiManagementClientOptionalParams,
  );
  await client.api.beginCreateOrUpdateAndWait(sandbox.emulator.resourceGroup, sandbox.emulator.serviceName, 'made-by-hand', { path: 'taken', displayName: 'made by hand', protocols: ['https'] }, { updateIntervalInMs: 50 });
  await sandbox.apply([spec('collides', { spec: { path: '/taken/v4' } })]);
  const states = await sandbox.waitSettled([{ ns, name: 'collides' }], 120_000);
  t.same(states, { [`${ns}/collides`]: 'failed' });
  const obj = (await getObj('collides'))!;
  t.equal(obj.status.conditions.find((c: Obj) => c.type === 'Ready').status, 'False');
  t.match(JSON.stringify(obj.status.conditions), /same Path/i, 'APIM\'s message reaches the status');
  await sandbox.waitJobsIdle(60_000);
  const jobs = await jobsOf('collides');
  t.equal(jobs.length, 1);
  t.ok(jobs[0]!.status.conditions.some((c: Obj) => c.type === 'Failed' && c.status === 'True'), 'the Job failed');
  t.equal(jobs[0]!.status.failed, 1, 'after one pod: the container\'s exit 42 → podFailurePolicy FailJob, no retries');
  t.match(await k(['logs', '-n', OPERATOR_NAMESPACE, `job/${jobs[0]!.metadata.name}`]), /same Path/i, 'kubectl logs shows APIM\'s refusal');
});

t.test('dispatcher leader killed mid-burst (its container SIGKILLed) → nothing lost, nothing duplicated', async (t) => {
  const lease = async () => JSON.parse(await k(['get', 'lease', 'exposedapi-apim-dispatcher', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as Obj;
  const leader = (await lease()).spec.holderIdentity as string;
  const victim = (await webhookPods()).find((p) => leader.startsWith(p.metadata.name));
  t.ok(victim, `the Lease is held by a webhook pod (${leader})`);
  const names = Array.from({ length: 12 }, (_, i) => `failover-${String(i).padStart(2, '0')}`);
  await sandbox.apply(names.map((n) => spec(n, { spec: tmf672 })));
  await waitFor('the first Jobs of the burst', async () => ((await jobsOf(names[0]!)).length > 0 ? true : undefined), { timeoutMs: 60_000 });
  const containerId = (victim!.status.containerStatuses[0].containerID as string).replace('containerd://', '');
  const kill = spawnSync('ctr', ['--address', realNode.containerdSocket, '--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', containerId], { encoding: 'utf8' });
  t.equal(kill.status, 0, `ctr tasks kill ${containerId}: ${kill.stderr}`);
  await waitFor('kubelet to restart the killed container', async () => {
    const p = (await webhookPods()).find((x) => x.metadata.name === victim!.metadata.name);
    return (p?.status.containerStatuses[0].restartCount ?? 0) > 0 ? true : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  const states = await sandbox.waitSettled(names.map((name) => ({ ns, name })), 300_000);
  const notReady = Object.entries(states).filter(([, s]) => s !== 'ready');
  if (!t.equal(notReady.length, 0, 'every ExposedAPI of the burst is Ready')) {
    for (const [key] of notReady) t.comment(`${key}: status ${JSON.stringify((await getObj(key.split('/')[1]!))?.status)}`);
  }
  const holder = (await lease()).spec.holderIdentity as string;
  t.ok((await webhookPods()).some((p) => holder.startsWith(p.metadata.name)), `a live webhook pod leads (${holder})`);
  for (const n of names) t.equal((await jobsOf(n)).length, 1, `${n}: exactly one Job`);
});
