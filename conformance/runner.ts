// One conformance run: read the tier, refuse a service holding an earlier run's objects (unless told to delete them),
// run the checks one after another, and delete everything the run created — after the last check, after a check
// crashed, and after an interrupt alike.
import type { ArmTarget } from './arm-target.ts';
import type { Check, CheckResult } from './check.ts';
import { isFailure } from './check.ts';
import { deleteAll, findLeftovers } from './cleanup.ts';
import { newRunPrefix } from './owned-names.ts';
import { ConformanceContext } from './run-context.ts';
import { ALL_CHECKS } from './suite.ts';

export interface RunOptions {
  checks?: readonly Check[];
  /** Default: a fresh `conformance-<8 hex>-`. */
  prefix?: string;
  /** Delete objects of earlier runs first instead of refusing to run. */
  cleanUpLeftovers?: boolean;
  /** Abort to stop between checks (and inside polls); cleanup still runs. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** First interval between polls of a long-running operation (Retry-After wins); default 1000. */
  pollIntervalMs?: number;
  /** How long one long-running operation may take; default 20 minutes (large imports take several). */
  operationTimeoutMs?: number;
}

export interface ConformanceReport {
  target: string;
  prefix: string;
  sku?: string;
  /** refused: nothing was created (an earlier run's objects are there, or the service could not be read). */
  outcome: 'completed' | 'interrupted' | 'refused';
  refusal?: string;
  /** Objects of earlier runs found at the start (and deleted when cleanUpLeftovers was given). */
  leftovers: string[];
  results: CheckResult[];
  cleanup: { deleted: string[]; failed: string[] };
}

export async function runConformance(target: ArmTarget, options: RunOptions = {}): Promise<ConformanceReport> {
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const prefix = options.prefix ?? newRunPrefix();
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const operationTimeoutMs = options.operationTimeoutMs ?? 20 * 60_000;
  const cleanupOptions = { pollIntervalMs, timeoutMs: operationTimeoutMs, signal: new AbortController().signal };
  const report: ConformanceReport = { target: target.description, prefix, outcome: 'completed', leftovers: [], results: [], cleanup: { deleted: [], failed: [] } };
  const ctx = new ConformanceContext({ target, prefix, signal, pollIntervalMs, operationTimeoutMs, log });

  try {
    report.sku = await ctx.sku();
  } catch (err) {
    return { ...report, outcome: 'refused', refusal: `cannot read the service: ${err instanceof Error ? err.message : String(err)}` };
  }
  let leftovers;
  try {
    leftovers = await findLeftovers(target);
  } catch (err) {
    return { ...report, outcome: 'refused', refusal: `cannot list the service's APIs, products and tags: ${err instanceof Error ? err.message : String(err)}` };
  }
  report.leftovers = leftovers.map((o) => `${o.kind} ${o.id}`);
  if (leftovers.length > 0) {
    if (!options.cleanUpLeftovers) {
      return {
        ...report,
        outcome: 'refused',
        refusal: `the service holds ${leftovers.length} object(s) of an earlier conformance run (${report.leftovers.join(', ')}); run again with --clean-up-leftovers to delete them first`,
      };
    }
    log(`deleting ${leftovers.length} object(s) of an earlier run`);
    const earlier = await deleteAll(target, leftovers, cleanupOptions);
    if (earlier.failed.length > 0) {
      return { ...report, outcome: 'refused', refusal: `could not delete the objects of an earlier run: ${earlier.failed.join('; ')}` };
    }
  }

  try {
    for (const check of options.checks ?? ALL_CHECKS) {
      if (signal.aborted) {
        report.outcome = 'interrupted';
        break;
      }
      log(`${check.id} …`);
      const started = Date.now();
      let verdict: CheckResult['verdict'];
      let observed: string;
      try {
        ({ verdict, observed } = await check.run(ctx));
      } catch (err) {
        verdict = 'error';
        observed = err instanceof Error ? err.message : String(err);
      }
      report.results.push({ id: check.id, expected: check.expected, source: check.source, verdict, observed, durationMs: Date.now() - started });
      log(`${check.id}: ${verdict}`);
    }
  } finally {
    if (signal.aborted) report.outcome = 'interrupted';
    if (ctx.created.length > 0) log(`deleting the ${ctx.created.length} object(s) this run created`);
    report.cleanup = await deleteAll(target, ctx.created, cleanupOptions);
  }
  return report;
}

/** 0: every check passed, was skipped or not observable; 1: a check differs or failed, cleanup failed, or interrupted; 2: refused. */
export function exitCode(report: ConformanceReport): number {
  if (report.outcome === 'refused') return 2;
  if (report.outcome === 'interrupted' || report.cleanup.failed.length > 0) return 1;
  return report.results.some((r) => isFailure(r.verdict)) ? 1 : 0;
}
