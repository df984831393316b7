// The one status writer of the project (docs/status.md: one writer per field). Both writers of an ExposedAPI's status
// use it, each through its own client and so under its own field manager: the executor (executor/status-patch.ts, on
// its light client) and the dispatcher (dispatcher/exposedapi-writes.ts and readiness-sync.ts, on client-node through
// kube/client-node-resources.ts). What each writes is its own `fields` function; the write is shared:
//
// - a merge patch of the writer's fields, guarded by the resourceVersion they were computed from: the ODA CRDs keep
//   status as unknown fields, so a list (`status.conditions`, a Component's `coreAPIs`) is replaced whole and an
//   unguarded patch would overwrite the other writer's entries;
// - on 409 Conflict the object is read again and the fields computed again from it, up to `attempts` times; with
//   `attempts: 1` the conflict goes back to the caller (the dispatcher plans again from its cache);
// - 404 (the object is gone) is a result, not an error.
//
// Pure but for the client it is given, so the executor uses it without loading client-node.
import { MERGE_PATCH, type KubeResources } from './client.ts';
import { isConflict, isNotFound } from './errors.ts';

/** What the guard needs of an object: its resourceVersion. */
export interface Versioned {
  metadata?: { resourceVersion?: string };
}

export type FieldsWriteResult<T> =
  | { result: 'ok'; object: T }
  | { result: 'gone' }
  /** Still a conflict after the last attempt; `error` is the client's. */
  | { result: 'conflict'; error: unknown };

export interface FieldsWrite<T extends Versioned> {
  /** The writer's client; every write carries its field manager. */
  kube: KubeResources;
  /** The object's path, read again after a conflict. */
  path: string;
  /** Where the patch goes when it is not `path` (a status subresource: `path` + `/status`). */
  patchPath?: string;
  /** The writer's fields as of `current`, as a merge patch (its metadata.resourceVersion is added here). */
  fields: (current: T) => Record<string, unknown>;
  /** Reads and patches at most this many times (5); 1 leaves a conflict to the caller. */
  attempts?: number;
  /** false: no resourceVersion guard, for a scalar only this writer sets (nothing of another writer can be lost). */
  guard?: boolean;
}

/** Writes `write.fields(current)`, `current` being the given object or, when absent or after a conflict, a fresh read. */
export async function writeFields<T extends Versioned>(write: FieldsWrite<T>, current?: T): Promise<FieldsWriteResult<T>> {
  const attempts = write.attempts ?? 5;
  let obj = current;
  for (let attempt = 1; ; attempt++) {
    obj ??= await write.kube.get<T>(write.path);
    if (!obj) return { result: 'gone' };
    const fields = write.fields(obj);
    const body = write.guard === false
      ? fields
      : { ...fields, metadata: { ...(fields['metadata'] as object | undefined), resourceVersion: obj.metadata?.resourceVersion } };
    try {
      return { result: 'ok', object: await write.kube.patch<T>(write.patchPath ?? write.path, body, MERGE_PATCH) };
    } catch (err) {
      if (isNotFound(err)) return { result: 'gone' };
      if (!isConflict(err)) throw err;
      if (attempt >= attempts) return { result: 'conflict', error: err };
      obj = undefined;
    }
  }
}
