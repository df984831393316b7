// The mutating webhook's decision: stamp the spec hash and our finalizer, and never touch a user field.
import { FINALIZER, readExposedApi, SPEC_HASH_ANNOTATION } from '../core/exposedapi-model.ts';
import { isObject } from '../core/object-reader.ts';
import { specHash } from '../core/spec-hash.ts';
import { isExposedApiRequest } from './admission-kind.ts';
import { allowed, patched, type AdmissionRequest, type AdmissionResponse } from './admission-review.ts';

type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown };

/** RFC 6901: "/" and "~" in a key are escaped in a JSON pointer. */
export function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function stampPatch(object: Record<string, unknown>): JsonPatchOp[] {
  const meta = isObject(object['metadata']) ? object['metadata'] : {};
  const ops: JsonPatchOp[] = [];
  const hash = specHash(readExposedApi(object).model);
  const annotations = meta['annotations'];
  if (!isObject(annotations)) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: { [SPEC_HASH_ANNOTATION]: hash } });
  } else if (annotations[SPEC_HASH_ANNOTATION] !== hash) {
    ops.push({ op: 'add', path: `/metadata/annotations/${pointerKey(SPEC_HASH_ANNOTATION)}`, value: hash });
  }
  // The apiserver refuses new finalizers on an object that is being deleted; deletion is the executor's business.
  if (typeof meta['deletionTimestamp'] !== 'string') {
    const finalizers = meta['finalizers'];
    if (!Array.isArray(finalizers)) ops.push({ op: 'add', path: '/metadata/finalizers', value: [FINALIZER] });
    else if (!finalizers.includes(FINALIZER)) ops.push({ op: 'add', path: '/metadata/finalizers/-', value: FINALIZER });
  }
  return ops;
}

export function mutateDecision(req: AdmissionRequest): { response: AdmissionResponse; outcome: 'stamped' | 'unchanged' | 'skipped' } {
  if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || !req.object || !isExposedApiRequest(req)) return { response: allowed(req.uid), outcome: 'skipped' };
  const meta = req.object['metadata'];
  if (isObject(meta) && typeof meta['deletionTimestamp'] === 'string') return { response: allowed(req.uid), outcome: 'skipped' };
  const ops = stampPatch(req.object);
  return { response: patched(req.uid, ops), outcome: ops.length > 0 ? 'stamped' : 'unchanged' };
}
