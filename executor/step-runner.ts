// Runs a table of steps and turns their outcomes into what people and the Job see: a condition, an Event and a log
// line per step done; status written as soon as a step establishes status fields; on the first failure, the
// failure's conditions and a Warning Event, then the run stops. The result is a value (controller-runtime's
// reconcile result); the command alone turns it into an exit code.
import type { ConditionType } from '../core/exposedapi-status.ts';
import type { EventRecorder } from './events.ts';
import type { JobLog } from './job-log.ts';
import type { ConditionChange, StatusChange } from './status-patch.ts';
import { failureOf, type Failed, type StepOutcome } from './step-outcome.ts';
import { errorMessage } from '../core/kube/errors.ts';

export interface Step<S> {
  /** True when the step is done, False (per the procedure) when it fails. A step without one reports nothing. */
  condition?: ConditionType;
  run(state: S): Promise<StepOutcome>;
}

/** How a failure shows in status: its conditions, the message people read there and in the Event, extra fields. */
export interface FailureReport {
  conditions: ConditionChange[];
  message: string;
  status?: Omit<StatusChange, 'conditions' | 'lastJob'>;
}

export interface Procedure<S> {
  steps: readonly Step<S>[];
  /** The condition a failure is reported on when neither it nor its step names one. */
  failureCondition: ConditionType;
  failure(state: S, failure: Failed, condition: ConditionType): FailureReport;
}

export interface RunIo {
  events: EventRecorder;
  log: JobLog;
  specHash: string;
  /** JOB_NAME, recorded with every status write. */
  lastJob?: string;
  write(change: StatusChange): Promise<void>;
}

export type RunResult = { kind: 'done' } | Failed;

export async function runSteps<S>(procedure: Procedure<S>, state: S, io: RunIo): Promise<RunResult> {
  const conditions: ConditionChange[] = [];
  const lastJob = io.lastJob ? { lastJob: io.lastJob } : {};
  for (const step of procedure.steps) {
    let outcome: StepOutcome;
    try {
      outcome = await step.run(state);
      if (outcome.kind === 'done') {
        if (outcome.condition && step.condition) {
          const { reason, message } = outcome.condition;
          conditions.push({ type: step.condition, status: 'True', reason, message, specHash: io.specHash });
          io.events.normal(reason, message);
          io.log.info(message, { condition: step.condition, reason });
        }
        if (outcome.status) await io.write({ conditions, ...outcome.status, ...lastJob });
      }
    } catch (e) {
      outcome = failureOf(e);
    }
    if (outcome.kind === 'failed') {
      await reportFailure(procedure, state, io, outcome, outcome.condition ?? step.condition ?? procedure.failureCondition, conditions);
      return outcome;
    }
  }
  await io.events.flush();
  return { kind: 'done' };
}

async function reportFailure<S>(procedure: Procedure<S>, state: S, io: RunIo, failure: Failed, condition: ConditionType, done: ConditionChange[]): Promise<void> {
  const report = procedure.failure(state, failure, condition);
  io.log.error(failure.message, { condition, reason: failure.reason, retriable: failure.retriable, ...(failure.apim ? { apim: failure.apim } : {}) });
  io.events.warning(failure.reason, report.message);
  try {
    await io.write({ conditions: [...done, ...report.conditions], ...(io.lastJob ? { lastJob: io.lastJob } : {}), ...report.status });
  } catch (statusError) {
    io.log.error('could not write the failure to the ExposedAPI status', { error: errorMessage(statusError) });
  }
  await io.events.flush();
}
