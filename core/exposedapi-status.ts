// The contract between the dispatcher, the executor and everything that reads an ExposedAPI's status (the ODA test
// kit, the component operator, kubectl's printer columns). ODA fixes status.apiStatus and status.implementation;
// the rest is ours. Pure: shapes, condition bookkeeping, exit codes, Job labels.

export interface ApiStatus {
  /** metadata.name of the ExposedAPI (ODA convention). */
  name: string;
  /** Full external base URL: APIM gateway URL + spec.path. Consumers append resource paths to it. */
  url: string;
  /** Full URL of the developer UI, only when spec.developerUI is set. */
  developerUI?: string;
  path: string;
  port: number;
  implementation: string;
  /** Gateway host. */
  ip?: string;
}

/** Each type has one writer (docs/status.md): the executor's steps, and the dispatcher's summaries. */
export type ConditionType =
  // The executor's, one per step of its run.
  | 'Validated'
  | 'RouteReady'
  | 'Imported'
  | 'PoliciesApplied'
  /** The executor's last apply step: the API is published (apiStatus, appliedSpecHash written), or why not. */
  | 'Published'
  /** The executor's delete: False with APIM's error while the cleanup fails (the Job retries). */
  | 'CleanedUp'
  /**
   * The executor's, on every apply that gets to write status: what APIM serves of this ExposedAPI while a change may
   * have failed (docs/status.md, "A failed change"): True `CurrentSpec` (the change is applied), True
   * `PreviousRevision` (revisions: the change failed before its release, the current revision is the last applied
   * spec), False `ChangeNotApplied` (no revisions: the change failed and APIM may serve the previous spec or parts of
   * this one). The parent Component's entry is `ready` only while this is not False (componentEntryReady).
   */
  | 'Serving'
  /**
   * The executor's verify run (docs/drift.md): True when APIM differs from what the applied spec wants (the message
   * names the differences), False when it matches; an apply that succeeds sets it False again.
   */
  | 'Drifted'
  // The dispatcher's, from the executor's conditions, the Jobs and the claims.
  /** The summary: True once the current spec hash is applied; False with the executor's reason, JobFailed or a lost claim. */
  | 'Ready'
  /** Set by the dispatcher while a Job for the current spec hash runs (reason Applying / Deleting, message = Job). */
  | 'Progressing'
  /**
   * The dispatcher's: True while nothing more happens for the current change until someone acts (Ready False with a
   * STALLED_REASONS reason), False once that passed. kstatus (Flux, cli-utils) reads only Ready, Reconciling and
   * Stalled of a custom resource, and Ready False as "in progress": without Stalled a failed change would look like
   * one still being worked on until Flux's timeout (docs/gitops.md).
   */
  | 'Stalled'
  /** Set when a delete Job failed: the message names the escape hatch (the detach annotation). */
  | 'DeleteBlocked';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  /**
   * The spec hash the condition describes: the ODA CRD has no status subresource, so every status write bumps
   * metadata.generation and an observedGeneration could never match it. Never write observedGeneration (here or in
   * status): kstatus and `kubectl wait` would then wait forever (docs/gitops.md).
   */
  specHash?: string;
}

export interface ExposedApiStatus {
  apiStatus?: ApiStatus;
  implementation?: { ready: boolean };
  conditions?: Condition[];
  /** The spec hash the executor last applied successfully. The dispatcher compares it with the annotation. */
  appliedSpecHash?: string;
  /** Name of the last Job that worked on this ExposedAPI (namespace of the operator). */
  lastJob?: string;
  /**
   * APIM identifiers. A hint only, never proof: tenants can write status (the ODA CRD has no status subresource), so
   * every id read from here is checked against the ownership mark in APIM before anything is removed. `pendingApiIds`:
   * ids an apply started to publish but did not finish (so a rename after a failed apply leaves no orphan); null
   * clears them in a merge patch.
   */
  apim?: {
    apiId: string;
    serviceName: string;
    pendingApiIds?: string[] | null;
    import?: ImportRecord | null;
    /** ARM id of the instance the API is published in (issue 16): where it is, for people and for a later move. */
    resourceId?: string;
    /** The ApimTarget it was published through; '' (or absent) = the operator's own instance. */
    target?: string;
    /** The target's applied-settings hash (core/apim-target.ts appliedSettingsHash) the apply ran with; null clears. */
    targetSettings?: string | null;
    /**
     * Targets the API was published in before a move and not yet removed from (null clears): the dispatcher runs a
     * `release` Job against each (docs/apim-targets.md). A hint like the rest: the release removes only what APIM's
     * ownership mark proves is this ExposedAPI's.
     */
    formerTargets?: FormerTarget[] | null;
    /** The current revision, when changes go through revisions (docs/revisions.md); null clears. */
    revision?: string | null;
  };
}

/**
 * The parent Component entry's `ready` (ODA: the component operator counts an API complete when its entry has a url and
 * ready is true): the implementation is ready, and APIM does not serve a change that failed half-way. With revisions a
 * failed change never reaches the current revision, so the entry keeps the current revision's state. Pure.
 */
export function componentEntryReady(implementationReady: boolean, conditions: readonly Pick<Condition, 'type' | 'status'>[]): boolean {
  return implementationReady && conditions.find((c) => c.type === 'Serving')?.status !== 'False';
}

/** Where an API was published before it moved to another ApimTarget. */
export interface FormerTarget {
  /** The ApimTarget's name; '' = the operator's own instance. */
  target: string;
  resourceId: string;
}

/** At most this many former targets are kept or acted on: status is tenant-writable. */
export const FORMER_TARGETS_MAX = 8;

