// Which of the other properties sent with an import the service applies, and what a later import without serviceUrl
// does to it. Sources disagree on the first (the REST spec's example sends serviceUrl with the import and gets it
// back; terraform imports first and sets the rest in a second request): the check passes when the service behaves
// like one of the emulator's two modes (importAppliesProperties true or false) and says which.
import type { Check } from '../check.ts';
import { differs, pass } from '../check.ts';
import { plainDocument } from '../documents.ts';
import { outcomeError } from '../long-running.ts';
import type { ConformanceContext } from '../run-context.ts';

const SERVICE_URL = 'https://props.conformance.invalid/one';

/** Sent with the import beside path, format and value; each is different from what the document alone would give. */
function extraProperties(ctx: ConformanceContext): Record<string, unknown> {
  return {
    displayName: `${ctx.id('props')} display`,
    description: 'set by the import request',
    subscriptionRequired: false,
    serviceUrl: SERVICE_URL,
    apiRevisionDescription: 'set by the import request',
  };
}

interface PropertyScenario {
  applied: string[];
  dropped: string[];
  /** serviceUrl after a re-import that did not send it (undefined: the scenario stopped before). */
  serviceUrlAfter: unknown;
}

function propertyScenario(ctx: ConformanceContext): Promise<PropertyScenario> {
  return ctx.memo('properties', async () => {
    const apiId = ctx.id('props');
    const resource = `/apis/${apiId}`;
    const importBody = { path: ctx.path('props'), format: 'openapi+json', value: plainDocument('Conformance properties API'), protocols: ['https'] };
    const extras = extraProperties(ctx);
    const first = await ctx.importApi(apiId, { ...importBody, ...extras });
    const error = outcomeError(first.outcome);
    if (error !== undefined) throw new Error(`the import of ${apiId} failed: ${error}`);
    const got = (await ctx.readAfterImport(resource)).json?.properties ?? {};
    const applied = Object.keys(extras).filter((k) => got[k] === extras[k]);
    const dropped = Object.keys(extras).filter((k) => got[k] !== extras[k]);
    // The re-import question needs a serviceUrl in place first, however the first import treated it.
    if (got['serviceUrl'] !== SERVICE_URL) {
      const patch = await ctx.write('PATCH', resource, { body: { properties: { serviceUrl: SERVICE_URL } }, headers: { 'if-match': '*' } });
      if (patch.status !== 200 && patch.status !== 204) throw new Error(`setting serviceUrl on ${apiId} answered ${patch.status}`);
    }
    const again = await ctx.importApi(apiId, importBody);
    const againError = outcomeError(again.outcome);
    if (againError !== undefined) throw new Error(`the re-import of ${apiId} failed: ${againError}`);
    const serviceUrlAfter = (await ctx.readAfterImport(resource)).json?.properties?.serviceUrl;
    return { applied, dropped, serviceUrlAfter };
  });
}

export const importPropertyChecks: Check[] = [
  {
    id: 'import.applies-properties',
    expected:
      'An import (format+value) either applies the other properties sent with it (displayName, description, subscriptionRequired, serviceUrl, apiRevisionDescription) or none of them; the emulator models both',
    source:
      'applied: https://github.com/Azure/azure-rest-api-specs/blob/main/specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01/examples/ApiManagementCreateApiUsingImportOverrideServiceUrl.json; not applied: https://github.com/hashicorp/terraform-provider-azurerm/pull/23011 (import, then the other properties in a second request)',
    async run(ctx) {
      const { applied, dropped } = await propertyScenario(ctx);
      if (dropped.length === 0) return pass(`all applied (importAppliesProperties: true): ${applied.join(', ')}`);
      if (applied.length === 0) return pass(`none applied (importAppliesProperties: false): ${dropped.join(', ')}`);
      return differs(`applied ${applied.join(', ')}; dropped ${dropped.join(', ')} (neither emulator mode)`);
    },
  },
  {
    id: 'import.reimport-resets-service-url',
    expected: 'A re-import that does not send serviceUrl (and whose document has no servers) does not keep the API\'s serviceUrl',
    source: 'https://github.com/Azure/azure-cli/issues/29363, https://github.com/hashicorp/terraform-provider-azurerm/pull/23011, https://github.com/Azure/apiops/issues/832',
    async run(ctx) {
      const { serviceUrlAfter } = await propertyScenario(ctx);
      const observed = `serviceUrl ${SERVICE_URL} → ${JSON.stringify(serviceUrlAfter ?? null)}`;
      return serviceUrlAfter === SERVICE_URL ? differs(`${observed} (kept)`) : pass(observed);
    },
  },
];
