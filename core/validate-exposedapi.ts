// The one validation entry point, used by the admission webhook, the offline `validate` command and the executor:
// nothing is checked one way at admission and another way at apply time.
import type { FieldError } from './field-error.ts';
import { readExposedApi, type ExposedApi } from './exposedapi-model.ts';
import { checkApimExtension } from './rules/apim-extension.ts';
import { checkApiPath } from './rules/api-path.ts';
import { checkBasicFields } from './rules/basic-fields.ts';
import { checkCors } from './rules/cors.ts';
import { checkClaims, claimOf, type Claims } from './rules/claims.ts';
import { checkSpecification, type RemoteSpecMode } from './rules/specification.ts';
import { checkTemplate, checkTrafficPolicies } from './rules/traffic-policies.ts';
import { checkApimValueSafety } from './rules/apim-value-safety.ts';
import { checkOutboundTargets, resolveOutboundTargets, type HostResolver } from './rules/outbound-targets.ts';
import { STRICT_OUTBOUND_POLICY, type OutboundPolicy } from './outbound-url.ts';
import { checkTenancy } from './rules/tenancy.ts';
import { NO_POLICY, ruleFor, type TenancyPolicy } from './tenancy-policy.ts';
import type { TargetDirectory } from './target-selection.ts';
import { forbidden } from './field-error.ts';
import { apiIdOf } from './api-id.ts';
import { parsePolicyIdentifier } from './policy-identifier.ts';
import { policiesUsed } from './policy-xml.ts';
import { tierErrors, type ApimSku } from './apim-tiers.ts';
import { DocumentCheckCache, type DocumentChecker } from './spec-document.ts';
import type { FetchOutcome } from './spec-fetch.ts';

export interface ValidationContext {
  /** Who holds which APIM path and apiId (core/rules/claims.ts); absent skips the uniqueness rules. */
  claims?: Claims;
  /** The operator has default JWT settings (so claim-based counters work without spec.apim.authentication). */
  defaultJwt: boolean;
  documents: DocumentChecker;
  /** Fetches remote specification URLs; absent = remote documents are not checked. */
  fetch?: (url: string) => Promise<FetchOutcome>;
  remoteMode: RemoteSpecMode;
  /** SPEC_FETCH_ALLOW_PRIVATE (core/rules/specification.ts): other in-cluster names are fetched, not refused. */
  allowPrivateFetch?: boolean;
  /** The executor: a document served by the implementation is fetched (through `fetch`), not left for later. */
  readsServedDocuments?: boolean;
  /** Which URLs APIM may be pointed at (OUTBOUND_ALLOW_HTTP / OUTBOUND_ALLOW_PRIVATE); absent = https and public only. */
  outbound?: OutboundPolicy;
  /** Resolves backend and JWT discovery host names so every address is checked (the executor); absent = not resolved. */
  resolveHost?: HostResolver;
  /** The operator's tenancy policy (core/tenancy-policy.ts); absent = unrestricted. */
  tenancy?: TenancyPolicy;
  /** The APIM tier the operator publishes to (APIM_SKU): policies it does not offer are denied; absent = not checked. */
  apimSku?: ApimSku;
  /**
   * The ApimTargets and namespace labels the webhook watches (core/target-selection.ts): which instance the object
   * publishes into decides its claims' scope, its tier and whether the tenancy policy allows it. Absent (offline
   * `validate`, the executor, whose Job the dispatcher already gave its target): the operator's own instance.
   */
  targets?: TargetDirectory;
}

export interface ValidationResult {
  model: ExposedApi;
  errors: FieldError[];
  /** Non-blocking findings; the webhook returns them as admission warnings, which kubectl prints. */
  warnings: string[];
}

export function defaultValidationContext(overrides: Partial<ValidationContext> = {}): ValidationContext {
  return { defaultJwt: false, documents: new DocumentCheckCache(), remoteMode: 'deny', ...overrides };
}

/** Pure value rules on the model: everything but the document and claim checks. */
export function modelErrors(model: ExposedApi, ctx: Pick<ValidationContext, 'defaultJwt' | 'outbound'>): FieldError[] {
  const jwtConfigured = model.spec.apim.jwt !== undefined || ctx.defaultJwt;
  const errors = [
    ...checkBasicFields(model),
    ...checkApiPath(model.spec.path),
    ...checkTrafficPolicies(model, { jwtConfigured }),
    ...checkCors(model),
    ...checkTemplate(model),
    ...checkApimExtension(model),
  ];
  // The outbound and safety rules cover every URL and value APIM receives; where a field's own rule has refused the
  // value already (with the more specific fix), one error for that field is enough.
  const reported = new Set(errors.map((e) => e.field));
  const outbound = checkOutboundTargets(model, ctx.outbound).filter((e) => !reported.has(e.field));
  for (const e of outbound) reported.add(e.field);
  return [...errors, ...outbound, ...checkApimValueSafety(model).filter((e) => !reported.has(e.field))];
}

function sharedCounterWarnings(model: ExposedApi): string[] {
  const out: string[] = [];
  const blocks: [string, string, boolean][] = [
    ['spec.rateLimit.identifier', model.spec.rateLimit.identifier, model.spec.rateLimit.enabled],
    ['spec.quota.identifier', model.spec.quota.identifier, model.spec.quota.limit !== ''],
  ];
  for (const [field, raw, active] of blocks) {
    const parsed = parsePolicyIdentifier(raw);
    if (active && parsed.ok && parsed.identifier.kind === 'shared') {
      out.push(`${field}: "${raw}" is not IP, subscription, header:<name>, query:<name> or claim:<name>, so it names one counter shared by all callers of this API (other APIs keep their own)`);
    }
  }
  return out;
}

export async function validateExposedApi(obj: unknown, ctx: ValidationContext): Promise<ValidationResult> {
  const { model, errors } = readExposedApi(obj);
  errors.push(...modelErrors(model, ctx));
  if (ctx.tenancy) errors.push(...checkTenancy(model, ruleFor(ctx.tenancy, model.namespace), apiIdOf(model)));
  const target = ctx.targets?.choose(model.namespace, model.spec.apim.target, ctx.tenancy ?? NO_POLICY);
  if (target?.kind === 'refused') errors.push(forbidden(target.field, target.message, target.value === '' ? undefined : target.value));
  // A target's own tier, not the operator instance's APIM_SKU: a target without spec.tier is checked by its Jobs.
  const tier = target?.kind === 'target' ? { sku: target.target.tier, source: `ApimTarget "${target.target.name}" (spec.tier)` } : { sku: ctx.apimSku, source: 'APIM_SKU' };
  if (tier.sku) {
    const uses = policiesUsed({ spec: model.spec, jwt: model.spec.apim.jwt, documentValidation: model.spec.apiType === 'openapi' });
    errors.push(...tierErrors(uses, tier.sku, tier.source));
  }
  // A refused choice claims nothing: it never runs a Job, and the denial already says why.
  if (target?.kind !== 'refused') errors.push(...checkClaims({ ...claimOf(model), scope: target ? ctx.targets!.scopeOf(target) : '' }, ctx.claims));
  const outbound = ctx.resolveHost ? await resolveOutboundTargets(model, ctx.outbound ?? STRICT_OUTBOUND_POLICY, ctx.resolveHost) : { errors: [], warnings: [] };
  errors.push(...outbound.errors);
  const spec = await checkSpecification(model, ctx);
  errors.push(...spec.errors);
  return { model, errors, warnings: [...spec.warnings, ...outbound.warnings, ...sharedCounterWarnings(model)] };
}
