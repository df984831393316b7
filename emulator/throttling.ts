// ARM's request throttling: token buckets per principal for reads, writes and deletes (defaults: 250 refilled at
// 25/s, 200 at 10/s, 200 at 10/s). Every ARM response reports what is left in
// `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`; when enforcement is on, an empty bucket answers 429
// SubscriptionRequestsThrottled with Retry-After. Off by default so tests that do not study throttling are not paced;
// the sandbox (dev-cluster/sandbox/sandbox.ts) and `emulator --throttle` turn it on at these real bucket sizes.

export type RequestKind = 'reads' | 'writes' | 'deletes';

export interface BucketConfig {
  capacity: number;
  refillPerSecond: number;
}

export interface ThrottlingConfig {
  enabled: boolean;
  reads: BucketConfig;
  writes: BucketConfig;
  deletes: BucketConfig;
}

export const DEFAULT_THROTTLING: ThrottlingConfig = {
  enabled: false,
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};

export function requestKind(method: string): RequestKind {
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      return 'reads';
    case 'DELETE':
      return 'deletes';
    default:
      return 'writes';
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface ThrottleDecision {
  allowed: boolean;
  remaining: number;
  /** Whole seconds until a token is back (for Retry-After), when not allowed. */
  retryAfterSeconds: number;
}

export class Throttling {
  config: ThrottlingConfig;
  readonly #buckets = new Map<string, Bucket>();

  constructor(config: ThrottlingConfig = DEFAULT_THROTTLING) {
    this.config = structuredClone(config);
  }

  configure(patch: unknown): ThrottlingConfig {
    if (patch === null || typeof patch !== 'object') throw new Error('throttling settings must be a JSON object');
    const p = patch as Record<string, unknown>;
    const next = structuredClone(this.config);
    if (p['enabled'] !== undefined) {
      if (typeof p['enabled'] !== 'boolean') throw new Error(`'enabled' must be true or false`);
      next.enabled = p['enabled'];
    }
    for (const kind of ['reads', 'writes', 'deletes'] as const) {
      const b = p[kind];
      if (b === undefined) continue;
      if (b === null || typeof b !== 'object') throw new Error(`'${kind}' must be {capacity, refillPerSecond}`);
      const { capacity, refillPerSecond } = b as Record<string, unknown>;
      if (capacity !== undefined) {
        if (typeof capacity !== 'number' || capacity < 1) throw new Error(`'${kind}.capacity' must be a number of at least 1`);
        next[kind].capacity = capacity;
      }
      if (refillPerSecond !== undefined) {
        if (typeof refillPerSecond !== 'number' || refillPerSecond <= 0) throw new Error(`'${kind}.refillPerSecond' must be a positive number`);
        next[kind].refillPerSecond = refillPerSecond;
      }
    }
    this.config = next;
    this.#buckets.clear();
    return structuredClone(next);
  }

  reset(): void {
    this.#buckets.clear();
  }

  /** Takes one token for the principal's request of this kind. */
  take(principal: string, kind: RequestKind, now = Date.now()): ThrottleDecision {
    const cfg = this.config[kind];
    const id = `${principal}|${kind}`;
    const b = this.#buckets.get(id) ?? { tokens: cfg.capacity, at: now };
    b.tokens = Math.min(cfg.capacity, b.tokens + ((now - b.at) / 1000) * cfg.refillPerSecond);
    b.at = now;
    this.#buckets.set(id, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, remaining: Math.floor(b.tokens), retryAfterSeconds: 0 };
    }
    if (!this.config.enabled) return { allowed: true, remaining: 0, retryAfterSeconds: 0 };
    return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / cfg.refillPerSecond)) };
  }
}
