// The Serving condition after a failed apply (docs/status.md, "A failed change"): what APIM serves of this ExposedAPI
// while the change the Job was spawned for is not applied. With revisions the change never reached the current
// revision before its release, so APIM serves the last applied spec, whole and checked: True `PreviousRevision`, and the
// parent Component keeps the current revision's state. Without revisions a failed change may have reached APIM in
// part (a new document, not its policy), and in any case the spec the ExposedAPI asks for is not what is served:
// False `ChangeNotApplied`, and the Component entry is not ready (core/exposedapi-status.ts componentEntryReady), so
// the ODA Canvas does not report the component Complete. Pure.
import { readExposedApi } from '../core/exposedapi-model.ts';
import type { ConditionType } from '../core/exposedapi-status.ts';
import type { ApplyRun } from './apply-run.ts';
import { revisionsEnabled } from './revision-plan.ts';
import type { ConditionChange } from './status-patch.ts';

/** Steps after which APIM may hold parts of the failed change (the import, the policy, links, a former API removed). */
const REACHES_APIM: readonly ConditionType[] = ['Imported', 'PoliciesApplied', 'Published'];

export function servingAfterFailure(s: Pick<ApplyRun, 'ctx' | 'obj' | 'model' | 'revisions' | 'revision' | 'apiStatus'>, condition: ConditionType): ConditionChange[] {
  // Published already written: the change is served; a later step (the parent Component) failed.
  if (s.apiStatus) return [];
  const hash = s.ctx.specHash;
  const applied = s.obj.status?.appliedSpecHash;
  const short = (h: string): string => `${h.slice(0, 12)}…`;
  const serving = (status: 'True' | 'False', reason: string, message: string): ConditionChange[] => [{ type: 'Serving', status, reason, message, specHash: hash }];
  if (s.revision?.released) {
    return serving('True', 'CurrentRevision', `APIM serves revision ${s.revision.released.revision} of this change (spec hash ${short(hash)}), made current after its check; a later step failed (${condition})`);
  }
  if (applied === hash) {
    return serving('True', 'CurrentSpec', `this change (spec hash ${short(hash)}) was applied by an earlier run; this run failed (${condition})`);
  }
  if (applied === undefined) {
    return serving('False', 'NotPublished', `this ExposedAPI has no applied change yet: the apply of spec hash ${short(hash)} failed (${condition})`);
  }
  const revisions = s.revisions ?? revisionsEnabled(s.model ?? readExposedApi(s.obj).model, s.ctx.config);
  const current = s.obj.status?.apim?.revision;
  if (revisions) {
    return serving('True', 'PreviousRevision', `APIM serves the last applied change (spec hash ${short(applied)}${current ? `, revision ${current}` : ''}) while this one (${short(hash)}) failed before its release (${condition}); nothing current changed`);
  }
  const partly = REACHES_APIM.includes(condition);
  return serving('False', 'ChangeNotApplied', `this change (spec hash ${short(hash)}) failed (${condition}); APIM serves the last applied change (spec hash ${short(applied)})${partly ? ' and possibly parts of this one' : ''}. Fix and apply again, or publish changes as revisions (spec.apim.revisions: true) so a failed change never reaches the current API`);
}
