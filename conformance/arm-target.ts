// The APIM service a conformance run talks to: raw HTTP requests through the Azure SDK client's own pipeline (the same
// token, TLS, retry and api-version handling the executor's calls get), so a check sees status codes, headers and
// bodies exactly as they arrive, where the SDK's typed methods would hide them (202 vs 201, Location, bare XML).
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { ClientSecretCredential, DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { HttpMethods } from '@azure/core-rest-pipeline';
import { readExecutorConfig } from '../core/executor-config.ts';

/** What @azure/arm-apimanagement 10.x sends; a check's expectations are about this version of the contract. */
export const API_VERSION = '2024-05-01';

export interface ArmResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: any;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ArmTarget {
  /** For the report: which service this is. */
  description: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
  /** `/subscriptions/…/providers/Microsoft.ApiManagement/service/{name}`. */
  servicePath: string;
  /**
   * A request below the service (`/apis/x`, with or without a query) or to an absolute URL the service handed out
   * (a Location header). api-version is added when the URL has none.
   */
  request(method: HttpMethods, path: string, options?: RequestOptions): Promise<ArmResponse>;
}

export interface TargetConnection {
  description: string;
  armEndpoint: string;
  /** OAuth scope of ARM tokens, e.g. `https://management.azure.com/.default`. */
  armScope: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
  credential: TokenCredential;
  /** Extra CA to trust (the emulator's). */
  caPem?: string;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function armTarget(c: TargetConnection): ArmTarget {
  const client = new ApiManagementClient(c.credential, c.subscriptionId, {
    endpoint: c.armEndpoint,
    credentialScopes: [c.armScope],
    ...(c.caPem ? { tlsOptions: { ca: c.caPem } } : {}),
    // Throttling (429 with Retry-After) and blips are absorbed by the SDK's retries, as in the executor; a check never
    // sees them unless they persist.
    retryOptions: { maxRetries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 8000 },
    userAgentOptions: { userAgentPrefix: 'exposedapi-apim-conformance' },
  });
  const servicePath = `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ApiManagement/service/${c.serviceName}`;
  const base = c.armEndpoint.replace(/\/+$/, '');
  return {
    description: c.description,
    subscriptionId: c.subscriptionId,
    resourceGroup: c.resourceGroup,
    serviceName: c.serviceName,
    servicePath,
    async request(method, path, options = {}) {
      const url = new URL(/^https?:\/\//.test(path) ? path : `${base}${servicePath}${path}`);
      if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', API_VERSION);
      const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      const request = createPipelineRequest({
        url: url.toString(),
        method,
        headers: createHttpHeaders({
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
          ...options.headers,
        }),
        ...(body !== undefined ? { body } : {}),
      });
      const res = await client.sendRequest(request);
      const text = res.bodyAsText ?? '';
      const headers: Record<string, string> = {};
      for (const [k, v] of res.headers) headers[k.toLowerCase()] = v;
      return { status: res.status, headers, text, json: parseJson(text) };
    },
  };
}

export type TargetResult = { ok: true; target: ArmTarget } | { ok: false; errors: string[] };

/**
 * A real service, configured the way the executor is (core/executor-config.ts: APIM_SUBSCRIPTION_ID,
 * APIM_RESOURCE_GROUP, APIM_SERVICE_NAME, ARM_ENDPOINT, ARM_SCOPE, AZURE_AUTHORITY_HOST), with AZURE_SUBSCRIPTION_ID
 * accepted in place of APIM_SUBSCRIPTION_ID since that is what Azure tooling users usually have set. The identity is
 * DefaultAzureCredential's: AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, workload identity, or `az login`.
 */
export function azureTarget(env: Record<string, string | undefined> = process.env): TargetResult {
  const merged = { ...env };
  if (!merged['APIM_SUBSCRIPTION_ID'] && merged['AZURE_SUBSCRIPTION_ID']) merged['APIM_SUBSCRIPTION_ID'] = merged['AZURE_SUBSCRIPTION_ID'];
  const read = readExecutorConfig(merged);
  if (!read.ok) return read;
  const apim = read.config.apim;
  const credential = new DefaultAzureCredential({ authorityHost: apim.authorityHost, disableInstanceDiscovery: apim.disableInstanceDiscovery });
  return {
    ok: true,
    target: armTarget({
      description: `${apim.armEndpoint} subscription ${apim.subscriptionId}, resource group ${apim.resourceGroup}, service ${apim.serviceName}`,
      armEndpoint: apim.armEndpoint,
      armScope: apim.armScope,
      subscriptionId: apim.subscriptionId,
      resourceGroup: apim.resourceGroup,
      serviceName: apim.serviceName,
      credential,
    }),
  };
}

/** What the emulator prints at start (`exposedapi-apim emulator`), plus its CA: enough to reach it like Azure. */
export interface EmulatorConnection {
  url: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
  caPem: string;
}

export function emulatorTarget(e: EmulatorConnection): ArmTarget {
  const credential = new ClientSecretCredential(e.tenantId, e.clientId, e.clientSecret, {
    authorityHost: e.authorityHost,
    // MSAL would ask login.microsoftonline.com about the emulator's authority otherwise.
    disableInstanceDiscovery: true,
    tlsOptions: { ca: e.caPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  return armTarget({
    description: `APIM emulator ${e.url}`,
    armEndpoint: e.url,
    armScope: `${e.url}/.default`,
    subscriptionId: e.subscriptionId,
    resourceGroup: e.resourceGroup,
    serviceName: e.serviceName,
    credential,
    caPem: e.caPem,
  });
}
