// What the gateway reads of the service, prepared for routing: the current revision of every API by path (longest
// first), each operation's compiled URL template, the subscriptions by key, the products of each API and which APIs a
// subscription covers (both worked out on first use), and the compiled effective policy of each operation
// (compiled-policies.ts, which keeps compilations across views). Rebuilt after any change to the service
// (ApimService.onChanged), so the request path does no scanning and no parsing.
//
// Routing (https://learn.microsoft.com/azure/api-management/api-management-key-concepts; the API URL suffix): the
// request path starts with the API's path — the longest such path wins — and the rest is matched against the
// operations' URL templates for the request's method. Only the current revision of an API receives traffic (calling
// a revision by `;rev=N` is not modelled); only APIs that list `https` in their protocols are served (the gateway
// listens on HTTPS only; unverified status for the others: 404 as for no API). Paths compare without case
// (unverified).
import type { ApimService } from '../apim-service.ts';
import type { ApiEntity, OperationEntity, SimpleEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import { splitRevision } from '../value-rules.ts';
import type { CompiledPolicies } from './compiled-policies.ts';
import type { CompiledPolicy } from './effective-policy.ts';
import type { NotModelled } from './gateway-errors.ts';
import type { CompiledTemplate } from './url-template.ts';
import { compileTemplate, pathSegments } from './url-template.ts';

export interface OperationRoute {
  key: string;
  entity: OperationEntity;
  method: string;
  template: CompiledTemplate;
}

export interface ApiRoute {
  key: string;
  entity: ApiEntity;
  /** The API's path, lower-cased, without slashes at either end ('' for an API at the root). */
  path: string;
  operations: OperationRoute[];
}

interface OperationMatch {
  api: ApiRoute;
  operation: OperationRoute;
  params: Record<string, string>;
  /** The request path below the API's path, with a leading slash. */
  relativePath: string;
}

export class GatewayView {
  readonly apis: ApiRoute[];
  /** Subscription key → the subscriptions holding it as primary or secondary key. */
  readonly subscriptionsByKey = new Map<string, SimpleEntity[]>();
  readonly #svc: ApimService;
  readonly #policies: CompiledPolicies;
  readonly #products = new Map<ApiRoute, SimpleEntity[]>();
  readonly #covers = new Map<SimpleEntity, Map<ApiRoute, boolean>>();

  constructor(svc: ApimService, policies: CompiledPolicies) {
    this.#svc = svc;
    this.#policies = policies;
    this.apis = Object.values(svc.data.apis)
      .filter((a) => a.properties['isCurrent'] !== false)
      .map((entity) => ({
        key: key(entity.name),
        entity,
        path: String(entity.properties['path'] ?? '').replace(/^\/+|\/+$/g, '').toLowerCase(),
        operations: Object.entries(entity.operations).map(([k, op]) => ({ key: k, entity: op, method: op.properties.method.toUpperCase(), template: compileTemplate(op.properties.urlTemplate) })),
      }))
      .sort((a, b) => b.path.length - a.path.length);
    for (const s of Object.values(svc.data.subscriptions ?? {})) {
      for (const k of [s.properties['primaryKey'], s.properties['secondaryKey']]) {
        if (typeof k !== 'string') continue;
        const list = this.subscriptionsByKey.get(k) ?? [];
        list.push(s);
        this.subscriptionsByKey.set(k, list);
      }
    }
  }

  /** The API whose path is the longest prefix of the request path (segment-wise), with the path below it. */
  findApi(requestPath: string): { api: ApiRoute; relativePath: string } | undefined {
    const trimmed = requestPath.replace(/^\/+/, '');
    const lower = trimmed.toLowerCase();
    for (const api of this.apis) {
      if (api.path === '' || lower === api.path || lower.startsWith(`${api.path}/`)) {
        const protocols = api.entity.properties['protocols'];
        if (Array.isArray(protocols) && !protocols.includes('https')) continue;
        return { api, relativePath: `/${trimmed.slice(api.path.length).replace(/^\/+/, '')}` };
      }
    }
    return undefined;
  }

  /** The most specific operation of the API for a method and the path below the API. */
  findOperation(api: ApiRoute, method: string, relativePath: string, query: () => URLSearchParams): { operation: OperationRoute; params: Record<string, string> } | undefined {
    const segments = pathSegments(relativePath);
    let best: { operation: OperationRoute; params: Record<string, string>; specificity: number } | undefined;
    for (const op of api.operations) {
      if (op.method !== method) continue;
      const m = op.template.match(segments, query);
      if (m && (!best || m.specificity > best.specificity)) best = { operation: op, params: m.params, specificity: m.specificity };
    }
    return best;
  }

  /** The operation's compiled effective policy, or what in it is not modelled. */
  policy(api: ApiRoute, operation: OperationRoute | undefined): CompiledPolicy | NotModelled {
    return this.#policies.get(api.key, api.entity.policy, operation?.key, operation?.entity.policy);
  }

  /** The products linked to an API (by its base name: revisions share their API's links). */
  productsOf(api: ApiRoute): SimpleEntity[] {
    let products = this.#products.get(api);
    if (!products) {
      const svc = this.#svc;
      const apiKey = key(splitRevision(api.entity.name).base);
      products = Object.entries(svc.data.productApis)
        .filter(([, apis]) => apis.includes(apiKey))
        .map(([pk]) => svc.data.products[pk])
        .filter((p): p is SimpleEntity => p !== undefined);
      this.#products.set(api, products);
    }
    return products;
  }

  /** Whether a subscription's scope reaches an API (`decide` works it out the first time this view is asked). */
  covers(subscription: SimpleEntity, api: ApiRoute, decide: () => boolean): boolean {
    let byApi = this.#covers.get(subscription);
    if (!byApi) {
      byApi = new Map();
      this.#covers.set(subscription, byApi);
    }
    let answer = byApi.get(api);
    if (answer === undefined) {
      answer = decide();
      byApi.set(api, answer);
    }
    return answer;
  }
}
