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
  // The dispatcher's, from the executor's conditions, the Jobs and the claims.
  /** The summary: True once the current spec hash is applied; False with the executor's reason, JobFailed or a lost claim. */
  | 'Ready'
  /** Set by the dispatcher while a Job for the current spec hash runs (reason Applying / Deleting, message = Job). */
  | 'Progressing'
  /** Set when a delete Job failed: the message names the escape hatch (the detach annotation). */
  | 'DeleteBlocked';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  /** The spec hash the condition describes (like observedGeneration, which ODA's CRD cannot use). */
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
  apim?: { apiId: string; serviceName: string; pendingApiIds?: string[] | null; import?: ImportRecord | null };
}

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

/** Executor exit codes. The Job's podFailurePolicy turns EXIT_PERMANENT into FailJob (no pointless retries). */
export const EXIT_OK = 0;
/** Transient trouble (throttling, 5xx, timeouts, route not ready yet): the Job's backoffLimit retries. */
export const EXIT_RETRIABLE = 1;
/** Invalid input or a permanent APIM rejection: retrying cannot help; the reason is in status. */
export const EXIT_PERMANENT = 42;

/** Labels on every Job, so `kubectl get jobs -l exposedapi-apim.io/name=X` lists an API's history. */
export const JOB_LABELS = {
  namespace: 'exposedapi-apim.io/namespace',
  name: 'exposedapi-apim.io/name',
  specHash: 'exposedapi-apim.io/spec-hash',
  action: 'exposedapi-apim.io/action',
} as const;

export type JobAction = 'apply' | 'delete';
