// Claims: what an ExposedAPI takes in its APIM instance that another ExposedAPI may not take as well. Every claim is
// scoped to the instance (`scope`: the ARM id the ExposedAPI publishes into, core/target-selection.ts): the same path
// on two instances is two claims that never meet. One rulebook
// for admission (the webhook, the offline `validate`) and the dispatcher, which runs no apply Job for an object that
// loses a claim — two webhook replicas can each admit one of two racing creates, the single leader cannot.
//
// - The path (spec.path). APIM refuses a second API on the same path (compared case-insensitively), whatever the
//   namespaces. An API whose path nests in another's (`/payments/v1/transfer` in `/payments/v1`) takes over part of
//   its URL space, so paths of different namespaces must not nest, either way round; paths of one namespace may (the
//   ODA components of one release live in one namespace and share a prefix). Segment-wise: `/payments/v10` is not
//   inside `/payments/v1`. Paths are canonical before they get here (api-path.ts): no escapes, no dot segments.
// - The apiId (spec.apim.apiId, else derived from namespace/name, core/api-id.ts): one APIM API per id, compared
//   case-insensitively like APIM's resource names. `a-b`/`c` and `a`/`b-c` derive the same id and collide.
//
// The oldest holder keeps a claim: creation time, then namespace and name (creationTimestamp has 1 s resolution, and
// every replica and every new leader must rank alike; code-unit order, never a locale's). A claim an object makes
// anew (a create, or a changed path or apiId) ranks after every holder: it is refused if anyone holds it. Deleting
// objects keep their claims until they are gone (their delete Job may still be removing the API).
import { forbidden, type FieldError } from '../field-error.ts';
import { apiIdClaimKey, apiIdOf } from '../api-id.ts';
import type { ExposedApi } from '../exposedapi-model.ts';
import { pathClaimKey } from './api-path.ts';

export interface ObjectRef {
  namespace: string;
  name: string;
}

export interface Claimant extends ObjectRef {
  /** spec.path as written; '' claims no path. */
  path: string;
  /** The effective apiId; '' claims none. */
  apiId: string;
  /** The apiId is derived from namespace/name (spec.apim.apiId not given): the fix is to give one. */
  apiIdDerived: boolean;
  /** Rank: creation time in a cluster, position in a list of files. Lower is older. */
  createdMs: number;
  /** The APIM instance the claims are made in (TargetDirectory.scopeOf); absent = '' (the operator's own instance). */
  scope?: string;
}

export type ClaimKind = 'path' | 'apiId';
/** How the claimant's path relates to the holder's. */
export type ClaimRelation = 'same' | 'inside' | 'contains';

export interface ClaimConflict {
  kind: ClaimKind;
  relation: ClaimRelation;
  claimant: Claimant;
  holder: Claimant;
}

/** Who holds which claims: the webhook's registry (a watch of ExposedAPIs), offline validate's table of files. */
export interface Claims {
  /** The object's claims as recorded (stored objects only). */
  get(ref: ObjectRef): Claimant | undefined;
  /** The best-ranked holder per kind that the claimant conflicts with and that ranks before it. */
  conflictsOf(claimant: Claimant): ClaimConflict[];
}

