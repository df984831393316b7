// Whether, and when, a change whose Job failed is tried again: pure, from the failed Job alone.
//
// A Job already retries transient failures itself (JOB_BACKOFF_LIMIT pods, each spending up to RETRY_BUDGET_SECONDS),
// but an APIM or network outage can outlast that whole chain. Then the dispatcher starts a new Job for the same
// change after a capped exponential backoff with jitter — each attempt a Job of its own in the API's history — until
// the change is applied, fails permanently, or JOB_RETRY_LIMIT attempts are spent.
//
// Everything comes from the Job, never from memory or status: its attempt label and its end time (the Job
// controller's Failed condition) are the same for every replica and every leader, so a restart or a failover keeps
// the schedule; they live in the operator namespace, where tenants cannot write, so status (tenant-writable: the ODA
// CRD has no status subresource) can neither pull an attempt forward nor choose its number. The jitter is derived from
// the object, the change and the attempt for the same reason: a random draw would move with every plan and leader.
import { createHash } from 'node:crypto';
import type { JobRetryConfig } from '../core/dispatcher-config.ts';
import { EXIT_IMPLEMENTATION_NOT_READY, EXIT_PERMANENT } from '../core/exposedapi-status.ts';
import type { JobSummary } from './job-summary.ts';

/** How a Job ended, as far as retrying goes. */
export type FailureKind =
  /** Worth another Job later: every pod failed with a retriable exit (1, a crash) or the Job ran out of time. */
  | { transient: true; why: string; waitsForImplementation?: false }
  /** Retrying the same change cannot help (exit 42, or a Job that ended in a way we do not know): wait for a new change. */
  | { transient: false; why: string; waitsForImplementation?: false }
  /** Exit 43: the document the implementation serves could not be read, as its Service had no ready pod. */
  | { transient: false; why: string; waitsForImplementation: true };

const PERMANENT_EXIT = new RegExp(`exit code ${EXIT_PERMANENT}\\b`);
const IMPLEMENTATION_EXIT = new RegExp(`exit code ${EXIT_IMPLEMENTATION_NOT_READY}\\b`);

/**
 * The Job controller's verdict decides, not the executor's status: the executor may never have written one (killed,
 * out of memory, its API server unreachable), and status is tenant-writable while the Job is not. The executor exits
 * 42 exactly when it judges a failure permanent (cli/execute-command.ts), and the podFailurePolicy turns that into
 * FailJob with reason PodFailurePolicy; any other failure of a pod counts against backoffLimit.
 */
export function failureKind(job: Pick<JobSummary, 'outcome' | 'reason' | 'message'>): FailureKind {
  if (job.outcome !== 'Failed') return { transient: false, why: 'the Job completed without recording the change as applied' };
  switch (job.reason) {
    case 'BackoffLimitExceeded':
      return { transient: true, why: 'every retry of the Job failed with a retriable error' };
    case 'DeadlineExceeded':
      return { transient: true, why: 'the Job ran longer than JOB_ACTIVE_DEADLINE_SECONDS' };
    case 'PodFailurePolicy':
      // Our FailJob rules are exits 42 and 43 (job-manifest.ts); a message without them is a rule we did not write.
      if (IMPLEMENTATION_EXIT.test(job.message ?? '')) {
        return { transient: false, waitsForImplementation: true, why: `the executor exited ${EXIT_IMPLEMENTATION_NOT_READY}: the implementation Service had no ready pod to read the document from` };
      }
      return PERMANENT_EXIT.test(job.message ?? '')
        ? { transient: false, why: `the executor exited ${EXIT_PERMANENT}: a permanent error` }
        : { transient: false, why: 'a pod failure policy failed the Job' };
    default:
      return { transient: false, why: `the Job failed with reason ${JSON.stringify(job.reason ?? '')}, which is not known to be transient` };
  }
}

