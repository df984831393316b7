// Claims (path and apiId, core/rules/claims.ts) as the webhook process sees them: every ExposedAPI in the watched
// namespaces, ranked by creation time so the oldest holder keeps a claim, plus claims this replica admitted a moment
// ago that the watch has not delivered yet — without those, two quick creates of the same path would both pass here.
// Pending claims are this replica's only: two replicas can still each admit one of two racing creates. The dispatcher
// closes that gap — it is a single leader and ranks the stored objects of `table` (never the pending ones) before it
// runs an apply Job (docs/dispatcher.md).
import { effectiveApiId } from '../core/api-id.ts';
import { apiIdKeyOf, ClaimTable, objectKey, pathKeyOf, type Claimant, type ClaimConflict, type Claims, type ObjectRef } from '../core/rules/claims.ts';
import { isObject } from '../core/object-reader.ts';

/** What the informer keeps of an ExposedAPI for its claims: its claims, and spec.apim.target (which decides their scope). */
export type PathSummary = Claimant & { target?: string };

/**
 * The scope (instance) of an object's claims, from TargetDirectory: undefined when no instance can be chosen (the
 * object then claims nothing, and no Job runs for it). Absent: every claim is in the operator's instance ('').
 */
export type ScopeOf = (namespace: string, target: string | undefined) => string | undefined;

export function pathSummary(obj: Record<string, unknown>): PathSummary {
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const apim = isObject(spec['apim']) ? spec['apim'] : {};
  const created = typeof meta['creationTimestamp'] === 'string' ? Date.parse(meta['creationTimestamp']) : Date.now();
  const namespace = String(meta['namespace'] ?? '');
  const name = String(meta['name'] ?? '');
  return {
    namespace,
    name,
    path: typeof spec['path'] === 'string' ? spec['path'] : '',
    apiId: effectiveApiId(namespace, name, apim['apiId']),
    apiIdDerived: typeof apim['apiId'] !== 'string',
    createdMs: Number.isNaN(created) ? Date.now() : created,
    ...(typeof apim['target'] === 'string' ? { target: apim['target'] } : {}),
  };
}

/** Pending claims rank after every stored object (never displacing a holder) and before any new claim. */
const PENDING_RANK = Number.MAX_SAFE_INTEGER - 1;

export class PathClaimRegistry implements Claims {
  /** The stored objects, from the watch: what admission and the dispatcher rank. */
  readonly table = new ClaimTable();
  private readonly pending = new ClaimTable();
  private readonly expiry = new Map<string, number>();
  private readonly pendingTtlMs: number;
  private readonly scopeOf: ScopeOf;
  /** Every stored object as the watch gave it, so its claims can be scoped again when the targets change. */
  private readonly stored = new Map<string, PathSummary>();

  constructor(pendingTtlMs = 30_000, scopeOf: ScopeOf = () => '') {
    this.pendingTtlMs = pendingTtlMs;
    this.scopeOf = scopeOf;
  }

  /** The claims as they count: in the object's instance, none when it has none. */
  private scoped(s: PathSummary): Claimant {
    const scope = this.scopeOf(s.namespace, s.target);
    return scope === undefined ? { ...s, path: '', apiId: '', scope: '' } : { ...s, scope };
  }

  /**
   * The ApimTargets or namespace labels changed: every object's claims are scoped again. Returns the objects whose
   * standing may have changed (those whose scope moved, and the ones they met in either instance).
   */
  rescope(): string[] {
    const affected = new Set<string>();
    for (const s of this.stored.values()) {
      const before = this.table.get(s);
      const next = this.scoped(s);
      if (before && before.scope === next.scope && before.path === next.path && before.apiId === next.apiId) continue;
      affected.add(objectKey(s));
      for (const key of this.table.set(next)) affected.add(key);
    }
    return [...affected];
  }

  get(ref: ObjectRef): Claimant | undefined {
    return this.table.get(ref);
  }

  conflictsOf(claimant: Claimant): ClaimConflict[] {
    const now = Date.now();
    for (const [key, expires] of this.expiry) {
      if (expires >= now) continue;
      this.expiry.delete(key);
      const slash = key.indexOf('/');
      this.pending.release({ namespace: key.slice(0, slash), name: key.slice(slash + 1) });
    }
    const stored = this.table.conflictsOf(claimant);
    // A stored holder always ranks before a pending one: pending conflicts only fill the kinds stored ones left open.
    return [...stored, ...this.pending.conflictsOf(claimant).filter((p) => !stored.some((s) => s.kind === p.kind))];
  }

  /** The claims a stored object loses to older stored holders: the dispatcher runs no apply Job while there are any. */
  lostBy(ref: ObjectRef): ClaimConflict[] {
    const c = this.table.get(ref);
    return c ? this.table.conflictsOf(c) : [];
  }

  /** From the watch. Returns the objects whose standing may have changed (see ClaimTable.set). */
  observed(s: PathSummary): string[] {
    this.dropPending(s);
    this.stored.set(objectKey(s), s);
    return this.table.set(this.scoped(s));
  }

  removed(s: ObjectRef): string[] {
    this.dropPending(s);
    this.stored.delete(objectKey(s));
    return this.table.release(s);
  }

  /** An admitted (not dry-run) CREATE or claim change, until the watch reports the stored object. */
  admitted(obj: Record<string, unknown>, namespace: string, name: string): void {
    const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
    const s = this.scoped(pathSummary({ ...obj, metadata: { ...meta, namespace, name } }));
    const stored = this.table.get(s);
    if (stored && pathKeyOf(stored) === pathKeyOf(s) && apiIdKeyOf(stored) === apiIdKeyOf(s)) return;
    this.pending.set({ ...s, createdMs: PENDING_RANK });
    this.expiry.set(objectKey(s), Date.now() + this.pendingTtlMs);
  }

  private dropPending(ref: ObjectRef): void {
    if (this.expiry.delete(objectKey(ref))) this.pending.release(ref);
  }

  get size(): number {
    return this.table.size;
  }
}
