// Drift on the dispatcher's side (docs/drift.md): the repair Job a Drifted RepairRequested asks for (one per request,
// none in report mode, none for a stale hash, none while a claim is lost, the change's own Jobs kept as history), the
// verify Jobs' manifest and schedule, and the gauge.
import t from 'tap';
import { FINALIZER } from '../../core/exposedapi-model.ts';
import type { Condition } from '../../core/exposedapi-status.ts';
import { planFor, repairRequested, type PlanContext } from '../../dispatcher/dispatch-plan.ts';
import type { DispatchSummary } from '../../dispatcher/exposedapi-summary.ts';
import { jobName, jobLabels, repairTag } from '../../dispatcher/job-manifest.ts';
import type { JobSummary } from '../../dispatcher/job-summary.ts';
import { jobSummary } from '../../dispatcher/job-summary.ts';
import { buildVerifyJob, nextVerifyDueMs, verifyJobName, VERIFY_SELECTOR } from '../../dispatcher/drift-schedule.ts';
import { isDrifted } from '../../dispatcher/drift-gauge.ts';
import { readDispatcherConfig } from '../../core/dispatcher-config.ts';
import { buildJob } from '../../dispatcher/job-manifest.ts';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const change = { namespace: 'team', name: 'pc', specHash: H1, action: 'apply' as const };
const first = jobName(change);
const now = new Date('2026-11-29T10:00:00Z');
const cond = (type: Condition['type'], status: Condition['status'], reason: string, message: string, specHash?: string): Condition =>
  ({ type, status, reason, message, lastTransitionTime: '2026-11-29T09:00:00.000Z', ...(specHash ? { specHash } : {}) });
const readyH1 = cond('Ready', 'True', 'Published', 'published at https://gw/pc', H1);
const repairMsg = 'APIM differs from spec hash 11111111… in policy; an apply Job restores it (found by exposedapi-apim-verify-100)';
const drifted = (reason = 'RepairRequested', hash = H1, message = repairMsg) => cond('Drifted', 'True', reason, message, hash);
const api = (o: Partial<DispatchSummary> = {}): DispatchSummary => ({
  namespace: 'team', name: 'pc', uid: 'u1', resourceVersion: '7', specHash: H1, appliedSpecHash: H1, deleting: false, finalizers: [FINALIZER],
  detach: false, conditions: [readyH1, drifted()], implementation: 'svc', lastJob: jobName(change), ...o,
});
const tag = repairTag(repairMsg);
const repairName = jobName({ ...change, repair: tag });
const job = (name: string, o: Partial<JobSummary> = {}): JobSummary => ({ name, namespace: 'team', apiName: 'pc', apiUid: 'u1', specHash: H1, action: 'apply', attempt: 0, deleting: false, ...o });
const ctx = (o: Partial<PlanContext> = {}): PlanContext => ({ now, operatorNamespace: 'ops', ...o });