/** A fraction in [0, 1) fixed by the object, its change and the attempt: the same on every replica and after restarts. */
export function jitterFraction(seed: string, attempt: number): number {
  return createHash('sha256').update(`${seed}#${attempt}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * The wait before attempt `attempt` (≥ 1): base × 2^(attempt−1), capped at max, less up to `jitter` of it. Taking
 * jitter off (rather than adding it) keeps every wait within the cap an operator configured.
 */
export function retryDelayMs(attempt: number, retry: Pick<JobRetryConfig, 'baseMs' | 'maxMs' | 'jitter'>, seed: string): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40); // 2^40 × 1 s is far past any cap: no overflow to Infinity
  const capped = Math.min(retry.maxMs, retry.baseMs * 2 ** exponent);
  return Math.round(capped * (1 - retry.jitter * jitterFraction(seed, attempt)));
}

export type RetryDecision =
  | {
      kind: 'retry';
      /** The attempt to start: the failed Job's + 1. */
      attempt: number;
      delayMs: number;
      /** Not before this (epoch ms): the failed Job's end + delayMs. */
      dueAtMs: number;
      why: string;
      /** Started because the implementation's pods became ready (not counted against JOB_RETRY_LIMIT). */
      implementation?: true;
    }
  /** No further Job for this change: it waits for a new one (an edit, a new reconcile-at). */
  | { kind: 'wait-for-change'; why: string; attempts: number }
  /** The next Job starts when the implementation Service has a ready pod (the EndpointSlice watch replans then). */
  | { kind: 'wait-for-implementation'; why: string };

/** The implementation Service as the dispatcher's EndpointSlice watch sees it (absent: READINESS_SYNC=false). */
export interface ImplementationView {
  ready: boolean;
  /** When this process saw it become ready (epoch ms); at the latest, when its watch first listed it. */
  readySinceMs?: number;
}

/**
 * Attempts a change may have in all (each a Job whose name carries it, job-manifest.ts): an implementation that turns
 * ready and unready without end cannot start Jobs without end.
 */
export const MAX_ATTEMPTS = 1000;

/**
 * The decision for the latest Job of a change, which ended without applying it. `seed` identifies the object and
 * the change (namespace/name/specHash). Pure: no clock — the due time is absolute, so every plan and every leader
 * computes the same one.
 */
export function decideRetry(job: Pick<JobSummary, 'outcome' | 'reason' | 'message' | 'attempt' | 'endedAtMs' | 'startedAtMs'>, retry: JobRetryConfig, seed: string,
  implementation?: ImplementationView): RetryDecision {
  const kind = failureKind(job);
  const attempts = job.attempt + 1;
  if (kind.waitsForImplementation) return afterImplementationWait(job, retry, seed, kind.why, implementation);
  if (!kind.transient) return { kind: 'wait-for-change', why: kind.why, attempts };
  if (job.attempt >= retry.limit) {
    return { kind: 'wait-for-change', why: `${kind.why}, and ${retry.limit === 0 ? 'retries are off (JOB_RETRY_LIMIT=0)' : `all ${retry.limit} retries (JOB_RETRY_LIMIT) are spent`}`, attempts };
  }
  const attempt = job.attempt + 1;
  const delayMs = retryDelayMs(attempt, retry, seed);
  // A Job with no time at all (never seen in practice: the controller stamps its conditions) counts as ended at the
  // epoch, i.e. long ago: its retry is due at once rather than never.
  return { kind: 'retry', attempt, delayMs, dueAtMs: (job.endedAtMs ?? 0) + delayMs, why: kind.why };
}

/**
 * After exit 43. Ready since the Job started (a transition the executor may not have seen): the next Job at once. Ready
 * from before (the executor judged the slices differently, e.g. no ready pod for the URL's port, or the watch lags):
 * the ordinary backoff, so a disagreement cannot start Jobs back to back. Not ready: wait for the watch. Without the
 * watch (READINESS_SYNC=false): the ordinary transient retries, JOB_RETRY_LIMIT included.
 */
function afterImplementationWait(job: Pick<JobSummary, 'attempt' | 'endedAtMs' | 'startedAtMs'>, retry: JobRetryConfig, seed: string, why: string,
  implementation: ImplementationView | undefined): RetryDecision {
  const attempt = job.attempt + 1;
  if (attempt >= MAX_ATTEMPTS) return { kind: 'wait-for-change', why: `${why}, and the change has had ${MAX_ATTEMPTS} Jobs`, attempts: attempt };
  const ended = job.endedAtMs ?? 0;
  if (!implementation) {
    if (job.attempt >= retry.limit) {
      return { kind: 'wait-for-change', why: `${why}, READINESS_SYNC=false (nothing watches the pods become ready), and ${retry.limit === 0 ? 'retries are off (JOB_RETRY_LIMIT=0)' : `all ${retry.limit} retries (JOB_RETRY_LIMIT) are spent`}`, attempts: attempt };
    }
    const delayMs = retryDelayMs(attempt, retry, seed);
    return { kind: 'retry', attempt, delayMs, dueAtMs: ended + delayMs, why };
  }
  if (!implementation.ready) return { kind: 'wait-for-implementation', why };
  const since = implementation.readySinceMs ?? 0;
  if (since > (job.startedAtMs ?? ended)) return { kind: 'retry', attempt, delayMs: 0, dueAtMs: ended, why: `${why}, and it has one now`, implementation: true };
  const delayMs = retryDelayMs(attempt, retry, seed);
  return { kind: 'retry', attempt, delayMs, dueAtMs: ended + delayMs, why: `${why}, though the EndpointSlices showed one already; tried again after a backoff`, implementation: true };
}

/** 90 s → "1m30s", for messages. */
export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest || (!h && !m) ? `${rest}s` : ''}`;
}
