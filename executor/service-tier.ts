// The APIM service's tier (its sku.name, read once per run) and the check of an API's policies against it, before
// anything is written: a policy the tier does not offer (quota-by-key on a v2 tier, rate-limit-by-key on
// Consumption) is a permanent failure that names the spec field, the policy, the tier and the fix, instead of APIM's
// "Policy is not allowed in '<sku>' sku" after the import has already run (core/apim-tiers.ts has the table).
import { renderFieldError } from '../core/field-error.ts';
import { knownSku, tierErrors, type ApimSku } from '../core/apim-tiers.ts';
import type { JwtSettings } from '../core/exposedapi-model.ts';
import { policiesUsed, VALIDATE_CONTENT_MAX_SIZE_OLD } from '../core/policy-xml.ts';
import type { Apim } from './apim-client.ts';
import type { ApplyRun } from './apply-run.ts';
import { StepFailure } from './step-failure.ts';
import { done, failed, type StepOutcome } from './step-outcome.ts';

export interface ServiceTier {
  /** sku.name as the service reports it; undefined when it reported none. */
  name?: string;
  /** The tier, when the table knows the name. */
  sku?: ApimSku;
}

/** The service's tier, from the session's one GET of the service (its gatewayUrl is read from the same answer). */
export async function readServiceTier(apim: Apim): Promise<ServiceTier> {
  const service = await apim.service();
  const name = service.sku?.name;
  const sku = knownSku(name);
  return { ...(name !== undefined ? { name } : {}), ...(sku ? { sku } : {}) };
}

/** The tier read early in the run, or a reason it is not known (the check is then left to APIM). */
async function tierOf(s: ApplyRun): Promise<ServiceTier | string> {
  try {
    return await (s.serviceTier ?? s.ctx.apim().then(readServiceTier));
  } catch (e) {
    // A retriable failure (throttling, an outage) fails the run like any other call. A permanent one (say, a custom
    // role without Microsoft.ApiManagement/service/read) must not block publishing: APIM still judges the policy.
    if (e instanceof StepFailure && !e.info.retriable) return e.message;
    throw e;
  }
}

/**
 * No condition of its own: the run continues when the tier offers every policy the API renders (`jwt`: its JWT
 * settings, apply-steps.ts jwtFor) or the tier cannot be known; otherwise PoliciesApplied turns False with reason
 * PolicyNotInTier before the route or the API is written.
 */
export async function tierChecked(s: ApplyRun, jwt: JwtSettings | undefined): Promise<StepOutcome> {
  const { ctx } = s;
  const model = s.model!;
  const tier = await tierOf(s);
  const svc = ctx.config.apim.serviceName;
  if (typeof tier === 'string') {
    ctx.log.warn('the service tier could not be read; APIM judges the policies on save', { error: tier });
    return done();
  }
  if (!tier.sku) {
    ctx.log.info('the service tier is not in the tier table; APIM judges the policies on save', { sku: tier.name ?? null });
    return done();
  }
  const uses = policiesUsed({ spec: model.spec, jwt, documentValidation: !s.passThrough });
  const errors = tierErrors(uses, tier.sku, `APIM service '${svc}'`);
  if (errors.length === 0) return done();
  return failed({
    retriable: false,
    reason: 'PolicyNotInTier',
    condition: 'PoliciesApplied',
    message: `APIM service '${svc}' is ${tier.sku}: ${errors.map(renderFieldError).join('; ')}`,
  });
}

/**
 * APIM's refusal of validate-content's max-size (a service that still enforces the older 100 KB maximum) with the
 * setting that fixes it: the value comes from VALIDATE_CONTENT_MAX_SIZE, not from the ExposedAPI.
 */
export function withMaxSizeHint(e: unknown, maxSize: number): unknown {
  if (!(e instanceof StepFailure) || e.info.apim?.status !== 400) return e;
  const text = `${e.info.apim.target ?? ''} ${e.info.apim.message}`;
  if (!/validate-content/.test(text) || !/max-size/.test(text)) return e;
  const message = `${e.message}; the policy's validate-content max-size is VALIDATE_CONTENT_MAX_SIZE=${maxSize}: set it to what this service accepts (${VALIDATE_CONTENT_MAX_SIZE_OLD} on services that still enforce 100 KB)`;
  return new StepFailure({ ...e.info, message }, { cause: e });
}
