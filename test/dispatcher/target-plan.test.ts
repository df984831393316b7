// The dispatcher's side of ApimTargets (issue 16), pure: a target's Jobs carry its instance in their environment, its
// ServiceAccount and a name of their own; the plan publishes on the target chosen now, counts an applied hash only on
// the instance it was applied to, holds an apply whose target is refused (Ready says why), and after a move runs one
// release Job per instance left — after the publish on the new one, and before the delete of a deleted object.
import t from 'tap';
import { readApimTarget, appliedSettingsHash, targetJobEnv } from '../../core/apim-target.ts';
import { FINALIZER } from '../../core/exposedapi-model.ts';
import type { Condition } from '../../core/exposedapi-status.ts';
import { planFor, appliedOnTarget, type PlanContext } from '../../dispatcher/dispatch-plan.ts';
import type { DispatchSummary } from '../../dispatcher/exposedapi-summary.ts';
import { buildJob, jobName, TARGET_LABEL, type JobTarget } from '../../dispatcher/job-manifest.ts';
import type { JobSummary } from '../../dispatcher/job-summary.ts';

const H = 'a'.repeat(64);
const now = new Date('2026-11-29T10:00:00.000Z');
const jobTarget = (name: string, spec: Record<string, unknown> = {}): JobTarget => {
  const r = readApimTarget({ metadata: { name }, spec: { resourceId: `/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg/providers/Microsoft.ApiManagement/service/${name}`, ...spec } });
  if (!r.ok) throw new Error('bad target');
  return { name, settings: appliedSettingsHash(r.target), env: targetJobEnv(r.target), ...(r.target.identity.serviceAccountName ? { serviceAccountName: r.target.identity.serviceAccountName } : {}) };
};
const A = jobTarget('apim-a', { identity: { serviceAccountName: 'executor-a' } });
const B = jobTarget('apim-b', { gatewayUrl: 'https://b.example.com' });
const api = (o: Partial<DispatchSummary> = {}): DispatchSummary => ({
  namespace: 'team', name: 'pc', uid: 'u1', resourceVersion: '7', specHash: H, deleting: false, finalizers: [FINALIZER],
  detach: false, conditions: [], implementation: 'svc', ...o,
});
const ctx = (o: Partial<PlanContext> = {}): PlanContext => ({ now, operatorNamespace: 'ops', ...o });
const onTarget = (job: JobTarget): Pick<PlanContext, 'target'> => ({ target: { kind: 'target', job } });
const done = (name: string, action: JobSummary['action'] = 'apply', outcome: 'Complete' | 'Failed' = 'Complete'): JobSummary =>
  ({ name, namespace: 'team', apiName: 'pc', apiUid: 'u1', specHash: H, action, attempt: 0, deleting: false, outcome } as JobSummary);
const TEMPLATE = {
  image: 'img', serviceAccountName: 'exposedapi-apim-executor', configMapName: 'exposedapi-apim-config', backoffLimit: 3,
  activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 86400, resources: { requests: { cpu: '1', memory: '1' }, limits: { cpu: '1', memory: '1' } },
};

t.test('Job names: the operator\'s instance keeps its names; each target and its applied settings get their own', async (t) => {
  const base = { namespace: 'team', name: 'pc', specHash: H, action: 'apply' as const };
  const names = new Set([jobName(base), jobName({ ...base, target: A }), jobName({ ...base, target: B }), jobName({ ...base, target: { ...A, settings: B.settings } })]);
  t.equal(names.size, 4, 'four different Jobs');
  t.equal(jobName({ ...base, action: 'release', target: A }).length, jobName({ ...base, action: 'delete' }).length, 'a release name is as long as a delete name');
  t.not(jobName({ ...base, action: 'release', target: A }), jobName({ ...base, action: 'release', target: B }));
  t.match(jobName({ ...base, action: 'release', target: { name: '', settings: '' } }), /^team-pc-[0-9a-f]{8}-m[0-9a-f]{5}$/);
});

t.test('a target\'s Job: its env over the ConfigMap, its ServiceAccount, its label', async (t) => {
  const job = buildJob({ namespace: 'team', name: 'pc', uid: 'u1', specHash: H, action: 'apply', target: A }, TEMPLATE, 'ops');
  const pod = job.spec!.template.spec!;
  t.equal(pod.serviceAccountName, 'executor-a');
  t.equal(job.metadata!.labels![TARGET_LABEL], 'apim-a');
  const env = Object.fromEntries(pod.containers[0]!.env!.map((e) => [e.name, e.value]));
  t.match(env, { APIM_TARGET: 'apim-a', APIM_SERVICE_NAME: 'apim-a', APIM_TARGET_SETTINGS: A.settings, APIM_GATEWAY_URL: '' });
  t.same(pod.containers[0]!.envFrom, [{ configMapRef: { name: 'exposedapi-apim-config' } }], 'the ConfigMap still gives everything else');
  const plain = buildJob({ namespace: 'team', name: 'pc', uid: 'u1', specHash: H, action: 'apply' }, TEMPLATE, 'ops');
  t.equal(plain.spec!.template.spec!.serviceAccountName, 'exposedapi-apim-executor', 'no target: the executor\'s account');
  t.same(plain.spec!.template.spec!.containers[0]!.env!.map((e) => e.name), ['JOB_NAME', 'OPERATOR_NAMESPACE'], 'and no env of a target');
  t.notOk(plain.metadata!.labels![TARGET_LABEL]);
});

