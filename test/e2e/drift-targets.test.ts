// Drift per APIM instance (issue 16, point 4; docs/drift.md "Several instances"), the whole path: the operator's own
// instance (emulator A) and ApimTarget B (emulator B, the same service name in another resource group, so only the ARM
// id tells them apart), the dispatcher's verify Jobs every DRIFT_INTERVAL_SECONDS, the real executor in them.
// An API published into B and edited there through APIM's ARM API (as a person in the portal would) is found Drifted by
// B's verify Job, which runs as B's ServiceAccount with B's environment; the operator instance's verify Job never counts
// it (its summary says so); with B's `drift: {mode: repair}` it is repaired by an apply Job on B. A target removed while
// the leader runs gets no further verify Job.
import t from 'tap';
import type { V1Job } from '@kubernetes/client-node';
import { TARGET_LABEL, REPAIR_LABEL } from '../../dispatcher/job-manifest.ts';
import { verifySelector } from '../../dispatcher/verify-instances.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, finished } from '../dispatcher/dispatcher-harness.ts';
import { apimClient, instanceIdOf } from '../executor/harness.ts';
import { setUpTwoInstances } from './two-instances.ts';

type Obj = Record<string, any>;

/** What a person might paste into the portal: a header the ExposedAPI does not ask for. */
const EDITED_POLICY = '<policies><inbound><base /><set-header name="x-edited-in-portal" exists-action="override"><value>1</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';

const cp = await useControlPlane(t);
const two = await setUpTwoInstances(cp, t, {
  env: { DRIFT_INTERVAL_SECONDS: '10' },
  emulatorB: { serviceName: 'apim-a', resourceGroup: 'rg-b' },
});
const { setup, emuA, emuB, targetA, targetB, executorB } = two;
const [nsA, nsB] = two.namespaces;

