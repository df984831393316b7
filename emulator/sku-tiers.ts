// API Management's tiers (the `sku.name` ARM uses) and which policies each offers. The policy reference groups the
// tiers by the gateway that runs them — classic (Developer, Basic, Standard, Premium), v2 (Basic v2, Standard v2,
// Premium v2) and consumption — and says per policy which gateways support it, so the table below is two small
// tables: tier → gateway, and policy → gateways where that is not "all of them".
//
// Sources:
// - Tier names: the SkuType enum of @azure/arm-apimanagement 10.x / REST spec 2024-05-01 (Developer, Standard,
//   Premium, Basic, Consumption, Isolated, BasicV2, StandardV2); PremiumV2 is named beside BasicV2 and StandardV2 as a
//   GA sku.name in Azure/azure-policy#1582 (2026). Isolated is in the enum but no policy reference page lists its
//   availability, so the emulator does not model it (refused like any unknown name rather than guessed lenient).
// - Gateways per tier: https://learn.microsoft.com/azure/api-management/api-management-gateways-overview
// - Policies per gateway: the reference index https://learn.microsoft.com/azure/api-management/api-management-policies
//   (tables with columns Classic | V2 | Consumption | Self-hosted) and each policy's "Usage → Gateways" line.
// - Capacity: "For Consumption SKU capacity must be specified as 0" (ApiManagementServiceSkuProperties.capacity in
//   the REST spec); the other tiers are modelled with one unit, the smallest deployment.

export type Gateway = 'classic' | 'v2' | 'consumption';

export interface SkuTier {
  /** The ARM `sku.name`, spelled as ARM spells it. */
  name: string;
  gateway: Gateway;
  /** The `sku.capacity` the service GET reports. */
  capacity: number;
  /** Where the row comes from. */
  source: string;
}

const GATEWAYS_DOC = 'https://learn.microsoft.com/azure/api-management/api-management-gateways-overview';
const SKU_ENUM = 'SkuType enum, REST spec 2024-05-01 / @azure/arm-apimanagement 10.x';

export const SKU_TIERS: readonly SkuTier[] = [
  { name: 'Consumption', gateway: 'consumption', capacity: 0, source: `${SKU_ENUM}; capacity 0 per ApiManagementServiceSkuProperties; ${GATEWAYS_DOC}` },
  { name: 'Developer', gateway: 'classic', capacity: 1, source: `${SKU_ENUM}; ${GATEWAYS_DOC}` },
  { name: 'Basic', gateway: 'classic', capacity: 1, source: `${SKU_ENUM}; ${GATEWAYS_DOC}` },
  { name: 'Standard', gateway: 'classic', capacity: 1, source: `${SKU_ENUM}; ${GATEWAYS_DOC}` },
  { name: 'Premium', gateway: 'classic', capacity: 1, source: `${SKU_ENUM}; ${GATEWAYS_DOC}` },
  { name: 'BasicV2', gateway: 'v2', capacity: 1, source: `${SKU_ENUM}; ${GATEWAYS_DOC}` },
  { name: 'StandardV2', gateway: 'v2', capacity: 1, source: `${SKU_ENUM}; ${GATEWAYS_DOC}` },
  // Not in the 2024-05-01 enum; its spelling follows BasicV2/StandardV2 and is confirmed as a deployable sku.name in
  // Azure/azure-policy#1582.
  { name: 'PremiumV2', gateway: 'v2', capacity: 1, source: `Azure/azure-policy#1582; ${GATEWAYS_DOC}` },
];

export const SKU_NAMES: readonly string[] = SKU_TIERS.map((t) => t.name);

/**
 * Policies some managed gateway does not offer → the gateways that do offer them. A policy not listed here is
 * offered by classic, v2 and consumption alike: every other policy the emulator knows (rate-limit, quota,
 * validate-jwt, cors, validate-content, validate-parameters, validate-headers, validate-status-code, check-header,
 * set-header, include-fragment, set-backend-service, …) is "Yes | Yes | Yes" in the reference index.
 */
export const POLICY_GATEWAYS: Readonly<Record<string, { gateways: readonly Gateway[]; source: string }>> = {
  // Index: "Limit call rate by key … Yes | Yes | No"; page: "Gateways: classic, v2, self-hosted". Consumption's
  // refusal is recorded in MicrosoftDocs/azure-docs#57081.
  'rate-limit-by-key': { gateways: ['classic', 'v2'], source: 'https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy' },
  // Index: "Set usage quota by key … Yes | No | No"; page: "APPLIES TO: Developer | Basic | Standard | Premium",
  // "Gateways: classic, self-hosted".
  'quota-by-key': { gateways: ['classic'], source: 'https://learn.microsoft.com/azure/api-management/quota-by-key-policy' },
};

export function findTier(name: string): SkuTier | undefined {
  // Exact spelling: the setting names what the service GET will answer, and clients compare that string.
  return SKU_TIERS.find((t) => t.name === name);
}

/** The refusal for a setting naming no tier: the value and the valid names, so the fix is in the message. */
export function unknownSkuMessage(name: unknown): string {
  return `'sku' must be one of ${SKU_NAMES.map((n) => `'${n}'`).join(', ')}; got ${JSON.stringify(name)}.`;
}

/** Whether the tier offers the policy. An unknown tier offers nothing that is tier-limited (never more lenient). */
export function offersPolicy(sku: string, policy: string): boolean {
  const limited = POLICY_GATEWAYS[policy];
  if (!limited) return true;
  const tier = findTier(sku);
  return tier !== undefined && limited.gateways.includes(tier.gateway);
}
