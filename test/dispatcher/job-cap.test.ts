// The adaptive global Job cap (dispatcher/job-cap.ts), table-driven: each case is a sequence of Job ends and pod
// failures with the cap expected after every event, plus the settings as read from the environment.
import t from 'tap';
import { readDispatcherConfig } from '../../core/dispatcher-config.ts';
import { BASELINE_OF, initialJobCap, jobCapAt, MEDIAN_OF, nextJobCap, runTimes, type JobCapEvent, type JobCapSettings, type JobCapState } from '../../dispatcher/job-cap.ts';
import { DispatchQueue } from '../../dispatcher/dispatch-queue.ts';
import { jobSummary, podFailedTransiently } from '../../dispatcher/job-summary.ts';

const settings: JobCapSettings = { min: 2, max: 10, slowFactor: 2, holdMs: 20_000 };

// Events on a timeline: a Job that started at `start` and ran `ms`; `waiting` defaults to true (demand for more).
const run = (start: number, ms: number, waiting = true): JobCapEvent => ({ kind: 'finished', startedAtMs: start, endedAtMs: start + ms, waiting });
const failed = (atMs: number): JobCapEvent => ({ kind: 'pod-failed', atMs });
const fastRuns = (n: number, from = 0): JobCapEvent[] => Array.from({ length: n }, (_, i) => run(from + i * 1000, 1000));

function replay(events: JobCapEvent[], s: JobCapSettings = settings, state: JobCapState = initialJobCap(s)): { caps: number[]; state: JobCapState } {
  const caps: number[] = [];
  for (const e of events) {
    state = nextJobCap(state, e, s);
    caps.push(state.cap);
  }
  return { caps, state };
}

t.test('sequences of events and the cap after each', async (t) => {
  const cases: { name: string; events: JobCapEvent[]; settings?: Partial<JobCapSettings>; caps: number[] }[] = [
    { name: 'slow start: every fast Job adds one while changes wait', events: fastRuns(4), caps: [3, 4, 5, 6] },
    { name: 'no demand, no growth: a cap that was never full says nothing about more', events: [run(0, 1000, false), run(1000, 1000, false)], caps: [2, 2] },
    { name: 'never above the ceiling', events: fastRuns(12), caps: [3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 10] },
    {
      name: 'slowed down (the Job and the median of the last five > 2 × baseline): halved once',
      // Five 1 s runs raise the cap to 7; then Jobs take 3 s. The first two are only recorded (the median is still
      // fast); at the third, the Job and the median agree.
      events: [...fastRuns(5), run(10_000, 3000), run(10_100, 3000), run(10_200, 3000)],
      caps: [3, 4, 5, 6, 7, 7, 7, 3],
    },
    {
      name: 'Jobs started before the decrease do not lower it again (one decrease per round)',
      events: [...fastRuns(5), run(10_000, 3000), run(10_100, 3000), run(10_200, 3000), run(10_300, 3000), run(10_400, 3000)],
      caps: [3, 4, 5, 6, 7, 7, 7, 3, 3, 3],
    },
    {
      name: 'a Job started after the decrease that is still slow lowers it again, down to the floor',
      events: [...fastRuns(5), run(10_000, 3000), run(10_100, 3000), run(10_200, 3000), run(13_300, 3000), run(16_400, 3000), run(19_500, 3000)],
      caps: [3, 4, 5, 6, 7, 7, 7, 3, 2, 2, 2],
    },
    {
      name: 'after a slow-down, growth is additive: one per cap\'s worth of fast Jobs',
      events: [...fastRuns(5), run(10_000, 3000), run(10_100, 3000), run(10_200, 3000), ...fastRuns(9, 14_000)],
      // The first two fast Jobs are only recorded (the median is still slow); then three fast Jobs make +1 at cap 3,
      // four at cap 4.
      caps: [3, 4, 5, 6, 7, 7, 7, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5],
    },
    {
      name: 'one odd slow Job (a large document) does not move the cap: the median decides',
      events: [...fastRuns(5), run(6000, 9000), ...fastRuns(2, 20_000)],
      caps: [3, 4, 5, 6, 7, 7, 8, 9],
    },
    { name: 'a retriable pod failure halves the cap', events: [...fastRuns(6), failed(7000)], caps: [3, 4, 5, 6, 7, 8, 4] },
    { name: 'the floor holds', events: [failed(0), failed(1)], caps: [2, 2] },
    { name: 'min = max: a fixed cap, whatever happens', settings: { min: 4, max: 4 }, events: [...fastRuns(6), failed(7000), run(8000, 60_000)], caps: [4, 4, 4, 4, 4, 4, 4, 4] },
    { name: 'a floor of 1', settings: { min: 1, max: 3 }, events: [...fastRuns(3), failed(4000)], caps: [2, 3, 3, 1] },
  ];
  for (const c of cases) {
    const s = { ...settings, ...c.settings };
    t.same(replay(c.events, s).caps, c.caps, c.name);
  }
});

t.test('a hold: the floor until it ends, then the halved cap', async (t) => {
  const { state } = replay([...fastRuns(6), failed(10_000)]);
  const cases: { at: number; cap: number }[] = [
    { at: 10_000, cap: 2 },
    { at: 29_999, cap: 2 },
    { at: 30_000, cap: 4 },
  ];
  for (const c of cases) t.equal(jobCapAt(state, c.at, settings), c.cap, `at ${c.at} ms`);
  const again = nextJobCap(state, failed(25_000), settings);
  t.equal(again.holdUntilMs, 45_000, 'another failure during the hold extends it');
  t.equal(nextJobCap(state, failed(1000), settings).holdUntilMs, 30_000, 'an older failure never shortens it');
  t.match(again.why, /retriable exit: cap 4 → 2, at 2 for 20 s/, 'the change says why');
});

