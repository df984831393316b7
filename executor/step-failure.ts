// A failed step as data: what went wrong, whether trying again can help, and (for APIM) the service's own code,
// target and message, carried unchanged to the ExposedAPI's status, its Events and the Job log.
import type { ConditionType } from '../core/exposedapi-status.ts';

export interface ApimErrorDetail {
  /** HTTP status, when the failure came from a response. */
  status?: number;
  code?: string;
  target?: string;
  message: string;
}

export interface FailureInfo {
  /** True: transient (throttling, 5xx, a conflict with work in progress, not ready yet); the Job retries. */
  retriable: boolean;
  /** CamelCase condition reason, e.g. ApimRejected, Throttled, AddressPending. */
  reason: string;
  /** What happened and what to do, for people. */
  message: string;
  apim?: ApimErrorDetail;
  /** The run needs the implementation's pods to be ready (a served document): exit EXIT_IMPLEMENTATION_NOT_READY. */
  waitsForImplementation?: boolean;
}

export class StepFailure extends Error {
  readonly info: FailureInfo;
  /** The condition the failure belongs to (the step that failed); set by the step runner. */
  condition?: ConditionType;
  constructor(info: FailureInfo, options?: { cause?: unknown }) {
    super(info.message, options);
    this.name = 'StepFailure';
    this.info = info;
  }
}

export const permanent = (reason: string, message: string, apim?: ApimErrorDetail): StepFailure =>
  new StepFailure({ retriable: false, reason, message, ...(apim ? { apim } : {}) });

export const retriable = (reason: string, message: string, apim?: ApimErrorDetail): StepFailure =>
  new StepFailure({ retriable: true, reason, message, ...(apim ? { apim } : {}) });

/** "400 ValidationError (target path): Cannot create API …" — APIM's words, in one line. */
export function renderApimError(e: ApimErrorDetail): string {
  const head = [e.status !== undefined ? String(e.status) : '', e.code ?? ''].filter(Boolean).join(' ');
  const target = e.target ? ` (target ${e.target})` : '';
  return `${head}${target}${head || target ? ': ' : ''}${e.message}`;
}