t.test('an applied hash counts only on the instance it was applied to', async (t) => {
  t.equal(appliedOnTarget(api({ appliedSpecHash: H }), undefined), true, 'before targets existed: the operator\'s instance');
  t.equal(appliedOnTarget(api({ appliedSpecHash: H, appliedTarget: '' }), undefined), true);
  t.equal(appliedOnTarget(api({ appliedSpecHash: H, appliedTarget: 'apim-a', appliedTargetSettings: A.settings }), A), true);
  t.equal(appliedOnTarget(api({ appliedSpecHash: H, appliedTarget: 'apim-a', appliedTargetSettings: 'stale' }), A), false, 'the target\'s applied settings changed');
  t.equal(appliedOnTarget(api({ appliedSpecHash: H, appliedTarget: 'apim-a', appliedTargetSettings: A.settings }), B), false, 'moved to B');
  t.equal(appliedOnTarget(api({ appliedSpecHash: H }), A), false, 'from the operator\'s instance to A');
  const moved = planFor(api({ appliedSpecHash: H, appliedTarget: 'apim-a', appliedTargetSettings: A.settings }), [], ctx(onTarget(B)));
  t.match(moved.want, { action: 'apply', target: { name: 'apim-b' } }, 'an unchanged spec moved to B is applied on B');
  t.equal(planFor(api({ appliedSpecHash: H, appliedTarget: 'apim-b', appliedTargetSettings: B.settings }), [], ctx(onTarget(B))).want, undefined, 'and then nothing more');
  t.equal(planFor(api({ appliedSpecHash: H }), [], ctx()).want, undefined, 'an install without targets starts nothing (upgrade)');
});

t.test('a refused target holds the apply, says why on Ready, and clears when it passes', async (t) => {
  const refused = planFor(api(), [], ctx({ target: { kind: 'refused', reason: 'TargetNotAllowed', message: 'spec.apim.target: namespace "team" may not publish into ApimTarget "apim-b"' } }));
  t.equal(refused.want, undefined, 'no Job');
  const ready = refused.status!.conditions.find((c) => c.type === 'Ready')!;
  t.match(ready, { status: 'False', reason: 'TargetNotAllowed', message: /may not publish into ApimTarget "apim-b"/, specHash: H });
  t.match(refused.event, { type: 'Warning', reason: 'TargetNotAllowed' });
  t.match(refused.status!.conditions.find((c) => c.type === 'Stalled'), { status: 'True', reason: 'TargetNotAllowed' }, 'Stalled: someone must act');
  const again = planFor(api({ conditions: refused.status!.conditions as Condition[] }), [], ctx({ target: { kind: 'refused', reason: 'TargetNotAllowed', message: 'spec.apim.target: namespace "team" may not publish into ApimTarget "apim-b"' } }));
  t.equal(again.event, undefined, 'planned again: no second Event');
  const allowed = planFor(api({ conditions: refused.status!.conditions as Condition[] }), [], ctx(onTarget(A)));
  t.match(allowed.want, { action: 'apply', target: { name: 'apim-a' } });
  t.match(allowed.status!.conditions.find((c) => c.type === 'Ready'), { status: 'Unknown', reason: 'ConflictResolved' });
});

t.test('a move: publish on the new instance first, then one release per instance left', async (t) => {
  const applyB = jobName({ namespace: 'team', name: 'pc', specHash: H, action: 'apply', target: B });
  const onB = api({ appliedSpecHash: H, appliedTarget: 'apim-b', appliedTargetSettings: B.settings, formerTargets: ['apim-a', ''], lastJob: applyB });
  const releases = [A, { name: '', settings: '', env: [] }];
  const first = planFor(onB, [done(applyB)], ctx({ ...onTarget(B), releases }));
  t.match(first.want, { action: 'release', target: { name: 'apim-a', serviceAccountName: 'executor-a' } }, 'A first, as A\'s identity');
  const relA = jobName(first.want!);
  const running = planFor(onB, [done(applyB), { ...done(relA, 'release'), outcome: undefined } as JobSummary], ctx({ ...onTarget(B), releases }));
  t.equal(running.want, undefined, 'one Job at a time per object');
  t.match(running.status?.conditions.find((c) => c.type === 'Progressing'), { status: 'True', reason: 'Releasing' });
  const second = planFor(onB, [done(applyB), done(relA, 'release')], ctx({ ...onTarget(B), releases }));
  t.match(second.want, { action: 'release', target: { name: '' } }, 'then the operator\'s own instance');
  const notYet = planFor(api({ formerTargets: ['apim-a'], appliedTarget: 'apim-a', appliedTargetSettings: A.settings, appliedSpecHash: H }), [], ctx({ ...onTarget(B), releases: [A] }));
  t.match(notYet.want, { action: 'apply', target: { name: 'apim-b' } }, 'nothing is released before the API is published on the new instance');
  const failed = planFor(onB, [done(applyB), done(relA, 'release', 'Failed')], ctx({ ...onTarget(B), releases: [A] }));
  t.equal(failed.want, undefined, 'a failed release is not started again (its Job stays until its TTL)');
});

t.test('a deleted object is released from the instances it left before its delete Job', async (t) => {
  const deleting = api({ deleting: true, appliedSpecHash: H, appliedTarget: 'apim-b', appliedTargetSettings: B.settings, formerTargets: ['apim-a'] });
  const first = planFor(deleting, [], ctx({ ...onTarget(B), releases: [A] }));
  t.match(first.want, { action: 'release', target: { name: 'apim-a' } });
  const rel = jobName(first.want!);
  const then = planFor(deleting, [done(rel, 'release')], ctx({ ...onTarget(B), releases: [A] }));
  t.match(then.want, { action: 'delete', target: { name: 'apim-b' } }, 'then the delete, in the instance it is published in');
});
