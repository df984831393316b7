// The per-object decision, table-driven: which change should run, which Jobs are leftovers, what the status says.
import t from 'tap';
import { DETACH_ANNOTATION, FINALIZER } from '../../core/exposedapi-model.ts';
import type { Condition } from '../../core/exposedapi-status.ts';
import { planFor, type Plan, type PlanContext } from '../../dispatcher/dispatch-plan.ts';
import type { DispatchSummary } from '../../dispatcher/exposedapi-summary.ts';
import { dispatchSummary } from '../../dispatcher/exposedapi-summary.ts';
import { jobName } from '../../dispatcher/job-manifest.ts';
import type { JobSummary } from '../../dispatcher/job-summary.ts';
import type { Claimant, ClaimConflict } from '../../core/rules/claims.ts';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const now = new Date('2026-11-21T10:00:00Z');
const earlier = '2026-11-21T09:00:00.000Z';

const api = (o: Partial<DispatchSummary> = {}): DispatchSummary => ({
  namespace: 'team', name: 'pc', uid: 'u1', resourceVersion: '7', specHash: H1, deleting: false, finalizers: [FINALIZER],
  detach: false, conditions: [], implementation: 'svc', ...o,
});
const name = (hash: string, action: 'apply' | 'delete' | 'release' = 'apply', attempt = 0) => jobName({ namespace: 'team', name: 'pc', specHash: hash, action, attempt });
const job = (hash: string, o: Partial<JobSummary> = {}): JobSummary => ({
  name: name(hash, o.action, o.attempt), namespace: 'team', apiName: 'pc', apiUid: 'u1', specHash: hash, action: 'apply', attempt: 0, deleting: false, ...o,
});
const cond = (type: Condition['type'], status: Condition['status'], reason: string, message: string, specHash?: string): Condition =>
  ({ type, status, reason, message, lastTransitionTime: earlier, ...(specHash ? { specHash } : {}) });
const ctx = (o: Partial<PlanContext> = {}): PlanContext => ({ now, operatorNamespace: 'ops', ...o });
/** Ready as the dispatcher writes it once H1 is applied. */
const readyH1 = cond('Ready', 'True', 'Published', 'published at https://gw/pc', H1);
const claimant = (namespace: string, name: string, path: string, apiId = `${namespace}-${name}`): Claimant => ({ namespace, name, path, apiId, apiIdDerived: true, createdMs: 0 });
/** team/pc (path /payments/v1/transfer) lost its path to other/payments (/payments/v1), or its apiId to x/y. */
const lostPath: ClaimConflict = { kind: 'path', relation: 'inside', claimant: claimant('team', 'pc', '/payments/v1/transfer'), holder: claimant('other', 'payments', '/payments/v1') };
/** Ready's words for lostPath, as the plan writes them. */
const conflictMessage = `${'path "/payments/v1/transfer" is inside path "/payments/v1", claimed by ExposedAPI other/payments of another namespace, and paths of different namespaces must not nest; choose a path outside "/payments/v1"'}. The ExposedAPI created first keeps a claim; no Job runs for this change while the conflict lasts`;
const lostApiId: ClaimConflict = { kind: 'apiId', relation: 'same', claimant: claimant('team', 'pc', '/p'), holder: claimant('x', 'y', '/q', 'team-pc') };

/** The plan, compactly: what to run, what to delete, the conditions written (type=status/reason), flags. */
function brief(p: Plan): Record<string, unknown> {
  return {
    want: p.want ? `${p.want.action}:${p.want.specHash.slice(0, 1)}` : undefined,
    deleteJobs: p.deleteJobs,
    conditions: p.status?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
    lastJob: p.status?.lastJob,
    event: p.event?.reason,
    releaseFinalizer: p.releaseFinalizer || undefined,
    refresh: p.refresh || undefined,
  };
}

