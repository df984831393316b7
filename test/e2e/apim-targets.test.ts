// Several APIM instances (issue 16, point 1), the whole path (the two instances and their targets: two-instances.ts).
// An ExposedAPI on target A lands in emulator A only, another namespace's on target B in emulator B only, each Job as
// its target's ServiceAccount; the same path is allowed on the two targets and refused twice on one; a
// namespace the tenancy policy keeps off target A is refused at admission; moving an ExposedAPI from A to B publishes
// it on B first and then removes it from A, and status says where it is.
import t from 'tap';
import { derivedApiId } from '../../core/api-id.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { TARGET_LABEL } from '../../dispatcher/job-manifest.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { instanceIdOf } from '../executor/harness.ts';
import { finished, watchJobs } from '../dispatcher/dispatcher-harness.ts';
import { setUpTwoInstances } from './two-instances.ts';

const cp = await useControlPlane(t);
const two = await setUpTwoInstances(cp, t, {
  // Namespace B may publish into target B only (namespace A is unrestricted).
  envFor: (namespaces, targets) => ({ TENANCY_POLICY: JSON.stringify({ rules: [{ namespaces: [namespaces[1]], targets: [targets.b] }] }) }),
});
const { setup, emuA, emuB, targetA, targetB, executorB, create, published, apisIn } = two;
const [nsA, nsB] = two.namespaces;
const idOf = instanceIdOf;

const history = await watchJobs(setup);
t.teardown(() => history.stop());
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
  const missing = await create(nsA, 'nowhere', '/nowhere/v1', `missing-${setup.run}`).then(() => undefined, (e: unknown) => String((e as { body?: unknown }).body ?? e));
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
