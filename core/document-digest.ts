// What admission checked, recorded so the executor does not check it again: the SHA-256 of the OpenAPI document the
// mutating webhook judged valid (the inline text, or the bytes it fetched from the URL), stamped in the
// DOCUMENT_DIGEST_ANNOTATION beside the spec hash. The executor resolves the document again and, when its digest is
// the recorded one, runs only what the import needs (the parse and conversion in executor/import-plan.ts); a changed,
// unrecorded or malformed digest gets the full checks (core/spec-document.ts documentProblems).
//
// Why a forged digest is harmless. Tenants can write annotations (and status) without passing admission: the
// webhook's matchConditions skip updates that leave the spec and reconcile-at alone. A tenant who writes the digest of
// a document admission never accepted makes the executor skip, for that tenant's own ExposedAPI only, the checks that
// protect the tenant from APIM's surprises: operationIds (APIM names and renames operations itself), duplicate
// signatures, external $refs, the JSON schema and the semantic checks. APIM judges the document again on import (it
// refuses what it cannot import, and its error reaches the status), and what it accepts changes only that API. What
// protects others and the operator is never skipped:
// - the fetch's rules (https, public addresses, SPEC_FETCH_MAX_BYTES, redirects re-checked), since the executor
//   fetches with the same SpecFetcher whatever the digest says;
// - the parse's bounds (4 MB inline, YAML aliases expanding beyond DOCUMENT_EXPANDED_MAX_BYTES), since the import's
//   parse is parseSpecDocument itself, so a YAML bomb or an oversized document is refused before anything expands it;
// - everything about the spec (ownership, tenancy, claims, outbound targets, value safety, tiers), which the digest
//   does not cover: validateExposedApi runs those rules in full on every run.
// The skipped checks are also the ones that cost the executor most (swagger-parser, Ajv) and the only ones that walk
// the whole document's references, so skipping them never lets more work into the process than a valid document does.
import { createHash } from 'node:crypto';
import type { ExposedApi } from './exposedapi-model.ts';
import { isHttpUrl } from './http-tokens.ts';
import { SPEC_URL_MAX, type RemoteSpecMode } from './rules/specification.ts';
import type { DocumentChecker, DocumentVerdict } from './spec-document.ts';
import type { FetchOutcome } from './spec-fetch.ts';
import { classifySpecUrl } from './served-document.ts';

/** Hex SHA-256 of the document's UTF-8 bytes (what the fetcher decoded, or the inline string). */
export function documentDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const DIGEST = /^[0-9a-f]{64}$/;

/** How the executor treats one document it resolved. */
export type DocumentCheckDecision =
  /** The document admission checked, unchanged: parse and convert for the import only. */
  | { check: 'import-only'; digest: string }
  /** Checked in full: nothing recorded, a value that is not a digest, or another document than admission's. */
  | { check: 'full'; digest: string; reason: 'unrecorded' | 'malformed' | 'changed'; recorded?: string };

/**
 * The decision for one document text, given the annotation's value as stored (undefined when absent). Pure.
 * Anything but 64 lower-case hex digits is malformed (the webhook writes only that form) and gets the full checks.
 */
export function decideDocumentCheck(recorded: string | undefined, text: string): DocumentCheckDecision {
  const digest = documentDigest(text);
  if (recorded === undefined) return { check: 'full', digest, reason: 'unrecorded' };
  if (!DIGEST.test(recorded)) return { check: 'full', digest, reason: 'malformed', recorded };
  if (recorded !== digest) return { check: 'full', digest, reason: 'changed', recorded };
  return { check: 'import-only', digest };
}

/** One line for the Job log and the Validated condition, naming the digests so a person can compare them. */
export function describeDocumentCheck(d: DocumentCheckDecision): string {
  if (d.check === 'import-only') return `document checked at admission (sha256 ${d.digest}), unchanged: only parsed for the import, which APIM judges again`;
  if (d.reason === 'unrecorded') return `document checked in full (sha256 ${d.digest}): admission recorded no digest (it could not check the document, or admitted it before digests were recorded)`;
  if (d.reason === 'malformed') return `document checked in full (sha256 ${d.digest}): the recorded digest ${JSON.stringify(d.recorded)} is not a SHA-256 in hex`;
  return `document checked in full (sha256 ${d.digest}): it changed since admission checked sha256 ${d.recorded}`;
}

/**
 * The executor's document checker: the full checks (`full`) unless the text is the one admission recorded. Every
 * decision is kept, in order, for the run's log and condition.
 */
export class AdmissionCheckedDocuments implements DocumentChecker {
  readonly decisions: DocumentCheckDecision[] = [];
  private readonly recorded: string | undefined;
  private readonly full: DocumentChecker;

  /** `recorded`: the annotation's value as stored (undefined when absent); `full`: the complete checks. */
  constructor(recorded: string | undefined, full: DocumentChecker) {
    this.recorded = recorded;
    this.full = full;
  }

  async check(text: string): Promise<DocumentVerdict> {
    const decision = decideDocumentCheck(this.recorded, text);
    this.decisions.push(decision);
    // No problems here means "nothing to report before the import": the import's parse (parseSpecDocument, with its
    // size and alias-expansion bounds) still refuses what is not a document, and APIM judges the rest.
    if (decision.check === 'import-only') return { problems: [] };
    return this.full.check(text);
  }
}

/** What the mutating webhook needs to check the document as validation does. */
export interface DigestContext {
  documents: DocumentChecker;
  fetch?: (url: string) => Promise<FetchOutcome>;
  remoteMode: RemoteSpecMode;
}

/**
 * The digest of the document admission checks and finds valid, or undefined when there is none to record: not an
 * openapi API, no document, remote checks off or no fetcher, a fetch that failed or was refused, a document with
 * problems (REMOTE_SPEC_CHECK=warn admits those: the executor must check them again), a check that could not finish
 * (transient), or no answer within `budgetMs` (the mutation must not hold up an apply; the executor checks in full).
 * Only the first specification entry is imported, so only its document is recorded.
 */
export async function admittedDocumentDigest(model: ExposedApi, ctx: DigestContext, budgetMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), budgetMs);
  });
  try {
    return await Promise.race([checkedDigest(model, ctx), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function checkedDigest(model: ExposedApi, ctx: DigestContext): Promise<string | undefined> {
  const source = model.spec.specification[0];
  if (model.spec.apiType !== 'openapi' || !source) return undefined;
  let text: string;
  if (source.kind === 'inline') text = source.text;
  else {
    // The same preconditions as core/rules/specification.ts: a URL validation would not fetch is not fetched here.
    if (!isHttpUrl(source.url) || source.url.length > SPEC_URL_MAX || !ctx.fetch || ctx.remoteMode === 'off') return undefined;
    // A document the implementation serves is read by the executor from the pods, never at admission.
    if (classifySpecUrl(source.url, { namespace: model.namespace, service: model.spec.implementation }).kind === 'implementation') return undefined;
    const fetched = await ctx.fetch(source.url);
    if (fetched.kind !== 'ok') return undefined;
    text = fetched.text;
  }
  const verdict = await ctx.documents.check(text);
  return verdict.problems.length === 0 && !verdict.transient ? documentDigest(text) : undefined;
}
