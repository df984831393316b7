// Several APIM instances (issue 16, point 1), the whole path: two APIM emulators (one home: one CA and one identity,
// two services), an ApimTarget for each, the webhook with the dispatcher, the real Job controller and the real executor
// in its Jobs. An ExposedAPI on target A lands in emulator A only, another namespace's on target B in emulator B only,
// each Job as its target's ServiceAccount; the same path is allowed on the two targets and refused twice on one; a
// namespace the tenancy policy keeps off target A is refused at admission; moving an ExposedAPI from A to B publishes
// it on B first and then removes it from A, and status says where it is.
//
// ApimTargets are cluster-scoped and the test cluster is shared by the test files running at once: these targets have
// names of their own and select nothing by default (no spec.default, no namespaceSelector), so no other test's
// ExposedAPI is moved by them.
import t from 'tap';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { derivedApiId } from '../../core/api-id.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { TARGET_LABEL } from '../../dispatcher/job-manifest.ts';
import { startApimEmulator, type ApimEmulator } from '../../emulator/apim-emulator.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { applyManifest, installCrd } from './webhook-in-cluster.ts';
import { openapi3, REPO_DIR } from '../helpers/fixtures.ts';
import { installExecutorRbac, emulatorConnection } from '../executor/harness.ts';
import { condition, finished, setUpDispatcher, watchJobs } from '../dispatcher/dispatcher-harness.ts';

type Obj = Record<string, any>;

