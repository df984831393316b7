// spec.specification: where the OpenAPI document is, and (for inline documents, or fetched ones when a fetcher is
// given) whether APIM can import it without churning operations.
import { forbidden, invalid, required, tooLong, type FieldError } from '../field-error.ts';
import type { ExposedApi, SpecSource } from '../exposedapi-model.ts';
import { isHttpUrl } from '../http-tokens.ts';
import type { DocumentChecker } from '../spec-document.ts';
import type { FetchOutcome } from '../spec-fetch.ts';

export const SPEC_URL_MAX = 2000;

/** What to do with a fetched document that fails the checks. */
export type RemoteSpecMode = 'deny' | 'warn' | 'off';

export interface SpecificationContext {
  documents: DocumentChecker;
  /** Absent: remote documents are not fetched (offline validate without --fetch). */
  fetch?: (url: string) => Promise<FetchOutcome>;
  remoteMode: RemoteSpecMode;
}

export interface SpecificationResult {
  errors: FieldError[];
  warnings: string[];
}

function inlineValue(text: string): string {
  return `<inline OpenAPI document, ${Buffer.byteLength(text, 'utf8')} bytes>`;
}

async function checkSource(api: ExposedApi, src: SpecSource, ctx: SpecificationContext, out: SpecificationResult): Promise<void> {
  const openapi = api.spec.apiType === 'openapi';
  if (src.kind === 'inline') {
    if (!openapi) return; // metrics and MCP APIs carry no OpenAPI document to check
    const { problems } = await ctx.documents.check(src.text);
    for (const p of problems) out.errors.push(invalid(src.field, inlineValue(src.text), p));
    return;
  }
  if (!isHttpUrl(src.url)) {
    out.errors.push(invalid(src.field, src.url, 'must be an absolute http(s) URL of the OpenAPI document, or the document itself inline'));
    return;
  }
  if (src.url.length > SPEC_URL_MAX) {
    out.errors.push(tooLong(src.field, src.url, SPEC_URL_MAX));
    return;
  }
  if (!openapi || !ctx.fetch || ctx.remoteMode === 'off') return;
  const outcome = await ctx.fetch(src.url);
  if (outcome.kind === 'unreachable') {
    // Never block an apply on a transient failure: the executor fetches again and reports on the status.
    out.warnings.push(`${src.field}: could not fetch ${src.url} to check it (${outcome.reason}); the document will be checked again when it is applied`);
    return;
  }
  if (outcome.kind === 'refused') {
    const message = `${src.url} will not be fetched: ${outcome.reason}`;
    if (ctx.remoteMode === 'deny') out.errors.push(forbidden(src.field, message, src.url));
    else out.warnings.push(`${src.field}: ${message}`);
    return;
  }
  const { problems } = await ctx.documents.check(outcome.text);
  for (const p of problems) {
    if (ctx.remoteMode === 'deny') out.errors.push(invalid(src.field, src.url, `the document at this URL ${p}`));
    else out.warnings.push(`${src.field}: the document at ${src.url} ${p}`);
  }
}

export async function checkSpecification(api: ExposedApi, ctx: SpecificationContext): Promise<SpecificationResult> {
  const out: SpecificationResult = { errors: [], warnings: [] };
  const sources = api.spec.specification;
  if (sources.length === 0) {
    if (api.spec.apiType === 'openapi') {
      out.errors.push(required('spec.specification', 'an openapi API needs its OpenAPI document: an https URL ({url: …}) or the document inline'));
    }
    return out;
  }
  if (sources.length > 1) {
    out.warnings.push(`spec.specification: ${sources.length} documents are listed; APIM holds one document per API, so only the first (${sources[0]!.field}) is imported`);
  }
  await Promise.all(sources.map((src) => checkSource(api, src, ctx, out)));
  return out;
}
