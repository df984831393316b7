// Which policies each API Management tier (SKU) offers, for the policies the renderer emits (core/policy-xml.ts).
// Pure. The executor checks an API's policies against the tier it reads from the service before it writes anything,
// and the webhook against APIM_SKU when the operator sets it, so a policy the tier lacks fails with the field to
// change instead of APIM's "Policy is not allowed in '<sku>' sku" after the API was already imported.
//
// This table is the operator's own; the emulator keeps an independent one (emulator/sku-tiers.ts) so that each can
// be checked against the other and against Azure.
import { forbidden, type FieldError } from './field-error.ts';
import type { PolicyUse } from './policy-xml.ts';

/**
 * The `sku.name` values of a service (GET …/service/{name}; REST spec SkuType: Developer, Standard, Premium, Basic,
 * Consumption, Isolated, BasicV2, StandardV2; PremiumV2 in later api-versions and the v2 tier docs).
 */
export const APIM_SKUS = ['Consumption', 'Developer', 'Basic', 'Standard', 'Premium', 'Isolated', 'BasicV2', 'StandardV2', 'PremiumV2'] as const;
export type ApimSku = (typeof APIM_SKUS)[number];

const CLASSIC: readonly ApimSku[] = ['Developer', 'Basic', 'Standard', 'Premium', 'Isolated'];
const V2: readonly ApimSku[] = ['BasicV2', 'StandardV2', 'PremiumV2'];
const ALL: readonly ApimSku[] = APIM_SKUS;

interface Availability {
  offeredIn: readonly ApimSku[];
  /** Where the row comes from. */
  source: string;
}

/**
 * The policies the renderer can emit, and the tiers that offer each. Isolated is a classic tier: the policy index
 * lists classic gateways as one column. Where the sources disagree the narrower reading is kept, because a refusal
 * here names the fix while a refusal by APIM comes after the import.
 */
export const POLICY_TIERS: Readonly<Record<string, Availability>> = {
  // "APPLIES TO: Developer | Basic | Standard | Premium" (learn.microsoft.com/azure/api-management/quota-by-key-policy);
  // the policy index of 2024 (…/api-management-policies) agrees: V2 No, Consumption No. A later translation of the
  // index marks V2 Yes; until the policy's own page says so, v2 tiers are refused (a service that accepts it only
  // costs a spec change, a service that refuses it would fail after the import).
  'quota-by-key': { offeredIn: CLASSIC, source: 'https://learn.microsoft.com/azure/api-management/quota-by-key-policy' },
  // "APPLIES TO: Developer | Basic | Basic v2 | Standard | Standard v2 | Premium | Premium v2"; the index: Consumption No.
  // APIM's refusal: "Policy is not allowed in 'Consumption' sku" (MicrosoftDocs/azure-docs #57081).
  'rate-limit-by-key': { offeredIn: [...CLASSIC, ...V2], source: 'https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy' },
  // The rest are "APPLIES TO: All API Management tiers" on their pages and Yes in every column of the index.
  cors: { offeredIn: ALL, source: 'https://learn.microsoft.com/azure/api-management/cors-policy' },
  'validate-jwt': { offeredIn: ALL, source: 'https://learn.microsoft.com/azure/api-management/validate-jwt-policy' },
  'validate-content': { offeredIn: ALL, source: 'https://learn.microsoft.com/azure/api-management/validate-content-policy' },
  'validate-parameters': { offeredIn: ALL, source: 'https://learn.microsoft.com/azure/api-management/validate-parameters-policy' },
  'validate-headers': { offeredIn: ALL, source: 'https://learn.microsoft.com/azure/api-management/validate-headers-policy' },
  'validate-status-code': { offeredIn: ALL, source: 'https://learn.microsoft.com/azure/api-management/validate-status-code-policy' },
  'include-fragment': { offeredIn: ALL, source: 'https://learn.microsoft.com/azure/api-management/include-fragment-policy' },
};

/** The known SKU a service reports, matched case-insensitively (ARM compares names that way); undefined if unknown. */
export function knownSku(name: string | undefined): ApimSku | undefined {
  if (name === undefined) return undefined;
  return APIM_SKUS.find((s) => s.toLowerCase() === name.trim().toLowerCase());
}

/** Whether a tier offers a policy. A policy missing from the table is not judged here (APIM judges it). */
export function policyOffered(policy: string, sku: ApimSku): boolean {
  const row = POLICY_TIERS[policy];
  return row === undefined || row.offeredIn.includes(sku);
}

/**
 * One Forbidden error per spec field whose policy the tier does not offer, naming the policy, the tier, the tiers
 * that offer it and the fix. `where` names what the tier is (the service, or APIM_SKU).
 */
export function tierErrors(uses: readonly PolicyUse[], sku: ApimSku, where: string): FieldError[] {
  const errors: FieldError[] = [];
  const reported = new Set<string>();
  for (const use of uses) {
    if (policyOffered(use.policy, sku) || reported.has(use.field)) continue;
    reported.add(use.field);
    const offered = POLICY_TIERS[use.policy]!.offeredIn;
    errors.push(
      forbidden(
        use.field,
        `renders APIM's ${use.policy} policy, which the ${sku} tier does not offer (${where}; offered in ${offered.join(', ')}; ${POLICY_TIERS[use.policy]!.source}): remove ${use.field} from the ExposedAPI, or publish to an API Management service of one of those tiers`,
      ),
    );
  }
  return errors;
}