/** A Job's container environment as a map. */
const envOf = (job: V1Job): Record<string, string | undefined> => Object.fromEntries((job.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
const verifyJobs = async (target: string) => (await setup.batch.listNamespacedJob({ namespace: setup.ops, labelSelector: verifySelector(target) })).items;
/** The last log line of each finished verify Job of an instance ('verify run finished': what it compared). */
async function summaries(target: string): Promise<Obj[]> {
  const out: Obj[] = [];
  for (const job of await verifyJobs(target)) {
    if (finished(job) !== 'Complete') continue;
    const pods = await setup.core.listNamespacedPod({ namespace: setup.ops, labelSelector: `job-name=${job.metadata!.name}` });
    for (const pod of pods.items) {
      const log = await cp.podLog(setup.ops, pod.metadata!.name!).catch(() => '');
      for (const line of log.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Obj;
        if (entry['msg'] === 'verify run finished') out.push({ job: job.metadata!.name, created: new Date(job.metadata!.creationTimestamp!).toISOString(), ...entry });
      }
    }
  }
  return out;
}
const drifted = async (ns: string, name: string) => {
  const obj = await setup.get(ns, name);
  const c = condition(obj, 'Drifted');
  return c && c['specHash'] === obj?.['status']?.appliedSpecHash ? c : undefined;
};

// Only target B matters below: A goes now, while the leader runs, and its verify schedule with it (checked at the end;
// the loaded machine also runs fewer Jobs).
await cp.kubectl(['delete', 'apimtarget', targetA]);
await waitFor('the dispatcher to see target A gone', () => (setup.webhook.targets?.target(targetA) ? undefined : true), { timeoutMs: 30_000 });
const goneAt = Date.now();

t.test('the target\'s verify Job finds drift in its instance; the operator instance\'s never counts it; repair mode repairs it', async (t) => {
  await two.create(nsA, 'home', '/home/v1', '');
  await two.create(nsB, 'remote', '/remote/v1', targetB);
  const [home, remote] = await Promise.all([two.published(nsA, 'home', ''), two.published(nsB, 'remote', targetB)]);
  t.equal(home['status'].apim.serviceName, remote['status'].apim.serviceName, 'the two instances share a service name');
  t.equal(remote['status'].apim.resourceId, instanceIdOf(emuB), 'told apart by the ARM id');
  const apiId = remote['status'].apim.apiId as string;

  // Each instance's verify Job judges its own API: both in sync.
  await waitFor('home judged in sync by the operator instance\'s verify Job', async () => ((await drifted(nsA, 'home'))?.['reason'] === 'InSync' ? true : undefined), { timeoutMs: 120_000, intervalMs: 250 });
  await waitFor('remote judged in sync by target B\'s verify Job', async () => ((await drifted(nsB, 'remote'))?.['reason'] === 'InSync' ? true : undefined), { timeoutMs: 120_000, intervalMs: 250 });
  // Its executor wrote status before its process exited; the Job controller says Complete a moment later.
  const completed = (target: string) => waitFor(`a complete verify Job of ${target || 'the operator\'s own instance'}`, async () => (await verifyJobs(target)).find((j) => finished(j) === 'Complete'), { timeoutMs: 60_000, intervalMs: 250 });
  const bJob = await completed(targetB);
  t.equal(bJob.metadata?.labels?.[TARGET_LABEL], targetB, 'B\'s verify Job: labelled with its target');
  t.match(bJob.metadata?.name, /^exposedapi-apim-verify-[0-9a-f]{8}-\d+$/);
  t.equal(bJob.spec?.template.spec?.serviceAccountName, executorB, 'as B\'s identity');
  t.match(envOf(bJob), { APIM_TARGET: targetB, APIM_RESOURCE_GROUP: 'rg-b', APIM_SERVICE_NAME: 'apim-a', ARM_ENDPOINT: emuB.url }, 'in B\'s instance');
  const ownJob = await completed('');
  t.match(ownJob.metadata?.name, /^exposedapi-apim-verify-\d+$/, 'the operator instance\'s: the name it always had');
  t.equal(ownJob.metadata?.labels?.[TARGET_LABEL], undefined);
  t.equal(ownJob.spec?.template.spec?.serviceAccountName, 'exposedapi-apim-executor');

  // Someone edits the API's policy in B.
  const original = emuB.state().apis.find((a) => a.name === apiId)!.policy!.raw;
  await apimClient(emuB).apiPolicy.createOrUpdate(emuB.resourceGroup, emuB.serviceName, apiId, 'policy', { format: 'rawxml', value: EDITED_POLICY });
  const found = await waitFor('remote Drifted', async () => {
    const c = await drifted(nsB, 'remote');
    return c?.['status'] === 'True' ? c : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  t.match(found, { reason: 'DriftDetected' }, 'reported: B\'s drift mode is the ConfigMap\'s report');
  t.match(found['message'], /in policy;/, 'naming what differs');
  const events = await cp.kubectl(['get', 'events', '-n', nsB, '--field-selector', 'involvedObject.name=remote', '-o', 'json']);
  t.ok((JSON.parse(events.stdout) as { items: Obj[] }).items.some((e) => e['reason'] === 'Drifted' && e['type'] === 'Warning'), 'a Warning Event');
  t.match(emuB.state().apis.find((a) => a.name === apiId)!.policy!.raw, /x-edited-in-portal/, 'report mode: APIM left as edited');

  // The operator instance's runs, one of them created after the edit: each compared home only, never remote.
  const afterEdit = Math.ceil(Date.now() / 1000) * 1000; // creation timestamps have whole seconds
  await waitFor('an operator instance\'s verify run created after the edit, finished', async () => ((await verifyJobs('')).some((j) => finished(j) === 'Complete' && new Date(j.metadata!.creationTimestamp!).getTime() >= afterEdit) ? true : undefined), { timeoutMs: 120_000, intervalMs: 500 });
  const ownSummaries = await summaries('');
  t.ok(ownSummaries.some((s) => Date.parse(s['created']) >= afterEdit), 'its summary is among them');
  for (const s of ownSummaries) {
    t.match(s, { target: '', resourceId: instanceIdOf(emuA) }, `${s['job']}: the operator's own instance`);
    t.ok(s['compared'] <= 1, `${s['job']}: compared ${s['compared']} (home at most; remote is B's)`);
  }
  t.ok(ownSummaries.some((s) => s['compared'] === 1 && s['drifted'] === 0), 'home compared and in sync');
  t.match(await drifted(nsA, 'home'), { status: 'False', reason: 'InSync' }, 'home unaffected');
  const bSummaries = await summaries(targetB);
  for (const s of bSummaries) t.match(s, { target: targetB, resourceId: instanceIdOf(emuB) }, `${s['job']}: B's instance`);
  t.ok(bSummaries.some((s) => s['compared'] === 1 && s['drifted'] === 1), 'B\'s run compared remote and found it drifted');

  // The platform team turns repair on for B: its next verify Job asks, an apply Job on B restores the policy.
  const patched = await cp.kubectl(['patch', 'apimtarget', targetB, '--type', 'merge', '-p', JSON.stringify({ spec: { drift: { mode: 'repair' } } })]);
  t.equal(patched.code, 0, patched.stderr);
  const repair = await waitFor('a repair Job on B', async () => (await setup.jobsFor('remote')).find((j) => j.metadata?.labels?.[REPAIR_LABEL] !== undefined && finished(j) === 'Complete'), { timeoutMs: 120_000, intervalMs: 250 });
  t.equal(repair.metadata?.labels?.[TARGET_LABEL], targetB, 'the repair runs on B');
  t.equal(repair.spec?.template.spec?.serviceAccountName, executorB, 'as B\'s identity');
  t.equal(emuB.state().apis.find((a) => a.name === apiId)!.policy!.raw, original, 'the policy restored in B');
  t.ok((await verifyJobs(targetB)).some((j) => envOf(j)['APIM_DRIFT_MODE'] === 'repair'), 'B\'s verify Jobs since carry its drift mode');
  t.notOk((await verifyJobs('')).some((j) => envOf(j)['APIM_DRIFT_MODE'] !== undefined), 'the operator instance\'s keep the ConfigMap\'s');
  await waitFor('remote no longer Drifted', async () => ((await drifted(nsB, 'remote'))?.['status'] === 'False' ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });

  // A minute or more after target A went: at 10 s, a schedule still running would have created several. One whose
  // create was already in flight at the deletion is at most a second younger.
  const late = (await verifyJobs(targetA)).filter((j) => new Date(j.metadata!.creationTimestamp!).getTime() > goneAt + 2000);
  t.same(late.map((j) => j.metadata?.name), [], 'no verify Job for the target deleted at the start');
});
