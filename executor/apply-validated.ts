// Validated: the webhook's own rules and configuration, then the document resolved (inline text, the one the
// validation fetched, or a generated pass-through document for APIs without one). The document's own checks are
// skipped when it is the one admission checked (core/document-digest.ts); the spec's never are.
import { AdmissionCheckedDocuments, describeDocumentCheck } from '../core/document-digest.ts';
import { DOCUMENT_DIGEST_ANNOTATION, readExposedApi } from '../core/exposedapi-model.ts';
import { IMPLEMENTATION_NOT_READY } from '../core/exposedapi-status.ts';
import { renderInvalid } from '../core/field-error.ts';
import { systemHostResolver } from '../core/host-resolver.ts';
import { DocumentCheckCache } from '../core/spec-document.ts';
import { SpecFetcher, type FetchOutcome, type ServedScope } from '../core/spec-fetch.ts';
import { defaultValidationContext, validateExposedApi } from '../core/validate-exposedapi.ts';
import type { ApplyRun } from './apply-run.ts';
import { passThroughDocument } from './import-plan.ts';
import { servedEndpoints } from './served-endpoints.ts';
import { classifySpecUrl } from '../core/served-document.ts';
import { done, failed, type StepOutcome } from './step-outcome.ts';

export async function validated(s: ApplyRun): Promise<StepOutcome> {
  const { ctx, obj, events } = s;
  const fetcher = new SpecFetcher(ctx.config.specFetch);
  // One fetch per URL per run: the text the checks (or the digest) judged is the text that is imported, even if the
  // document at the URL changes while the run validates.
  const fetches = new Map<string, Promise<FetchOutcome>>();
  // The ExposedAPI the URLs belong to: a URL naming its implementation Service is read from the Service's ready pods.
  const scope: ServedScope = {
    namespace: obj.metadata.namespace,
    service: readExposedApi(obj).model.spec.implementation,
    endpoints: (target) => servedEndpoints(ctx.kube, target),
  };
  const fetchOnce = (url: string): Promise<FetchOutcome> => {
    let outcome = fetches.get(url);
    if (!outcome) fetches.set(url, (outcome = fetcher.fetch(url, scope)));
    return outcome;
  };
  const documents = new AdmissionCheckedDocuments(obj.metadata.annotations?.[DOCUMENT_DIGEST_ANNOTATION], new DocumentCheckCache());
  const started = performance.now();
  const result = await validateExposedApi(
    obj,
    defaultValidationContext({
      defaultJwt: ctx.config.validationDefaultJwt,
      documents,
      fetch: fetchOnce,
      remoteMode: ctx.config.remoteSpecCheck,
      allowPrivateFetch: ctx.config.specFetch.allowPrivate,
      readsServedDocuments: true,
      // Backend and JWT discovery host names are resolved here, just before APIM is pointed at them.
      outbound: ctx.config.outbound,
      resolveHost: systemHostResolver(),
      tenancy: ctx.config.tenancy,
    }),
  );
  for (const w of result.warnings) {
    ctx.log.warn('validation warning', { warning: w });
    events.warning('ValidationWarning', w);
  }
  // The validation's duration, fetch included, is logged beside what the document's checks were: the skip's saving.
  const validationMs = Math.round(performance.now() - started);
  const checks = documents.decisions.map(describeDocumentCheck);
  for (const d of documents.decisions) ctx.log.info(describeDocumentCheck(d), { documentCheck: d.check, ...(d.check === 'full' ? { why: d.reason } : {}), sha256: d.digest, validationMs });
  if (result.errors.length > 0) return failed({ retriable: false, reason: 'Invalid', message: renderInvalid('ExposedAPI', obj.metadata.name, result.errors) });
  const model = result.model;
  s.model = model;
  if (model.spec.apiType !== 'openapi') {
    s.passThrough = true;
    s.document = { text: passThroughDocument(model.spec.apiType) };
    return done('Valid', `the spec is valid; apiType ${model.spec.apiType} has no OpenAPI document, so it is published as a pass-through API (/* per method)`);
  }
  s.passThrough = false;
  const source = model.spec.specification[0]!;
  if (source.kind === 'inline') {
    s.document = { text: source.text };
  } else {
    // The validation fetched it already, unless remote checks are off.
    const fetched = await fetchOnce(source.url);
    if (fetched.kind === 'refused') return failed({ retriable: false, reason: 'SpecificationRefused', message: `${source.field}: ${source.url} will not be fetched: ${fetched.reason}` });
    if (fetched.kind === 'not-ready') {
      return failed({
        retriable: true,
        waitsForImplementation: true,
        reason: IMPLEMENTATION_NOT_READY,
        message: `${source.field}: ${source.url} is served by the implementation, and ${fetched.reason}; the API is applied when a pod of the Service is ready (its EndpointSlice says so), without a new change`,
      });
    }
    if (fetched.kind === 'unreachable') return failed({ retriable: true, reason: 'SpecificationUnreachable', message: `${source.field}: could not fetch ${source.url}: ${fetched.reason}` });
    // A document the implementation serves is sent inline: APIM cannot reach a cluster Service, so never as a link.
    const served = classifySpecUrl(source.url, scope).kind === 'implementation';
    s.document = served ? { text: fetched.text } : { text: fetched.text, url: source.url };
  }
  // Which checks the document had is part of the condition: "checked at admission (sha256 …)" or "checked in full".
  return done('Valid', checks.length > 0 ? `the spec passes the admission rules; ${checks.join('; ')}` : 'the spec and its OpenAPI document pass the admission rules');
}
