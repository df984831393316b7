// The validating webhook's decision: every problem of an ExposedAPI at once, or allowed (with warnings).
import { canonicalJson } from '../core/spec-hash.ts';
import { isObject } from '../core/object-reader.ts';
import { KIND, ODA_GROUP, RECONCILE_AT_ANNOTATION } from '../core/exposedapi-model.ts';
import { validateExposedApi, type ValidationContext } from '../core/validate-exposedapi.ts';
import { isExposedApiRequest } from './admission-kind.ts';
import { allowed, deniedInvalid, type AdmissionRequest, type AdmissionResponse } from './admission-review.ts';
import { annotation, deletionFreezeErrors, isDeleting } from './deletion-freeze.ts';

/**
 * Updates that cannot change what is applied — status writes (the ODA CRD has no status subresource, so they come
 * through here), finalizer removal, label edits — are allowed without re-validating: an object admitted under
 * yesterday's rules must never get stuck because of today's, and the executor must always be able to write status.
 */
export function changesNothingApplied(req: AdmissionRequest): boolean {
  if (req.operation !== 'UPDATE' || !req.oldObject || !req.object) return false;
  return (
    canonicalJson(req.object['spec']) === canonicalJson(req.oldObject['spec']) &&
    annotation(req.object, RECONCILE_AT_ANNOTATION) === annotation(req.oldObject, RECONCILE_AT_ANNOTATION)
  );
}

export interface ValidateOutcome {
  response: AdmissionResponse;
  /** What happened, for metrics: allowed, allowed-unchanged, allowed-deleting, allowed-other-kind, denied. */
  outcome: 'allowed' | 'allowed-unchanged' | 'allowed-deleting' | 'allowed-other-kind' | 'denied';
}

export async function validateDecision(req: AdmissionRequest, ctx: ValidationContext): Promise<ValidateOutcome> {
  if (req.operation === 'DELETE' || req.operation === 'CONNECT' || !req.object) {
    return { response: allowed(req.uid), outcome: 'allowed-deleting' };
  }
  if (!isExposedApiRequest(req)) return { response: allowed(req.uid), outcome: 'allowed-other-kind' };
  const frozen = deletionFreezeErrors(req);
  if (frozen.length > 0) {
    return { response: deniedInvalid(req.uid, { group: ODA_GROUP, kind: KIND, name: req.name ?? '<unknown>' }, frozen), outcome: 'denied' };
  }
  // Being deleted and nothing applied changed: finishing or detaching the deletion must never depend on today's rules.
  if (isDeleting(req.object)) return { response: allowed(req.uid), outcome: 'allowed-deleting' };
  if (changesNothingApplied(req)) return { response: allowed(req.uid), outcome: 'allowed-unchanged' };

  // metadata.namespace can be empty on CREATE (it comes from the URL); the request carries the real one. A shallow
  // copy of the two levels touched, not a deep clone: validation only reads the object, and a clone of every review
  // was a measurable share of admission's CPU.
  const meta = isObject(req.object['metadata']) ? req.object['metadata'] : {};
  const object: Record<string, unknown> = {
    ...req.object,
    metadata: { ...meta, ...(req.namespace ? { namespace: req.namespace } : {}), ...(req.name && !meta['name'] ? { name: req.name } : {}) },
  };

  const result = await validateExposedApi(object, ctx);
  const name = result.model.name || req.name || '<generated>';
  if (result.errors.length > 0) {
    return { response: deniedInvalid(req.uid, { group: ODA_GROUP, kind: KIND, name }, result.errors, result.warnings), outcome: 'denied' };
  }
  return { response: allowed(req.uid, result.warnings), outcome: 'allowed' };
}
