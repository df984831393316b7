// What one conformance check is and what it reports. A check states what Azure API Management is expected to do (the
// emulator's claim) and the public source of that expectation, then observes the target and compares. Checks observe:
// the verdict comes from what the target answered, never from knowing which target it is.
import type { ConformanceContext } from './run-context.ts';

/**
 * - pass: the target did what the source says.
 * - differs: it did something else (report it: docs/conformance.md says where).
 * - skipped: the check's premise does not hold here (e.g. a tier the policy is not offered on).
 * - not observed: the behaviour depends on timing the target did not show (e.g. an import that finished at once).
 * - error: the check could not finish (network, credentials, an unexpected answer before the observed step).
 */
export type Verdict = 'pass' | 'differs' | 'skipped' | 'not observed' | 'error';

export interface Observation {
  verdict: Verdict;
  /** What the target did, in a line or two: statuses, codes, messages, values. */
  observed: string;
}

export interface Check {
  /** Stable id, `area.name`, used in the table, `--only` and reports. */
  id: string;
  /** What Azure is expected to do, in one sentence. */
  expected: string;
  /** Where that expectation comes from: a docs URL, a REST spec example, a public issue. */
  source: string;
  run(ctx: ConformanceContext): Promise<Observation>;
}

export interface CheckResult {
  id: string;
  expected: string;
  source: string;
  verdict: Verdict;
  observed: string;
  durationMs: number;
}

export const pass = (observed: string): Observation => ({ verdict: 'pass', observed });
export const differs = (observed: string): Observation => ({ verdict: 'differs', observed });
export const skipped = (observed: string): Observation => ({ verdict: 'skipped', observed });
export const notObserved = (observed: string): Observation => ({ verdict: 'not observed', observed });

/** Verdicts that make the run fail (non-zero exit). */
export function isFailure(verdict: Verdict): boolean {
  return verdict === 'differs' || verdict === 'error';
}
