// The one validation entry point, used by the admission webhook, the offline `validate` command and the executor:
// nothing is checked one way at admission and another way at apply time.
import type { FieldError } from './field-error.ts';
import { readExposedApi, type ExposedApi } from './exposedapi-model.ts';
import { checkApimExtension } from './rules/apim-extension.ts';
import { checkApiPath } from './rules/api-path.ts';
import { checkBasicFields } from './rules/basic-fields.ts';
import { checkCors } from './rules/cors.ts';
import { checkPathClaim, type PathClaims } from './rules/path-claim.ts';
import { checkSpecification, type RemoteSpecMode } from './rules/specification.ts';
import { checkTemplate, checkTrafficPolicies } from './rules/traffic-policies.ts';
import { parsePolicyIdentifier } from './policy-identifier.ts';
import { DocumentCheckCache, type DocumentChecker } from './spec-document.ts';
import type { FetchOutcome } from './spec-fetch.ts';

export interface ValidationContext {
  /** Who holds which APIM path; absent skips the uniqueness rule. */
  pathClaims?: PathClaims;
  /** The operator has default JWT settings (so claim-based counters work without spec.apim.authentication). */
  defaultJwt: boolean;
  documents: DocumentChecker;
  /** Fetches remote specification URLs; absent = remote documents are not checked. */
  fetch?: (url: string) => Promise<FetchOutcome>;
  remoteMode: RemoteSpecMode;
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

/** Pure value rules on the model: everything but the document and path-claim checks. */
export function modelErrors(model: ExposedApi, ctx: Pick<ValidationContext, 'defaultJwt'>): FieldError[] {
  const jwtConfigured = model.spec.apim.jwt !== undefined || ctx.defaultJwt;
  return [
    ...checkBasicFields(model),
    ...checkApiPath(model.spec.path),
    ...checkTrafficPolicies(model, { jwtConfigured }),
    ...checkCors(model),
    ...checkTemplate(model),
    ...checkApimExtension(model),
  ];
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
      out.push(`${field}: "${raw}" is not IP, subscription, header:<name>, query:<name> or claim:<name>, so it names one counter shared by all callers of the API`);
    }
  }
  return out;
}

export async function validateExposedApi(obj: unknown, ctx: ValidationContext): Promise<ValidationResult> {
  const { model, errors } = readExposedApi(obj);
  errors.push(...modelErrors(model, ctx));
  errors.push(...checkPathClaim(model.spec.path, { namespace: model.namespace, name: model.name }, ctx.pathClaims));
  const spec = await checkSpecification(model, ctx);
  errors.push(...spec.errors);
  return { model, errors, warnings: [...spec.warnings, ...sharedCounterWarnings(model)] };
}
