// Pacing the Job's ARM requests by what ARM says is left in the caller's buckets, before they are empty. ARM keeps
// token buckets per subscription and principal (reads 250 refilled 25/s, writes 200 refilled 10/s, deletes 200
// refilled 10/s: learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling) and
// reports what is left on every response in `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`. Every Job
// of the operator runs as the same principal, so many concurrent Jobs draw from one bucket: waiting for the 429
// (the SDK's retry) lets the bucket run dry for all of them. Instead, once fewer than a reserve are left, each Job
// waits before its next request of that kind for about the time ARM needs to refill the shortfall, jittered so that
// Jobs that saw the same count do not all resume together. N Jobs then write about N times per refill interval,
// which the bucket absorbs while N stays below the reserve. Pure except for the clock and random source given.

export type ArmRequestKind = 'reads' | 'writes' | 'deletes';

export interface BucketShape {
  capacity: number;
  refillPerSecond: number;
}

/** ARM's documented buckets per subscription and principal (request-limits-and-throttling, 2026). */
export const ARM_BUCKETS: Record<ArmRequestKind, BucketShape> = {
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};

export function armRequestKind(method: string): ArmRequestKind {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'reads';
  return m === 'DELETE' ? 'deletes' : 'writes';
}

/** The remaining count ARM reported for this kind of request, or undefined when the header is absent or unreadable. */
export function remainingOf(kind: ArmRequestKind, header: (name: string) => string | undefined): number | undefined {
  const v = header(`x-ms-ratelimit-remaining-subscription-${kind}`);
  return v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined;
}

/**
 * How long to wait before the next request of a kind, given what is left. `reservePercent` of the bucket's capacity
 * is kept for others (0 turns pacing off). Below it, the wait is the refill time of the shortfall, drawn from its
 * upper half: `random` = 0 waits half of it, 1 all of it.
 */
export function paceDelayMs(remaining: number, bucket: BucketShape, reservePercent: number, random: () => number): number {
  const reserve = Math.floor((bucket.capacity * reservePercent) / 100);
  if (reserve <= 0 || remaining >= reserve) return 0;
  const refillMs = ((reserve - Math.max(0, remaining)) / bucket.refillPerSecond) * 1000;
  return Math.round(refillMs * (0.5 + random() / 2));
}

/** One Job's pacing state: per kind, the earliest time its next request may leave. */
export class ArmPacer {
  readonly #notBefore = new Map<ArmRequestKind, number>();
  readonly #reservePercent: number;
  readonly #random: () => number;
  readonly #now: () => number;
  /** Requests that waited, and how long in total: for the Job log. */
  paced = 0;
  pacedMs = 0;

  constructor(reservePercent: number, random: () => number = Math.random, now: () => number = Date.now) {
    this.#reservePercent = reservePercent;
    this.#random = random;
    this.#now = now;
  }

  /** The wait before a request of this kind may be sent (0 = at once). */
  waitMs(kind: ArmRequestKind): number {
    return Math.max(0, (this.#notBefore.get(kind) ?? 0) - this.#now());
  }

  /** Records what a response reported. */
  observe(kind: ArmRequestKind, remaining: number | undefined): number {
    if (remaining === undefined) return 0;
    const delay = paceDelayMs(remaining, ARM_BUCKETS[kind], this.#reservePercent, this.#random);
    this.#notBefore.set(kind, this.#now() + delay);
    return delay;
  }
}
