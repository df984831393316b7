// The dispatcher's decision for one ExposedAPI, from its cached summary and its Jobs: which change should run (if
// any), which old Jobs are in the way, and what the status should say. Pure and level-based: the same inputs always
// give the same plan, so replaying an event, a relist or a new leader's first pass is harmless.
//
// Durable state lives on the ExposedAPI, not in memory and not in Jobs (which expire after their TTL):
// - status.appliedSpecHash = the change is done;
// - condition Ready False / JobFailed with specHash H = H failed and is not retried until a new change (an edit or
//   a new reconcile-at) gives a new hash. A Job that failed for a transient reason is instead followed by another
//   Job for H after a backoff (job-retry.ts), decided from the failed Job itself and recorded as Ready False /
//   RetryScheduled with the attempt and its time. Ready is the dispatcher's alone (docs/status.md): it summarizes the
//   executor's step conditions (Published when applied), the Job's end and the claims — the executor cannot write
//   it when its Job dies (OOM, deadline, image pull) or never runs (a lost claim);
// - status.lastJob = the Job that worked on the object last. A finished Job named for the current change is this
//   change's result only if lastJob names it (or this leader has just created it); otherwise it is a leftover of an
//   earlier identical change (A → B → A) and is deleted so the change runs again.
import { DETACH_ANNOTATION, RECONCILE_AT_ANNOTATION } from '../core/exposedapi-model.ts';
import { DRIFT_REASONS, IMPLEMENTATION_NOT_READY, setCondition, stalledFor, type Condition } from '../core/exposedapi-status.ts';
import { conflictReason, conflictText, type ClaimConflict } from '../core/rules/claims.ts';
import { boundedConditionMessage, hasOurFinalizer, type DispatchSummary } from './exposedapi-summary.ts';
import type { JobRetryConfig } from '../core/dispatcher-config.ts';
import { jobName, repairTag, type Change, type JobTarget } from './job-manifest.ts';
import { decideRetry, durationText, failureKind, type ImplementationView, type RetryDecision } from './job-retry.ts';
import { failureText, isActive, type JobSummary } from './job-summary.ts';

export interface PlanContext {
  now: Date;
  operatorNamespace: string;
  /** The Job this leader created last for the object: its outcome counts even before status.lastJob says so. */
  lastCreated?: string;
  /** The summary was just read from the apiserver rather than the cache. */
  fresh?: boolean;
  /** Claims (path, apiId) the object loses to older holders (core/rules/claims.ts): no apply Job while there are any. */
  lostClaims?: readonly ClaimConflict[];
  /** Retries of a change whose Job failed for a transient reason; absent = none (the change waits for a new one). */
  retry?: JobRetryConfig;
  /**
   * Where the object publishes (core/target-selection.ts), as the dispatcher resolved it: the ApimTarget's Job
   * settings, or refused with why; absent = the operator's own instance. For an object being deleted: where it was
   * applied (status.apim.target) when that target still exists.
   */
  target?: { kind: 'target'; job: JobTarget } | { kind: 'refused'; reason: string; message: string };
  /** The instances a move left the API in (status.apim.formerTargets) that can be released, resolved to Job settings. */
  releases?: readonly JobTarget[];
  /**
   * The implementation Service as the EndpointSlice watch sees it (absent: READINESS_SYNC=false): a Job that found
   * no ready pod to read a served document from is followed by the next when one is ready.
   */
  implementation?: ImplementationView;
}

/** Whether the applied hash was applied where the object publishes now (the same target and applied settings). */
export function appliedOnTarget(api: DispatchSummary, target: JobTarget | undefined): boolean {
  if (!target) return (api.appliedTarget ?? '') === '';
  return api.appliedTarget === target.name && api.appliedTargetSettings === target.settings;
}

/** Ready reasons the dispatcher writes for a lost claim or a target that cannot be used: cleared when that passes. */
const CLAIM_REASONS = new Set(['PathConflict', 'ApiIdConflict', 'TargetNotFound', 'TargetInvalid', 'TargetAmbiguous', 'TargetNotAllowed']);

export interface PlanEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Plan {
  /** The change that should run now or as soon as the object's running Job ends and the global cap allows. */
  want?: Change;
  /** The wanted change must not start before this (epoch ms): a retry's backoff. */
  notBeforeMs?: number;
  /** Jobs in the way: leftovers of an earlier identical change, or of an earlier object with the same name. */
  deleteJobs: string[];
  /** Status to write (only set when it differs from what the object already says). */
  status?: { conditions: Condition[]; lastJob?: string };
  event?: PlanEvent;
  /** Remove our finalizer without a delete Job (detach-on-delete). */
  releaseFinalizer: boolean;
  /** A Job succeeded but the cache does not show its result: read the object again and plan with `fresh`. */
  refresh: boolean;
}

