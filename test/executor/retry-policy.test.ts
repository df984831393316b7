// executor/retry-policy.ts: exponential backoff with full jitter, Retry-After as a floor, within a budget.
import t from 'tap';
import { backoffDelay, fitsBudget, retryAfterMs, retryDelay } from '../../executor/retry-policy.ts';

t.test('backoff grows exponentially up to the cap, jittered between base/2 and the ceiling', async (t) => {
  const o = { baseMs: 500, capMs: 30_000 };
  t.equal(backoffDelay(0, () => 0, o), 250);
  t.equal(backoffDelay(0, () => 1, o), 500);
  t.equal(backoffDelay(3, () => 1, o), 4000);
  t.equal(backoffDelay(3, () => 0, o), 250);
  t.equal(backoffDelay(20, () => 1, o), 30_000, 'capped');
  t.equal(backoffDelay(1000, () => 1, o), 30_000, 'no overflow for huge attempt numbers');
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, Math.random, o)));
  t.ok(spread.size > 10, 'jitter spreads retries of many Jobs');
});

t.test('Retry-After is a floor, never shortened by jitter', async (t) => {
  t.equal(retryDelay(0, 7000, () => 0), 7000);
  t.equal(retryDelay(6, 1000, () => 1), 30_000, 'a larger backoff wins over a small Retry-After');
  t.equal(retryDelay(0, undefined, () => 1), 500);
});

t.test('Retry-After headers: milliseconds (Azure), seconds and HTTP dates', async (t) => {
  const h = (o: Record<string, string>) => (n: string) => o[n];
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(retryAfterMs(h({ 'retry-after': '3' }), now), 3000);
  t.equal(retryAfterMs(h({ 'retry-after-ms': '250' }), now), 250);
  t.equal(retryAfterMs(h({ 'x-ms-retry-after-ms': '1500', 'retry-after': '9' }), now), 1500, 'the precise header wins');
  t.equal(retryAfterMs(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now), 5000);
  t.equal(retryAfterMs(h({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), now), 0, 'a date in the past means now');
  t.equal(retryAfterMs(h({ 'retry-after': 'soon' }), now), undefined);
  t.equal(retryAfterMs(h({}), now), undefined);
});

t.test('a retry fits only when it can start before the deadline', async (t) => {
  t.ok(fitsBudget(1000, 500, 2000));
  t.notOk(fitsBudget(1000, 1000, 2000));
});
