// emulator/sku-tiers.ts and the Accept rule of policy reads, as tables: which tier offers which policy (the policy
// reference's Classic | V2 | Consumption columns), the names ARM uses, and when a policy GET may answer bare XML.
import t from 'tap';
import { findTier, offersPolicy, SKU_NAMES, unknownSkuMessage } from '../../emulator/sku-tiers.ts';
import { acceptsMediaType, POLICY_MEDIA_TYPES } from '../../emulator/resources/policy-resources.ts';

t.test('the tier table: ARM names, gateway and capacity', async (t) => {
  t.same(SKU_NAMES, ['Consumption', 'Developer', 'Basic', 'Standard', 'Premium', 'BasicV2', 'StandardV2', 'PremiumV2']);
  const rows: [string, string, number][] = [
    ['Consumption', 'consumption', 0],
    ['Developer', 'classic', 1],
    ['Basic', 'classic', 1],
    ['Standard', 'classic', 1],
    ['Premium', 'classic', 1],
    ['BasicV2', 'v2', 1],
    ['StandardV2', 'v2', 1],
    ['PremiumV2', 'v2', 1],
  ];
  for (const [name, gateway, capacity] of rows) t.match(findTier(name), { name, gateway, capacity }, name);
  for (const name of ['Isolated', 'standardv2', 'Standard V2', '']) t.equal(findTier(name), undefined, `'${name}' is not a modelled tier`);
  t.equal(unknownSkuMessage('Isolated'), `'sku' must be one of 'Consumption', 'Developer', 'Basic', 'Standard', 'Premium', 'BasicV2', 'StandardV2', 'PremiumV2'; got "Isolated".`);
});

t.test('which tier offers which policy', async (t) => {
  const policies = ['rate-limit-by-key', 'quota-by-key', 'rate-limit', 'quota', 'validate-jwt', 'cors', 'validate-content', 'check-header', 'set-header', 'include-fragment'];
  // Offered everywhere unless listed: rate-limit-by-key not on Consumption; quota-by-key on the classic tiers only.
  const refused: Record<string, string[]> = {
    Consumption: ['rate-limit-by-key', 'quota-by-key'],
    Developer: [],
    Basic: [],
    Standard: [],
    Premium: [],
    BasicV2: ['quota-by-key'],
    StandardV2: ['quota-by-key'],
    PremiumV2: ['quota-by-key'],
  };
  for (const [sku, expected] of Object.entries(refused)) {
    t.same(policies.filter((p) => !offersPolicy(sku, p)), expected, sku);
  }
  t.same(policies.filter((p) => !offersPolicy('Isolated', p)), ['rate-limit-by-key', 'quota-by-key'], 'an unknown tier offers no tier-limited policy');
});

t.test('a policy GET may answer bare XML only when Accept admits its media type', async (t) => {
  const sdkAccept = 'application/json, application/vnd.ms-azure-apim.policy+xml, application/vnd.ms-azure-apim.policy.raw+xml';
  const cases: [string | undefined, 'xml' | 'rawxml', boolean, string][] = [
    [sdkAccept, 'xml', true, "the SDK's apiPolicy.get"],
    [sdkAccept, 'rawxml', true, "the SDK's apiPolicy.get with format=rawxml"],
    [undefined, 'xml', true, 'no Accept: anything'],
    ['*/*', 'rawxml', true, "fetch's default (apiops-cli)"],
    ['application/*', 'xml', true, 'a type range'],
    ['application/json', 'xml', false, 'JSON only'],
    ['application/vnd.ms-azure-apim.policy+xml', 'rawxml', false, 'the other format only'],
    ['application/json, application/vnd.ms-azure-apim.policy+xml;q=0', 'xml', false, 'q=0 refuses'],
    ['Application/Vnd.MS-Azure-APIM.Policy+XML; q=0.5', 'xml', true, 'case-insensitive, q above 0'],
    ['text/xml', 'xml', false, 'a generic XML type is not the policy media type'],
  ];
  for (const [accept, format, expected, note] of cases) t.equal(acceptsMediaType(accept, POLICY_MEDIA_TYPES[format]), expected, note);
});
