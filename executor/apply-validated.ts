// Validated: the webhook's own rules and configuration, then the document resolved (inline text, the one the
// validation fetched, or a generated pass-through document for APIs without one).
import { renderInvalid } from '../core/field-error.ts';
import { systemHostResolver } from '../core/host-resolver.ts';
import { DocumentCheckCache } from '../core/spec-document.ts';
import { SpecFetcher } from '../core/spec-fetch.ts';
import { defaultValidationContext, validateExposedApi } from '../core/validate-exposedapi.ts';
import type { ApplyRun } from './apply-run.ts';
import { passThroughDocument } from './import-plan.ts';
import { done, failed, type StepOutcome } from './step-outcome.ts';

export async function validated(s: ApplyRun): Promise<StepOutcome> {
  const { ctx, obj, events } = s;
  const fetcher = new SpecFetcher(ctx.config.specFetch);
  const result = await validateExposedApi(
    obj,
    defaultValidationContext({
      defaultJwt: ctx.config.validationDefaultJwt,
      documents: new DocumentCheckCache(),
      fetch: (url) => fetcher.fetch(url),
      remoteMode: ctx.config.remoteSpecCheck,
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
    // The validation fetched it already (cached by URL), unless remote checks are off.
    const fetched = await fetcher.fetch(source.url);
    if (fetched.kind === 'refused') return failed({ retriable: false, reason: 'SpecificationRefused', message: `${source.field}: ${source.url} will not be fetched: ${fetched.reason}` });
    if (fetched.kind === 'unreachable') return failed({ retriable: true, reason: 'SpecificationUnreachable', message: `${source.field}: could not fetch ${source.url}: ${fetched.reason}` });
    s.document = { text: fetched.text, url: source.url };
  }
  return done('Valid', 'the spec and its OpenAPI document pass the admission rules');
}
