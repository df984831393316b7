// Whether a Job still has work: the ExposedAPI must exist, still carry the spec hash the Job was spawned for, and be
// in the state the action needs (apply: not being deleted; delete: being deleted). Anything else ends the Job with
// EXIT_OK and nothing touched — a newer Job, or none, is responsible. Pure.
import { SPEC_HASH_ANNOTATION } from '../core/exposedapi-model.ts';
import type { JobAction } from '../core/exposedapi-status.ts';
import type { ExposedApiObject } from './exposedapi-object.ts';

export type Gate =
  | { proceed: true; obj: ExposedApiObject }
  | { proceed: false; message: string; fields?: Record<string, unknown> };

export function gate(obj: ExposedApiObject | undefined, action: JobAction, specHash: string): Gate {
  if (!obj) return { proceed: false, message: `the ExposedAPI no longer exists: nothing to ${action}` };
  const annotated = obj.metadata.annotations?.[SPEC_HASH_ANNOTATION];
  if (annotated !== specHash) {
    return { proceed: false, message: 'superseded: the ExposedAPI changed since this Job was spawned; a newer Job handles it', fields: { annotatedSpecHash: annotated ?? null } };
  }
  const deleting = obj.metadata.deletionTimestamp !== undefined;
  // A release (a move's cleanup, execute-release.ts) runs whether or not the object is being deleted.
  if (action === 'apply' && deleting) return { proceed: false, message: 'the ExposedAPI is being deleted: nothing to apply (the delete Job cleans up)' };
  // A delete Job for a live object would take its API away; only a deletion in progress is undone.
  if (action === 'delete' && !deleting) return { proceed: false, message: 'the ExposedAPI is not being deleted: nothing to delete' };
  return { proceed: true, obj };
}
