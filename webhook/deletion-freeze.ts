// Once deletion starts, what was applied is frozen: the delete Job removes from APIM what the object says was
// applied, so a spec (or reconcile-at) change between `kubectl delete` and the finalizer's release would point the
// delete at something else — another team's API, for one. Metadata that does not change what was applied (status,
// finalizers, labels, other annotations) stays writable, so a deletion can always be finished or detached. Pure.
import { canonicalJson } from '../core/spec-hash.ts';
import { DETACH_ANNOTATION, RECONCILE_AT_ANNOTATION } from '../core/exposedapi-model.ts';
import { forbidden, type FieldError } from '../core/field-error.ts';
import { isObject } from '../core/object-reader.ts';
import type { AdmissionRequest } from './admission-review.ts';

export function annotation(obj: Record<string, unknown> | null | undefined, key: string): string | undefined {
  const meta = obj?.['metadata'];
  const ann = isObject(meta) ? meta['annotations'] : undefined;
  const v = isObject(ann) ? ann[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export function isDeleting(obj: Record<string, unknown> | null | undefined): boolean {
  const meta = obj?.['metadata'];
  return isObject(meta) && typeof meta['deletionTimestamp'] === 'string';
}

function why(req: AdmissionRequest): string {
  const meta = isObject(req.oldObject?.['metadata']) ? req.oldObject['metadata'] : {};
  const name = String(meta['name'] ?? req.name ?? '<name>');
  const namespace = String(meta['namespace'] ?? req.namespace ?? '<namespace>');
  return `may not be changed while the ExposedAPI is being deleted (since ${String(meta['deletionTimestamp'])}): the delete Job `
    + 'removes from APIM what was applied, and a changed spec would point it elsewhere; wait for the deletion to finish '
    + `and create the ExposedAPI again, or release it without touching APIM: kubectl annotate exposedapi ${name} -n ${namespace} ${DETACH_ANNOTATION}=true`;
}

/**
 * The field errors of an UPDATE to an object that is being deleted: one Forbidden error per frozen input that
 * differs (`spec`, the reconcile-at annotation). Empty for anything else — including every update of a live object,
 * which the ordinary rules judge.
 */
export function deletionFreezeErrors(req: AdmissionRequest): FieldError[] {
  if (req.operation !== 'UPDATE' || !req.object || !isDeleting(req.oldObject)) return [];
  const errors: FieldError[] = [];
  if (canonicalJson(req.object['spec']) !== canonicalJson(req.oldObject?.['spec'])) errors.push(forbidden('spec', why(req)));
  // Absent and empty are the same reconcile-at, as in the spec hash (and the webhooks' matchConditions).
  if ((annotation(req.object, RECONCILE_AT_ANNOTATION) ?? '') !== (annotation(req.oldObject, RECONCILE_AT_ANNOTATION) ?? '')) {
    errors.push(forbidden(`metadata.annotations[${RECONCILE_AT_ANNOTATION}]`, why(req)));
  }
  return errors;
}