/**
 * An import the executor started and has not seen end (null clears it): how a later Job, after a retry, finds the
 * running import again instead of starting another (APIM answers 409 to writes while it runs; large imports take
 * minutes). Tenant-writable like the rest of status: the executor polls `operationUrl` only when it is APIM's own
 * polling URL for this API on the configured ARM endpoint and service (executor/import-operation.ts).
 */
export interface ImportRecord {
  apiId: string;
  /** The Location URL APIM answered the import PUT with. */
  operationUrl: string;
  /** When the import PUT was accepted (ISO 8601). */
  startedAt: string;
  /** The import fingerprint (api-mark.ts) of what was sent. */
  fingerprint: string;
}

/** Returns the conditions with `next` set; lastTransitionTime only moves when the status changes. */
export function setCondition(conditions: readonly Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const previous = i >= 0 ? list[i] : undefined;
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const merged: Condition = { ...next, lastTransitionTime };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

/**
 * Drifted reasons. The verify run writes DRIFT_REPORTED (APIM_DRIFT_MODE=report) or DRIFT_REPAIR_REQUESTED (repair:
 * the dispatcher starts an apply Job for the applied spec hash) when APIM differs, DRIFT_NONE when it matches; an
 * apply writes DRIFT_APPLIED once APIM matches the spec again.
 */
export const DRIFT_REASONS = { reported: 'DriftDetected', repairRequested: 'RepairRequested', repairFailed: 'RepairFailed', none: 'InSync', applied: 'Applied' } as const;

/** Ready reason from the admission of a change until the dispatcher reports on it (core of admittedChange). */
export const PENDING_REASON = 'Pending';

/**
 * Ready False reasons after which nothing happens for the change until someone acts: the Job failed for good (a new
 * change, an edit or a new reconcile-at, runs again), or a claim is lost (no Job until the older holder moves).
 */
export const STALLED_REASONS: readonly string[] = ['JobFailed', 'PathConflict', 'ApiIdConflict', 'TargetNotFound', 'TargetInvalid', 'TargetAmbiguous', 'TargetNotAllowed'];

/**
 * The conditions once a change (spec hash `hash`) is admitted: Ready Unknown / Pending for it, and a Stalled True
 * of an earlier change turned False. Written by the mutating webhook in the same request that stamps the hash, so
 * no reader ever sees the new spec beside the old change's verdict: a Ready True left from the previous hash would
 * tell kstatus, Argo CD and `kubectl wait --for=condition=Ready` that the new change is done before its Job ran.
 * Pure; lastTransitionTime moves as setCondition moves it.
 */
export function admittedChange(conditions: readonly Condition[] | undefined, hash: string, now: Date): Condition[] {
  const message = `change admitted (spec hash ${hash.slice(0, 8)}…); waiting for the dispatcher to run its Job`;
  let out = setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: PENDING_REASON, message, specHash: hash }, now);
  if (out.some((c) => c.type === 'Stalled')) out = setCondition(out, { type: 'Stalled', status: 'False', reason: PENDING_REASON, message, specHash: hash }, now);
  return out;
}

/**
 * Stalled as Ready says it should be for change `hash`: True (with Ready's reason and message) when Ready is False for
 * it with a STALLED_REASONS reason; False when Stalled was True and no longer holds; undefined when nothing is to be
 * written (no Stalled yet and none needed: objects that never failed carry no Stalled at all). Pure.
 */
export function stalledFor(conditions: readonly Condition[], hash: string): Omit<Condition, 'lastTransitionTime'> | undefined {
  const ready = conditions.find((c) => c.type === 'Ready');
  const stalled = conditions.find((c) => c.type === 'Stalled');
  if (ready && ready.status === 'False' && ready.specHash === hash && STALLED_REASONS.includes(ready.reason)) {
    return { type: 'Stalled', status: 'True', reason: ready.reason, message: ready.message, specHash: hash };
  }
  if (stalled?.status !== 'True') return undefined;
  return { type: 'Stalled', status: 'False', reason: ready?.reason ?? PENDING_REASON, message: ready?.message ?? '', specHash: hash };
}

/** Executor exit codes. The Job's podFailurePolicy turns EXIT_PERMANENT into FailJob (no pointless retries). */
export const EXIT_OK = 0;
/** Transient trouble (throttling, 5xx, timeouts, route not ready yet): the Job's backoffLimit retries. */
export const EXIT_RETRIABLE = 1;
/** Invalid input or a permanent APIM rejection: retrying cannot help; the reason is in status. */
export const EXIT_PERMANENT = 42;
/**
 * The document the implementation serves cannot be read yet: its Service has no ready pod (core/served-document.ts).
 * The podFailurePolicy fails the Job at once (pods retried now would find the same), and the dispatcher starts the
 * next Job when the Service's EndpointSlices say a pod is ready (dispatcher/job-retry.ts).
 */
export const EXIT_IMPLEMENTATION_NOT_READY = 43;
/** Ready's reason while an apply waits for the implementation's pods. */
export const IMPLEMENTATION_NOT_READY = 'ImplementationNotReady';

/** Labels on every Job, so `kubectl get jobs -l exposedapi-apim.io/name=X` lists an API's history. */
export const JOB_LABELS = {
  namespace: 'exposedapi-apim.io/namespace',
  name: 'exposedapi-apim.io/name',
  specHash: 'exposedapi-apim.io/spec-hash',
  action: 'exposedapi-apim.io/action',
} as const;

/** `release`: remove the API from an instance it moved away from (status.apim.formerTargets), nothing else. */
export type JobAction = 'apply' | 'delete' | 'release';
