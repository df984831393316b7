// What a step of a run returns (kopf's "the handler's return becomes status"): done, with the reason and message its
// condition turns True with and any status fields it establishes; or failed, with whether trying again can help and
// APIM's own code, target and message. Steps and the runner never pick an exit code: the command maps a run's
// result to one (the two deprecated helpers at the end serve a test outside executor/ until it moves).
import { EXIT_PERMANENT, EXIT_RETRIABLE, type ConditionType } from '../core/exposedapi-status.ts';
import { UnsafeApimValueError } from '../core/rules/apim-value-safety.ts';
import type { ConditionChange, StatusChange } from './status-patch.ts';
import { StepFailure, type FailureInfo } from './step-failure.ts';
import { errorMessage } from '../core/kube/errors.ts';

/** Status fields a step establishes; the runner adds the conditions, lastJob and writes them at once. */
export type StatusFields = Omit<StatusChange, 'conditions' | 'lastJob'>;

export interface Done {
  kind: 'done';
  /** Absent for a step that has no condition of its own. */
  condition?: { reason: string; message: string };
  status?: StatusFields;
}

export interface Failed extends FailureInfo {
  kind: 'failed';
  /** The server's Retry-After, when one was given. */
  retryAfterMs?: number;
  /** Set when the failure belongs to another condition than the failing step's. */
  condition?: ConditionType;
}

export type StepOutcome = Done | Failed;

export function done(reason?: string, message?: string, status?: StatusFields): Done {
  return { kind: 'done', ...(reason !== undefined ? { condition: { reason, message: message ?? '' } } : {}), ...(status ? { status } : {}) };
}

export function failed(info: Omit<Failed, 'kind'>): Failed {
  return { kind: 'failed', ...info };
}

/** A thrown error as an outcome: the modules below the steps (APIM, routes, Kubernetes) throw StepFailures. */
export function failureOf(e: unknown): Failed {
  if (e instanceof StepFailure) return failed({ ...e.info, message: e.message, ...(e.condition ? { condition: e.condition } : {}) });
  // A value the renderers refuse stays refused however often the Job retries: fix the spec.
  if (e instanceof UnsafeApimValueError) return failed({ retriable: false, reason: 'UnsafeValue', message: `${e.message}; correct the ExposedAPI's spec` });
  return failed({ retriable: true, reason: 'UnexpectedError', message: errorMessage(e) });
}

/**
 * Apply's condition for a failure: the failing step's condition turns False with its reason and message. Ready is the
 * dispatcher's (docs/status.md): it summarises this condition, so the executor never writes it.
 */
export function failureChange(failure: Pick<Failed, 'reason' | 'message'>, condition: ConditionType, specHash: string): ConditionChange[] {
  return [{ type: condition, status: 'False', reason: failure.reason, message: failure.message, specHash }];
}

// For callers that still throw outside a run (test/core/apim-value-safety.test.ts): the runner does this itself, and
// the command alone maps a run's result to an exit code (cli/execute-command.ts exitCodeFor).
/** @deprecated tags a thrown error with `condition` as the runner does; use a step. */
export async function inStep<T>(condition: ConditionType, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const { kind: _kind, ...info } = failureOf(e);
    const failure = e instanceof StepFailure ? e : new StepFailure(info, { cause: e });
    failure.condition ??= condition;
    throw failure;
  }
}

/** @deprecated use cli/execute-command.ts exitCodeFor on the run's result. */
export function exitCodeOf(failure: StepFailure): number {
  return failure.info.retriable ? EXIT_RETRIABLE : EXIT_PERMANENT;
}
