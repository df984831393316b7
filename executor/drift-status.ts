// The Drifted condition (docs/drift.md): what the verify run writes for what it found, and what an apply writes once
// APIM matches the spec again. Pure but for clearDrift's one status write. Its one writer is the executor (the verify
// run and the apply are both executor runs, under the executor's field manager; docs/status.md).
import { DRIFT_REASONS, type Condition } from '../core/exposedapi-status.ts';
import type { DriftMode } from '../core/executor-config.ts';
import { describeDifferences, type Difference } from './drift-compare.ts';
import type { ConditionChange, StatusChange } from './status-patch.ts';

export function driftedOf(conditions: readonly Condition[] | undefined): Condition | undefined {
  return conditions?.find((c) => c.type === 'Drifted');
}

/**
 * Drifted as a verify run reports it for the applied spec hash `hash`. In repair mode the message names the verify Job,
 * which makes it (and so the dispatcher's repair tag) new on every run that still finds drift: one repair per run.
 */
export function driftCondition(differences: readonly Difference[], hash: string, mode: DriftMode, verifyJob: string | undefined): ConditionChange {
  if (differences.length === 0) {
    return { type: 'Drifted', status: 'False', reason: DRIFT_REASONS.none, message: `APIM matches spec hash ${hash.slice(0, 8)}…`, specHash: hash };
  }
  const what = `APIM differs from spec hash ${hash.slice(0, 8)}… in ${describeDifferences(differences)}`;
  // An API that is no longer provably this ExposedAPI's is never written by an apply (apim-sync.ts ownershipGate):
  // asking for one would only fail; it is reported for people to settle.
  if (differences.some((d) => d.field === 'ownership')) {
    return { type: 'Drifted', status: 'True', reason: DRIFT_REASONS.reported, message: `${what}; no apply can restore it: an apply never writes an API that is not provably this ExposedAPI's`, specHash: hash };
  }
  return mode === 'repair'
    ? { type: 'Drifted', status: 'True', reason: DRIFT_REASONS.repairRequested, message: `${what}; an apply Job restores it (found by ${verifyJob ?? 'a verify run'})`, specHash: hash }
    : { type: 'Drifted', status: 'True', reason: DRIFT_REASONS.reported, message: `${what}; the next apply restores it (APIM_DRIFT_MODE=report: none is started)`, specHash: hash };
}

/** Whether writing `next` changes what the object says (lastTransitionTime aside). */
export function driftChanged(current: Condition | undefined, next: ConditionChange): boolean {
  return !current || current.status !== next.status || current.reason !== next.reason || current.message !== next.message || current.specHash !== next.specHash;
}

/**
 * What a successful apply of `hash` writes about drift: False, once the object has said it drifted. An object that
 * never drifted gets no Drifted condition from an apply (the verify run adds it).
 */
export function driftAfterApply(current: Condition | undefined, hash: string): ConditionChange | undefined {
  if (!current || current.status === 'False') return undefined;
  return { type: 'Drifted', status: 'False', reason: DRIFT_REASONS.applied, message: `spec hash ${hash.slice(0, 8)}… applied: APIM matches it again`, specHash: hash };
}

/** What a failed apply writes about drift it was to repair: the dispatcher asks for no further repair until the next verify run. */
export function driftAfterFailure(current: Condition | undefined, hash: string, failure: string): ConditionChange | undefined {
  if (!current || current.status !== 'True' || current.reason !== DRIFT_REASONS.repairRequested) return undefined;
  return { type: 'Drifted', status: 'True', reason: DRIFT_REASONS.repairFailed, message: `the apply that was to restore spec hash ${hash.slice(0, 8)}… failed: ${failure}`, specHash: hash };
}

/** The change a finished apply writes, if any. */
export function applyDriftChange(conditions: readonly Condition[] | undefined, hash: string): StatusChange | undefined {
  const next = driftAfterApply(driftedOf(conditions), hash);
  return next ? { conditions: [next] } : undefined;
}
