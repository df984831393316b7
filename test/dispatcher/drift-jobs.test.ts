// Drift on the real control plane, the dispatcher's side (docs/drift.md): the verify Job every DRIFT_INTERVAL_SECONDS
// (the apply Jobs' identity, `execute verify`), the repair Job a Drifted RepairRequested asks for (one per request,
// never a loop, none in report mode, the change's own Job kept), and the exposedapi_apim_drifted gauge. The executor
// is the stand-in (it does not clear Drifted, which makes a loop visible if there were one).
import t from 'tap';
import { repairTag, REPAIR_LABEL } from '../../dispatcher/job-manifest.ts';
import { VERIFY_SELECTOR } from '../../dispatcher/drift-schedule.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { finished, setUpDispatcher, specHashOf } from './dispatcher-harness.ts';

const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t, { env: { DRIFT_INTERVAL_SECONDS: '10' } });
const ns = setup.namespaces[0]!;

type Obj = Record<string, any>;

async function markDrifted(name: string, reason: string, message: string): Promise<void> {
  const obj = (await setup.get(ns, name))!;
  const conditions = (obj['status']['conditions'] as Obj[]).filter((c) => c['type'] !== 'Drifted');
  conditions.push({ type: 'Drifted', status: 'True', reason, message, specHash: specHashOf(obj), lastTransitionTime: new Date().toISOString() });
  // As the verify run writes it: the whole list, guarded by the version read.
  await setup.patch(ns, name, { metadata: { resourceVersion: obj['metadata']['resourceVersion'] }, status: { conditions } });
}

const repairJobs = async (name: string) => (await setup.jobsFor(name)).filter((j) => j.metadata?.labels?.[REPAIR_LABEL] !== undefined);
const gauge = async () => Number(/exposedapi_apim_drifted (\d+)/.exec(await setup.webhook.metrics.registry.getSingleMetricAsString('exposedapi_apim_drifted'))?.[1]);

t.test('a repair Job per request; none in report mode; the change\'s Job kept; the gauge', async (t) => {
  const obj = await setup.create(ns, 'pc');
  const hash = specHashOf(obj);
  await waitFor('the change applied', async () => ((await setup.get(ns, 'pc'))?.['status']?.['appliedSpecHash'] === hash ? true : undefined), { timeoutMs: 60_000 });
  const [first] = await setup.jobsFor('pc');
  t.ok(first, 'the change\'s Job');
  t.equal(await gauge(), 0);

  const m1 = `APIM differs from spec hash ${hash.slice(0, 8)}… in policy; an apply Job restores it (found by exposedapi-apim-verify-1)`;
  await markDrifted('pc', 'RepairRequested', m1);
  const repair = await waitFor('the repair Job', async () => (await repairJobs('pc')).find((j) => j.metadata?.labels?.[REPAIR_LABEL] === repairTag(m1)), { timeoutMs: 60_000 });
  t.match(repair.metadata?.name, /-d[0-9a-f]{5}$/);
  t.same(repair.spec?.template.spec?.containers[0]?.args?.slice(-6), ['apply', '--namespace', ns, '--name', 'pc', '--spec-hash', hash].slice(-6), 'an apply of the applied spec hash');
  await waitFor('the repair Job to finish', async () => finished((await repairJobs('pc'))[0]));
  t.equal(await gauge(), 1, 'the gauge counts it while Drifted says True');
  // The stand-in leaves Drifted as it was: planning the same request again must not start another Job.
  await new Promise((r) => setTimeout(r, 4000));
  t.equal((await repairJobs('pc')).length, 1, 'one Job per request, not a loop');
  t.ok((await setup.jobsFor('pc')).some((j) => j.metadata?.name === first!.metadata?.name), 'the change\'s own Job is kept (history, not a leftover)');

  const m2 = m1.replace('verify-1', 'verify-2');
  await markDrifted('pc', 'RepairRequested', m2);
  await waitFor('a second repair for the next verify run\'s request', async () => ((await repairJobs('pc')).length === 2 ? true : undefined), { timeoutMs: 60_000 });
  await waitFor('it to finish', async () => ((await repairJobs('pc')).every((j) => finished(j)) ? true : undefined), { timeoutMs: 60_000 });

  await markDrifted('pc', 'DriftDetected', m1.replace('an apply Job restores it', 'the next apply restores it'));
  await new Promise((r) => setTimeout(r, 4000));
  t.equal((await repairJobs('pc')).length, 2, 'report mode: no Job');
  t.equal(await gauge(), 1);
});

t.test('the leader starts a verify Job with the apply Jobs\' identity', async (t) => {
  const job = await waitFor('a verify Job (DRIFT_INTERVAL_SECONDS=10)', async () => (await setup.batch.listNamespacedJob({ namespace: setup.ops, labelSelector: VERIFY_SELECTOR })).items[0], { timeoutMs: 60_000 });
  t.match(job.metadata?.name, /^exposedapi-apim-verify-\d+$/);
  const pod = job.spec?.template.spec;
  t.equal(pod?.serviceAccountName, 'exposedapi-apim-executor');
  t.same(pod?.containers[0]?.args, ['execute', 'verify']);
  t.same(pod?.containers[0]?.envFrom, [{ configMapRef: { name: 'exposedapi-apim-config' } }], 'the apply Jobs\' configuration');
  t.equal(job.spec?.template.metadata?.labels?.['azure.workload.identity/use'], 'true');
  t.equal((await setup.jobsFor('pc')).filter((j) => j.metadata?.name === job.metadata?.name).length, 0, 'not one of an ExposedAPI\'s Jobs');
});