const cp = await useControlPlane(t);
await installCrd(cp, join(REPO_DIR, 'manifests/base/apimtarget-crd.yaml'), 'apimtargets.exposedapi-apim.io');
const dir = await mkdtemp(join(tmpdir(), 'exposedapi-apim-targets-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
// One emulator home: the same CA and the same application for both, as one Entra ID tenant would have.
const home = join(dir, 'emulator');
const emuA = await startApimEmulator({ dir: home, serviceName: 'apim-a', importDelayMs: 20, importDurationMs: 20 });
t.teardown(() => emuA.close());
const emuB = await startApimEmulator({ dir: home, serviceName: 'apim-b', importDelayMs: 20, importDurationMs: 20 });
t.teardown(() => emuB.close());
const caFile = join(dir, 'emulator-ca.crt');
await writeFile(caFile, emuA.caPem);
if (emuB.caPem !== emuA.caPem) throw new Error('the two emulators must share one CA (one emulator home)');

const run = Math.random().toString(36).slice(2, 8);
const targetA = `apim-a-${run}`;
const targetB = `apim-b-${run}`;
const setup = await setUpDispatcher(cp, t, {
  namespaces: 2,
  env: {
    // The real executor: the node agent runs any exposedapi-apim image as cli/main.ts with the project's Node.
    EXECUTOR_IMAGE: 'ghcr.io/exposedapi-apim/exposedapi-apim:test',
    EXECUTOR_COMMAND: '',
    JOB_BACKOFF_LIMIT: '1',
    JOB_ACTIVE_DEADLINE_SECONDS: '180',
  },
  // Namespace B may publish into target B only (namespace A is unrestricted).
  envFor: (namespaces) => ({ TENANCY_POLICY: JSON.stringify({ rules: [{ namespaces: [namespaces[1]], targets: [targetB] }] }) }),
});
const [nsA, nsB] = setup.namespaces as [string, string];

// The executor's identities: the shipped one (target A and the operator's own instance), and target B's own account
// with the same permissions, as the chart's executor.targetServiceAccounts makes it.
await installExecutorRbac(cp, setup.ops);
const executorB = 'executor-b';
{
  const docs = YAML.parseAllDocuments(await readFile(join(REPO_DIR, 'manifests/base/executor-rbac.yaml'), 'utf8')).map((d) => d.toJS() as Obj);
  const role = docs.find((d) => d['kind'] === 'ClusterRole')!;
  role['metadata'].name = `executor-b-${run}`;
  await applyManifest(cp, [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: executorB, namespace: setup.ops } },
    role,
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `executor-b-${run}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `executor-b-${run}` },
      subjects: [{ kind: 'ServiceAccount', name: executorB, namespace: setup.ops }] },
  ]);
  t.teardown(async () => {
    await cp.kubectl(['delete', 'clusterrolebinding', `executor-b-${run}`, '--ignore-not-found']);
    await cp.kubectl(['delete', 'clusterrole', `executor-b-${run}`, '--ignore-not-found']);
  });
}
// The operator's own instance is emulator A; every Job's ConfigMap. The targets override the instance per Job.
await applyManifest(cp, [{
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exposedapi-apim-config', namespace: setup.ops },
  data: {
    ...emulatorConnection(emuA, caFile),
    APIM_POLL_INTERVAL_MS: '20',
    RETRY_BUDGET_SECONDS: '30',
    ROUTE_WAIT_SECONDS: '20',
    LOG_LEVEL: 'info',
  },
}]);

const idOf = (emu: ApimEmulator) => `/subscriptions/${emu.subscriptionId}/resourceGroups/${emu.resourceGroup}/providers/Microsoft.ApiManagement/service/${emu.serviceName}`;
const apimTarget = (name: string, emu: ApimEmulator, gatewayUrl: string, serviceAccountName: string) => ({
  apiVersion: 'exposedapi-apim.io/v1alpha1',
  kind: 'ApimTarget',
  metadata: { name },
  spec: {
    resourceId: idOf(emu),
    gatewayUrl,
    identity: { serviceAccountName },
    cloud: { armEndpoint: emu.url, authorityHost: emu.authorityHost },
  },
});
await applyManifest(cp, [
  apimTarget(targetA, emuA, 'https://gateway-a.example.test', 'exposedapi-apim-executor'),
  apimTarget(targetB, emuB, 'https://gateway-b.example.test', executorB),
]);
t.teardown(async () => {
  await cp.kubectl(['delete', 'apimtarget', targetA, targetB, '--ignore-not-found']);
});
await waitFor('the webhook to know both ApimTargets', () => (setup.webhook.targets?.target(targetA) && setup.webhook.targets?.target(targetB) ? true : undefined), { timeoutMs: 30_000 });

const history = await watchJobs(setup);
t.teardown(() => history.stop());
const document = JSON.stringify(openapi3([['get', '/items', 'listItems'], ['get', '/items/{id}', 'getItem']]));
/**
 * Creates through admission. The first reviews of a fresh webhook can outlast its 8 s validation budget on a loaded
 * machine (the document checker process starts); the apiserver then answers 500 InternalError, and the create is
 * asked again, a bounded number of times. A denial (4xx) is the answer.
 */
const create = async (ns: string, name: string, path: string, target: string): Promise<Obj> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await setup.create(ns, name, { spec: { developerUI: undefined, specification: document, port: 8080, path, apim: { target } } });
    } catch (e) {
      if ((e as { code?: number }).code !== 500 || attempt === 5) throw e;
    }
  }
};
const apisIn = (emu: ApimEmulator) => emu.state().apis.map((a) => a.name);
const published = (ns: string, name: string, target: string) => waitFor(`${ns}/${name} Ready on ${target}`, async () => {
  const obj = await setup.get(ns, name);
  const ready = condition(obj, 'Ready');
  const progressing = condition(obj, 'Progressing');
  return ready?.['status'] === 'True' && ready['specHash'] === obj?.['status']?.appliedSpecHash && obj?.['status']?.apim?.target === target
    && progressing?.['status'] === 'False' ? obj : undefined;
}, { timeoutMs: 180_000, intervalMs: 250 });
const jobsOf = (name: string) => history.order.filter((j) => history.latest.get(j)?.metadata?.labels?.[JOB_LABELS.name] === name).map((j) => history.latest.get(j)!);

t.test('an ExposedAPI on target A, another namespace\'s on target B: each in its own instance, as its target\'s identity', async (t) => {
  await create(nsA, 'catalog', '/shared/v1', targetA);
  await create(nsB, 'catalog', '/shared/v1', targetB);
  const [a, b] = await Promise.all([published(nsA, 'catalog', targetA), published(nsB, 'catalog', targetB)]);
  t.pass('the same path on two targets is admitted and published on both');
  const idA = derivedApiId(nsA, 'catalog');
  const idB = derivedApiId(nsB, 'catalog');
  t.ok(apisIn(emuA).includes(idA) && !apisIn(emuA).includes(idB), 'emulator A holds A\'s API only');
  t.ok(apisIn(emuB).includes(idB) && !apisIn(emuB).includes(idA), 'emulator B holds B\'s API only');
  t.equal(a['status'].apim.resourceId, idOf(emuA), 'status records the ARM id of A');
  t.equal(b['status'].apim.resourceId, idOf(emuB), 'status records the ARM id of B');
  t.equal(a['status'].apiStatus.url, 'https://gateway-a.example.test/shared/v1', 'the URL consumers use is on A\'s gateway');
  t.equal(b['status'].apiStatus.url, 'https://gateway-b.example.test/shared/v1');
  const jobA = jobsOf('catalog').find((j) => j.metadata?.labels?.[JOB_LABELS.namespace] === nsA)!;
  const jobB = jobsOf('catalog').find((j) => j.metadata?.labels?.[JOB_LABELS.namespace] === nsB)!;
  t.equal(jobA.spec?.template.spec?.serviceAccountName, 'exposedapi-apim-executor');
  t.equal(jobB.spec?.template.spec?.serviceAccountName, executorB, 'B\'s Job runs as B\'s ServiceAccount');
  t.equal(jobB.metadata?.labels?.[TARGET_LABEL], targetB);
});

t.test('admission: the same path twice on one target is refused; a target the namespace may not use is refused', async (t) => {
  const same = await create(nsB, 'catalog-copy', '/shared/v1', targetB).then(() => undefined, (e: unknown) => String((e as { body?: unknown }).body ?? e));
  t.match(same, /spec\.path: Forbidden: path \\?"\/shared\/v1\\?" is already claimed by ExposedAPI .*\/catalog in the same APIM service/);
  const forbidden = await create(nsB, 'elsewhere', '/elsewhere/v1', targetA).then(() => undefined, (e: unknown) => String((e as { body?: unknown }).body ?? e));
  t.match(forbidden, new RegExp(`spec\\.apim\\.target: Forbidden: namespace \\\\?"${nsB}\\\\?" may not publish into ApimTarget \\\\?"${targetA}\\\\?"`));
  const missing = await create(nsA, 'nowhere', '/nowhere/v1', `missing-${run}`).then(() => undefined, (e: unknown) => String((e as { body?: unknown }).body ?? e));
  t.match(missing, /spec\.apim\.target: Forbidden: ApimTarget \\?"missing-.*\\?" does not exist/);
  t.notOk(await setup.get(nsB, 'catalog-copy'));
  t.notOk(await setup.get(nsB, 'elsewhere'));
});

t.test('moving A → B: published on B, then removed from A; status says where it is', async (t) => {
  await create(nsA, 'mover', '/mover/v1', targetA);
  await published(nsA, 'mover', targetA);
  const id = derivedApiId(nsA, 'mover');
  t.ok(apisIn(emuA).includes(id), 'on A');
  // What the emulators hold, sampled while the move runs: B must have the API before A loses it.
  const samples: { a: boolean; b: boolean }[] = [];
  const sampler = setInterval(() => samples.push({ a: apisIn(emuA).includes(id), b: apisIn(emuB).includes(id) }), 20);
  t.teardown(() => clearInterval(sampler));
  await setup.patch(nsA, 'mover', { spec: { apim: { target: targetB } } });
  const moved = await published(nsA, 'mover', targetB);
  await waitFor('the API removed from A and the move recorded as done', async () => {
    const obj = await setup.get(nsA, 'mover');
    return !apisIn(emuA).includes(id) && !obj?.['status']?.apim?.formerTargets ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  clearInterval(sampler);
  t.ok(apisIn(emuB).includes(id), 'on B');
  t.notOk(apisIn(emuA).includes(id), 'gone from A');
  t.notOk(samples.some((s) => !s.a && !s.b), 'never on neither instance');
  t.ok(samples.some((s) => s.a && s.b), 'on both for a moment: B first, then A removed');
  const final = await setup.get(nsA, 'mover');
  t.equal(final?.['status'].apim.resourceId, idOf(emuB), 'status says B');
  t.equal(final?.['status'].apiStatus.url, 'https://gateway-b.example.test/mover/v1');
  t.equal(moved['status'].apim.target, targetB);
  const jobs = jobsOf('mover');
  const releaseName = jobs.find((j) => j.metadata?.labels?.[JOB_LABELS.action] === 'release')?.metadata?.name;
  t.ok(releaseName, 'a release Job ran');
  // Its executor wrote status before its process exited; the Job controller says Complete a moment later.
  const release = await waitFor('the release Job complete', () => (finished(history.latest.get(releaseName!)) ? history.latest.get(releaseName!) : undefined), { timeoutMs: 60_000 });
  t.equal(finished(release), 'Complete');
  t.equal(release?.spec?.template.spec?.serviceAccountName, 'exposedapi-apim-executor', 'as A\'s identity');
  const applyB = jobs.find((j) => j.metadata?.labels?.[JOB_LABELS.action] === 'apply' && j.metadata?.labels?.[TARGET_LABEL] === targetB)!;
  const applyEnded = applyB.status?.conditions?.find((c) => c.type === 'Complete' || c.type === 'SuccessCriteriaMet')?.lastTransitionTime;
  t.ok(applyEnded && new Date(release!.metadata!.creationTimestamp!).getTime() >= new Date(applyEnded).getTime() - 1000, 'the release Job was created once the apply on B had completed');
});
