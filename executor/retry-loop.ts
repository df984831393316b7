// Runs a call until it succeeds, fails for good, or the run's retry budget is spent (retry-policy.ts decides the
// waits). One budget per run, shared by every call: the Job as a whole gives up after RETRY_BUDGET_SECONDS and exits
// with EXIT_RETRIABLE, leaving further attempts to the Job's backoffLimit.
import type { JobLog } from './job-log.ts';
import { fitsBudget, retryDelay } from './retry-policy.ts';
import { renderApimError, StepFailure, type ApimErrorDetail } from './step-failure.ts';

export interface Classified {
  retriable: boolean;
  reason: string;
  detail: ApimErrorDetail;
  retryAfterMs?: number;
}

export class RetryBudget {
  readonly budgetMs: number;
  readonly deadlineMs: number;
  /** Aborts in-flight calls (SDK requests, sleeps) when the budget is over. */
  readonly signal: AbortSignal;
  readonly log: JobLog;
  private readonly random: () => number;
  /** The last failure seen below the loop (the SDK's own retries), reported when the budget runs out mid-call. */
  private lastObserved?: Classified;

  constructor(budgetMs: number, log: JobLog, random: () => number = Math.random) {
    this.budgetMs = budgetMs;
    this.deadlineMs = Date.now() + budgetMs;
    this.signal = AbortSignal.timeout(budgetMs);
    this.log = log;
    this.random = random;
  }

  /** Records a failed attempt that a client retried by itself, so an exhausted budget can still say what failed. */
  observe(c: Classified): void {
    this.lastObserved = c;
  }

  remainingMs(): number {
    return Math.max(0, this.deadlineMs - Date.now());
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.signal.aborted) return resolve();
      const timer = setTimeout(done, Math.min(ms, this.remainingMs()));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * `what` says what was being done ("import of API 'x'"), for the log and the failure message. Non-retriable
   * errors become a permanent StepFailure at once; retriable ones are retried while the budget lasts.
   */
  async run<T>(what: string, fn: () => Promise<T>, classify: (e: unknown) => Classified): Promise<T> {
    let last: Classified | undefined;
    for (let attempt = 0; ; attempt++) {
      if (this.signal.aborted) throw this.exhausted(what, last ?? this.lastObserved);
      try {
        return await fn();
      } catch (e) {
        if (e instanceof StepFailure) throw e;
        if (this.signal.aborted || (e instanceof Error && e.name === 'AbortError')) throw this.exhausted(what, last ?? this.lastObserved ?? classify(e));
        const c = classify(e);
        last = c;
        if (!c.retriable) {
          throw new StepFailure({ retriable: false, reason: c.reason, message: `${what}: ${renderApimError(c.detail)}`, apim: c.detail }, { cause: e });
        }
        const delay = retryDelay(attempt, c.retryAfterMs, this.random);
        if (!fitsBudget(Date.now(), delay, this.deadlineMs)) throw this.exhausted(what, c);
        this.log.warn('retrying', { what, attempt: attempt + 1, delayMs: delay, reason: c.reason, error: renderApimError(c.detail) });
        await this.sleep(delay);
      }
    }
  }

  private exhausted(what: string, last: Classified | undefined): StepFailure {
    const seconds = Math.round(this.budgetMs / 1000);
    const tail = last ? `; last error: ${renderApimError(last.detail)}` : '';
    return new StepFailure({
      retriable: true,
      reason: last?.reason ?? 'RetryBudgetExhausted',
      message: `${what} did not succeed within the retry budget of ${seconds} s (RETRY_BUDGET_SECONDS)${tail}`,
      ...(last ? { apim: last.detail } : {}),
    });
  }
}
