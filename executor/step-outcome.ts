// How a failed step shows: the failing step's condition and Ready turn False with the failure's reason and message
// (APIM's code, target and message included), and the exit code tells the Job whether to retry. Pure apart from
// inStep, which tags a failure with the step it happened in.
import { EXIT_PERMANENT, EXIT_RETRIABLE, type ConditionType } from '../core/exposedapi-status.ts';
import { UnsafeApimValueError } from '../core/rules/apim-value-safety.ts';
import type { ConditionChange } from './status-patch.ts';
import { permanent, StepFailure } from './step-failure.ts';

export async function inStep<T>(condition: ConditionType, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    // A value the renderers refuse stays refused however often the Job retries: fix the spec.
    const failure = e instanceof StepFailure
      ? e
      : e instanceof UnsafeApimValueError
        ? permanent('UnsafeValue', `${e.message}; correct the ExposedAPI's spec`)
        : new StepFailure({ retriable: true, reason: 'UnexpectedError', message: e instanceof Error ? e.message : String(e) }, { cause: e });
    failure.condition ??= condition;
    throw failure;
  }
}

export function failureChange(failure: StepFailure, specHash: string): ConditionChange[] {
  const condition = failure.condition ?? 'Ready';
  const base = { status: 'False' as const, reason: failure.info.reason, message: failure.message, specHash };
  return condition === 'Ready' ? [{ type: 'Ready', ...base }] : [{ type: condition, ...base }, { type: 'Ready', ...base }];
}

export function exitCodeOf(failure: StepFailure): number {
  return failure.info.retriable ? EXIT_RETRIABLE : EXIT_PERMANENT;
}
