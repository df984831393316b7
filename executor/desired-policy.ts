// The API's policy and links as the ExposedAPI wants them: what the apply writes (apply-steps.ts policiesApplied) and
// what the verify run compares APIM with (execute-verify.ts). One function each, so the two can never disagree.
import type { ExecutorConfig } from '../core/executor-config.ts';
import type { ExposedApi, JwtSettings } from '../core/exposedapi-model.ts';
import { renderPolicyXml } from '../core/policy-xml.ts';
import { uniqueIds } from './apply-ownership.ts';

/** The policy document of the API. `passThrough`: no OpenAPI document, so no document validation policies. */
export function desiredPolicyXml(model: ExposedApi, apiId: string, jwt: JwtSettings | undefined, config: Pick<ExecutorConfig, 'quotaRenewalPeriodSeconds' | 'validateContentMaxSize'>, passThrough: boolean): string {
  return renderPolicyXml({
    spec: model.spec,
    apiId,
    jwt,
    quotaRenewalPeriodSeconds: config.quotaRenewalPeriodSeconds,
    validateContentMaxSize: config.validateContentMaxSize,
    documentValidation: !passThrough,
  });
}

/** The products and tags the API belongs to: the operator's defaults and the spec's, first spelling kept. */
export function desiredLinks(model: ExposedApi, config: Pick<ExecutorConfig, 'defaults'>): { products: string[]; tags: string[] } {
  return {
    products: uniqueIds([...config.defaults.products, ...model.spec.apim.products]),
    tags: uniqueIds([...config.defaults.tags, ...model.spec.apim.tags]),
  };
}
