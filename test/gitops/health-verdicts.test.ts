// What Argo CD (manifests/gitops/argocd-health.lua, run by Lua 5.1) and Flux's kstatus (sigs.k8s.io/cli-utils, built
// from the Go module proxy) report for an ExposedAPI in every state of a change. The statuses come from the code that
// writes them — admission's reset (admittedChange) and the dispatcher's plan (planFor) over the executor's conditions —
// not from hand-written conditions; the last rows are hand-made on purpose, to pin down what each tool does with
// objects our operator does not produce (never admitted, an older operator's status, an observedGeneration).
// The same verdicts on objects of the running system: argocd-health.test.ts.
import t from 'tap';
import { FINALIZER, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { admittedChange, STALLED_REASONS, type Condition } from '../../core/exposedapi-status.ts';
import { planFor, type PlanContext } from '../../dispatcher/dispatch-plan.ts';
import type { DispatchSummary } from '../../dispatcher/exposedapi-summary.ts';
import { jobName } from '../../dispatcher/job-manifest.ts';
import type { JobSummary } from '../../dispatcher/job-summary.ts';
import type { ClaimConflict } from '../../core/rules/claims.ts';
import { HEALTH_LUA } from './argocd-cm-patch.ts';
import { kstatus, kstatusBinary } from './kstatus-binary.ts';
import { runHealthScript } from './lua-health.ts';

type Obj = Record<string, any>;
const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const now = new Date('2026-11-29T10:00:00Z');
const ctx = (o: Partial<PlanContext> = {}): PlanContext => ({ now, operatorNamespace: 'exposedapi-apim', fresh: true, ...o });
const exec = (type: Condition['type'], status: Condition['status'], reason: string, message: string, specHash = H1): Condition =>
  ({ type, status, reason, message, specHash, lastTransitionTime: '2026-11-29T09:59:00.000Z' });

/** The dispatcher's view of an object of hash H1 with these conditions. */
const summary = (conditions: Condition[], o: Partial<DispatchSummary> = {}): DispatchSummary => ({
  namespace: 'team', name: 'catalog', uid: 'u1', resourceVersion: '7', specHash: H1, deleting: false, finalizers: [FINALIZER], detach: false,
  conditions, implementation: 'svc', ...o,
});
const change = { namespace: 'team', name: 'catalog', specHash: H1, action: 'apply' as const };
const job = (o: Partial<JobSummary> = {}): JobSummary => ({
  name: jobName({ ...change, attempt: o.attempt ?? 0 }), namespace: 'team', apiName: 'catalog', apiUid: 'u1', specHash: H1, action: 'apply', attempt: 0, deleting: false, ...o,
});
/** The conditions after the dispatcher wrote its plan. */
const planned = (api: DispatchSummary, jobs: JobSummary[], o: Partial<PlanContext> = {}): Condition[] => planFor(api, jobs, ctx(o)).status?.conditions ?? api.conditions;
const holder = { namespace: 'other', name: 'payments', path: '/catalog', apiId: 'other-payments', apiIdDerived: true, createdMs: 0 };
const lostPath: ClaimConflict = { kind: 'path', relation: 'same', claimant: { ...holder, namespace: 'team', name: 'catalog', apiId: 'team-catalog' }, holder };

/** The object as stored: the webhook's annotation, a generation (it moves with every write), the status written. */
function stored(hash: string | undefined, status: Obj | undefined, metadata: Obj = {}): Obj {
  return {
    apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI',
    metadata: { name: 'catalog', namespace: 'team', generation: 12, ...(hash ? { annotations: { [SPEC_HASH_ANNOTATION]: hash } } : {}), ...metadata },
    spec: { name: 'catalog', apiType: 'openapi', implementation: 'svc', path: '/catalog', port: 8080 },
    ...(status ? { status } : {}),
  };
}

const admitted = admittedChange(undefined, H1, now);
const running = planned(summary(admitted), [job()]);
const stepFails = planned(summary([...running, exec('Imported', 'False', 'Throttled', 'APIM answered 429; retrying')], { lastJob: job().name }), [job()]);
const retry = { limit: 3, baseMs: 60_000, maxMs: 240_000, jitter: 0 };
const transientFailure = job({ outcome: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', endedAtMs: now.getTime() - 1000 });
const retryScheduled = planned(summary([...admitted, exec('Imported', 'False', 'ApimUnavailable', 'APIM answered 503')], { lastJob: job().name }), [transientFailure], { retry });
const permanentFailure = job({ outcome: 'Failed', reason: 'PodFailurePolicy', message: 'Container executor for pod x failed with exit code 42 matching FailJob rule at index 0' });
const failed = planned(summary([...running, exec('Imported', 'False', 'ImportRejected', 'APIM refused the document: operationId missing')], { lastJob: job().name }), [permanentFailure]);
const conflict = planned(summary(admitted), [], { lostClaims: [lostPath] });
const resolved = planned(summary(conflict), [], { lostClaims: [] });
const published = exec('Published', 'True', 'Published', 'published at https://apim.example.net/catalog');
const applied = planned(summary([...running, published], { appliedSpecHash: H1, lastJob: job().name }), [job({ outcome: 'Complete' })]);

const rows: { name: string; obj: Obj; argo: string; kstatus: string; message?: RegExp }[] = [
  { name: 'admitted: the webhook\'s reset, before the dispatcher says anything', obj: stored(H1, { conditions: admitted }), argo: 'Progressing', kstatus: 'InProgress', message: /change admitted/ },
  { name: 'its Job runs', obj: stored(H1, { conditions: running }), argo: 'Progressing', kstatus: 'InProgress', message: /\(Job team-catalog-[0-9a-f]+ running\)$/ },
  { name: 'a step fails while its Job retries', obj: stored(H1, { conditions: stepFails }), argo: 'Progressing', kstatus: 'InProgress', message: /^Throttled: APIM answered 429/ },
  { name: 'a retry is scheduled after a transient failure', obj: stored(H1, { conditions: retryScheduled }), argo: 'Progressing', kstatus: 'InProgress', message: /^RetryScheduled: retry 1 of 3/ },
  { name: 'its Job failed for good (exit 42)', obj: stored(H1, { conditions: failed }), argo: 'Degraded', kstatus: 'Failed', message: /^JobFailed: .*ImportRejected: APIM refused the document/ },
  { name: 'another ExposedAPI holds its path', obj: stored(H1, { conditions: conflict }), argo: 'Degraded', kstatus: 'Failed', message: /^PathConflict: / },
  { name: 'the conflict is gone: dispatched', obj: stored(H1, { conditions: resolved }), argo: 'Progressing', kstatus: 'InProgress', message: /^ConflictResolved/ },
  { name: 'applied', obj: stored(H1, { conditions: applied, appliedSpecHash: H1 }), argo: 'Healthy', kstatus: 'Current', message: /^published at https:\/\/apim\.example\.net\/catalog$/ },
  { name: 'an update admitted after it was applied', obj: stored(H2, { conditions: admittedChange(applied, H2, now), appliedSpecHash: H1 }), argo: 'Progressing', kstatus: 'InProgress' },
  { name: 'an update admitted after a failure', obj: stored(H2, { conditions: admittedChange(failed, H2, now) }), argo: 'Progressing', kstatus: 'InProgress' },
  // Not produced by this operator; what each tool makes of it.
  { name: 'never admitted by our webhook (no annotation, no status): kstatus calls any CR without conditions Current', obj: stored(undefined, undefined), argo: 'Progressing', kstatus: 'Current', message: /no exposedapi-apim\.io\/spec-hash annotation/ },
  { name: 'an older webhook left the previous change\'s Ready True: Argo CD compares hashes, kstatus cannot (why admission resets Ready)', obj: stored(H2, { conditions: applied }), argo: 'Progressing', kstatus: 'Current', message: /Waiting for the operator/ },
  { name: 'a failure recorded by an operator without Stalled (the dispatcher adds it on its next pass)', obj: stored(H1, { conditions: [exec('Ready', 'False', 'JobFailed', 'Job x failed')] }), argo: 'Degraded', kstatus: 'InProgress' },
  { name: 'being deleted (Argo CD itself says Pending deletion first)', obj: stored(H1, { conditions: applied }, { deletionTimestamp: '2026-11-29T10:00:00Z' }), argo: 'Progressing', kstatus: 'Terminating' },
  { name: 'a delete that failed', obj: stored(H1, { conditions: [...applied, exec('DeleteBlocked', 'True', 'DeleteJobFailed', 'the delete Job failed; kubectl annotate …')] }, { deletionTimestamp: '2026-11-29T10:00:00Z' }), argo: 'Degraded', kstatus: 'Terminating' },
  { name: 'an observedGeneration (never written: every status write moves generation past it)', obj: stored(H1, { conditions: applied, observedGeneration: 11 }), argo: 'Healthy', kstatus: 'InProgress' },
];

const binary = await kstatusBinary();
const verdicts = await kstatus(binary, rows.map((r) => r.obj));

for (const [i, row] of rows.entries()) {
  t.test(row.name, async (t) => {
    const health = await runHealthScript(HEALTH_LUA, row.obj);
    t.equal(health.status, row.argo, `Argo CD: ${health.status} (${health.message})`);
    if (row.message) t.match(health.message, row.message);
    t.equal(verdicts[i]!.status, row.kstatus, `kstatus: ${verdicts[i]!.status} (${verdicts[i]!.message})`);
  });
}

t.test('every reason the Lua treats as stalled is one the model stalls on, and the other way round', async (t) => {
  for (const reason of STALLED_REASONS) {
    const health = await runHealthScript(HEALTH_LUA, stored(H1, { conditions: [exec('Ready', 'False', reason, 'x')] }));
    t.equal(health.status, 'Degraded', `Ready False / ${reason} without Stalled (an older operator) is Degraded`);
  }
  for (const reason of ['RetryScheduled', 'ImplementationNotReady', 'Throttled', 'ApimUnavailable', 'AddressPending', 'ImportRejected', 'Pending']) {
    const health = await runHealthScript(HEALTH_LUA, stored(H1, { conditions: [exec('Ready', 'False', reason, 'x')] }));
    t.equal(health.status, 'Progressing', `Ready False / ${reason} alone: its Job or a retry still works on it`);
  }
});

t.test('the health script survives what tenants can write into status (the ODA CRD has no status subresource)', async (t) => {
  const odd: Obj[] = [
    stored(H1, { conditions: 'not a list' }),
    stored(H1, { conditions: [null, 7, 'x', { type: 'Ready' }, { type: 'Ready', status: 'True', specHash: H1 }] }),
    stored(H1, 'not an object' as unknown as Obj),
    stored(H1, { conditions: [{ type: 'Ready', status: 'True', specHash: H1, message: { nested: true } }] }),
    { apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI' },
  ];
  for (const obj of odd) {
    const health = await runHealthScript(HEALTH_LUA, obj);
    t.ok(['Progressing', 'Healthy'].includes(health.status), `${JSON.stringify(obj['status'] ?? null)} → ${health.status}, no script error (Argo CD would show Unknown)`);
  }
});