t.test('the baseline: a low percentile of the recent runs, judged only with enough of them', async (t) => {
  const cases: { name: string; runs: number[]; expect: { baselineMs: number; medianMs: number } | undefined }[] = [
    { name: 'too few runs to judge', runs: Array(MEDIAN_OF - 1).fill(1000), expect: undefined },
    { name: 'five equal runs', runs: Array(MEDIAN_OF).fill(1000), expect: { baselineMs: 1000, medianMs: 1000 } },
    { name: 'one no-op Job does not become the baseline', runs: [100, ...Array(9).fill(1000)], expect: { baselineMs: 1000, medianMs: 1000 } },
    { name: 'the median of the last five', runs: [...Array(10).fill(1000), 900, 5000, 5000, 1000, 5000], expect: { baselineMs: 1000, medianMs: 5000 } },
  ];
  for (const c of cases) t.same(runTimes({ runs: c.runs }), c.expect, c.name);
  const { state } = replay(fastRuns(BASELINE_OF + 20));
  t.equal(state.runs.length, BASELINE_OF, `only the last ${BASELINE_OF} runs are kept`);
});

t.test('which Job events are pacing signals', async (t) => {
  const job = (status: Record<string, unknown>) => jobSummary({
    metadata: { name: 'j', labels: { 'app.kubernetes.io/component': 'executor', 'exposedapi-apim.io/action': 'apply' }, annotations: { 'exposedapi-apim.io/exposedapi': 'ns/a', 'exposedapi-apim.io/spec-hash': 'h' } },
    status,
  })!;
  const cases: { name: string; before?: Record<string, unknown>; after: Record<string, unknown>; signal: boolean }[] = [
    { name: 'a pod failed (exit 1)', before: {}, after: { failed: 1, active: 1 }, signal: true },
    { name: 'no new failure (a replayed event)', before: { failed: 1 }, after: { failed: 1 }, signal: false },
    { name: 'the executor\'s permanent exit: bad input, not pace', before: {}, after: { failed: 1, conditions: [{ type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy' }] }, signal: false },
    { name: 'the backoff limit: the last pod failed', before: { failed: 1 }, after: { failed: 2, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] }, signal: true },
    { name: 'a Job first seen with a failure (created by this term, watch not caught up)', after: { failed: 1 }, signal: true },
  ];
  for (const c of cases) t.equal(podFailedTransiently(c.before ? job(c.before) : undefined, job(c.after)), c.signal, c.name);
});

t.test('demand for a higher cap: a change that could start but for the cap', async (t) => {
  const change = (name: string) => ({ namespace: 'ns', name, uid: name, specHash: 'h', action: 'apply' as const });
  const cases: { name: string; setup: (q: DispatchQueue) => void; startable: boolean }[] = [
    { name: 'nothing waits', setup: () => {}, startable: false },
    { name: 'a due change', setup: (q) => q.want(change('a')), startable: true },
    { name: 'a retry in its backoff', setup: (q) => q.want(change('a'), 5000), startable: false },
    { name: 'a change behind its object\'s running Job', setup: (q) => { q.markActive('ns/a', 'job-a'); q.want(change('a')); }, startable: false },
    { name: 'one of each, one due', setup: (q) => { q.want(change('a'), 5000); q.want(change('b')); }, startable: true },
  ];
  for (const c of cases) {
    const q = new DispatchQueue(0); // a cap of 0: nothing is taken, only what waits is asked about
    c.setup(q);
    t.equal(q.startable(1000), c.startable, c.name);
  }
});

t.test('settings from the environment', async (t) => {
  const read = (env: Record<string, string>) => readDispatcherConfig(env, { hostname: 'h', randomSuffix: 'r' });
  const defaults = read({});
  t.same(defaults.ok && [defaults.config.maxActiveJobs, defaults.config.jobCap], [10, { minActiveJobs: 2, slowFactor: 2, holdMs: 20_000 }], 'defaults');
  const one = read({ DISPATCH_MAX_ACTIVE_JOBS: '1' });
  t.same(one.ok && one.config.jobCap.minActiveJobs, 1, 'the default floor never exceeds the ceiling');
  const fixed = read({ DISPATCH_MAX_ACTIVE_JOBS: '4', DISPATCH_MIN_ACTIVE_JOBS: '4', DISPATCH_SLOW_JOB_FACTOR: '3', DISPATCH_FAILURE_HOLD_SECONDS: '0' });
  t.same(fixed.ok && fixed.config.jobCap, { minActiveJobs: 4, slowFactor: 3, holdMs: 0 });
  const cases: { env: Record<string, string>; error: RegExp }[] = [
    { env: { DISPATCH_MIN_ACTIVE_JOBS: '11' }, error: /DISPATCH_MIN_ACTIVE_JOBS=11 must be at most DISPATCH_MAX_ACTIVE_JOBS=10: .*set both to the same value for a fixed cap/ },
    { env: { DISPATCH_MIN_ACTIVE_JOBS: '0' }, error: /DISPATCH_MIN_ACTIVE_JOBS="0" is invalid: must be a whole number from 1 to 1000/ },
    { env: { DISPATCH_SLOW_JOB_FACTOR: '1' }, error: /DISPATCH_SLOW_JOB_FACTOR="1" is invalid: must be a whole number from 2 to 20/ },
    { env: { DISPATCH_FAILURE_HOLD_SECONDS: '-1' }, error: /DISPATCH_FAILURE_HOLD_SECONDS="-1" is invalid: must be a whole number from 0 to 600/ },
  ];
  for (const c of cases) {
    const r = read(c.env);
    t.notOk(r.ok, JSON.stringify(c.env));
    if (!r.ok) t.match(r.errors.join('\n'), c.error);
  }
});
