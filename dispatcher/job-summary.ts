// What the dispatcher keeps of an executor Job: which change it is for and how it ended. Reads both the typed objects
// of a list (dates as Date) and the raw JSON of a watch (dates as strings).
import { JOB_LABELS, EXIT_PERMANENT, type JobAction } from '../core/exposedapi-status.ts';
import { isObject } from '../core/object-reader.ts';
import { ATTEMPT_LABEL, JOB_ANNOTATIONS, REPAIR_LABEL } from './job-manifest.ts';

export interface JobSummary {
  name: string;
  /** The ExposedAPI the Job works on. */
  namespace: string;
  apiName: string;
  /** metadata.uid of that ExposedAPI when the Job was created. */
  apiUid: string;
  specHash: string;
  action: JobAction;
  /** Which attempt at its change (dispatcher/job-retry.ts): 0 for the first Job. */
  attempt: number;
  /** A repair Job's tag (job-manifest.ts repairTag); absent on the Jobs of changes. */
  repair?: string;
  /** The Job is being deleted: it no longer counts, whatever its pods still do. */
  deleting: boolean;
  /** Set once the Job has finished (condition Complete or Failed). */
  outcome?: 'Complete' | 'Failed';
  /** The finishing condition's reason and message, e.g. PodFailurePolicy / "… exit code 42 …". */
  reason?: string;
  message?: string;
  /**
   * When it finished (the finishing condition's lastTransitionTime, set by the Job controller), else when it started;
   * epoch ms. A retry is due this long after it, whoever leads then.
   */
  endedAtMs?: number;
  /** When the Job controller started it (status.startTime), epoch ms: what its executor saw was read after this. */
  startedAtMs?: number;
  /** Pods of the Job that failed so far (status.failed, counted by the Job controller); absent = none seen. */
  failedPods?: number;
  /**
   * The reason of a FailureTarget or Failed condition, as soon as the Job controller decides (FailureTarget comes
   * with the pod count, before the pods are gone): PodFailurePolicy = the executor's permanent exit.
   */
  failingBecause?: string;
}

/** epoch ms of an RFC 3339 string (a watch) or a Date (a typed list), if it is one. */
function timeOf(v: unknown): number | undefined {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The attempt label as a number: absent, malformed or out of range (an older or hand-made Job) reads as 0. */
function attemptOf(v: unknown): number {
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,3}$/.test(v)) return 0;
  return Number(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** undefined for anything that is not one of our executor Jobs (missing labels). */
export function jobSummary(job: unknown): JobSummary | undefined {
  if (!isObject(job)) return undefined;
  const meta = isObject(job['metadata']) ? job['metadata'] : {};
  const labels = isObject(meta['labels']) ? meta['labels'] : {};
  const annotations = isObject(meta['annotations']) ? meta['annotations'] : {};
  const [ns, api] = String(annotations[JOB_ANNOTATIONS.exposedApi] ?? '').split('/');
  const action = labels[JOB_LABELS.action];
  const name = str(meta['name']);
  const specHash = str(annotations[JOB_ANNOTATIONS.specHash]);
  if (!name || !ns || !api || !specHash || (action !== 'apply' && action !== 'delete' && action !== 'release')) return undefined;
  const status = isObject(job['status']) ? job['status'] : {};
  const conditions = Array.isArray(status['conditions']) ? status['conditions'].filter(isObject) : [];
  const end = conditions.find((c) => (c['type'] === 'Complete' || c['type'] === 'Failed') && c['status'] === 'True');
  const failing = conditions.find((c) => (c['type'] === 'FailureTarget' || c['type'] === 'Failed') && c['status'] === 'True');
  const failed = status['failed'];
  return {
    name,
    namespace: ns,
    apiName: api,
    apiUid: str(annotations[JOB_ANNOTATIONS.uid]) ?? '',
    specHash,
    action,
    attempt: attemptOf(labels[ATTEMPT_LABEL]),
    ...(typeof labels[REPAIR_LABEL] === 'string' && /^[0-9a-f]{5}$/.test(labels[REPAIR_LABEL]) ? { repair: labels[REPAIR_LABEL] } : {}),
    deleting: meta['deletionTimestamp'] !== undefined && meta['deletionTimestamp'] !== null,
    ...(end
      ? { outcome: end['type'] as 'Complete' | 'Failed', reason: str(end['reason']) ?? '', message: str(end['message']) ?? '' }
      : {}),
    ...(typeof failed === 'number' && failed > 0 ? { failedPods: failed } : {}),
    ...(failing ? { failingBecause: str(failing['reason']) ?? '' } : {}),
    ...(end ? endedAt(timeOf(end['lastTransitionTime']) ?? timeOf(status['completionTime']) ?? timeOf(status['startTime'])) : {}),
    ...(timeOf(status['startTime']) !== undefined ? { startedAtMs: timeOf(status['startTime'])! } : {}),
  };
}

function endedAt(ms: number | undefined): { endedAtMs?: number } {
  return ms === undefined ? {} : { endedAtMs: ms };
}

/**
 * A pod of the Job failed since `before` with an exit worth pacing for: not the executor's permanent exit (42, bad
 * input: the podFailurePolicy fails the Job with reason PodFailurePolicy), which says nothing about ARM or the node.
 */
export function podFailedTransiently(before: Pick<JobSummary, 'failedPods'> | undefined, job: JobSummary): boolean {
  return (job.failedPods ?? 0) > (before?.failedPods ?? 0) && job.failingBecause !== 'PodFailurePolicy';
}

export function isActive(job: JobSummary): boolean {
  return !job.deleting && job.outcome === undefined;
}

/** Why a Job failed, in words an operator can act on, from the Job controller's Failed condition. */
export function failureText(job: JobSummary): string {
  const reason = job.reason || 'Failed';
  const detail = job.message ? `: ${job.message}` : '';
  let meaning = '';
  if (reason === 'PodFailurePolicy' && new RegExp(`exit code ${EXIT_PERMANENT}\\b`).test(job.message ?? '')) {
    meaning = ` (exit code ${EXIT_PERMANENT}: a permanent error; retrying cannot help — fix the ExposedAPI or the APIM side, or set a new exposedapi-apim.io/reconcile-at to retry)`;
  } else if (reason === 'BackoffLimitExceeded') {
    meaning = ' (every retry failed; see the Job\'s pod logs)';
  } else if (reason === 'DeadlineExceeded') {
    meaning = ' (the Job ran longer than JOB_ACTIVE_DEADLINE_SECONDS)';
  }
  return `${reason}${detail}${meaning}`;
}