t.test('a repair Job per request, and only for a request about the applied spec', async (t) => {
  t.equal(repairRequested(api(), H1), tag);
  t.match(repairName, /-d[0-9a-f]{5}$/);
  t.ok(repairName.length <= 63, `${repairName}: a label value`);
  t.not(repairName, first, 'not the change\'s own Job name');

  const done = job(first, { outcome: 'Complete' });
  const cases: { name: string; api: DispatchSummary; jobs: JobSummary[]; ctx?: Partial<PlanContext>; want?: string; deletes?: string[] }[] = [
    { name: 'requested, the change\'s Job done: the repair runs', api: api({ lastJob: first }), jobs: [done], want: repairName },
    { name: 'requested, the change\'s Job expired (TTL): the repair runs', api: api({ lastJob: first }), jobs: [], want: repairName },
    { name: 'its Job running: nothing more', api: api({ lastJob: repairName }), jobs: [done, job(repairName, { repair: tag })] },
    { name: 'its Job done (the apply wrote Drifted False): nothing more', api: api({ lastJob: repairName, conditions: [readyH1, cond('Drifted', 'False', 'Applied', 'x', H1)] }), jobs: [done, job(repairName, { repair: tag, outcome: 'Complete' })] },
    { name: 'its Job failed without a word (Drifted still asks the same): not again', api: api({ lastJob: repairName }), jobs: [done, job(repairName, { repair: tag, outcome: 'Failed' })] },
    {
      name: 'the next verify run asks again (new message): a new repair',
      api: api({ lastJob: repairName, conditions: [readyH1, drifted('RepairRequested', H1, repairMsg.replace('100', '200'))] }),
      jobs: [done, job(repairName, { repair: tag, outcome: 'Failed' })],
      want: jobName({ ...change, repair: repairTag(repairMsg.replace('100', '200')) }),
    },
    { name: 'report mode (DriftDetected): no Job', api: api({ conditions: [readyH1, drifted('DriftDetected')] }), jobs: [done] },
    { name: 'a failed repair (RepairFailed): no Job until the next verify run', api: api({ conditions: [readyH1, drifted('RepairFailed')] }), jobs: [done] },
    { name: 'about an older spec hash: no Job', api: api({ specHash: H2, appliedSpecHash: H2, conditions: [readyH1, drifted('RepairRequested', H1)] }), jobs: [] },
    { name: 'a new change pending: the change runs, not a repair', api: api({ specHash: H2 }), jobs: [done], want: jobName({ ...change, specHash: H2 }) },
    { name: 'a claim lost meanwhile: no repair', api: api(), jobs: [done], ctx: { lostClaims: [{ kind: 'path', relation: 'same', claimant: { namespace: 'team', name: 'pc', path: '/p', apiId: 'a', apiIdDerived: true, createdMs: 1 }, holder: { namespace: 'o', name: 'q', path: '/p', apiId: 'b', apiIdDerived: true, createdMs: 0 } }] } },
  ];
  for (const c of cases) {
    const plan = planFor(c.api, c.jobs, ctx(c.ctx));
    t.equal(plan.want ? jobName(plan.want) : undefined, c.want, c.name);
    t.same(plan.deleteJobs, c.deletes ?? [], `${c.name}: the change's own Jobs stay (history, not leftovers)`);
  }
  const wanted = planFor(api({ lastJob: first }), [done], ctx()).want!;
  t.equal(wanted.specHash, H1, 'an apply of the applied spec hash');
  t.equal(jobLabels(wanted)['exposedapi-apim.io/repair'], tag, 'labelled with its tag');
  const parsed = readDispatcherConfig({}, { hostname: 'h', randomSuffix: 'r' });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  t.equal(jobSummary(buildJob({ ...wanted, uid: 'u1' }, parsed.config.job, 'ops'))?.repair, tag, 'read back from the Job');
});

t.test('verify Jobs: manifest, a name per due time, due one interval after the newest', async (t) => {
  const parsed = readDispatcherConfig({}, { hostname: 'h', randomSuffix: 'r' });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const config = parsed.config;
  t.equal(config.driftIntervalMs, 3_600_000, 'default: hourly');
  const job = buildVerifyJob(Date.parse('2026-11-29T10:00:00Z'), config.job, 'ops');
  t.equal(job.metadata?.name, verifyJobName(Date.parse('2026-11-29T10:00:00Z')));
  t.equal(job.metadata?.name, 'exposedapi-apim-verify-1795946400');
  t.same(job.spec?.template.spec?.containers[0]?.args, ['execute', 'verify']);
  t.equal(job.spec?.template.spec?.serviceAccountName, config.job.serviceAccountName, 'the apply Jobs\' identity');
  t.equal(job.spec?.template.metadata?.labels?.['azure.workload.identity/use'], 'true');
  t.equal(jobSummary(job), undefined, 'the Job watch of changes ignores it');
  t.match(VERIFY_SELECTOR, 'exposedapi-apim.io/action=verify');
  const hour = 3_600_000;
  t.equal(nextVerifyDueMs([], 1000, hour), 1000 + hour, 'none yet: one interval after the term started');
  t.equal(nextVerifyDueMs([{ createdMs: 5000, active: false }, { createdMs: 9000, active: false }], 1000, hour), 9000 + hour, 'after the newest');
  t.notOk(readDispatcherConfig({ DRIFT_INTERVAL_SECONDS: '5' }, { hostname: 'h', randomSuffix: 'r' }).ok, 'below 10 s: refused');
  t.ok(readDispatcherConfig({ DRIFT_INTERVAL_SECONDS: '0' }, { hostname: 'h', randomSuffix: 'r' }).ok, '0: off');
});

t.test('the gauge counts Drifted True for the current spec hash only', async (t) => {
  t.ok(isDrifted(api()));
  t.ok(isDrifted(api({ conditions: [drifted('DriftDetected')] })));
  t.notOk(isDrifted(api({ conditions: [cond('Drifted', 'False', 'InSync', 'x', H1)] })));
  t.notOk(isDrifted(api({ specHash: H2 })), 'a verdict about an older spec');
  t.notOk(isDrifted(api({ deleting: true })));
});
