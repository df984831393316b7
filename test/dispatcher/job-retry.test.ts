// The retry decision after a failed Job (dispatcher/job-retry.ts), table-driven: which failures are transient, the
// capped doubling wait with its jitter, the limit, and a due time that depends on the Job alone.
import t from 'tap';
import { readDispatcherConfig, type JobRetryConfig } from '../../core/dispatcher-config.ts';
import { decideRetry, durationText, failureKind, jitterFraction, retryDelayMs } from '../../dispatcher/job-retry.ts';
import type { JobSummary } from '../../dispatcher/job-summary.ts';

const MIN = 60_000;
const noJitter: JobRetryConfig = { limit: 100, baseMs: MIN, maxMs: 30 * MIN, jitter: 0 };
const ended = Date.parse('2026-11-29T10:00:00Z');
type Ended = Pick<JobSummary, 'outcome' | 'reason' | 'message' | 'attempt' | 'endedAtMs'>;
const failedJob = (o: Partial<Ended> = {}): Ended => ({ outcome: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', attempt: 0, endedAtMs: ended, ...o });

t.test('which failures are transient: the Job controller\'s verdict', async (t) => {
  const cases: { name: string; job: Ended; transient: boolean; why: RegExp }[] = [
    { name: 'every pod exited 1 (APIM 503, unreachable, throttled)', job: failedJob(), transient: true, why: /every retry/ },
    { name: 'the active deadline', job: failedJob({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }), transient: true, why: /JOB_ACTIVE_DEADLINE_SECONDS/ },
    { name: 'exit 42 through the podFailurePolicy', job: failedJob({ reason: 'PodFailurePolicy', message: 'Container executor for pod ops/x-abc failed with exit code 42 matching FailJob rule at index 0' }), transient: false, why: /exited 42/ },
    { name: 'a FailJob rule we did not write', job: failedJob({ reason: 'PodFailurePolicy', message: 'Container executor failed with exit code 420 matching FailJob rule at index 3' }), transient: false, why: /pod failure policy/ },
    { name: 'an unknown reason: not retried blindly', job: failedJob({ reason: 'SomethingNew' }), transient: false, why: /"SomethingNew".*not known to be transient/ },
    { name: 'completed without recording the change', job: failedJob({ outcome: 'Complete', reason: '' }), transient: false, why: /completed without recording/ },
  ];
  for (const c of cases) {
    const k = failureKind(c.job);
    t.equal(k.transient, c.transient, c.name);
    t.match(k.why, c.why, `${c.name}: says why`);
  }
});

t.test('the wait: base doubling to the cap, jitter taken off, never above the cap', async (t) => {
  const cases: { attempt: number; retry: Partial<JobRetryConfig>; ms: number }[] = [
    { attempt: 1, retry: {}, ms: MIN },
    { attempt: 2, retry: {}, ms: 2 * MIN },
    { attempt: 3, retry: {}, ms: 4 * MIN },
    { attempt: 5, retry: {}, ms: 16 * MIN },
    { attempt: 6, retry: {}, ms: 30 * MIN },
    { attempt: 1000, retry: {}, ms: 30 * MIN },
    { attempt: 1, retry: { baseMs: 2000, maxMs: 5000 }, ms: 2000 },
    { attempt: 2, retry: { baseMs: 2000, maxMs: 5000 }, ms: 4000 },
    { attempt: 3, retry: { baseMs: 2000, maxMs: 5000 }, ms: 5000 },
  ];
  for (const c of cases) t.equal(retryDelayMs(c.attempt, { ...noJitter, ...c.retry }, 'ns/a/h'), c.ms, `attempt ${c.attempt} ${JSON.stringify(c.retry)}`);

  const jittered = { ...noJitter, jitter: 0.2 };
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const ms = retryDelayMs(3, jittered, `ns/api-${i}/h`);
    t.ok(ms > 4 * MIN * 0.8 - 1 && ms <= 4 * MIN, `api-${i}: ${ms} ms within [80 %, 100 %] of 4 min`);
    seen.add(ms);
  }
  t.ok(seen.size > 150, `objects of one burst retry at different times (${seen.size} distinct waits of 200)`);
  t.equal(retryDelayMs(3, jittered, 'ns/a/h'), retryDelayMs(3, jittered, 'ns/a/h'), 'the jitter is a function of object, change and attempt: the same on every replica');
  t.not(jitterFraction('ns/a/h', 3), jitterFraction('ns/a/h', 4), 'and differs between attempts');
  for (let a = 1; a < 40; a++) t.ok(retryDelayMs(a, jittered, 'ns/a/h') <= 30 * MIN, `attempt ${a}: never above the cap`);
});

t.test('the decision: the next attempt and its absolute time, or wait for a new change', async (t) => {
  const cases: { name: string; job: Ended; retry?: Partial<JobRetryConfig>; expect: Record<string, unknown> }[] = [
    { name: 'first Job failed transiently: retry 1 one base after it ended', job: failedJob(), expect: { kind: 'retry', attempt: 1, delayMs: MIN, dueAtMs: ended + MIN } },
    { name: 'retry 3 failed: retry 4 after 8 min', job: failedJob({ attempt: 3 }), expect: { kind: 'retry', attempt: 4, delayMs: 8 * MIN, dueAtMs: ended + 8 * MIN } },
    { name: 'the deadline counts as transient', job: failedJob({ reason: 'DeadlineExceeded', attempt: 1 }), expect: { kind: 'retry', attempt: 2, dueAtMs: ended + 2 * MIN } },
    { name: 'exit 42: wait for a new change', job: failedJob({ reason: 'PodFailurePolicy', message: 'failed with exit code 42 matching FailJob rule' }), expect: { kind: 'wait-for-change', attempts: 1 } },
    { name: 'the limit is spent', job: failedJob({ attempt: 100 }), expect: { kind: 'wait-for-change', attempts: 101, why: /all 100 retries \(JOB_RETRY_LIMIT\) are spent/ } },
    { name: 'retries off', job: failedJob(), retry: { limit: 0 }, expect: { kind: 'wait-for-change', why: /retries are off \(JOB_RETRY_LIMIT=0\)/ } },
    { name: 'no end time on the Job: due at once rather than never', job: failedJob({ endedAtMs: undefined }), expect: { kind: 'retry', attempt: 1, dueAtMs: MIN } },
  ];
  for (const c of cases) t.match(decideRetry(c.job, { ...noJitter, ...c.retry }, 'ns/a/h'), c.expect, c.name);
  // The due time is the Job's, not the caller's clock: planning later (another leader, after a restart) agrees.
  const first = decideRetry(failedJob({ attempt: 2 }), { ...noJitter, jitter: 0.2 }, 'ns/a/h');
  const again = decideRetry(failedJob({ attempt: 2 }), { ...noJitter, jitter: 0.2 }, 'ns/a/h');
  t.same(again, first, 'deterministic');
});

t.test('durations in messages', async (t) => {
  const cases: [number, string][] = [[0, '0s'], [1500, '2s'], [60_000, '1m'], [90_000, '1m30s'], [30 * MIN, '30m'], [3_600_000 + 5000, '1h5s']];
  for (const [ms, text] of cases) t.equal(durationText(ms), text, `${ms} ms`);
});

t.test('configuration: defaults, bounds, and a TTL that would lose the retry\'s clock', async (t) => {
  const read = (env: Record<string, string>) => readDispatcherConfig(env, { hostname: 'h', randomSuffix: 'r' });
  const d = read({});
  t.same(d.ok && d.config.retry, { limit: 100, baseMs: MIN, maxMs: 30 * MIN, jitter: 0.2 }, '1 min doubling to 30 min, 20 % jitter, 100 retries');
  const custom = read({ JOB_RETRY_LIMIT: '5', JOB_RETRY_BASE_SECONDS: '2', JOB_RETRY_MAX_SECONDS: '8', JOB_RETRY_JITTER_PERCENT: '0' });
  t.same(custom.ok && custom.config.retry, { limit: 5, baseMs: 2000, maxMs: 8000, jitter: 0 });
  const cases: { env: Record<string, string>; error: RegExp }[] = [
    { env: { JOB_RETRY_LIMIT: '1001' }, error: /JOB_RETRY_LIMIT="1001" is invalid: must be a whole number from 0 to 1000/ },
    { env: { JOB_RETRY_BASE_SECONDS: '0' }, error: /JOB_RETRY_BASE_SECONDS="0" is invalid/ },
    { env: { JOB_RETRY_JITTER_PERCENT: '60' }, error: /JOB_RETRY_JITTER_PERCENT="60" is invalid: must be a whole number from 0 to 50/ },
    { env: { JOB_RETRY_BASE_SECONDS: '120', JOB_RETRY_MAX_SECONDS: '60' }, error: /JOB_RETRY_MAX_SECONDS=60 must be at least JOB_RETRY_BASE_SECONDS=120/ },
    { env: { JOB_TTL_SECONDS_AFTER_FINISHED: '600' }, error: /JOB_TTL_SECONDS_AFTER_FINISHED=600 is shorter than JOB_RETRY_MAX_SECONDS=1800.*raise the TTL to at least 1800.*JOB_RETRY_LIMIT=0/ },
  ];
  for (const c of cases) {
    const r = read(c.env);
    t.notOk(r.ok, JSON.stringify(c.env));
    if (!r.ok) t.match(r.errors.join('\n'), c.error);
  }
  t.ok(read({ JOB_TTL_SECONDS_AFTER_FINISHED: '600', JOB_RETRY_LIMIT: '0' }).ok, 'a short TTL is fine with retries off');
});

t.test('exit 43 (no ready pod to read the served document from): the next Job when the implementation is ready', async (t) => {
  const started = ended - 20_000;
  const job43 = (o: Partial<JobSummary> = {}) => ({
    ...failedJob({ reason: 'PodFailurePolicy', message: 'Container executor for pod ops/x-abc failed with exit code 43 matching FailJob rule at index 1', ...o }),
    startedAtMs: started,
  });
  t.match(failureKind(job43()), { transient: false, waitsForImplementation: true, why: /exited 43: the implementation Service had no ready pod/ }, 'exit 43 is its own kind');
  t.notOk(failureKind(failedJob({ reason: 'PodFailurePolicy', message: 'failed with exit code 430 matching FailJob rule' })).waitsForImplementation, 'exit code 430 is not 43');
  const cases: { name: string; impl?: { ready: boolean; readySinceMs?: number }; job?: Partial<JobSummary>; retry?: Partial<JobRetryConfig>; expect: Record<string, unknown> }[] = [
    { name: 'not ready: wait for the EndpointSlice watch', impl: { ready: false }, expect: { kind: 'wait-for-implementation' } },
    { name: 'ready since after the Job started: at once', impl: { ready: true, readySinceMs: started + 1 }, expect: { kind: 'retry', attempt: 1, delayMs: 0, dueAtMs: ended, implementation: true, why: /it has one now/ } },
    { name: 'ready since before the Job started (the executor judged otherwise): the ordinary backoff, so no back-to-back Jobs', impl: { ready: true, readySinceMs: started - 1 },
      expect: { kind: 'retry', attempt: 1, delayMs: MIN, dueAtMs: ended + MIN, implementation: true } },
    { name: 'not counted against JOB_RETRY_LIMIT', impl: { ready: true, readySinceMs: started + 1 }, job: { attempt: 7 }, retry: { limit: 2 }, expect: { kind: 'retry', attempt: 8, delayMs: 0 } },
    { name: 'bounded all the same', impl: { ready: true, readySinceMs: started + 1 }, job: { attempt: 999 }, expect: { kind: 'wait-for-change', why: /1000 Jobs/ } },
    { name: 'READINESS_SYNC=false: the ordinary retries', job: { attempt: 0 }, expect: { kind: 'retry', attempt: 1, delayMs: MIN } },
    { name: 'READINESS_SYNC=false, retries spent', job: { attempt: 2 }, retry: { limit: 2 }, expect: { kind: 'wait-for-change', why: /READINESS_SYNC=false.*all 2 retries/ } },
  ];
  for (const c of cases) t.match(decideRetry(job43(c.job), { ...noJitter, ...c.retry }, 'ns/a/h', c.impl), c.expect, c.name);
});
