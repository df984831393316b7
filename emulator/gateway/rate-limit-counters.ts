// rate-limit-by-key's counters: one per counter-key value, whatever API, operation or scope the policy sits in ("For
// each key value, a single counter is used for all scopes at which the policy is configured":
// https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy). The window slides: "The length in
// seconds of the sliding window during which the number of allowed requests should not exceed the value specified in
// calls" (maximum 300 s). A call the policy refuses is not counted; every policy execution that lets a call through
// counts it (two policies with the same key on one request count it twice: unverified, and the stricter reading).
// Retry-After is the time until enough of the window's calls have aged out for one more to fit.

/** The longest window any policy may use; older timestamps can never matter. */
const MAX_WINDOW_MS = 300_000;

export interface RateDecision {
  allowed: boolean;
  /** Calls still allowed in this window after this one (0 when refused). */
  remaining: number;
  /** Seconds until the next call would be allowed (only when refused). */
  retryAfterSeconds: number;
}

export class RateLimitCounters {
  /** Key value → times of the calls let through, ascending. */
  readonly #calls = new Map<string, number[]>();
  #lastSweep = 0;

  take(key: string, calls: number, periodSeconds: number, now = Date.now()): RateDecision {
    this.#sweep(now);
    const periodMs = periodSeconds * 1000;
    let list = this.#calls.get(key);
    if (!list) {
      list = [];
      this.#calls.set(key, list);
    }
    const from = firstAfter(list, now - periodMs);
    const inWindow = list.length - from;
    if (inWindow >= calls) {
      // The (inWindow - calls)-th call of the window is the one whose expiry makes room for one more.
      const frees = list[from + inWindow - calls]! + periodMs;
      return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((frees - now) / 1000)) };
    }
    list.push(now);
    return { allowed: true, remaining: calls - inWindow - 1, retryAfterSeconds: 0 };
  }

  reset(): void {
    this.#calls.clear();
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Drops calls older than any window, and keys left empty, at most once a second (bounded memory). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < 1000) return;
    this.#lastSweep = now;
    for (const [key, list] of this.#calls) {
      const keep = firstAfter(list, now - MAX_WINDOW_MS);
      if (keep === list.length) this.#calls.delete(key);
      else if (keep > 0) list.splice(0, keep);
    }
  }
}

/** Index of the first entry greater than t (binary search on an ascending list). */
function firstAfter(list: number[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
