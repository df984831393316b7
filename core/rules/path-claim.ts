// A path can be claimed by one ExposedAPI per APIM service: APIM itself refuses a second API on the same path, and
// finding that out at apply time (in a Job) is far worse than at `kubectl apply`.
import { forbidden, type FieldError } from '../field-error.ts';
import { pathClaimKey } from './api-path.ts';

export interface ObjectRef {
  namespace: string;
  name: string;
}

/** Who holds which path. The webhook keeps one from a watch of ExposedAPIs; offline validate builds one from files. */
export interface PathClaims {
  ownerOf(path: string): ObjectRef | undefined;
}

export function checkPathClaim(path: string, self: ObjectRef, claims: PathClaims | undefined): FieldError[] {
  if (!claims || path === '') return [];
  const owner = claims.ownerOf(path);
  if (!owner || (owner.namespace === self.namespace && owner.name === self.name)) return [];
  return [
    forbidden(
      'spec.path',
      `path ${JSON.stringify(path)} is already claimed by ExposedAPI ${owner.namespace}/${owner.name} in the same APIM service; choose another path or delete that ExposedAPI first`,
      path,
    ),
  ];
}

/**
 * An in-memory claim table. Several objects may name the same path (created before the webhook ran, or racing each
 * other); the owner is the one with the lowest rank — creation time in a cluster, position in a list of files.
 */
export class PathClaimTable implements PathClaims {
  private readonly byKey = new Map<string, Map<string, ObjectRef & { rank: number }>>();
  private readonly keyByObject = new Map<string, string>();

  ownerOf(path: string): ObjectRef | undefined {
    const claimants = this.byKey.get(pathClaimKey(path));
    if (!claimants) return undefined;
    let best: (ObjectRef & { rank: number }) | undefined;
    for (const c of claimants.values()) if (!best || c.rank < best.rank) best = c;
    return best ? { namespace: best.namespace, name: best.name } : undefined;
  }

  /** Records (or moves) an object's claim on a path. */
  set(path: string, ref: ObjectRef, rank: number): void {
    this.release(ref);
    const key = pathClaimKey(path);
    const objectKey = `${ref.namespace}/${ref.name}`;
    let claimants = this.byKey.get(key);
    if (!claimants) this.byKey.set(key, (claimants = new Map()));
    claimants.set(objectKey, { namespace: ref.namespace, name: ref.name, rank });
    this.keyByObject.set(objectKey, key);
  }

  release(ref: ObjectRef): void {
    const objectKey = `${ref.namespace}/${ref.name}`;
    const key = this.keyByObject.get(objectKey);
    if (key === undefined) return;
    const claimants = this.byKey.get(key);
    claimants?.delete(objectKey);
    if (claimants && claimants.size === 0) this.byKey.delete(key);
    this.keyByObject.delete(objectKey);
  }

  rankOf(ref: ObjectRef): number | undefined {
    const key = this.keyByObject.get(`${ref.namespace}/${ref.name}`);
    return key === undefined ? undefined : this.byKey.get(key)?.get(`${ref.namespace}/${ref.name}`)?.rank;
  }

  get size(): number {
    return this.keyByObject.size;
  }
}
