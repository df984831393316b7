// The whole system on the sandbox, driven through the real kubectl as a user would: webhook and dispatcher (two
// replicas electing one by Lease), Jobs run by the real Job controller, the executor applying to the APIM emulator.
import t from 'tap';
import https from 'node:https';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { SANDBOX_NAMESPACE, SAMPLE_SERVICE, startSandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import { isAlive } from '../../dev-cluster/control-plane/state-file.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { exposedApi } from '../helpers/fixtures.ts';

type Obj = Record<string, any>;
// The whole system with a burst, a leader kill and gateway traffic: over tap's 600 s per file on a loaded 2-core
// machine (seen at load 15); every wait inside is bounded on its own.
t.setTimeout(25 * 60_000);
const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-sandbox-e2e-'));
const sandbox = await startSandbox({ dir, log: () => {}, webhookEnv: { DISPATCH_MAX_ACTIVE_JOBS: '4' } });
t.teardown(async () => {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});
const k = sandbox.lcp.k;
const ns = SANDBOX_NAMESPACE;
const emulatorApis = () => (sandbox.emulator.state() as Obj)['apis'] as Obj[];
const apiNamed = (name: string) => emulatorApis().find((a) => a['name'] === `${ns}-${name}`);
const getObj = async (name: string): Promise<Obj | undefined> => {
  const r = await k(['get', 'exposedapi', name, '-n', ns, '-o', 'json']).catch(() => undefined);
  return r ? JSON.parse(r) : undefined;
};
const jobsOf = async (name: string) => (JSON.parse(await k(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-l', `${JOB_LABELS.name}=${name}`, '-o', 'json'])) as { items: Obj[] }).items;
const spec = (name: string, patch: Obj = {}) =>
  exposedApi({
    metadata: { name, namespace: undefined },
    ...patch,
    spec: { implementation: SAMPLE_SERVICE, path: `/${name}/v4`, developerUI: undefined, specification: { url: '${SANDBOX_SPEC_BASE}/TMF620-ProductCatalog-v4.0.0.swagger.json', version: 'v4' }, ...(patch['spec'] ?? {}) },
  });
// Status URLs point at the emulator's gateway (dev-cluster/sandbox/gateway-access.ts), so they answer.
const gateway = sandbox.emulator.gatewayUrl;
const callGateway = (url: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    https.get(url, { ca: sandbox.emulator.caPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });

t.test('create → one Job → Ready with the gateway URL', async (t) => {
  await sandbox.apply([spec('catalog')]);
  const states = await sandbox.waitSettled([{ ns, name: 'catalog' }], 90_000);
  t.same(states, { [`${ns}/catalog`]: 'ready' });
  const obj = (await getObj('catalog'))!;
  t.equal(obj.status.apiStatus.url, `${gateway}/catalog/v4`);
  t.equal(obj.status.implementation.ready, true, 'the sample backend\'s EndpointSlice is ready');
  const jobs = await jobsOf('catalog');
  t.equal(jobs.length, 1, '`kubectl get jobs -l exposedapi-apim.io/name=catalog` lists exactly one Job');
  t.equal(jobs[0]!.metadata.labels[JOB_LABELS.action], 'apply');
  t.equal(apiNamed('catalog')?.operations.length, 50, 'TMF620 imported into APIM');
});

t.test('update → a new Job and the new result', async (t) => {
  await sandbox.apply([spec('catalog', { spec: { rateLimit: { enabled: true, identifier: 'IP', limit: '10', interval: 'pm' } } })]);
  await waitFor('a second Job for catalog', async () => ((await jobsOf('catalog')).length === 2 ? true : undefined), { timeoutMs: 30_000 });
  const states = await sandbox.waitSettled([{ ns, name: 'catalog' }], 90_000);
  t.same(states, { [`${ns}/catalog`]: 'ready' });
  t.match(apiNamed('catalog')?.policy?.xml, /<rate-limit-by-key calls="10" renewal-period="60"/, 'the new policy is in APIM');
});

t.test('the status URL answers through the gateway, which enforces the updated rate limit', async (t) => {
  const url = `${(await getObj('catalog'))!.status.apiStatus.url}/catalog`;
  const first = await callGateway(url);
  t.equal(first.status, 200, `GET ${url}`);
  t.match(JSON.parse(first.body), [{ '@type': 'Catalog', id: '1', href: '/catalog/v4/catalog/1' }], 'the sample backend answered with a TMF620 Catalog list');
  const statuses = [first.status];
  for (let i = 0; i < 10; i++) statuses.push((await callGateway(url)).status);
  t.same(statuses, [...Array(10).fill(200), 429], 'rateLimit 10 per minute: the 11th call is refused');
  const summary = await sandbox.summary([{ ns, name: 'catalog' }]);
  t.match(summary, `curl --cacert ${sandbox.emulator.caFile} ${url}`, 'the summary prints a curl of that URL');
});

t.test('a burst of 50 ExposedAPIs → all Ready, with the cap on concurrent Jobs respected', async (t) => {
  const names = Array.from({ length: 50 }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
  let maxActive = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const jobs = (JSON.parse(await k(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] }).items;
      maxActive = Math.max(maxActive, jobs.filter((j) => (j.status?.active ?? 0) > 0).length);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await sandbox.apply(names.map((n) => spec(n, { spec: { specification: { url: '${SANDBOX_SPEC_BASE}/TMF672-UserRolePermission-v4.0.0.swagger.json', version: 'v4' } } })));
  const states = await sandbox.waitSettled(names.map((name) => ({ ns, name })), 240_000);
  sampling = false;
  await sampler;
  t.equal(Object.values(states).filter((s) => s === 'ready').length, 50, 'all 50 Ready');
  t.ok(maxActive <= 4, `at most DISPATCH_MAX_ACTIVE_JOBS=4 Jobs ran at once (observed ${maxActive})`);
  t.ok(maxActive >= 2, 'and they did run in parallel');
  for (const n of names.slice(0, 5)) t.equal((await jobsOf(n)).length, 1, `${n}: exactly one Job`);
});

t.test('delete → APIM API and route gone, object gone', async (t) => {
  t.ok(apiNamed('catalog'), 'present before');
  await k(['delete', 'exposedapi', 'catalog', '-n', ns, '--wait=false']);
  await waitFor('catalog to be gone', async () => ((await getObj('catalog')) ? undefined : true), { timeoutMs: 60_000 });
  t.notOk(apiNamed('catalog'), 'the APIM API is deleted');
  const ingresses = (JSON.parse(await k(['get', 'ingress', '-n', ns, '-o', 'json'])) as { items: Obj[] }).items;
  t.notOk(ingresses.some((i) => JSON.stringify(i.spec).includes('/catalog/v4')), 'the route is deleted');
  const deleteJobs = (await jobsOf('catalog')).filter((j) => j.metadata.labels[JOB_LABELS.action] === 'delete');
  t.equal(deleteJobs.length, 1, 'one delete Job');
});

t.test('a failing import → Ready False with APIM\'s message; the Job failed without pointless retries', async (t) => {
  // An API created outside the operator already holds the base path that /taken/v4's version set needs (docs/version-sets.md):
  // APIM refuses a second API on a path unless both are versions of one set.
  const client = new ApiManagementClient(
    new ClientSecretCredential(sandbox.emulator.tenantId, sandbox.emulator.clientId, sandbox.emulator.clientSecret, { authorityHost: sandbox.emulator.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: sandbox.emulator.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3]),
    sandbox.emulator.subscriptionId,
    { endpoint: sandbox.emulator.url, tlsOptions: { ca: sandbox.emulator.caPem } } as ApiManagementClientOptionalParams,
  );
  await client.api.beginCreateOrUpdateAndWait(sandbox.emulator.resourceGroup, sandbox.emulator.serviceName, 'made-by-hand', { path: 'taken', displayName: 'made by hand', protocols: ['https'] }, { updateIntervalInMs: 50 });
  await sandbox.apply([spec('collides', { spec: { path: '/taken/v4' } })]);
  const states = await sandbox.waitSettled([{ ns, name: 'collides' }], 90_000);
  t.same(states, { [`${ns}/collides`]: 'failed' });
  const obj = (await getObj('collides'))!;
  const ready = obj.status.conditions.find((c: Obj) => c.type === 'Ready');
  t.equal(ready.status, 'False');
  t.match(JSON.stringify(obj.status.conditions), /same Path/i, 'APIM\'s message reaches the status');
  await sandbox.waitJobsIdle(30_000);
  const jobs = await jobsOf('collides');
  t.equal(jobs.length, 1);
  t.ok(jobs[0]!.status.conditions.some((c: Obj) => c.type === 'Failed' && c.status === 'True'), 'the Job failed');
  t.equal(jobs[0]!.status.failed, 1, 'after one pod: exit 42 → podFailurePolicy FailJob, no retries');
});

t.test('dispatcher leader killed mid-burst → nothing lost, nothing duplicated', async (t) => {
  const second = await sandbox.addReplica('sandbox-webhook-1');
  const lease = async () => JSON.parse(await k(['get', 'lease', 'exposedapi-apim-dispatcher', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as Obj;
  const leader = (await lease()).spec.holderIdentity as string;
  const victim = sandbox.webhooks.find((w) => leader.startsWith(w.podName));
  t.ok(victim, `the Lease is held by a replica (${leader})`);
  const names = Array.from({ length: 12 }, (_, i) => `failover-${String(i).padStart(2, '0')}`);
  await sandbox.apply(names.map((n) => spec(n, { spec: { specification: { url: '${SANDBOX_SPEC_BASE}/TMF672-UserRolePermission-v4.0.0.swagger.json', version: 'v4' } } })));
  await waitFor('the first Jobs of the burst', async () => ((await jobsOf(names[0]!)).length > 0 ? true : undefined), { timeoutMs: 30_000 });
  process.kill(victim!.pid, 'SIGKILL');
  await waitFor('the killed replica to be gone', () => (isAlive(victim!.pid) ? undefined : true), { timeoutMs: 10_000 });
  const states = await sandbox.waitSettled(names.map((name) => ({ ns, name })), 180_000);
  const notReady = Object.entries(states).filter(([, s]) => s !== 'ready');
  if (!t.equal(notReady.length, 0, 'every ExposedAPI of the burst is Ready')) {
    for (const [key] of notReady) {
      const name = key.split('/')[1]!;
      t.comment(`${key}: status ${JSON.stringify((await getObj(name))?.status)}; jobs ${JSON.stringify((await jobsOf(name)).map((j) => [j.metadata.name, j.status]))}`);
    }
    t.comment(`lease ${JSON.stringify((await lease()).spec)}`);
  }
  t.match((await lease()).spec.holderIdentity, new RegExp(`^${victim === sandbox.webhooks[0] ? second.podName : sandbox.webhooks[0]!.podName}`), 'the other replica took over');
  for (const n of names) t.equal((await jobsOf(n)).length, 1, `${n}: exactly one Job`);
});
