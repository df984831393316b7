// When to try a call again and how long to wait first. Pure: the clock and the random source are parameters.
//
// Exponential backoff with full jitter (delay drawn uniformly from [base/2, min(cap, base·2^attempt)]) spreads the
// retries of many Jobs that failed together (a throttled subscription), and a server's Retry-After is a floor: waiting
// less than it asked only earns another 429. Everything happens within one total budget per run; past it the run ends
// with EXIT_RETRIABLE and the Job's own backoff takes over.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** The delay before retry number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, random: () => number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 30));
  const floor = Math.min(o.baseMs / 2, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}

export function retryDelay(attempt: number, retryAfterMs: number | undefined, random: () => number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.max(retryAfterMs ?? 0, backoffDelay(attempt, random, o));
}

/** A wait fits when the retry can still start before the deadline. */
export function fitsBudget(nowMs: number, delayMs: number, deadlineMs: number): boolean {
  return nowMs + delayMs < deadlineMs;
}

/**
 * The server's requested wait, from `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds, Azure) or `retry-after`
 * (seconds or an HTTP date, RFC 9110). Undefined when absent or unreadable.
 */
export function retryAfterMs(header: (name: string) => string | undefined, nowMs: number): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = header(name);
    if (v !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.ceil(Number(v));
  }
  const v = header('retry-after');
  if (v === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
