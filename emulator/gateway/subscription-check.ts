// The gateway's subscription step, as "How API Management handles requests with or without subscription keys"
// describes it (https://learn.microsoft.com/azure/api-management/api-management-subscriptions):
// - the key is read from the API's subscriptionKeyParameterNames (default header Ocp-Apim-Subscription-Key, query
//   subscription-key); "The query parameter is checked only if the header isn't present";
// - with a key: it must belong to an active subscription scoped to this API, to a product that includes the API, to
//   all APIs, or to the service; otherwise "access is denied (401 Access denied error)" — also when the API itself
//   requires no subscription (the summary table: "Access denied: Other key not scoped to applicable product or API");
// - without a key: a product that includes the API and requires no subscription (an open product) lets the request
//   through; otherwise the API's subscriptionRequired decides (401 when required).
import type { SimpleEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import { splitRevision } from '../value-rules.ts';
import type { ApimService } from '../apim-service.ts';
import { parseSubscriptionScope } from '../resources/subscription-resources.ts';
import type { GatewayReply } from './gateway-errors.ts';
import { invalidSubscriptionKey, missingSubscriptionKey } from './gateway-errors.ts';
import type { ApiRoute, GatewayView } from './gateway-view.ts';
import { headerValues } from './request-state.ts';
import type { IncomingHttpHeaders } from 'node:http';

export type SubscriptionOutcome = { ok: true; subscription: { id: string } | null } | { ok: false; reply: GatewayReply };

function keyNames(api: ApiRoute): { header: string; query: string } {
  const names = api.entity.properties['subscriptionKeyParameterNames'] as { header?: unknown; query?: unknown } | null | undefined;
  return {
    header: typeof names?.header === 'string' ? names.header : 'Ocp-Apim-Subscription-Key',
    query: typeof names?.query === 'string' ? names.query : 'subscription-key',
  };
}

function covers(svc: ApimService, view: GatewayView, s: SimpleEntity, api: ApiRoute): boolean {
  const scope = parseSubscriptionScope(svc, String(s.properties['scope'] ?? ''));
  if (!scope) return false;
  switch (scope.kind) {
    case 'service':
    case 'allApis':
      return true;
    case 'api':
      return key(scope.apiId) === key(splitRevision(api.entity.name).base);
    case 'product':
      return view.productsOf(api).some((p) => key(p.name) === key(scope.productId));
  }
}

export function checkSubscription(svc: ApimService, view: GatewayView, api: ApiRoute, headers: IncomingHttpHeaders, query: () => URLSearchParams): SubscriptionOutcome {
  const names = keyNames(api);
  const fromHeader = headerValues(headers, names.header)?.[0];
  const given = fromHeader ?? query().get(names.query) ?? undefined;
  if (given !== undefined) {
    const match = (view.subscriptionsByKey.get(given) ?? []).find((s) => s.properties['state'] === 'active' && view.covers(s, api, () => covers(svc, view, s, api)));
    return match ? { ok: true, subscription: { id: match.name } } : { ok: false, reply: invalidSubscriptionKey() };
  }
  if (view.productsOf(api).some((p) => p.properties['subscriptionRequired'] === false)) return { ok: true, subscription: null };
  if (api.entity.properties['subscriptionRequired'] === false) return { ok: true, subscription: null };
  return { ok: false, reply: missingSubscriptionKey() };
}
