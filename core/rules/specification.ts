// spec.specification: where the OpenAPI document is, and (for inline documents, or fetched ones when a fetcher is
// given) whether APIM can import it without churning operations.
import { forbidden, invalid, required, tooLong, type FieldError } from '../field-error.ts';
import type { ExposedApi, SpecSource } from '../exposedapi-model.ts';
import { isHttpUrl } from '../http-tokens.ts';
import type { DocumentChecker } from '../spec-document.ts';
import type { FetchOutcome } from '../spec-fetch.ts';
import { classifySpecUrl, deferredMessage } from '../served-document.ts';

export const SPEC_URL_MAX = 2000;

/** What to do with a fetched document that fails the checks. */
export type RemoteSpecMode = 'deny' | 'warn' | 'off';

export interface SpecificationContext {
  documents: DocumentChecker;
  /** Absent: remote documents are not fetched (offline validate without --fetch). */
  fetch?: (url: string) => Promise<FetchOutcome>;
  remoteMode: RemoteSpecMode;
  /**
   * SPEC_FETCH_ALLOW_PRIVATE: in-cluster names other than the implementation Service are fetched like any private
   * address; otherwise they are refused with the fix (core/served-document.ts).
   */
  allowPrivateFetch?: boolean;
  /**
   * The executor reads a document served by the implementation (its `fetch` resolves the Service through the
   * Kubernetes API); admission and the offline command leave it to the executor, with a warning saying so.
   */
  readsServedDocuments?: boolean;
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
  if (!openapi) return;
  const target = classifySpecUrl(src.url, { namespace: api.namespace, service: api.spec.implementation });
  if (target.kind === 'other-service' && !ctx.allowPrivateFetch) {
    out.errors.push(forbidden(src.field, `${src.url} will not be fetched: ${target.reason}`, src.url));
    return;
  }
  if (target.kind === 'implementation' && !ctx.readsServedDocuments) {
    // Its pods may not run yet (a component installs its Deployment and its ExposedAPIs together): nothing to warn
    // about being unreachable. Its shape passed above.
    out.warnings.push(deferredMessage(src.field, src.url, target));
    return;
  }
  if (!ctx.fetch || ctx.remoteMode === 'off') return;
  const outcome = await ctx.fetch(src.url);
  // The implementation has no ready pod yet: the executor's Validated step reports it and the API waits for the pods.
  if (outcome.kind === 'not-ready') return;
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