const table: { name: string; api: DispatchSummary; jobs?: JobSummary[]; ctx?: Partial<PlanContext>; expect: Record<string, unknown> }[] = [
  { name: 'a new change: run it', api: api(), expect: { want: 'apply:1' } },
  { name: 'applied already: nothing', api: api({ appliedSpecHash: H1, conditions: [readyH1] }), expect: {} },
  // Ready is the dispatcher's (docs/status.md): it follows the executor's record of the change.
  {
    name: 'applied by the executor: Ready True / Published, in the executor\'s words',
    api: api({ appliedSpecHash: H1, conditions: [cond('Published', 'True', 'Published', 'published at https://gw/pc', H1), cond('Ready', 'False', 'JobFailed', 'x', H2)] }),
    expect: { conditions: ['Published=True/Published', 'Ready=True/Published'] },
  },
  {
    name: 'applied by an older executor (Ready True for the hash, no Published): kept as written',
    api: api({ appliedSpecHash: H1, conditions: [cond('Ready', 'True', 'Published', 'older words', H1)] }),
    expect: {},
  },
  {
    name: 'a step failed and the Job retries: Ready False with the executor\'s reason',
    api: api({ lastJob: name(H1), conditions: [cond('Imported', 'False', 'Throttled', 'APIM said 429', H1)] }), jobs: [job(H1)],
    expect: { conditions: ['Imported=False/Throttled', 'Progressing=True/Applying', 'Ready=False/Throttled'] },
  },
  {
    name: 'a step failure of an earlier change says nothing about this one',
    api: api({ specHash: H2, conditions: [cond('Imported', 'False', 'Throttled', 'APIM said 429', H1)] }),
    expect: { want: 'apply:2' },
  },
  { name: 'not stamped by our webhook: nothing', api: api({ specHash: undefined }), expect: {} },
  {
    name: 'its Job runs: Progressing True, lastJob recorded, nothing new',
    api: api(), jobs: [job(H1)],
    expect: { conditions: ['Progressing=True/Applying'], lastJob: name(H1) },
  },
  {
    name: 'an older change\'s Job runs: the new change waits (the queue holds it), Progressing names the running Job',
    api: api({ specHash: H2, lastJob: name(H1) }), jobs: [job(H1)],
    expect: { want: 'apply:2', conditions: ['Progressing=True/Applying'] },
  },
  {
    name: 'its Job completed and the status shows it: Progressing False',
    api: api({ appliedSpecHash: H1, lastJob: name(H1), conditions: [cond('Progressing', 'True', 'Applying', name(H1), H1), readyH1] }), jobs: [job(H1, { outcome: 'Complete' })],
    expect: { conditions: ['Progressing=False/JobComplete', 'Ready=True/Published'] },
  },
  {
    name: 'its Job completed but the cache does not show the result: read the object again first',
    api: api({ lastJob: name(H1) }), jobs: [job(H1, { outcome: 'Complete' })],
    expect: { refresh: true },
  },
  {
    name: '…and if the fresh object still does not show it, that is a failure',
    api: api({ lastJob: name(H1) }), jobs: [job(H1, { outcome: 'Complete' })], ctx: { fresh: true },
    expect: { conditions: ['Progressing=False/JobFailed', 'Ready=False/JobFailed', 'Stalled=True/JobFailed'], event: 'JobFailed' },
  },
  {
    name: 'its Job failed: Ready False / JobFailed, an Event, no retry',
    api: api({ lastJob: name(H1), conditions: [cond('Progressing', 'True', 'Applying', name(H1), H1)] }),
    jobs: [job(H1, { outcome: 'Failed', reason: 'PodFailurePolicy', message: 'Container executor for pod ops/x failed with exit code 42 matching FailJob rule at index 0' })],
    ctx: { fresh: true },
    expect: { conditions: ['Progressing=False/JobFailed', 'Ready=False/JobFailed', 'Stalled=True/JobFailed'], event: 'JobFailed' },
  },
  {
    name: 'its Job failed, seen in the cache: read the object again first (the executor\'s last words may not be there yet)',
    api: api({ lastJob: name(H1) }), jobs: [job(H1, { outcome: 'Failed' })],
    expect: { refresh: true },
  },
  {
    name: 'its Job failed and that is recorded: the recorded words stay, no second Event',
    api: api({ lastJob: name(H1), conditions: [cond('Progressing', 'False', 'JobFailed', name(H1), H1), cond('Ready', 'False', 'JobFailed', 'Job x failed: …; the executor reported …', H1), cond('Stalled', 'True', 'JobFailed', 'Job x failed: …; the executor reported …', H1)] }),
    jobs: [job(H1, { outcome: 'Failed' })],
    expect: {},
  },
  {
    name: 'the failure is recorded: quiet (no second Event), and no new Job even once the failed Job has expired',
    api: api({ lastJob: name(H1), conditions: [cond('Progressing', 'False', 'JobFailed', name(H1), H1), cond('Ready', 'False', 'JobFailed', 'x', H1), cond('Stalled', 'True', 'JobFailed', 'x', H1)] }),
    jobs: [],
    expect: {},
  },
  {
    name: 'a failure recorded by a version without Stalled: Stalled True is added once (kstatus: Failed, not in progress)',
    api: api({ lastJob: name(H1), conditions: [cond('Progressing', 'False', 'JobFailed', name(H1), H1), cond('Ready', 'False', 'JobFailed', 'x', H1)] }),
    jobs: [],
    expect: { conditions: ['Progressing=False/JobFailed', 'Ready=False/JobFailed', 'Stalled=True/JobFailed'] },
  },
  {
    name: 'a new change after a failure runs',
    api: api({ specHash: H2, lastJob: name(H1), conditions: [cond('Ready', 'False', 'JobFailed', 'x', H1)] }), jobs: [job(H1, { outcome: 'Failed' })],
    expect: { want: 'apply:2' },
  },
  {
    name: 'a new change after a failure, admitted by the webhook (Ready Unknown / Pending, Stalled False): runs, nothing to write',
    api: api({ specHash: H2, lastJob: name(H1), conditions: [cond('Ready', 'Unknown', 'Pending', 'change admitted', H2), cond('Stalled', 'False', 'Pending', 'change admitted', H2)] }),
    jobs: [job(H1, { outcome: 'Failed' })],
    expect: { want: 'apply:2' },
  },
  {
    name: 'a new change after a failure that only the dispatcher sees (admitted without our webhook\'s reset): Stalled turns False',
    api: api({ specHash: H2, lastJob: name(H1), conditions: [cond('Ready', 'False', 'JobFailed', 'x', H1), cond('Stalled', 'True', 'JobFailed', 'x', H1)] }),
    jobs: [job(H1, { outcome: 'Failed' })],
    expect: { want: 'apply:2', conditions: ['Ready=False/JobFailed', 'Stalled=False/JobFailed'] },
  },
  {
    name: 'A → B → A: the finished Job for A is a leftover of the first A; delete it and run A again',
    api: api({ appliedSpecHash: H2, lastJob: name(H2) }), jobs: [job(H1, { outcome: 'Complete' }), job(H2, { outcome: 'Complete' })],
    expect: { want: 'apply:1', deleteJobs: [name(H1)] },
  },
  {
    name: 'a Job this leader has just created counts as current before status.lastJob says so',
    api: api(), jobs: [job(H1, { outcome: 'Failed', reason: 'BackoffLimitExceeded' })], ctx: { lastCreated: name(H1), fresh: true },
    expect: { conditions: ['Progressing=False/JobFailed', 'Ready=False/JobFailed', 'Stalled=True/JobFailed'], event: 'JobFailed' },
  },
  {
    name: 'Jobs of an earlier object with the same name are in the way, even running',
    api: api({ uid: 'u2' }), jobs: [job(H1, { apiUid: 'u1' }), job(H2, { apiUid: 'u1', outcome: 'Complete' })],
    expect: { want: 'apply:1', deleteJobs: [name(H1), name(H2)] },
  },
  {
    name: 'a Job being deleted no longer counts',
    api: api(), jobs: [job(H1, { deleting: true })],
    expect: { want: 'apply:1' },
  },
  {
    name: 'Progressing True but no Job runs any more (deleted by hand): Progressing False',
    api: api({ appliedSpecHash: H1, conditions: [cond('Progressing', 'True', 'Applying', name(H1), H1), readyH1] }),
    expect: { conditions: ['Progressing=False/NoActiveJob', 'Ready=True/Published'] },
  },
  // Deletion.
  { name: 'deleted with our finalizer: a delete Job', api: api({ deleting: true, appliedSpecHash: H1 }), expect: { want: 'delete:1' } },
  {
    name: 'deleted while its apply Job runs: the delete waits for it',
    api: api({ deleting: true }), jobs: [job(H1)],
    expect: { want: 'delete:1', conditions: ['Progressing=True/Applying'], lastJob: name(H1) },
  },
  {
    name: 'the delete Job runs: Progressing True / Deleting',
    api: api({ deleting: true, lastJob: name(H1) }), jobs: [job(H1, { outcome: 'Complete' }), job(H1, { action: 'delete' })],
    expect: { conditions: ['Progressing=True/Deleting'], lastJob: name(H1, 'delete') },
  },
  {
    name: 'the delete Job failed: DeleteBlocked naming the escape hatch, an Event',
    api: api({ deleting: true, lastJob: name(H1, 'delete') }), jobs: [job(H1, { action: 'delete', outcome: 'Failed', reason: 'BackoffLimitExceeded' })], ctx: { fresh: true },
    expect: { conditions: ['Progressing=False/JobFailed', 'DeleteBlocked=True/DeleteJobFailed'], event: 'DeleteBlocked' },
  },
  {
    name: 'a blocked delete whose failed Job was deleted (by hand, or its TTL): run the delete again',
    api: api({ deleting: true, lastJob: name(H1, 'delete'), conditions: [cond('DeleteBlocked', 'True', 'DeleteJobFailed', 'x', H1)] }),
    expect: { want: 'delete:1' },
  },
  {
    name: '…and while it runs, DeleteBlocked says it is being retried',
    api: api({ deleting: true, lastJob: name(H1, 'delete'), conditions: [cond('DeleteBlocked', 'True', 'DeleteJobFailed', 'x', H1)] }), jobs: [job(H1, { action: 'delete' })],
    expect: { conditions: ['DeleteBlocked=False/Retrying', 'Progressing=True/Deleting'] },
  },
  {
    name: 'detach-on-delete: release the finalizer at once, whatever runs',
    api: api({ deleting: true, detach: true }), jobs: [job(H1, { action: 'delete' })],
    expect: { releaseFinalizer: true },
  },
  { name: 'deleted, our finalizer already gone: nothing', api: api({ deleting: true, finalizers: ['other/finalizer'] }), expect: {} },
  {
    name: 'a delete of an object re-created with the same name and spec: the old delete Job is a leftover',
    api: api({ uid: 'u2', deleting: true, lastJob: name(H1) }), jobs: [job(H1, { action: 'delete', apiUid: 'u1', outcome: 'Complete' })],
    expect: { want: 'delete:1', deleteJobs: [name(H1, 'delete')] },
  },
  // Claims (core/rules/claims.ts): an object that loses one gets no apply Job.
  { name: 'a lost path claim: no Job, Ready False / PathConflict, an Event', api: api(), ctx: { lostClaims: [lostPath] }, expect: { conditions: ['Ready=False/PathConflict', 'Stalled=True/PathConflict'], event: 'PathConflict' } },
  { name: 'a lost apiId claim: no Job, Ready False / ApiIdConflict', api: api(), ctx: { lostClaims: [lostApiId] }, expect: { conditions: ['Ready=False/ApiIdConflict', 'Stalled=True/ApiIdConflict'], event: 'ApiIdConflict' } },
  {
    name: 'the conflict is recorded already: quiet, still no Job',
    api: api({ conditions: [cond('Ready', 'False', 'PathConflict', conflictMessage, H1), cond('Stalled', 'True', 'PathConflict', conflictMessage, H1)] }),
    ctx: { lostClaims: [lostPath] }, expect: {},
  },
  {
    name: 'the conflict is gone (holder deleted or moved): the change runs, Ready no longer claims a conflict',
    api: api({ conditions: [cond('Ready', 'False', 'PathConflict', 'x', H1), cond('Stalled', 'True', 'PathConflict', 'x', H1)] }), ctx: { lostClaims: [] },
    expect: { want: 'apply:1', conditions: ['Ready=Unknown/ConflictResolved', 'Stalled=False/ConflictResolved'] },
  },
  { name: 'a lost claim of a change applied already: nothing to gate, nothing written', api: api({ appliedSpecHash: H1, conditions: [readyH1] }), ctx: { lostClaims: [lostPath] }, expect: {} },
  { name: 'a delete is never gated by a lost claim', api: api({ deleting: true }), ctx: { lostClaims: [lostPath] }, expect: { want: 'delete:1' } },
];

