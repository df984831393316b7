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
import { EXIT_PERMANENT } from '../core/exposedapi-status.ts';
import type { JobSummary } from './job-summary.ts';

/** How a Job ended, as far as retrying goes. */
export type FailureKind =
  /** Worth another Job later: every pod failed with a retriable exit (1, a crash) or the Job ran out of time. */
  | { transient: true; why: string }
  /** Retrying the same change cannot help (exit 42, or a Job that ended in a way we do not know): wait for a new change. */
  | { transient: false; why: string };

const PERMANENT_EXIT = new RegExp(`exit code ${EXIT_PERMANENT}\\b`);

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
      // Our only FailJob rule is exit 42 (job-manifest.ts); a message without it is a rule we did not write.
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
    }
  /** No further Job for this change: it waits for a new one (an edit, a new reconcile-at). */
  | { kind: 'wait-for-change'; why: string; attempts: number };

/**
 * The decision for the latest Job of a change, which ended without applying it. `seed` identifies the object and
 * the change (namespace/name/specHash). Pure: no clock — the due time is absolute, so every plan and every leader
 * computes the same one.
 */
export function decideRetry(job: Pick<JobSummary, 'outcome' | 'reason' | 'message' | 'attempt' | 'endedAtMs'>, retry: JobRetryConfig, seed: string): RetryDecision {
  const kind = failureKind(job);
  const attempts = job.attempt + 1;
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

/** 90 s → "1m30s", for messages. */
export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest || (!h && !m) ? `${rest}s` : ''}`;
}