type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

function same(a: Condition | undefined, b: ConditionInput): boolean {
  return !!a && a.status === b.status && a.reason === b.reason && a.message === b.message && (a.specHash ?? '') === (b.specHash ?? '');
}

/** setCondition, but returns the very same list when nothing would change (so "no write needed" is cheap to see). */
export function ensureCondition(conditions: Condition[], next: ConditionInput, now: Date): Condition[] {
  // Bounded as the summary reads it back (a long executor message quoted in ours), else every plan would rewrite it.
  const capped = { ...next, message: boundedConditionMessage(next.message) };
  return same(conditions.find((c) => c.type === capped.type), capped) ? conditions : setCondition(conditions, capped, now);
}

export function conditionOf(conditions: readonly Condition[], type: Condition['type']): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

/** The change with hash H failed and the failure is recorded: wait for a new change. */
export function failureRecorded(api: DispatchSummary, hash: string): boolean {
  const ready = conditionOf(api.conditions, 'Ready');
  return !!ready && ready.status === 'False' && ready.reason === 'JobFailed' && ready.specHash === hash;
}

/** Ready reason while the next Job for a failed change waits for its backoff. */
export const RETRY_SCHEDULED = 'RetryScheduled';

/** A retry of change H is scheduled (the failed Job, not this condition, says when: status is tenant-writable). */
export function retryRecorded(api: DispatchSummary, hash: string): boolean {
  const ready = conditionOf(api.conditions, 'Ready');
  return !!ready && ready.status === 'False' && ready.reason === RETRY_SCHEDULED && ready.specHash === hash;
}

/** Change H waits for the implementation's pods (its Job exited 43; the Job, not this condition, says so). */
export function implementationWaitRecorded(api: DispatchSummary, hash: string): boolean {
  const ready = conditionOf(api.conditions, 'Ready');
  return !!ready && ready.status === 'False' && ready.reason === IMPLEMENTATION_NOT_READY && ready.specHash === hash;
}

/** The delete of hash H failed and the failure is recorded. */
export function deleteBlockedRecorded(api: DispatchSummary, hash: string): boolean {
  const blocked = conditionOf(api.conditions, 'DeleteBlocked');
  return !!blocked && blocked.status === 'True' && blocked.specHash === hash;
}

/**
 * The repair the verify run asked for (docs/drift.md): Drifted True with reason RepairRequested for the applied hash H
 * gives the tag of one apply Job of H (job-manifest.ts repairTag). The apply sets Drifted False (or RepairFailed), so a
 * repair is asked for once per verify run that finds drift, never in a loop. The condition is tenant-writable: a forged
 * one buys its tenant an apply of its own applied spec, which a new reconcile-at buys too.
 */
export function repairRequested(api: DispatchSummary, hash: string): string | undefined {
  const drifted = conditionOf(api.conditions, 'Drifted');
  if (!drifted || drifted.status !== 'True' || drifted.reason !== DRIFT_REASONS.repairRequested) return undefined;
  if (drifted.specHash !== hash || api.appliedSpecHash !== hash) return undefined;
  return repairTag(drifted.message);
}

function jobRef(ctx: PlanContext, name: string): string {
  return `${ctx.operatorNamespace}/${name}`;
}