export function objectKey(ref: ObjectRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/** a holds before b: created earlier, then by namespace, then name. */
export function ranksBefore(a: Claimant, b: Claimant): boolean {
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs;
  if (a.namespace !== b.namespace) return a.namespace < b.namespace;
  return a.name < b.name;
}

/** Segment-wise relation of two path claim keys, or undefined when they are apart. */
export function pathRelation(key: string, other: string): ClaimRelation | undefined {
  if (key === other) return 'same';
  if (key.startsWith(`${other}/`)) return 'inside';
  if (other.startsWith(`${key}/`)) return 'contains';
  return undefined;
}

/** Whether two claims of this relation may coexist: nesting within one namespace only, never the same path or id. */
function conflicts(relation: ClaimRelation, a: ObjectRef, b: ObjectRef): boolean {
  return relation === 'same' || a.namespace !== b.namespace;
}

/** The claims an ExposedAPI makes (rank left to the caller). */
export function claimOf(model: Pick<ExposedApi, 'namespace' | 'name' | 'spec'>): Omit<Claimant, 'createdMs'> {
  return { namespace: model.namespace, name: model.name, path: model.spec.path, apiId: apiIdOf(model), apiIdDerived: model.spec.apim.apiId === undefined };
}

/** "a/b/c" → "a", "a/b". */
function properPrefixes(key: string): string[] {
  const out: string[] = [];
  for (let i = key.indexOf('/'); i !== -1; i = key.indexOf('/', i + 1)) out.push(key.slice(0, i));
  return out;
}

interface Entry {
  claimant: Claimant;
  pathKey: string;
  apiIdKey: string;
}

function add(index: Map<string, Set<string>>, key: string, object: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(object);
}

function remove(index: Map<string, Set<string>>, key: string, object: string): void {
  const set = index.get(key);
  set?.delete(object);
  if (set?.size === 0) index.delete(key);
}

interface Overlap {
  entry: Entry;
  kind: ClaimKind;
  relation: ClaimRelation;
}

/** A claim key within its instance: the scope and a NUL (never in a path, an id or an ARM id) before the key. */
function scoped(c: Pick<Claimant, 'scope'>, key: string): string {
  return `${c.scope ?? ''}\u0000${key}`;
}

export function pathKeyOf(c: Pick<Claimant, 'path' | 'scope'>): string {
  return c.path === '' ? '' : scoped(c, pathClaimKey(c.path));
}

export function apiIdKeyOf(c: Pick<Claimant, 'apiId' | 'scope'>): string {
  return c.apiId === '' ? '' : scoped(c, apiIdClaimKey(c.apiId));
}

function entryOf(c: Claimant): Entry {
  return { claimant: c, pathKey: pathKeyOf(c), apiIdKey: apiIdKeyOf(c) };
}

/**
 * An in-memory claim table, indexed so that a check costs a few map look-ups however many objects there are: exact
 * paths, every proper segment prefix of each path (to find the paths under a path), apiIds.
 */
export class ClaimTable implements Claims {
  private readonly entries = new Map<string, Entry>();
  private readonly byPath = new Map<string, Set<string>>();
  /** Proper segment prefix → objects whose path is below it. */
  private readonly under = new Map<string, Set<string>>();
  private readonly byApiId = new Map<string, Set<string>>();

  get(ref: ObjectRef): Claimant | undefined {
    return this.entries.get(objectKey(ref))?.claimant;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Records (or replaces) an object's claims. Returns the other objects whose standing may have changed (they overlap
   * the old or the new claims) — none when the claims are what they were, so a status write costs nothing.
   */
  set(c: Claimant): string[] {
    const key = objectKey(c);
    const before = this.entries.get(key);
    const entry = entryOf(c);
    if (before && before.pathKey === entry.pathKey && before.apiIdKey === entry.apiIdKey && before.claimant.createdMs === c.createdMs) {
      before.claimant = c; // same claims; the spelling (case) may differ, and messages quote it
      return [];
    }
    const affected = new Set<string>();
    if (before) {
      for (const o of this.overlapping(before)) affected.add(objectKey(o.entry.claimant));
      this.unindex(key, before);
    }
    this.entries.set(key, entry);
    this.index(key, entry);
    for (const o of this.overlapping(entry)) affected.add(objectKey(o.entry.claimant));
    return [...affected];
  }

  /** Drops an object's claims; returns the objects that overlapped them. */
  release(ref: ObjectRef): string[] {
    const key = objectKey(ref);
    const before = this.entries.get(key);
    if (!before) return [];
    const affected = [...this.overlapping(before)].map((o) => objectKey(o.entry.claimant));
    this.unindex(key, before);
    this.entries.delete(key);
    return [...new Set(affected)];
  }

  conflictsOf(claimant: Claimant): ClaimConflict[] {
    const best = new Map<ClaimKind, ClaimConflict>();
    for (const { entry, kind, relation } of this.overlapping(entryOf(claimant))) {
      const holder = entry.claimant;
      if (!ranksBefore(holder, claimant)) continue;
      const current = best.get(kind);
      if (!current || ranksBefore(holder, current.holder)) best.set(kind, { kind, relation, claimant, holder });
    }
    return (['path', 'apiId'] as const).flatMap((k) => best.get(k) ?? []);
  }

  /** Other objects whose claims conflict with this entry's, of any rank. */
  private *overlapping(e: Entry): Generator<Overlap> {
    if (e.pathKey !== '') {
      yield* this.visit(e, this.byPath.get(e.pathKey), 'path', 'same');
      for (const prefix of properPrefixes(e.pathKey)) yield* this.visit(e, this.byPath.get(prefix), 'path', 'inside');
      yield* this.visit(e, this.under.get(e.pathKey), 'path', 'contains');
    }
    if (e.apiIdKey !== '') yield* this.visit(e, this.byApiId.get(e.apiIdKey), 'apiId', 'same');
  }

  private *visit(e: Entry, keys: Set<string> | undefined, kind: ClaimKind, relation: ClaimRelation): Generator<Overlap> {
    if (!keys) return;
    const self = objectKey(e.claimant);
    for (const k of keys) {
      const entry = this.entries.get(k);
      if (k !== self && entry && conflicts(relation, entry.claimant, e.claimant)) yield { entry, kind, relation };
    }
  }

  private index(key: string, e: Entry): void {
    if (e.pathKey !== '') {
      add(this.byPath, e.pathKey, key);
      for (const prefix of properPrefixes(e.pathKey)) add(this.under, prefix, key);
    }
    if (e.apiIdKey !== '') add(this.byApiId, e.apiIdKey, key);
  }

  private unindex(key: string, e: Entry): void {
    if (e.pathKey !== '') {
      remove(this.byPath, e.pathKey, key);
      for (const prefix of properPrefixes(e.pathKey)) remove(this.under, prefix, key);
    }
    if (e.apiIdKey !== '') remove(this.byApiId, e.apiIdKey, key);
  }
}

const q = (s: string) => JSON.stringify(s);

/** What is wrong and how to fix it, in the words both admission and the dispatcher's status use. */
export function conflictText(c: ClaimConflict): string {
  const holder = `ExposedAPI ${c.holder.namespace}/${c.holder.name}`;
  if (c.kind === 'apiId') {
    return c.claimant.apiIdDerived
      ? `the apiId derived from namespace and name, ${q(c.claimant.apiId)}, is already claimed by ${holder} (APIM compares ids case-insensitively); set spec.apim.apiId to an id of its own`
      : `apiId ${q(c.claimant.apiId)} is already claimed by ${holder} (APIM compares ids case-insensitively); choose another spec.apim.apiId or delete that ExposedAPI first`;
  }
  const path = q(c.claimant.path);
  const held = q(c.holder.path);
  switch (c.relation) {
    case 'same':
      return `path ${path} is already claimed by ${holder} in the same APIM service; choose another path or delete that ExposedAPI first`;
    case 'inside':
      return `path ${path} is inside path ${held}, claimed by ${holder} of another namespace, and paths of different namespaces must not nest; choose a path outside ${held}`;
    case 'contains':
      return `path ${path} contains path ${held}, claimed by ${holder} of another namespace, and paths of different namespaces must not nest; choose a path that is not a prefix of ${held}`;
  }
}

/** The status condition reason of a lost claim. */
export function conflictReason(c: ClaimConflict): 'PathConflict' | 'ApiIdConflict' {
  return c.kind === 'path' ? 'PathConflict' : 'ApiIdConflict';
}

/**
 * Admission: the object's path and apiId must not conflict with a holder that ranks before it. A claim the object
 * already holds (recorded, unchanged) keeps its rank, so the oldest holder can still be updated; a new or changed
 * claim ranks last.
 */
export function checkClaims(claim: Omit<Claimant, 'createdMs'>, claims: Claims | undefined): FieldError[] {
  if (!claims) return [];
  const recorded = claims.get(claim);
  const errors: FieldError[] = [];
  const kinds: [ClaimKind, string, string, (c: Claimant) => string][] = [
    // A claim moved to another instance (a new target) is a new claim there: it ranks last.
    ['path', 'spec.path', claim.path, pathKeyOf],
    ['apiId', 'spec.apim.apiId', claim.apiId, apiIdKeyOf],
  ];
  for (const [kind, field, value, keyOf] of kinds) {
    if (value === '') continue;
    const held = recorded !== undefined && keyOf(recorded) === keyOf({ ...claim, createdMs: 0 });
    const claimant: Claimant = { ...claim, ...(kind === 'path' ? { apiId: '' } : { path: '' }), createdMs: held ? recorded.createdMs : Number.POSITIVE_INFINITY };
    const conflict = claims.conflictsOf(claimant).find((c) => c.kind === kind);
    if (conflict) errors.push(forbidden(field, conflictText(conflict), value));
  }
  return errors;
}
