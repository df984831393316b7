// From an authenticated ARM request to a result: the `/subscriptions/…/service/{name}` prefix and api-version are
// checked the way ARM checks them (api-version first, then subscription, resource group, provider and service), then
// the resource table picks the handler. Errors thrown by handlers become ARM error responses here.
import { ArmError, invalidApiVersion, invalidResourceType, missingApiVersion, pathNotFound, toArmError, validationError } from './arm-errors.ts';
import type { ArmRequest, ArmResult } from './arm-request.ts';
import type { RouteTable } from './arm-routes.ts';
import type { ApimService } from './apim-service.ts';
import { API_VERSION, errorResult } from './apim-service.ts';
import { findTier, unknownSkuMessage } from './sku-tiers.ts';
import { checkId } from './value-rules.ts';

export interface IncomingArm {
  method: string;
  url: URL;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** `https://host:port` as the client addressed the emulator. */
  origin: string;
}

function decodeSegments(pathname: string): string[] {
  return pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

function eq(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** `sku` as ARM reports it: the tier's name and its units (0 for Consumption, see sku-tiers.ts). */
function serviceSku(name: string): { name: string; capacity: number } {
  const tier = findTier(name);
  if (!tier) throw new ArmError(500, 'InternalServerError', `The emulator's 'sku' setting names no modelled tier: ${unknownSkuMessage(name)}`);
  return { name: tier.name, capacity: tier.capacity };
}

function serviceContract(svc: ApimService, origin: string): unknown {
  const { serviceName } = svc.identity;
  return {
    id: svc.resourceId(),
    name: serviceName,
    type: 'Microsoft.ApiManagement/service',
    location: 'Emulator',
    etag: 'AAAAAAAAAAA=',
    sku: serviceSku(svc.settings.sku),
    properties: {
      publisherEmail: 'apim@emulator.local',
      publisherName: 'exposedapi-apim emulator',
      provisioningState: 'Succeeded',
      targetProvisioningState: '',
      gatewayUrl: svc.gatewayUrl,
      managementApiUrl: origin,
      virtualNetworkType: 'None',
      publicNetworkAccess: 'Enabled',
    },
  };
}

export async function dispatchArm(svc: ApimService, routes: RouteTable, incoming: IncomingArm): Promise<ArmResult> {
  try {
    const segments = decodeSegments(incoming.url.pathname);
    if (!eq(segments[0], 'subscriptions') || segments.length < 2) throw pathNotFound(incoming.url.pathname);
    const apiVersion = incoming.url.searchParams.get('api-version');
    if (apiVersion === null || apiVersion === '') throw missingApiVersion();
    if (apiVersion !== API_VERSION) throw invalidApiVersion(apiVersion, [API_VERSION]);
    const { subscriptionId, resourceGroup, serviceName } = svc.identity;
    if (!eq(segments[1], subscriptionId)) {
      throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${segments[1]}' could not be found.`);
    }
    if (!eq(segments[2], 'resourceGroups') || segments[3] === undefined) throw pathNotFound(incoming.url.pathname);
    if (!eq(segments[3], resourceGroup)) {
      throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${segments[3]}' could not be found.`);
    }
    if (!eq(segments[4], 'providers') || !eq(segments[5], 'Microsoft.ApiManagement')) throw pathNotFound(incoming.url.pathname);
    if (!eq(segments[6], 'service')) throw invalidResourceType(`Microsoft.ApiManagement/${segments[6] ?? ''}`, apiVersion);
    const name = segments[7];
    if (name === undefined) throw pathNotFound(incoming.url.pathname);
    const nameErrors = checkId('serviceName', name);
    if (nameErrors.length > 0) throw validationError(nameErrors);
    if (!eq(name, serviceName)) {
      throw new ArmError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ApiManagement/service/${name}' under resource group '${segments[3]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    }
    const rest = segments.slice(8);
    const serviceUrl = `${incoming.origin}${svc.resourceId()}`;
    if (rest.length === 0) {
      if (incoming.method === 'GET' || incoming.method === 'HEAD') return { status: 200, body: serviceContract(svc, incoming.origin) };
      throw new ArmError(405, 'MethodNotAllowed', `The emulator does not create, change or delete the service itself; it always exists.`);
    }
    const match = routes.match(rest);
    if (!match) throw invalidResourceType(`Microsoft.ApiManagement/service/${rest.filter((_, i) => i % 2 === 0).join('/')}`, apiVersion);
    const handler = match.handlers[incoming.method];
    if (!handler) {
      throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${incoming.method}'.`);
    }
    const req: ArmRequest = {
      method: incoming.method,
      params: match.params,
      query: incoming.url.searchParams,
      headers: incoming.headers,
      body: incoming.body,
      serviceUrl,
    };
    return await handler(req);
  } catch (err) {
    return errorResult(err instanceof ArmError ? err : toArmError(err));
  }
}