export function planFor(summary: DispatchSummary, jobs: readonly JobSummary[], ctx: PlanContext): Plan {
  const plan: Plan = { deleteJobs: [], releaseFinalizer: false, refresh: false };
  const where = ctx.target?.kind === 'target' ? ctx.target.job : undefined;
  // The applied hash counts only on the instance it was applied to: a new target (or new applied settings of the
  // target) is a change of its own, with Jobs of its own (job-manifest.ts jobName).
  const api = summary.appliedSpecHash !== undefined && !appliedOnTarget(summary, where) ? { ...summary, appliedSpecHash: undefined } : summary;
  let conditions = api.conditions;
  let lastJob: string | undefined;
  const set = (c: ConditionInput) => {
    conditions = ensureCondition(conditions, c, ctx.now);
  };
  const finish = (): Plan => {
    // Stalled follows Ready (core/exposedapi-status.ts: kstatus's Failed), so it rides along Ready's write; only an
    // object that failed under a version without Stalled gets a write for it alone, once.
    const stalled = api.specHash === undefined ? undefined : stalledFor(conditions, api.specHash);
    if (stalled) set(stalled);
    if (conditions !== api.conditions || lastJob !== undefined) {
      plan.status = { conditions, ...(lastJob !== undefined ? { lastJob } : {}) };
    }
    return plan;
  };

  const live = jobs.filter((j) => !j.deleting);
  // A Job created for an earlier object of the same name is in the way, running or not: that object is gone.
  const belongs = (j: JobSummary) => !j.apiUid || !api.uid || j.apiUid === api.uid;
  for (const j of live) if (!belongs(j)) plan.deleteJobs.push(j.name);
  const ours = live.filter(belongs);
  const active = ours.filter(isActive);
  const hash = api.specHash;

  if (api.deleting && hasOurFinalizer(api) && api.detach) {
    // Detach: release at once, without a Job — typically the delete is failing because APIM is unreachable, and the
    // ODA test kit expects a removed ExposedAPI to be gone within 30 s. A running Job finds the object gone.
    plan.releaseFinalizer = true;
    return plan;
  }

  // Progressing mirrors the running Job, whichever change it is for.
  const running = active.find((j) => j.specHash === hash) ?? active[0];
  const progressing = conditionOf(conditions, 'Progressing');
  if (running) {
    set({ type: 'Progressing', status: 'True', reason: running.action === 'delete' ? 'Deleting' : running.action === 'release' ? 'Releasing' : 'Applying', message: running.name, specHash: running.specHash });
    if (api.lastJob !== running.name) lastJob = running.name;
    if (running.action === 'delete' && conditionOf(conditions, 'DeleteBlocked')?.status === 'True') {
      set({ type: 'DeleteBlocked', status: 'False', reason: 'Retrying', message: `the delete Job ${jobRef(ctx, running.name)} is running`, specHash: running.specHash });
    }
  } else if (progressing?.status === 'True') {
    // The Job ended (or was deleted) without a result we know of; the branches below may say more.
    set({ type: 'Progressing', status: 'False', reason: 'NoActiveJob', message: progressing.message, specHash: progressing.specHash });
  }

  if (hash === undefined) return finish(); // never admitted by our webhook: nothing to apply
  if (api.deleting && !hasOurFinalizer(api)) return finish(); // released already, or never ours

  const action = api.deleting ? 'delete' : 'apply';
  const change: Change = { namespace: api.namespace, name: api.name, uid: api.uid, specHash: hash, action, ...(where ? { target: where } : {}) };
  /** The next release of an instance the API moved away from: one Job each, never twice (a failed one waits for its TTL). */
  const release = (): Change | undefined => {
    if (active.length > 0) return undefined;
    for (const target of ctx.releases ?? []) {
      const next: Change = { namespace: api.namespace, name: api.name, uid: api.uid, specHash: hash, action: 'release', target };
      if (!ours.some((j) => j.name === jobName(next))) return next;
    }
    return undefined;
  };
  // The change's Jobs: its first and each retry (the name carries the attempt). The newest that is this change's —
  // running, named by lastJob, or just created by this leader — is its result so far; Jobs of the change newer than
  // that one are leftovers of an earlier identical change (A → B → A), like every Job of the change when none is.
  const chain = ours
    .filter((j) => j.action === action && j.specHash === hash && j.name === jobName({ ...change, attempt: j.attempt }))
    .sort((a, b) => b.attempt - a.attempt);
  const at = chain.findIndex((j) => isActive(j) || api.lastJob === j.name || ctx.lastCreated === j.name);
  const own = at >= 0 ? chain[at] : undefined;
  // A repair Job of the applied change ran last: the change's own Jobs are its history, not leftovers.
  const repairs = ours.filter((j) => j.action === 'apply' && j.specHash === hash && j.repair !== undefined && j.name === jobName({ ...change, repair: j.repair }));
  const repairLast = action === 'apply' && repairs.some((j) => isActive(j) || api.lastJob === j.name || ctx.lastCreated === j.name);
  for (const j of at >= 0 ? chain.slice(0, at) : repairLast ? [] : chain) plan.deleteJobs.push(j.name);
  /** The repair Job of drift the verify run reported, when one is asked for and none ran for that request yet. */
  const repair = (): Plan => {
    const tag = action === 'apply' && !(ctx.lostClaims && ctx.lostClaims.length > 0) ? repairRequested(api, hash) : undefined;
    if (tag !== undefined && !repairs.some((j) => j.repair === tag)) plan.want = { ...change, repair: tag };
    return finish();
  };
  if (action === 'delete' && !(own && isActive(own))) {
    // Released from the instances it left before the delete, which removes the finalizer and with it the record.
    const next = release();
    if (next) {
      plan.want = next;
      return finish();
    }
  }
  if (action === 'apply' && ctx.target?.kind === 'refused') {
    // No instance to publish into (core/target-selection.ts): nothing runs until the target, the namespace's labels,
    // the tenancy policy or spec.apim.target change; planned again when they do.
    const reason = ctx.target.reason;
    const message = ctx.target.message;
    const before = conditionOf(conditions, 'Ready');
    set({ type: 'Ready', status: 'False', reason, message, specHash: hash });
    if (!(before && before.status === 'False' && before.reason === reason && before.message === message && before.specHash === hash)) {
      plan.event = { type: 'Warning', reason, message };
    }
    return finish();
  }
  // While a retry waits, Ready keeps saying when it runs; once it runs, the executor's words about it count again.
  const retryWaits = action === 'apply' && (retryRecorded(api, hash) || implementationWaitRecorded(api, hash)) && !(own && isActive(own));
  if (action === 'apply' && !failureRecorded(api, hash) && !retryWaits) {
    const fromExecutor = readyFromExecutor(api, conditions, hash);
    if (fromExecutor) set(fromExecutor);
  }

  const recordFailure = (job: JobSummary, message: string): Plan => {
    set({ type: 'Progressing', status: 'False', reason: 'JobFailed', message: job.name, specHash: hash });
    const next: ConditionInput = action === 'apply'
      ? { type: 'Ready', status: 'False', reason: 'JobFailed', message, specHash: hash }
      : { type: 'DeleteBlocked', status: 'True', reason: 'DeleteJobFailed', message, specHash: hash };
    const before = conditionOf(conditions, next.type);
    set(next);
    // One Event per failure: only when the condition changes (a replayed event or a new leader stays quiet).
    if (!(before && before.status === next.status && before.reason === next.reason && before.specHash === next.specHash)) {
      plan.event = { type: 'Warning', reason: action === 'apply' ? 'JobFailed' : 'DeleteBlocked', message };
    }
    return finish();
  };

  /** What follows the failed apply Job `job` of this change, and the words for Ready. */
  const retryOf = (job: JobSummary, ref: string): { decision: RetryDecision; message: string } => {
    const decision = decideRetry(job, ctx.retry ?? { limit: 0, baseMs: 0, maxMs: 0, jitter: 0 }, `${api.namespace}/${api.name}/${hash}`, ctx.implementation);
    const failed = `Job ${ref} failed: ${failureText(job)}${executorSaid(api, hash)}`;
    const service = `Service ${api.namespace}/${api.implementation}`;
    if (decision.kind === 'wait-for-implementation') {
      return { decision, message: `waiting for a ready pod of ${service} to read the document it serves; the next Job starts when its EndpointSlices show one, without a new change. ${failed}` };
    }
    if (decision.kind === 'retry' && decision.implementation) {
      const next = jobName({ ...change, attempt: decision.attempt });
      const when = decision.delayMs === 0 ? 'now' : `at ${new Date(decision.dueAtMs).toISOString()}, ${durationText(decision.delayMs)} after the failed Job ended,`;
      return { decision, message: `attempt ${decision.attempt} (Job ${jobRef(ctx, next)}) ${when} because ${decision.why} (${service}). ${failed}` };
    }
    if (decision.kind === 'wait-for-change') {
      // A permanent failure keeps the words it always had; a transient one says why it is not tried again.
      return { decision, message: failureKind(job).transient ? `${failed}. Not retried: ${decision.why}` : failed };
    }
    const next = jobName({ ...change, attempt: decision.attempt });
    // When and why first: a long executor message is cut at the end of the condition message.
    const message = `retry ${decision.attempt} of ${ctx.retry!.limit} (Job ${jobRef(ctx, next)}) at ${new Date(decision.dueAtMs).toISOString()}, ` +
      `${durationText(decision.delayMs)} after the failed Job ended, because ${decision.why}. ${failed}. ` +
      `A new change (an edit, or a new ${RECONCILE_AT_ANNOTATION}) runs at once`;
    return { decision, message };
  };

  // Ready says when and why; the Job for the next attempt waits in the dispatch queue until then. Planned again at
  // every event, resync or new leader, this gives the same attempt and time (job-retry.ts), so nothing is rewritten.
  const scheduleRetry = (job: JobSummary, next: Change, dueAtMs: number, message: string): Plan => {
    set({ type: 'Progressing', status: 'False', reason: 'JobFailed', message: job.name, specHash: hash });
    const before = conditionOf(conditions, 'Ready');
    set({ type: 'Ready', status: 'False', reason: RETRY_SCHEDULED, message, specHash: hash });
    if (conditionOf(conditions, 'Ready') !== before) plan.event = { type: 'Warning', reason: RETRY_SCHEDULED, message };
    // A claim lost meanwhile holds the retry back like any apply (planned again when the holder changes).
    if (!(ctx.lostClaims && ctx.lostClaims.length > 0)) {
      plan.want = next;
      plan.notBeforeMs = dueAtMs;
    }
    return finish();
  };

  // Ready says which Service the change waits for; the EndpointSlice watch plans the object again when it changes.
  const waitForImplementation = (job: JobSummary, message: string): Plan => {
    set({ type: 'Progressing', status: 'False', reason: 'JobFailed', message: job.name, specHash: hash });
    // As stored: the executor's own condition may have put the same reason on Ready earlier in this plan.
    const before = conditionOf(api.conditions, 'Ready');
    set({ type: 'Ready', status: 'False', reason: IMPLEMENTATION_NOT_READY, message, specHash: hash });
    if (!(before && before.status === 'False' && before.reason === IMPLEMENTATION_NOT_READY && before.specHash === hash)) {
      plan.event = { type: 'Warning', reason: IMPLEMENTATION_NOT_READY, message };
    }
    return finish();
  };

  if (own) {
    if (isActive(own)) return finish();
    const ref = jobRef(ctx, own.name);
    if (own.outcome === 'Complete' && action === 'apply' && api.appliedSpecHash === hash) {
      // A release after a move may be running: Progressing says so until it ends.
      if (!running) set({ type: 'Progressing', status: 'False', reason: 'JobComplete', message: own.name, specHash: hash });
      // Published on the new instance: now removed from the ones it left (executor/target-move.ts), before any repair.
      const next = release();
      if (next) {
        plan.want = next;
        return finish();
      }
      return repair();
    }
    if (action === 'apply' ? failureRecorded(api, hash) : deleteBlockedRecorded(api, hash)) {
      // Recorded already: keep the words written then (the executor's own condition they quoted is gone now).
      set({ type: 'Progressing', status: 'False', reason: 'JobFailed', message: own.name, specHash: hash });
      return finish();
    }
    if (action === 'apply' && own.outcome === 'Failed' && retryRecorded(api, hash)) {
      // Recorded already, in the same words (a plan gives the same attempt and time every time): schedule it without
      // asking the apiserver again. Different words (the executor said more meanwhile) go through the fresh read.
      const { decision, message } = retryOf(own, ref);
      const ready = conditionOf(api.conditions, 'Ready');
      if (decision.kind === 'retry' && ready?.message === boundedConditionMessage(message)) {
        return scheduleRetry(own, { ...change, attempt: decision.attempt }, decision.dueAtMs, message);
      }
    }
    if (action === 'apply' && own.outcome === 'Failed' && implementationWaitRecorded(api, hash)) {
      // Waiting already: the decision comes from the Job and the EndpointSlice watch, so no fresh read is needed.
      const { decision, message } = retryOf(own, ref);
      if (decision.kind === 'wait-for-implementation') return waitForImplementation(own, message);
      if (decision.kind === 'retry') return scheduleRetry(own, { ...change, attempt: decision.attempt }, decision.dueAtMs, message);
    }
    if (!ctx.fresh) {
      // A Job's end is judged on the object as stored now: the Job watch and the ExposedAPI watch are not ordered,
      // so the cache may not show yet what the executor wrote just before it exited.
      plan.refresh = true;
      return plan;
    }
    if (action === 'apply' && own.outcome === 'Failed') {
      const { decision, message } = retryOf(own, ref);
      if (decision.kind === 'wait-for-change') return recordFailure(own, message);
      if (decision.kind === 'wait-for-implementation') return waitForImplementation(own, message);
      return scheduleRetry(own, { ...change, attempt: decision.attempt }, decision.dueAtMs, message);
    }
    if (own.outcome === 'Complete') {
      return recordFailure(own, action === 'apply'
        ? `Job ${ref} completed but did not record spec hash ${hash.slice(0, 8)}… as applied (status.appliedSpecHash); see the Job's log`
        : `the delete Job ${ref} completed but the finalizer is still there; see the Job's log. To release the ExposedAPI without cleaning up APIM: kubectl annotate exposedapi -n ${api.namespace} ${api.name} ${DETACH_ANNOTATION}=true`);
    }
    return recordFailure(own, action === 'apply'
      ? `Job ${ref} failed: ${failureText(own)}${executorSaid(api, hash)}`
      : `the delete Job ${ref} failed: ${failureText(own)}${executorSaid(api, hash)}. The APIM API may still exist. Fix the cause and delete the Job to retry (kubectl delete job -n ${ctx.operatorNamespace} ${own.name}), ` +
        `or release the ExposedAPI without cleaning up APIM: kubectl annotate exposedapi -n ${api.namespace} ${api.name} ${DETACH_ANNOTATION}=true`);
  }

  if (action === 'apply' && api.appliedSpecHash === hash) {
    const next = release();
    if (next) {
      plan.want = next;
      return finish();
    }
    return repair();
  }
  if (action === 'apply' && failureRecorded(api, hash)) return finish();
  if (action === 'apply' && ctx.lostClaims && ctx.lostClaims.length > 0) {
    // Both objects got past admission (two webhook replicas, each admitting one of two racing creates; or created
    // before the rule): the older keeps the claim, this change waits. Level-based: planned again when the holder
    // changes or goes (the claim table names the objects a change affects). A delete is never gated: it removes only
    // what the executor's ownership mark proves is this object's.
    const reason = conflictReason(ctx.lostClaims[0]!);
    const message = `${ctx.lostClaims.map(conflictText).join('; also ')}. The ExposedAPI created first keeps a claim; no Job runs for this change while the conflict lasts`;
    const before = conditionOf(conditions, 'Ready');
    set({ type: 'Ready', status: 'False', reason, message, specHash: hash });
    if (!(before && before.status === 'False' && before.reason === reason && before.message === message && before.specHash === hash)) {
      plan.event = { type: 'Warning', reason, message };
    }
    return finish();
  }
  const ready = conditionOf(conditions, 'Ready');
  if (action === 'apply' && ready?.status === 'False' && CLAIM_REASONS.has(ready.reason)) {
    set({ type: 'Ready', status: 'Unknown', reason: 'ConflictResolved', message: 'the claim conflict is gone; the change is dispatched', specHash: hash });
  }
  plan.want = change;
  return finish();
}