for (const row of table) {
  t.test(row.name, async (t) => {
    const plan = planFor(row.api, row.jobs ?? [], ctx(row.ctx));
    const got = brief(plan);
    const want = { want: undefined, deleteJobs: [], conditions: undefined, lastJob: undefined, event: undefined, releaseFinalizer: undefined, refresh: undefined, ...row.expect };
    t.same(got, want);
  });
}

t.test('messages carry the Job, the reason and the fix', async (t) => {
  const failed = planFor(api({ lastJob: name(H1), conditions: [cond('Imported', 'False', 'ImportRejected', 'APIM said: operationId missing', H1), cond('Ready', 'False', 'ImportRejected', 'APIM said: operationId missing', H1)] }),
    [job(H1, { outcome: 'Failed', reason: 'PodFailurePolicy', message: 'Container executor for pod ops/x failed with exit code 42 matching FailJob rule at index 0' })], ctx({ fresh: true }));
  const ready = failed.status!.conditions.find((c) => c.type === 'Ready')!;
  t.equal(ready.specHash, H1);
  t.match(ready.message, `Job ops/${name(H1)} failed: PodFailurePolicy: Container executor`);
  t.match(ready.message, 'exit code 42: a permanent error; retrying cannot help');
  t.match(ready.message, 'the executor reported ImportRejected: APIM said: operationId missing', 'the executor\'s own words are kept');
  t.equal(failed.event?.type, 'Warning');

  const blocked = planFor(api({ deleting: true, lastJob: name(H1, 'delete'), conditions: [cond('CleanedUp', 'False', 'ApimUnavailable', 'APIM answered 503', H1)] }), [job(H1, { action: 'delete', outcome: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' })], ctx({ fresh: true }));
  const db = blocked.status!.conditions.find((c) => c.type === 'DeleteBlocked')!;
  t.match(db.message, 'the executor reported ApimUnavailable: APIM answered 503', 'the executor\'s CleanedUp words are quoted');
  t.match(db.message, `kubectl annotate exposedapi -n team pc ${DETACH_ANNOTATION}=true`);
  t.match(db.message, `kubectl delete job -n ops ${name(H1, 'delete')}`);
  t.equal(blocked.event?.message, db.message);

  const gated = planFor(api(), [], ctx({ lostClaims: [lostPath, lostApiId] }));
  const conflict = gated.status!.conditions.find((c) => c.type === 'Ready')!;
  t.equal(conflict.reason, 'PathConflict', 'the first lost claim names the reason');
  t.match(conflict.message, 'path "/payments/v1/transfer" is inside path "/payments/v1", claimed by ExposedAPI other/payments');
  t.match(conflict.message, '; also the apiId derived from namespace and name, "team-pc", is already claimed by ExposedAPI x/y');
  t.match(conflict.message, 'no Job runs for this change while the conflict lasts');
  t.equal(conflict.specHash, H1);
});

t.test('summaries read what the dispatcher needs from an ExposedAPI', async (t) => {
  const s = dispatchSummary({
    apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI',
    metadata: {
      namespace: 'team', name: 'pc', uid: 'u1', resourceVersion: '42', deletionTimestamp: earlier,
      annotations: { 'exposedapi-apim.io/spec-hash': H1, [DETACH_ANNOTATION]: ' True ' },
      finalizers: [FINALIZER, 'x/y'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'c1' }, { apiVersion: 'oda.tmforum.org/v1', kind: 'Component', name: 'ctk', uid: 'comp-1' }],
    },
    spec: { implementation: 'svc', specification: 'x'.repeat(100_000) },
    status: { appliedSpecHash: H2, lastJob: 'j', implementation: { ready: true }, conditions: [{ type: 'Ready', status: 'True', reason: 'Applied', message: '', lastTransitionTime: earlier, specHash: H2 }, 'junk'] },
  });
  t.same(s, {
    namespace: 'team', name: 'pc', uid: 'u1', resourceVersion: '42', specHash: H1, appliedSpecHash: H2, lastJob: 'j', deleting: true,
    finalizers: [FINALIZER, 'x/y'], detach: true, conditions: [cond('Ready', 'True', 'Applied', '', H2)], implementation: 'svc', implementationReady: true,
    component: { name: 'ctk', uid: 'comp-1' },
  });
  t.notOk(JSON.stringify(s).includes('xxxx'), 'the spec itself is not kept');
});

// Retries after a transient failure (dispatcher/job-retry.ts): each attempt a Job of its own, its time from the
// failed Job, Ready saying when and why, one Event per scheduled retry, permanent failures and a new change as before.
t.test('retries: a transient failure is tried again after a backoff derived from the failed Job', async (t) => {
  const MIN = 60_000;
  const retry = { limit: 3, baseMs: MIN, maxMs: 4 * MIN, jitter: 0 };
  const endedAt = Date.parse('2026-11-21T09:58:00Z');
  const failed = (attempt: number, o: Partial<JobSummary> = {}) => job(H1, { attempt, outcome: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', endedAtMs: endedAt, ...o });
  const executorSays = cond('Imported', 'False', 'ApimUnavailable', 'APIM answered 503 ServiceUnavailable', H1);
  /** The object after the dispatcher wrote a plan's status. */
  const written = (before: DispatchSummary, p: Plan): DispatchSummary => ({ ...before, conditions: p.status?.conditions ?? before.conditions, ...(p.status?.lastJob ? { lastJob: p.status.lastJob } : {}) });
  const readyOf = (p: Plan) => p.status?.conditions.find((c) => c.type === 'Ready');

  // The first Job failed: the end is judged on the object as stored now, then retry 1 is scheduled.
  let obj = api({ lastJob: name(H1), conditions: [executorSays] });
  t.same(brief(planFor(obj, [failed(0)], ctx({ retry }))), { want: undefined, deleteJobs: [], conditions: undefined, lastJob: undefined, event: undefined, releaseFinalizer: undefined, refresh: true }, 'a fresh read first');
  const first = planFor(obj, [failed(0)], ctx({ retry, fresh: true }));
  t.match(brief(first), { want: 'apply:1', conditions: ['Imported=False/ApimUnavailable', 'Ready=False/RetryScheduled', 'Progressing=False/JobFailed'], event: 'RetryScheduled' });
  t.equal(first.want?.attempt, 1);
  t.notOk(first.status!.conditions.some((c) => c.type === 'Stalled'), 'a scheduled retry is not Stalled: kstatus reads it as in progress');
  t.equal(first.notBeforeMs, endedAt + MIN, 'due one base wait after the failed Job ended');
  const ready = readyOf(first)!;
  t.match(ready.message, `retry 1 of 3 (Job ops/${name(H1, 'apply', 1)}) at 2026-11-21T09:59:00.000Z, 1m after the failed Job ended, because every retry of the Job failed`, 'when, which Job and why, first');
  t.match(ready.message, 'the executor reported ApimUnavailable: APIM answered 503', 'with the executor\'s own words');
  t.match(ready.message, 'exposedapi-apim.io/reconcile-at) runs at once');
  t.equal(first.event?.message, ready.message);
  t.equal(first.event?.type, 'Warning');

  // Planned again (an event, a resync, a new leader with nothing in memory): the same attempt and time, nothing written.
  obj = written(obj, first);
  for (const c of [ctx({ retry }), ctx({ retry, lastCreated: undefined }), ctx({ retry, fresh: true })]) {
    const again = planFor(obj, [failed(0)], c);
    t.same({ status: again.status, event: again.event, refresh: again.refresh, attempt: again.want?.attempt, at: again.notBeforeMs }, { status: undefined, event: undefined, refresh: false, attempt: 1, at: endedAt + MIN }, 'replanned: quiet, same schedule');
  }

  // Retry 1 runs (this leader created it): Progressing follows it; the executor's words count again.
  const running = planFor(obj, [failed(0), job(H1, { attempt: 1 })], ctx({ retry, lastCreated: name(H1, 'apply', 1) }));
  t.match(brief(running), { want: undefined, conditions: ['Imported=False/ApimUnavailable', 'Ready=False/ApimUnavailable', 'Progressing=True/Applying'], lastJob: name(H1, 'apply', 1) });
  obj = written(obj, running);

  // Retry 1 failed too: retry 2 twice as late, a new Event; the first Job stays in the history.
  const second = planFor(obj, [failed(0), failed(1)], ctx({ retry, fresh: true }));
  t.match(brief(second), { want: 'apply:1', deleteJobs: [], event: 'RetryScheduled' });
  t.equal(second.want?.attempt, 2);
  t.equal(second.notBeforeMs, endedAt + 2 * MIN);

  // The last retry failed: the change waits for a new one, and says so.
  const spent = planFor({ ...obj, lastJob: name(H1, 'apply', 3) }, [failed(0), failed(1), failed(2), failed(3)], ctx({ retry, fresh: true }));
  t.match(brief(spent), { want: undefined, deleteJobs: [], conditions: ['Imported=False/ApimUnavailable', 'Ready=False/JobFailed', 'Progressing=False/JobFailed', 'Stalled=True/JobFailed'], event: 'JobFailed' });
  t.match(readyOf(spent)!.message, 'Not retried: every retry of the Job failed with a retriable error, and all 3 retries (JOB_RETRY_LIMIT) are spent');

  // A permanent failure during the retries: no further Job.
  const permanent = planFor(obj, [failed(0), failed(1, { reason: 'PodFailurePolicy', message: 'Container executor failed with exit code 42 matching FailJob rule at index 0' })], ctx({ retry, fresh: true, lastCreated: name(H1, 'apply', 1) }));
  t.match(brief(permanent), { want: undefined, event: 'JobFailed', conditions: ['Imported=False/ApimUnavailable', 'Ready=False/JobFailed', 'Progressing=False/JobFailed', 'Stalled=True/JobFailed'] });
  t.notMatch(readyOf(permanent)!.message, 'Not retried', 'a permanent failure keeps its words');

  // A new change resets the attempts: its first Job, at once.
  const edited = planFor({ ...obj, specHash: H2 }, [failed(0), failed(1)], ctx({ retry }));
  t.match(brief(edited), { want: 'apply:2' });
  t.notOk(edited.want?.attempt, 'its first Job');
  t.equal(edited.notBeforeMs, undefined, 'no backoff for a new change');

  // Retries off: as before retries existed, plus why.
  const off = planFor(api({ lastJob: name(H1) }), [failed(0)], ctx({ retry: { ...retry, limit: 0 }, fresh: true }));
  t.match(brief(off), { want: undefined, conditions: ['Progressing=False/JobFailed', 'Ready=False/JobFailed', 'Stalled=True/JobFailed'], event: 'JobFailed' });
  t.match(readyOf(off)!.message, 'retries are off (JOB_RETRY_LIMIT=0)');
});

t.test('retries: the chain survives restarts and leftovers, and status cannot pull an attempt forward', async (t) => {
  const MIN = 60_000;
  const retry = { limit: 5, baseMs: MIN, maxMs: 4 * MIN, jitter: 0.2 };
  const endedAt = Date.parse('2026-11-21T09:58:00Z');
  const failed = (attempt: number, o: Partial<JobSummary> = {}) => job(H1, { attempt, outcome: 'Failed', reason: 'DeadlineExceeded', endedAtMs: endedAt, ...o });

  // A retry Job that started and ended while no leader watched (lastJob still names retry 1) is a leftover, as a
  // first Job is in that case: deleted, and run again (its time is long past).
  const unseen = planFor(api({ lastJob: name(H1, 'apply', 1) }), [failed(0), failed(1), failed(2, { outcome: 'Complete', reason: '' })], ctx({ retry, fresh: true }));
  t.match(brief(unseen), { want: 'apply:1', deleteJobs: [name(H1, 'apply', 2)], event: 'RetryScheduled' });
  t.equal(unseen.want?.attempt, 2);

  // A → B → A: every Job of the first A is a leftover; A starts over at its first Job.
  const again = planFor(api({ lastJob: 'b-job', appliedSpecHash: H2 }), [failed(0), failed(1)], ctx({ retry }));
  t.match(brief(again), { want: 'apply:1', deleteJobs: [name(H1, 'apply', 1), name(H1)] });
  t.notOk(again.want?.attempt, 'its first Job');

  // Status is tenant-writable: a forged Ready naming an earlier time does not move the schedule; the words the
  // Job gives are written back after a fresh read.
  const forged = cond('Ready', 'False', 'RetryScheduled', 'retry 1 of 5 at 2000-01-01T00:00:00.000Z', H1);
  const stale = planFor(api({ lastJob: name(H1), conditions: [forged] }), [failed(0)], ctx({ retry }));
  t.equal(stale.refresh, true, 'words that differ from the Job\'s: read again');
  const fixed = planFor(api({ lastJob: name(H1), conditions: [forged] }), [failed(0)], ctx({ retry, fresh: true }));
  t.ok(fixed.notBeforeMs! >= endedAt + MIN * 0.8 && fixed.notBeforeMs! <= endedAt + MIN, `due from the Job: ${new Date(fixed.notBeforeMs!).toISOString()}`);
  t.notMatch(fixed.status!.conditions.find((c) => c.type === 'Ready')!.message, '2000-01-01', 'the forged time is replaced');
  // A permanent failure relabelled as a scheduled retry stays permanent: the Job decides.
  const relabelled = planFor(api({ lastJob: name(H1), conditions: [forged] }), [failed(0, { reason: 'PodFailurePolicy', message: 'failed with exit code 42' })], ctx({ retry, fresh: true }));
  t.match(brief(relabelled), { want: undefined, conditions: ['Ready=False/JobFailed', 'Progressing=False/JobFailed', 'Stalled=True/JobFailed'] });
  // A lost claim holds a retry back like any apply.
  const gated = planFor(api({ lastJob: name(H1) }), [failed(0)], ctx({ retry, fresh: true, lostClaims: [lostPath] }));
  t.equal(gated.want, undefined);
});

t.test('a served document whose implementation is not ready: Ready says so, and the next Job starts when a pod is ready', async (t) => {
  const retry = { limit: 3, baseMs: 60_000, maxMs: 240_000, jitter: 0 };
  const startedAt = Date.parse('2026-11-21T09:57:00Z');
  const endedAt = Date.parse('2026-11-21T09:58:00Z');
  const exit43 = (attempt: number) => job(H1, { attempt, outcome: 'Failed', reason: 'PodFailurePolicy', message: 'Container executor for pod ops/x failed with exit code 43 matching FailJob rule at index 1', startedAtMs: startedAt, endedAtMs: endedAt });
  const executorSays = cond('Validated', 'False', 'ImplementationNotReady', 'spec.specification[0].url: http://svc:8080/v3/api-docs is served by the implementation, and Service team/svc has no ready pod for port 8080', H1);
  const written = (before: DispatchSummary, p: Plan): DispatchSummary => ({ ...before, conditions: p.status?.conditions ?? before.conditions });
  const readyOf = (p: Plan) => p.status?.conditions.find((c) => c.type === 'Ready');
  const notReady = { ready: false };

  let obj = api({ lastJob: name(H1), conditions: [executorSays] });
  t.match(brief(planFor(obj, [exit43(0)], ctx({ retry, implementation: notReady }))), { refresh: true }, 'the Job\'s end is judged on a fresh read');
  const waiting = planFor(obj, [exit43(0)], ctx({ retry, implementation: notReady, fresh: true }));
  t.match(brief(waiting), { want: undefined, conditions: ['Validated=False/ImplementationNotReady', 'Ready=False/ImplementationNotReady', 'Progressing=False/JobFailed'], event: 'ImplementationNotReady' });
  t.match(readyOf(waiting)!.message, /^waiting for a ready pod of Service team\/svc to read the document it serves; the next Job starts when its EndpointSlices show one, without a new change\. Job ops\/.* failed: PodFailurePolicy.*the executor reported ImplementationNotReady/);
  t.notOk(waiting.status!.conditions.some((c) => c.type === 'Stalled'), 'not Stalled: it goes on by itself');

  // Planned again while the pods are not ready (resyncs, slice events, a new leader): quiet, no fresh read, no Job.
  obj = written(obj, waiting);
  for (const c of [ctx({ retry, implementation: notReady }), ctx({ retry, implementation: notReady, fresh: true })]) {
    const again = planFor(obj, [exit43(0)], c);
    t.same({ status: again.status, event: again.event, refresh: again.refresh, want: again.want }, { status: undefined, event: undefined, refresh: false, want: undefined }, 'waiting: nothing to do');
  }

  // A pod became ready after the Job started: the next attempt at once.
  const ready = planFor(obj, [exit43(0)], ctx({ retry, implementation: { ready: true, readySinceMs: startedAt + 30_000 } }));
  t.match(brief(ready), { want: 'apply:1', refresh: undefined, conditions: ['Validated=False/ImplementationNotReady', 'Ready=False/RetryScheduled', 'Progressing=False/JobFailed'] });
  t.equal(ready.want?.attempt, 1);
  t.equal(ready.notBeforeMs, endedAt, 'due now (the failed Job\'s end is past)');
  t.match(readyOf(ready)!.message, `attempt 1 (Job ops/${name(H1, 'apply', 1)}) now because the executor exited 43`);

  // The EndpointSlices said ready before the Job started, yet the executor found none: the ordinary backoff.
  const stale = planFor(obj, [exit43(0)], ctx({ retry, implementation: { ready: true, readySinceMs: startedAt - 1 } }));
  t.equal(stale.want?.attempt, 1);
  t.equal(stale.notBeforeMs, endedAt + 60_000, 'a backoff, not back-to-back Jobs');

  // READINESS_SYNC=false: the ordinary transient retries.
  const noWatch = planFor(api({ lastJob: name(H1), conditions: [executorSays] }), [exit43(0)], ctx({ retry, fresh: true }));
  t.match(brief(noWatch), { want: 'apply:1', event: 'RetryScheduled' });
  t.equal(noWatch.notBeforeMs, endedAt + 60_000);
});
