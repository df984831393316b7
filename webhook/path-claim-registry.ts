// Path claims as the webhook sees them: every ExposedAPI in the watched namespaces (ranked by creation time, so the
// oldest holder of a path keeps it) plus claims this replica admitted a moment ago that the watch has not delivered
// yet — without those, two quick creates of the same path would both pass.
import { PathClaimTable, type ObjectRef, type PathClaims } from '../core/rules/path-claim.ts';
import { isObject } from '../core/object-reader.ts';

export interface PathSummary extends ObjectRef {
  path: string;
  createdMs: number;
}

export function pathSummary(obj: Record<string, unknown>): PathSummary {
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const created = typeof meta['creationTimestamp'] === 'string' ? Date.parse(meta['creationTimestamp']) : Date.now();
  return {
    namespace: String(meta['namespace'] ?? ''),
    name: String(meta['name'] ?? ''),
    path: typeof spec['path'] === 'string' ? spec['path'] : '',
    createdMs: Number.isNaN(created) ? Date.now() : created,
  };
}

export class PathClaimRegistry implements PathClaims {
  private readonly table = new PathClaimTable();
  private readonly pending = new Map<string, { ref: ObjectRef; expires: number }>();
  private readonly pendingTtlMs: number;

  constructor(pendingTtlMs = 30_000) {
    this.pendingTtlMs = pendingTtlMs;
  }

  ownerOf(path: string): ObjectRef | undefined {
    const now = Date.now();
    for (const [key, p] of this.pending) {
      if (p.expires < now) {
        this.pending.delete(key);
        // Only drop the claim if the watch never confirmed it (a confirmed claim has a creation-time rank).
        if (this.table.rankOf(p.ref) === Number.MAX_SAFE_INTEGER - 1) this.table.release(p.ref);
      }
    }
    return this.table.ownerOf(path);
  }

  /** From the watch. */
  observed(s: PathSummary): void {
    this.pending.delete(`${s.namespace}/${s.name}`);
    if (s.path === '') this.table.release(s);
    else this.table.set(s.path, s, s.createdMs);
  }

  removed(s: ObjectRef): void {
    this.pending.delete(`${s.namespace}/${s.name}`);
    this.table.release(s);
  }

  /** An admitted (not dry-run) CREATE or path change, until the watch reports the stored object. */
  admitted(ref: ObjectRef, path: string): void {
    if (this.table.rankOf(ref) !== undefined && this.table.ownerOf(path)?.name === ref.name && this.table.ownerOf(path)?.namespace === ref.namespace) return;
    // Ranked after every stored object: a pending claim never displaces an existing holder.
    this.table.set(path, ref, Number.MAX_SAFE_INTEGER - 1);
    this.pending.set(`${ref.namespace}/${ref.name}`, { ref, expires: Date.now() + this.pendingTtlMs });
  }

  get size(): number {
    return this.table.size;
  }
}
