// How many executor Jobs may run at once, adapted to what the Jobs show (additive increase, multiplicative decrease,
// as TCP sizes its window). Pure: no clock, no I/O; the dispatcher passes each event with its time.
//
// Why adapt: every Job is a Node process doing CPU work (module load, validation, conversion) and APIM writes that
// ARM throttles per subscription. A fixed cap is wrong on both sides: on a two-core node ten CPU-bound Jobs thrash
// (each takes five times longer, memory adds up, nothing finishes sooner), and when ARM's writes bucket runs low the
// executor's own pacing (executor/arm-pacing.ts, on `x-ms-ratelimit-remaining-subscription-writes`) makes every Job
// wait, so starting more of them only queues more waiting processes. Both show up in the same place: Jobs take longer
// than they do on a quiet system. So:
// - start at the floor (DISPATCH_MIN_ACTIVE_JOBS): the first Jobs run on a quiet system and give the baseline;
// - a Job that finishes "fast" (it and the recent median within that bound) while changes wait for the cap raises it: by one per Job until the first slow-down
//   (slow start), then by one per cap's worth of fast Jobs;
// - "slow" = the Job and the median of the last MEDIAN_OF runs both exceed DISPATCH_SLOW_JOB_FACTOR × the baseline
//   (a low percentile of the last BASELINE_OF runs): the cap halves, at most once per round (only a Job started after the last decrease
//   can cause the next one, as it is the first to reflect the lower cap);
// - a pod that failed with a retriable exit (ARM still throttling after the SDK's and the run's retries, or an
//   outage) halves the cap and holds it at the floor for DISPATCH_FAILURE_HOLD_SECONDS: starting more Jobs against a
//   throttled subscription or a failing APIM only makes more fail.
// Every signal comes from what the dispatcher itself saw of Jobs in the operator namespace (when it created them,
// when the Job controller reported them finished or a pod failed), never from ExposedAPI status, which tenants can
// write: a tenant can at most slow the shared pace down to the floor with its own slow or failing Jobs (its document
// host, its backend), never below it, and namespaces keep taking turns within the cap (dispatch-queue.ts), so no
// other tenant is starved.

export interface JobCapSettings {
  /** Floor, and the cap at the start of a term. min = max turns adaptation off (a fixed cap). */
  min: number;
  /** Ceiling (DISPATCH_MAX_ACTIVE_JOBS). */
  max: number;
  /** A run counts as slow above this multiple of the baseline. */
  slowFactor: number;
  /** How long the cap stays at the floor after a pod failed with a retriable exit. */
  holdMs: number;
}

/** Runs whose median decides "slow": a single odd Job (a large document, a slow backend) does not move the cap. */
export const MEDIAN_OF = 5;
/** Runs the baseline is taken from: long enough to remember a quiet period, short enough to follow a new workload. */
export const BASELINE_OF = 50;
/** The baseline is this percentile of those runs (not the minimum: one no-op Job would make every real one look slow). */
export const BASELINE_PERCENTILE = 20;

export interface JobCapState {
  cap: number;
  /** Until the first decrease, every fast Job adds one. */
  slowStart: boolean;
  /** Fast Jobs counted toward the next +1 after slow start. */
  credit: number;
  /** Run times (ms) of the most recent finished Jobs, oldest first, at most BASELINE_OF. */
  runs: number[];
  /** When the cap was last lowered: only Jobs started after it can lower it again. */
  decreasedAtMs: number;
  /** The cap stays at the floor until then (a retriable pod failure). */
  holdUntilMs: number;
  /** The last change, for the log and the metric's reader. */
  why?: string;
}

export type JobCapEvent =
  /**
   * A Job completed. `waiting`: a change that could start but for the cap was waiting when it ended (the cap was the
   * limit; a retry in its backoff or a change behind its object's running Job does not count).
   */
  | { kind: 'finished'; startedAtMs: number; endedAtMs: number; waiting: boolean }
  /** A Job's pod failed with a retriable exit (the Job controller counted it in status.failed). */
  | { kind: 'pod-failed'; atMs: number };

export function initialJobCap(settings: JobCapSettings): JobCapState {
  return { cap: settings.min, slowStart: true, credit: 0, runs: [], decreasedAtMs: -Infinity, holdUntilMs: -Infinity };
}

function percentileOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** The baseline run time and the recent median, once there are enough runs to judge. */
export function runTimes(state: Pick<JobCapState, 'runs'>): { baselineMs: number; medianMs: number } | undefined {
  if (state.runs.length < MEDIAN_OF) return undefined;
  return { baselineMs: percentileOf(state.runs, BASELINE_PERCENTILE), medianMs: percentileOf(state.runs.slice(-MEDIAN_OF), 50) };
}

function lowered(state: JobCapState, settings: JobCapSettings, atMs: number, why: string): JobCapState {
  const cap = Math.max(settings.min, Math.floor(state.cap / 2));
  return { ...state, cap, slowStart: false, credit: 0, decreasedAtMs: atMs, why: `${why}: cap ${state.cap} → ${cap}` };
}

/** The state after one event. */
export function nextJobCap(state: JobCapState, event: JobCapEvent, settings: JobCapSettings): JobCapState {
  if (settings.min >= settings.max) return state.cap === settings.max ? state : { ...state, cap: settings.max };
  if (event.kind === 'pod-failed') {
    const next = lowered(state, settings, event.atMs, 'a Job\'s pod failed with a retriable exit');
    return { ...next, holdUntilMs: Math.max(state.holdUntilMs, event.atMs + settings.holdMs), why: `${next.why}, at ${settings.min} for ${Math.round(settings.holdMs / 1000)} s` };
  }
  const runMs = Math.max(0, event.endedAtMs - event.startedAtMs);
  const runs = [...state.runs, runMs].slice(-BASELINE_OF);
  const withRun = { ...state, runs };
  const times = runTimes(withRun);
  const limit = times === undefined ? Infinity : settings.slowFactor * times.baselineMs;
  const medianMs = times?.medianMs ?? 0;
  const slow = runMs > limit && medianMs > limit;
  // A fast Job while the recent median is still slow (or a slow one while it is not) is only recorded: the cap moves
  // when this Job and the recent ones agree.
  if (!slow && (runMs > limit || medianMs > limit)) return withRun;
  if (slow) {
    // Jobs started before the last decrease ran under the higher cap: they were counted in that decrease already.
    if (event.startedAtMs < state.decreasedAtMs) return withRun;
    if (state.cap === settings.min) return { ...withRun, slowStart: false };
    return lowered(withRun, settings, event.endedAtMs,
      `Jobs slowed down (this one ${runMs} ms, the median of the last ${MEDIAN_OF} ${Math.round(medianMs)} ms > ${settings.slowFactor} × baseline ${Math.round(times!.baselineMs)} ms)`);
  }
  // Growing without demand would raise the cap on no evidence: a cap that was never full says nothing about more.
  if (!event.waiting || state.cap >= settings.max) return withRun;
  if (state.slowStart) return { ...withRun, cap: state.cap + 1, why: `Jobs finish fast (slow start): cap ${state.cap} → ${state.cap + 1}` };
  const credit = state.credit + 1;
  if (credit < state.cap) return { ...withRun, credit };
  return { ...withRun, cap: state.cap + 1, credit: 0, why: `${state.cap} Jobs finished fast since the cap last changed: cap ${state.cap} → ${state.cap + 1}` };
}

/** The cap in force now: the floor while a hold lasts. */
export function jobCapAt(state: JobCapState, nowMs: number, settings: JobCapSettings): number {
  return nowMs < state.holdUntilMs ? settings.min : state.cap;
}
