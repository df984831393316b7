// Faults on demand, for exercising a client's retries and timeouts: a rule matches requests by method and path
// (substring or regular expression) and answers the next N of them with 429 + Retry-After, 500, 503, 409
// PessimisticConcurrencyConflict, a delay, or a dropped connection. Rules are consumed in the order they were added.
import { ArmError } from './arm-errors.ts';

export type FaultStatus = 409 | 429 | 500 | 503;

export interface FaultRule {
  id: number;
  method?: string;
  pathPattern: string;
  status?: FaultStatus;
  retryAfter?: number;
  /** How many more requests this rule will fault. */
  remaining: number;
  delayMs?: number;
  drop?: boolean;
  /** How many requests it has faulted so far. */
  hits: number;
}

const STATUSES: readonly number[] = [409, 429, 500, 503];

export class FaultRuleError extends Error {}

function nonNegativeInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new FaultRuleError(`'${name}' must be a non-negative integer`);
  return v;
}

export class FaultInjector {
  #rules: FaultRule[] = [];
  #nextId = 1;

  add(input: unknown): FaultRule {
    if (input === null || typeof input !== 'object') throw new FaultRuleError('a fault rule must be a JSON object');
    const r = input as Record<string, unknown>;
    if (typeof r['pathPattern'] !== 'string' || r['pathPattern'] === '') throw new FaultRuleError(`'pathPattern' (substring or regular expression) is required`);
    if (r['method'] !== undefined && typeof r['method'] !== 'string') throw new FaultRuleError(`'method' must be a string`);
    const status = r['status'];
    if (status !== undefined && !STATUSES.includes(status as number)) throw new FaultRuleError(`'status' must be one of ${STATUSES.join(', ')}`);
    const drop = r['drop'] === true;
    const delayMs = nonNegativeInt(r['delayMs'], 'delayMs');
    if (status === undefined && !drop && delayMs === undefined) throw new FaultRuleError(`a rule needs 'status', 'drop: true' or 'delayMs'`);
    const times = nonNegativeInt(r['times'], 'times') ?? 1;
    if (times < 1) throw new FaultRuleError(`'times' must be at least 1`);
    const rule: FaultRule = { id: this.#nextId++, pathPattern: r['pathPattern'], remaining: times, hits: 0 };
    if (typeof r['method'] === 'string') rule.method = r['method'].toUpperCase();
    if (status !== undefined) rule.status = status as FaultStatus;
    const retryAfter = nonNegativeInt(r['retryAfter'], 'retryAfter');
    if (retryAfter !== undefined) rule.retryAfter = retryAfter;
    if (delayMs !== undefined) rule.delayMs = delayMs;
    if (drop) rule.drop = true;
    this.#rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.#rules = [];
  }

  /** The rule that faults this request, if any (its count is consumed). */
  take(method: string, pathAndQuery: string): FaultRule | undefined {
    for (const rule of this.#rules) {
      if (rule.remaining <= 0) continue;
      if (rule.method !== undefined && rule.method !== method.toUpperCase()) continue;
      if (!matches(rule.pathPattern, pathAndQuery)) continue;
      rule.remaining -= 1;
      rule.hits += 1;
      return { ...rule };
    }
    return undefined;
  }
}

function matches(pattern: string, path: string): boolean {
  if (path.includes(pattern)) return true;
  try {
    return new RegExp(pattern).test(path);
  } catch {
    return false;
  }
}

/** The ARM error a status-faulting rule answers with. */
export function faultError(rule: FaultRule): ArmError {
  const retry: Record<string, string> = rule.retryAfter !== undefined ? { 'retry-after': String(rule.retryAfter) } : {};
  switch (rule.status) {
    case 429:
      return new ArmError(
        429,
        'SubscriptionRequestsThrottled',
        `Number of requests exceeded the limit (injected fault ${rule.id}). Please try again after '${rule.retryAfter ?? 1}' seconds. Refer to https://aka.ms/arm-throttling`,
        null,
        { 'retry-after': String(rule.retryAfter ?? 1) },
      );
    case 503:
      return new ArmError(503, 'ServiceUnavailable', `The service is temporarily unavailable (injected fault ${rule.id}). Please retry.`, null, retry);
    case 409:
      return new ArmError(409, 'PessimisticConcurrencyConflict', 'Operation on the API is in progress', null, retry);
    default:
      return new ArmError(500, 'InternalServerError', `An unexpected error occurred while processing the request (injected fault ${rule.id}).`, null, retry);
  }
}
