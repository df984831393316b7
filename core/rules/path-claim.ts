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

/** An in-memory claim table: the first registrant of a path owns it. */
export class PathClaimTable implements PathClaims {
  private readonly byKey = new Map<string, ObjectRef & { path: string }>();
  private readonly keyByObject = new Map<string, string>();

  ownerOf(path: string): ObjectRef | undefined {
    return this.byKey.get(pathClaimKey(path));
  }

  /** Records a claim; returns the existing owner when the path is held by another object. */
  claim(path: string, ref: ObjectRef): ObjectRef | undefined {
    const key = pathClaimKey(path);
    const objectKey = `${ref.namespace}/${ref.name}`;
    const current = this.byKey.get(key);
    if (current && (current.namespace !== ref.namespace || current.name !== ref.name)) return current;
    this.release(ref);
    this.byKey.set(key, { ...ref, path });
    this.keyByObject.set(objectKey, key);
    return undefined;
  }

  release(ref: ObjectRef): void {
    const objectKey = `${ref.namespace}/${ref.name}`;
    const key = this.keyByObject.get(objectKey);
    if (key === undefined) return;
    const current = this.byKey.get(key);
    if (current && current.namespace === ref.namespace && current.name === ref.name) this.byKey.delete(key);
    this.keyByObject.delete(objectKey);
  }

  get size(): number {
    return this.byKey.size;
  }
}
