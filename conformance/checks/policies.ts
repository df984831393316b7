// Policies: which the service's tier offers, how a bad one is refused, and in which form a policy reads back.
import type { Check, Observation } from '../check.ts';
import { differs, pass, skipped } from '../check.ts';
import type { ArmResponse } from '../arm-target.ts';
import { describeError } from '../long-running.ts';
import type { ConformanceContext } from '../run-context.ts';
import { requireBaseApi } from './base-api.ts';

const CLASSIC = ['Developer', 'Basic', 'Standard', 'Premium'];
const V2 = ['BasicV2', 'StandardV2', 'PremiumV2'];

function policyDocument(inbound: string): string {
  return `<policies><inbound><base />${inbound}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
}

const QUOTA_BY_KEY = '<quota-by-key calls="1000" renewal-period="3600" counter-key="@(context.Request.IpAddress)" />';
const RATE_LIMIT_BY_KEY = '<rate-limit-by-key calls="100" renewal-period="60" counter-key="@(context.Request.IpAddress)" />';

async function putPolicy(ctx: ConformanceContext, apiId: string, xml: string, format = 'rawxml'): Promise<ArmResponse> {
  return ctx.write('PUT', `/apis/${apiId}/policies/policy`, { body: { properties: { format, value: xml } } });
}

/**
 * A policy that is (accepted) or is not (refused) offered on the service's tier. Only one of the pair applies to a
 * given tier: the other reports "skipped: tier X", so both together cover every tier.
 */
function tierCheck(id: string, element: string, inbound: string, expect: 'accepted' | 'refused', tiers: string[], source: string): Check {
  return {
    id,
    expected:
      expect === 'accepted'
        ? `${element} is accepted on ${tiers.join(', ')}`
        : `${element} is refused on ${tiers.join(', ')}: 400 "Error in element '${element}' …: Policy is not allowed in '<sku>' sku"`,
    source,
    async run(ctx): Promise<Observation> {
      const sku = await ctx.sku();
      if (!tiers.some((t) => t.toLowerCase() === sku.toLowerCase())) return skipped(`skipped: tier ${sku}`);
      const base = await requireBaseApi(ctx);
      const res = await putPolicy(ctx, base.apiId, policyDocument(inbound));
      const observed = `tier ${sku}: ${res.status}${res.status >= 400 ? ` ${describeError(res)}` : ''}`;
      if (expect === 'accepted') return res.status === 200 || res.status === 201 ? pass(observed) : differs(observed);
      const text = describeError(res);
      return res.status === 400 && text.includes(element) && /not allowed/i.test(text) ? pass(observed) : differs(observed);
    },
  };
}

const QUOTA_SOURCE = 'https://learn.microsoft.com/azure/api-management/quota-by-key-policy (Policy availability); https://github.com/MicrosoftDocs/azure-docs/issues/57081';
const RATE_SOURCE = 'https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy (Policy availability); https://github.com/MicrosoftDocs/azure-docs/issues/57081';

/** How a policy GET body arrived: the ARM JSON envelope, or the bare document (azure-sdk-for-js #31566). */
export function policyBodyForm(res: ArmResponse): { form: 'json envelope' | 'bare xml' | 'unrecognized'; value?: string; contentType: string } {
  const contentType = res.headers['content-type'] ?? '(none)';
  if (typeof res.json?.properties?.value === 'string') return { form: 'json envelope', value: res.json.properties.value, contentType };
  const text = res.text.trim();
  if (/xml/i.test(contentType) && text.startsWith('<')) return { form: 'bare xml', value: text, contentType };
  return { form: 'unrecognized', contentType };
}

/** What the Azure SDK sends on apiPolicy.get (azure-sdk-for-js #31566): JSON or either XML media type. */
const SDK_POLICY_ACCEPT = 'application/json, application/vnd.ms-azure-apim.policy+xml, application/vnd.ms-azure-apim.policy.raw+xml';

const squeeze = (xml: string): string => xml.replace(/>\s+</g, '><').replace(/\s+\/>/g, '/>').trim();

/** The document the format checks store: a header set inbound, in a fixed form so the read-back can be compared. */
const FORMAT_POLICY = policyDocument('<set-header name="X-Conformance" exists-action="override"><value>1</value></set-header>');

/** Stored by each check that reads it, so no other check's policy write can come in between. */
async function storedFormatPolicy(ctx: ConformanceContext): Promise<{ apiId: string; put: ArmResponse }> {
  const base = await requireBaseApi(ctx);
  return { apiId: base.apiId, put: await putPolicy(ctx, base.apiId, FORMAT_POLICY) };
}

export const policyChecks: Check[] = [
  tierCheck('policy.quota-by-key-offered', 'quota-by-key', QUOTA_BY_KEY, 'accepted', CLASSIC, QUOTA_SOURCE),
  tierCheck('policy.quota-by-key-refused', 'quota-by-key', QUOTA_BY_KEY, 'refused', ['Consumption', ...V2], QUOTA_SOURCE),
  tierCheck('policy.rate-limit-by-key-offered', 'rate-limit-by-key', RATE_LIMIT_BY_KEY, 'accepted', [...CLASSIC, ...V2], RATE_SOURCE),
  tierCheck('policy.rate-limit-by-key-refused', 'rate-limit-by-key', RATE_LIMIT_BY_KEY, 'refused', ['Consumption'], RATE_SOURCE),
  {
    id: 'policy.cors-origin-refused',
    expected: 'A CORS origin with a path is refused: 400 "Origin must be a valid URL consisting of scheme, host, and port only"',
    source: 'https://learn.microsoft.com/azure/api-management/cors-policy (origins: scheme, host and port); wording as emulator/README.md lists it verified',
    async run(ctx) {
      const base = await requireBaseApi(ctx);
      const cors = '<cors><allowed-origins><origin>https://app.conformance.invalid/path</origin></allowed-origins><allowed-methods><method>GET</method></allowed-methods></cors>';
      const res = await putPolicy(ctx, base.apiId, `<policies><inbound>${cors}<base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`);
      const observed = `${res.status} ${res.status >= 400 ? describeError(res) : ''}`.trim();
      return res.status === 400 && describeError(res).includes('Origin must be a valid URL consisting of scheme, host, and port only') ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'policy.read-format',
    expected: 'A policy GET with the SDK\'s Accept answers the ARM JSON envelope (properties.value) or the bare XML document; both are seen in the wild',
    source: 'https://github.com/Azure/azure-sdk-for-js/issues/31566; Azure/apiops-cli reads both forms',
    async run(ctx) {
      const { apiId, put } = await storedFormatPolicy(ctx);
      if (put.status !== 200 && put.status !== 201) throw new Error(`storing the policy answered ${put.status} ${describeError(put)}`);
      const res = await ctx.read(`/apis/${apiId}/policies/policy`, { accept: SDK_POLICY_ACCEPT });
      const body = policyBodyForm(res);
      const observed = `${res.status}, ${body.form} (${body.contentType})`;
      if (res.status !== 200 || body.form === 'unrecognized' || !body.value?.includes('X-Conformance')) return differs(`${observed}: ${res.text.slice(0, 120)}`);
      return pass(observed);
    },
  },
  {
    id: 'policy.rawxml-read',
    expected: 'GET …/policies/policy?format=rawxml returns the document as it was stored (whitespace aside)',
    source: 'REST spec PolicyExportFormat "rawxml": https://learn.microsoft.com/rest/api/apimanagement/api-policy/get',
    async run(ctx) {
      const { apiId, put } = await storedFormatPolicy(ctx);
      if (put.status !== 200 && put.status !== 201) throw new Error(`storing the policy answered ${put.status} ${describeError(put)}`);
      const res = await ctx.read(`/apis/${apiId}/policies/policy?format=rawxml`, { accept: SDK_POLICY_ACCEPT });
      const body = policyBodyForm(res);
      const observed = `${res.status}, ${body.form}`;
      if (res.status !== 200 || body.value === undefined) return differs(`${observed}: ${res.text.slice(0, 120)}`);
      return squeeze(body.value) === squeeze(FORMAT_POLICY) ? pass(`${observed}, the stored document`) : differs(`${observed}, a different document: ${body.value.slice(0, 160)}`);
    },
  },
];