/** The executor's conditions, one per step (docs/status.md); Ready summarizes them. */
const EXECUTOR_CONDITIONS = ['Validated', 'RouteReady', 'Imported', 'PoliciesApplied', 'Published', 'CleanedUp'] as const;

/** The executor's condition that says why change H failed, when it wrote one. */
function executorFailure(api: DispatchSummary, hash: string): Condition | undefined {
  return EXECUTOR_CONDITIONS.map((type) => conditionOf(api.conditions, type)).find((c) => c?.status === 'False' && c.specHash === hash && !!c.message);
}

/**
 * Ready as the executor's record of change H has it: True once H is applied (the Published message, or the hash when
 * an older executor wrote no Published), False with the failing step's reason and message while its Job retries.
 * Undefined when the executor has said nothing about H yet, or Ready already says True for H (kept as written, so an
 * upgrade does not rewrite every object's message).
 */
export function readyFromExecutor(api: DispatchSummary, conditions: readonly Condition[], hash: string): ConditionInput | undefined {
  if (api.appliedSpecHash === hash) {
    const ready = conditionOf(conditions, 'Ready');
    if (ready?.status === 'True' && ready.specHash === hash) return undefined;
    const published = conditionOf(api.conditions, 'Published');
    const message = published?.status === 'True' && published.specHash === hash && published.message ? published.message : `spec hash ${hash.slice(0, 8)}… applied`;
    return { type: 'Ready', status: 'True', reason: 'Published', message, specHash: hash };
  }
  const failed = executorFailure(api, hash);
  return failed ? { type: 'Ready', status: 'False', reason: failed.reason, message: failed.message, specHash: hash } : undefined;
}

/** The executor's own words about this change, when it wrote them before failing. */
function executorSaid(api: DispatchSummary, hash: string): string {
  const failed = executorFailure(api, hash);
  return failed ? `; the executor reported ${failed.reason}: ${failed.message}` : '';
}
