// The shape of an import: accepted at once, finished on the poll (recorded traffic and the REST spec example).
import type { Check } from '../check.ts';
import { differs, pass } from '../check.ts';
import { describeError, outcomeError, pollUrls } from '../long-running.ts';
import { baseApi } from './base-api.ts';

const SPEC = 'https://github.com/Azure/azure-rest-api-specs/blob/main/specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01/examples/ApiManagementCreateApiUsingOai3Import.json';

/** ARM's asynchronous operations: 201/202 with Azure-AsyncOperation and/or Location, and how each is polled. */
const ARM_ASYNC = 'https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations';

export const importLroChecks: Check[] = [
  {
    id: 'import.lro-accepted',
    expected: 'A PUT with format+value is asynchronous: 202 (or 201 InProgress) with Location and/or Azure-AsyncOperation',
    source: `${ARM_ASYNC}; REST spec example ${SPEC}`,
    async run(ctx) {
      const { accepted } = await baseApi(ctx);
      const urls = pollUrls(accepted);
      const headers = [urls.location ? 'Location' : '', urls.asyncOperation ? 'Azure-AsyncOperation' : ''].filter(Boolean).join(' + ') || 'no polling header';
      const state = accepted.json?.properties?.provisioningState;
      const observed = `${accepted.status}, ${headers}${accepted.text === '' ? ', empty body' : state ? `, provisioningState ${state}` : ''}`;
      if (accepted.status >= 400) return differs(`${observed}: ${describeError(accepted)}`);
      if (accepted.status === 202 && (urls.location || urls.asyncOperation)) return pass(observed);
      if ((accepted.status === 201 || accepted.status === 200) && urls.asyncOperation) return pass(observed);
      return differs(observed);
    },
  },
  {
    id: 'import.lro-final',
    expected:
      'Polling ends with the API contract (asyncCode 201 on the Location URL, or status Succeeded then the API); after large imports the API may answer 404 "Api not found." for a while first',
    source: `${ARM_ASYNC}; REST spec example ${SPEC}; the 404 window: https://github.com/hashicorp/terraform-provider-azurerm/issues/23322`,
    async run(ctx) {
      const { apiId, path, outcome } = await baseApi(ctx);
      const f = outcome.final;
      const head = `${outcome.via}, ${outcome.polls} polls, ${Math.round(outcome.durationMs / 100) / 10} s`;
      const error = outcomeError(outcome);
      if (error !== undefined) return differs(`${head}: ${f.status} ${error}`);
      if (f.status !== 200 && f.status !== 201) return differs(`${head}: ${f.status}`);
      const name = f.json?.name;
      const gotPath = f.json?.properties?.path;
      const window = outcome.notFoundForMs !== undefined ? `404 "Api not found." at first, the API there ${Math.round(outcome.notFoundForMs / 100) / 10} s later; ` : '';
      const observed = `${head}: ${window}${f.status}, name ${name}, path ${gotPath}`;
      if (typeof name !== 'string' || name.toLowerCase() !== apiId.toLowerCase() || gotPath !== path) return differs(observed);
      return pass(observed);
    },
  },
];
