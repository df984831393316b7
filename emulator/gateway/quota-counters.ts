// quota-by-key's counters: one per counter-key value across every API and scope ("For each key value, a single
// counter is used for all scopes at which the policy is configured"; "The counter-key attribute value must be unique
// across all the APIs in the API Management instance if you don't want to share the total":
// https://learn.microsoft.com/azure/api-management/quota-by-key-policy). The window is fixed: "The length in seconds
// of the fixed window after which the quota resets. The start of each period is calculated relative to
// first-period-start" (default 0001-01-01T00:00:00Z); 0 means the period never renews. "If multiple policies would
// increment the same key value, it is incremented only once per request" (the caller passes the keys this request
// has already counted). A refused call is not counted.

/** 0001-01-01T00:00:00Z, the default first-period-start, in epoch milliseconds. */
export const FIRST_PERIOD_START_MS = Date.parse('0001-01-01T00:00:00Z');

export interface QuotaDecision {
  allowed: boolean;
  /** Seconds until the period renews (refused calls; null when it never renews). */
  renewsInSeconds: number | null;
}

export class QuotaCounters {
  /** Key value → the period it counts and the calls counted in it. */
  readonly #counts = new Map<string, { period: number; calls: number }>();

  take(key: string, calls: number, renewalSeconds: number, countedThisRequest: Set<string>, now = Date.now()): QuotaDecision {
    const periodMs = renewalSeconds * 1000;
    const period = periodMs === 0 ? 0 : Math.floor((now - FIRST_PERIOD_START_MS) / periodMs);
    let entry = this.#counts.get(key);
    if (!entry || entry.period !== period) {
      entry = { period, calls: 0 };
      this.#counts.set(key, entry);
    }
    const already = countedThisRequest.has(key);
    if (!already && entry.calls >= calls) {
      const renewsAt = periodMs === 0 ? null : FIRST_PERIOD_START_MS + (period + 1) * periodMs;
      return { allowed: false, renewsInSeconds: renewsAt === null ? null : Math.max(1, Math.ceil((renewsAt - now) / 1000)) };
    }
    if (already && entry.calls > calls) return { allowed: false, renewsInSeconds: null };
    if (!already) {
      entry.calls++;
      countedThisRequest.add(key);
    }
    return { allowed: true, renewsInSeconds: null };
  }

  reset(): void {
    this.#counts.clear();
  }
}

/** .NET TimeSpan's constant format ([d.]hh:mm:ss), as APIM writes "Quota will be replenished in 07:01:20" / "20.09:58:55". */
export function timeSpan(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const hms = [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
  return d > 0 ? `${d}.${hms}` : hms;
}
