// What a run with revisions decides from APIM's revision list, before it writes anything: whether this ExposedAPI
// uses revisions, the number of the revision a change goes into (a new one, or one an earlier run of the same change
// left behind), which earlier revisions go once a release made a new one current, and the release's id and notes.
// Pure. APIM's facts: a revision is `<apiId>;rev=<n>`, the plain id always names the current revision, a release
// makes a revision current, and the current revision cannot be deleted on its own (docs/revisions.md).
import type { ExecutorConfig } from '../core/executor-config.ts';
import type { ExposedApi } from '../core/exposedapi-model.ts';
import { ownershipOf, parseMark, type OwnerIdentity } from './api-mark.ts';
import type { ApiRevisionContract } from './apim-operations.ts';

export interface RevisionInfo {
  number: number;
  current: boolean;
  /** Carries this ExposedAPI's mark (api-mark.ts): only these are ever reused or deleted. */
  ours: boolean;
  /** The import fingerprint its mark records. */
  fingerprint?: string;
}

/** spec.apim.revisions when the ExposedAPI sets it, else APIM_REVISIONS. */
export function revisionsEnabled(model: Pick<ExposedApi, 'spec'>, config: Pick<ExecutorConfig, 'revisions'>): boolean {
  return model.spec.apim.revisions ?? config.revisions.enabled;
}

export function revisionId(apiId: string, n: number): string {
  return `${apiId};rev=${n}`;
}

/** APIM's list read for decisions: numbers, which is current, whose mark. Entries without a number are skipped. */
export function revisionsOf(list: readonly ApiRevisionContract[], who: OwnerIdentity): RevisionInfo[] {
  const out: RevisionInfo[] = [];
  for (const r of list) {
    const n = Number(r.apiRevision);
    if (!Number.isInteger(n) || n < 1) continue;
    const fingerprint = parseMark(r.description).fingerprint;
    out.push({ number: n, current: r.isCurrent === true, ours: ownershipOf(r.description, who) === 'ours', ...(fingerprint ? { fingerprint } : {}) });
  }
  return out.sort((a, b) => a.number - b.number);
}

export function currentRevision(revs: readonly RevisionInfo[]): RevisionInfo | undefined {
  return revs.find((r) => r.current);
}

/**
 * The revision this change goes into: a non-current revision of ours that already holds this document (an earlier run
 * of the same change created or imported it, then failed its check or was killed), the newest such; else a new one
 * above every number APIM has (numbers are never reused while a revision holds them).
 */
export function revisionFor(revs: readonly RevisionInfo[], fingerprint: string): { number: number; reuse: boolean } {
  const again = revs.filter((r) => !r.current && r.ours && r.fingerprint === fingerprint).at(-1);
  if (again) return { number: again.number, reuse: true };
  return { number: Math.max(1, ...revs.map((r) => r.number)) + 1, reuse: false };
}

/**
 * The revisions to delete once a release made a new one current: the non-current revisions of ours beyond the newest
 * `keep`. Revisions without our mark (made in the portal, by another tool) are never deleted and do not count.
 */
export function revisionsToPrune(revs: readonly RevisionInfo[], keep: number): number[] {
  return revs
    .filter((r) => !r.current && r.ours)
    .sort((a, b) => b.number - a.number)
    .slice(keep)
    .map((r) => r.number)
    .sort((a, b) => a - b);
}

/** One release per change and revision; the same id when a run repeats the release (APIM then updates it). */
export function releaseIdFor(specHash: string, n: number): string {
  return `rev-${n}-${specHash.slice(0, 16)}`;
}

/** The release notes (the developer portal's change log): the change's spec hash and the ExposedAPI. */
export function releaseNotesFor(specHash: string, who: Pick<OwnerIdentity, 'namespace' | 'name'>): string {
  return `exposedapi-apim: ExposedAPI ${who.namespace}/${who.name}, spec-hash ${specHash}`;
}
