// The mutating webhook's decision: stamp the spec hash, the digest of the document admission checked, and our
// finalizer, and never touch a user field. A new change also resets the status verdicts to "pending" in the same
// write (core/exposedapi-status.ts admittedChange), so no reader sees the new spec beside the old change's verdict.
import { admittedDocumentDigest, type DigestContext } from '../core/document-digest.ts';
import { DOCUMENT_DIGEST_ANNOTATION, FINALIZER, readExposedApi, SPEC_HASH_ANNOTATION } from '../core/exposedapi-model.ts';
import { admittedChange, type Condition } from '../core/exposedapi-status.ts';
import { isObject } from '../core/object-reader.ts';
import { specHash } from '../core/spec-hash.ts';
import { isExposedApiRequest } from './admission-kind.ts';
import { allowed, patched, type AdmissionRequest, type AdmissionResponse } from './admission-review.ts';
import { changesNothingApplied } from './validate-decision.ts';

type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

/**
 * What becomes of the document digest annotation: `set` to the digest of the document this admission checked;
 * `clear` when this admission could not vouch for one (a digest left from an earlier spec, or written by anyone, must
 * not outlive the change it described); `keep` for an update that changes nothing applied, which is not re-checked.
 */
export type DigestStamp = { kind: 'set'; digest: string } | { kind: 'clear' } | { kind: 'keep' };

/** RFC 6901: "/" and "~" in a key are escaped in a JSON pointer. */
export function pointerKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The stamp. `previous`: the stored object of an UPDATE (absent on CREATE): when its spec hash differs from the new one,
 * this is a new change and the status verdicts are reset for it. Keyed on the stored annotation, not the request's, so
 * a manifest carrying a copied spec-hash annotation still resets. Status writes keep the hash, so they get no reset.
 */
export function stampPatch(object: Record<string, unknown>, digest: DigestStamp = { kind: 'keep' }, previous?: Record<string, unknown> | null, now: Date = new Date()): JsonPatchOp[] {
  const meta = isObject(object['metadata']) ? object['metadata'] : {};
  const ops: JsonPatchOp[] = [];
  const hash = specHash(readExposedApi(object).model);
  const previousMeta = previous && isObject(previous['metadata']) ? previous['metadata'] : {};
  const previousHash = isObject(previousMeta['annotations']) ? previousMeta['annotations'][SPEC_HASH_ANNOTATION] : undefined;
  const annotations = meta['annotations'];
  if (!isObject(annotations)) {
    ops.push({ op: 'add', path: '/metadata/annotations', value: { [SPEC_HASH_ANNOTATION]: hash, ...(digest.kind === 'set' ? { [DOCUMENT_DIGEST_ANNOTATION]: digest.digest } : {}) } });
  } else {
    if (annotations[SPEC_HASH_ANNOTATION] !== hash) {
      ops.push({ op: 'add', path: `/metadata/annotations/${pointerKey(SPEC_HASH_ANNOTATION)}`, value: hash });
    }
    const path = `/metadata/annotations/${pointerKey(DOCUMENT_DIGEST_ANNOTATION)}`;
    if (digest.kind === 'set' && annotations[DOCUMENT_DIGEST_ANNOTATION] !== digest.digest) ops.push({ op: 'add', path, value: digest.digest });
    if (digest.kind === 'clear' && DOCUMENT_DIGEST_ANNOTATION in annotations) ops.push({ op: 'remove', path });
  }
  // The apiserver refuses new finalizers on an object that is being deleted; deletion is the executor's business.
  if (typeof meta['deletionTimestamp'] !== 'string') {
    const finalizers = meta['finalizers'];
    if (!Array.isArray(finalizers)) ops.push({ op: 'add', path: '/metadata/finalizers', value: [FINALIZER] });
    else if (!finalizers.includes(FINALIZER)) ops.push({ op: 'add', path: '/metadata/finalizers/-', value: FINALIZER });
  }
  if (!previous || previousHash !== hash) {
    // Status is tenant-writable (no status subresource): entries that are not objects are not conditions, and dropped.
    const status = object['status'];
    const current = isObject(status) && Array.isArray(status['conditions']) ? status['conditions'].filter(isObject) as unknown as Condition[] : [];
    const conditions = admittedChange(current, hash, now);
    ops.push(isObject(status) ? { op: 'add', path: '/status/conditions', value: conditions } : { op: 'add', path: '/status', value: { conditions } });
  }
  return ops;
}

export interface MutateOptions {
  /**
   * How the document is fetched and checked: the validation's own context, so that the validating webhook that runs
   * next finds the fetch and the verdict cached (DocumentCheckCache) instead of doing them again. Absent: the document
   * is not checked and no digest is recorded.
   */
  documents?: DigestContext;
  /** The longest the document check may hold the mutation; past it no digest is recorded (default 8000 ms). */
  budgetMs?: number;
  /** The clock of the conditions' lastTransitionTime (tests). */
  now?: () => Date;
}

export async function mutateDecision(req: AdmissionRequest, opts: MutateOptions = {}): Promise<{ response: AdmissionResponse; outcome: 'stamped' | 'unchanged' | 'skipped' }> {
  if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || !req.object || !isExposedApiRequest(req)) return { response: allowed(req.uid), outcome: 'skipped' };
  const meta = req.object['metadata'];
  if (isObject(meta) && typeof meta['deletionTimestamp'] === 'string') return { response: allowed(req.uid), outcome: 'skipped' };
  const ops = stampPatch(req.object, await digestStamp(req, opts), req.operation === 'UPDATE' ? req.oldObject : undefined, opts.now?.() ?? new Date());
  return { response: patched(req.uid, ops), outcome: ops.length > 0 ? 'stamped' : 'unchanged' };
}

async function digestStamp(req: AdmissionRequest, opts: MutateOptions): Promise<DigestStamp> {
  // Status writes and other updates that apply nothing are not re-checked (the document at a URL may have changed
  // since, and re-fetching on every status write would cost a fetch per write): the digest stays with its change.
  if (changesNothingApplied(req)) return { kind: 'keep' };
  if (!opts.documents) return { kind: 'clear' };
  const digest = await admittedDocumentDigest(readExposedApi(req.object).model, opts.documents, opts.budgetMs ?? 8000);
  return digest === undefined ? { kind: 'clear' } : { kind: 'set', digest };
}
