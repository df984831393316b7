// Subscriptions: the named pair of keys a caller sends to the gateway (`Ocp-Apim-Subscription-Key` or the API's own
// header/query names), scoped to one API, to every API (`/apis`), to a product's APIs or to the whole service (the
// all-access scope). From the 2024-05-01 REST spec (apimsubscriptions.json, SubscriptionCreateParameterProperties):
// - `scope` and `displayName` (1–100) are required; `primaryKey`/`secondaryKey` (1–256) are generated when absent;
// - "Initial subscription state. If no value is specified, subscription is created with Submitted state" — a
//   submitted subscription does not open the gateway: only `active` does
//   (https://learn.microsoft.com/azure/api-management/api-management-subscriptions, "a valid key associated with an
//   active subscription");
// - the keys are "not filled on 'GET' operations! Use '/listSecrets' POST request" (SubscriptionContractProperties);
//   `regeneratePrimaryKey` / `regenerateSecondaryKey` answer 204.
// The scope is stored as the full resource id, as the service reports it (e.g. `/subscriptions/…/products/starter`).
// The built-in all-access ("master") subscription of a real service is not created: a test adds one with scope `/`.
import { randomBytes } from 'node:crypto';
import { detail } from '../arm-errors.ts';
import type { ArmErrorDetail } from '../arm-errors.ts';
import { ok } from '../arm-request.ts';
import type { ApimService } from '../apim-service.ts';
import type { JsonObject } from '../service-model.ts';
import { key } from '../service-model.ts';
import { checkLength, checkOneOf, checkRequired } from '../value-rules.ts';
import type { SimpleResourceSpec } from './simple-resources.ts';

export const SUBSCRIPTION_STATES = ['suspended', 'active', 'expired', 'submitted', 'rejected', 'cancelled'];

/** A key as the service generates them (32 hex characters, as the portal shows them). */
export function newSubscriptionKey(): string {
  return randomBytes(16).toString('hex');
}

/** What a subscription's scope reaches: everything, every API, one API or one product's APIs. */
export type SubscriptionScope = { kind: 'service' } | { kind: 'allApis' } | { kind: 'api'; apiId: string } | { kind: 'product'; productId: string };

/** Reads `/apis`, `/apis/{id}`, `/products/{id}`, `/` or the same below the service's full resource id. */
export function parseSubscriptionScope(svc: ApimService, scope: string): SubscriptionScope | undefined {
  const serviceId = svc.resourceId();
  let rest = scope;
  if (rest.toLowerCase().startsWith(serviceId.toLowerCase())) rest = rest.slice(serviceId.length);
  rest = rest.replace(/\/+$/, '');
  if (rest === '') return { kind: 'service' };
  const parts = rest.split('/').filter((p) => p !== '');
  if (parts.length === 1 && parts[0]!.toLowerCase() === 'apis') return { kind: 'allApis' };
  if (parts.length === 2 && parts[0]!.toLowerCase() === 'apis') return { kind: 'api', apiId: decodeURIComponent(parts[1]!) };
  if (parts.length === 2 && parts[0]!.toLowerCase() === 'products') return { kind: 'product', productId: decodeURIComponent(parts[1]!) };
  return undefined;
}

function scopeProblems(svc: ApimService, scope: unknown): ArmErrorDetail[] {
  if (typeof scope !== 'string') return [];
  const parsed = parseSubscriptionScope(svc, scope);
  // unverified wording (the rule that a scope names the service, all APIs, an API or a product is the REST spec's).
  if (!parsed) return [detail('scope', `'scope' must be '/apis', '/apis/{apiId}', '/products/{productId}' or the service itself (optionally as full resource ids); got '${scope}'.`)];
  if (parsed.kind === 'api' && !svc.api(parsed.apiId)) return [detail('scope', `Api '${parsed.apiId}' named by 'scope' was not found.`)];
  if (parsed.kind === 'product' && !svc.data.products[key(parsed.productId)]) return [detail('scope', `Product '${parsed.productId}' named by 'scope' was not found.`)];
  return [];
}

function fullScope(svc: ApimService, scope: string): string {
  const parsed = parseSubscriptionScope(svc, scope)!;
  switch (parsed.kind) {
    case 'service':
      return svc.resourceId();
    case 'allApis':
      return svc.resourceId('/apis');
    case 'api':
      return svc.resourceId(`/apis/${svc.api(parsed.apiId)!.name}`);
    case 'product':
      return svc.resourceId(`/products/${svc.data.products[key(parsed.productId)]!.name}`);
  }
}

export const SUBSCRIPTIONS: SimpleResourceSpec = {
  collection: 'subscriptions',
  param: 'sid',
  idKind: 'sid',
  entityName: 'Subscription',
  store: (svc) => (svc.data.subscriptions ??= {}),
  defaults: { state: 'submitted', allowTracing: false },
  validate(props, _existing, svc) {
    const d = [...checkRequired('scope', props['scope']), ...checkRequired('displayName', props['displayName'])];
    d.push(...checkLength('displayName', props['displayName'], 1, 100), ...checkLength('primaryKey', props['primaryKey'], 1, 256), ...checkLength('secondaryKey', props['secondaryKey'], 1, 256));
    d.push(...checkOneOf('state', props['state'], SUBSCRIPTION_STATES), ...scopeProblems(svc, props['scope']));
    return d;
  },
  beforeStore(svc, props) {
    props['scope'] = fullScope(svc, props['scope'] as string);
    if (props['primaryKey'] === undefined || props['primaryKey'] === null) props['primaryKey'] = newSubscriptionKey();
    if (props['secondaryKey'] === undefined || props['secondaryKey'] === null) props['secondaryKey'] = newSubscriptionKey();
    props['createdDate'] ??= new Date().toISOString();
    if (props['state'] === 'active') props['startDate'] ??= new Date().toISOString();
  },
  render(props) {
    const { primaryKey: _p, secondaryKey: _s, ...rest } = props;
    return rest;
  },
  actions: {
    listSecrets: (_svc, e) => ok({ primaryKey: e.properties['primaryKey'] ?? null, secondaryKey: e.properties['secondaryKey'] ?? null, stateComment: e.properties['stateComment'] ?? null, allowTracing: e.properties['allowTracing'] ?? false } as JsonObject),
    regeneratePrimaryKey: (svc, e) => {
      e.properties['primaryKey'] = newSubscriptionKey();
      e.etag = svc.nextEtag();
      svc.changed();
      return { status: 204 };
    },
    regenerateSecondaryKey: (svc, e) => {
      e.properties['secondaryKey'] = newSubscriptionKey();
      e.etag = svc.nextEtag();
      svc.changed();
      return { status: 204 };
    },
  },
};
