// What the gateway reads of the service, prepared for routing: the current revision of every API by path (longest
// first), each operation's compiled URL template, the subscriptions by key, the products of each API and which APIs a
// subscription covers (both worked out on first use), and the compiled effective policy of each operation
// (compiled-policies.ts, which keeps compilations across views). Rebuilt after any change to the service
// (ApimService.onChanged), so the request path does no scanning and no parsing.
//
// Routing (https://learn.microsoft.com/azure/api-management/api-management-key-concepts; the API URL suffix): the
// request path starts with the API's path — the longest such path wins — and the rest is matched against the
// operations' URL templates for the request's method. An API in a version set is called by its version
// (https://learn.microsoft.com/azure/api-management/api-management-versions): under Segment the version is the path
// segment after the API's path (`/{apiName}/{versionIdentifier}/{operation}`), under Query a query parameter and under
// Header a request header named by the set; the set's `Original` version (an empty apiVersion) answers on the path
// with no version given. Version values compare exactly, like query and header values generally (unverified).
// The current revision of an API receives its plain URL; any revision is called by appending `;rev=N` to the API's
// URL ("Append ;rev={revisionNumber} at the end of your API URL, but before the query string":
// https://learn.microsoft.com/azure/api-management/api-management-revisions, e.g.
// https://apis.contoso.com/customers;rev=3/leads). A version's URL under Segment ends with the version, so a revision
// of a version is `<path>/<version>;rev=N/…`; under Query and Header it is `<path>;rev=N/…` with the version given as
// for the current revision. Only APIs that list `https` in their protocols are served (the gateway
// listens on HTTPS only; unverified status for the others: 404 as for no API). Paths compare without case
// (unverified).
import type { ApimService } from '../apim-service.ts';
import type { ApiEntity, OperationEntity, SimpleEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import { splitRevision } from '../value-rules.ts';
import { versionSetOf } from '../version-sets.ts';
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
  /**
   * The path that reaches the API, lower-cased, without slashes at either end ('' for an API at the root): its own
   * path, followed by its version under a Segment version set.
   */
  path: string;
  /** Under a Query or Header version set: where the request names the version, and the version that selects this API. */
  version?: { in: 'query' | 'header'; name: string; value: string };
  operations: OperationRoute[];
}

/** What findApi may read of a request besides its path (only for APIs in Query or Header version sets). */
export interface VersionSource {
  query(): URLSearchParams;
  header(name: string): string | undefined;
}

/** The request's path to an API, and how a version set selects it. */
function routeOf(svc: ApimService, entity: ApiEntity): Pick<ApiRoute, 'path' | 'version'> {
  const path = String(entity.properties['path'] ?? '').replace(/^\/+|\/+$/g, '').toLowerCase();
  const set = versionSetOf(svc, entity);
  if (!set) return { path };
  const version = String(entity.properties['apiVersion'] ?? '');
  const p = set.properties;
  switch (p['versioningScheme']) {
    case 'Query':
      return { path, version: { in: 'query', name: String(p['versionQueryName'] ?? ''), value: version } };
    case 'Header':
      return { path, version: { in: 'header', name: String(p['versionHeaderName'] ?? '').toLowerCase(), value: version } };
    default:
      return { path: version === '' ? path : [path, version.toLowerCase()].filter((s) => s !== '').join('/') };
  }
}

/** Whether a request names the version an API of a Query or Header set answers (none given: the Original version). */
function versionMatches(v: NonNullable<ApiRoute['version']>, from: VersionSource | undefined): boolean {
  const given = v.in === 'query' ? (from?.query().get(v.name) ?? undefined) : from?.header(v.name);
  return given === undefined || given === '' ? v.value === '' : given === v.value;
}

interface OperationMatch {
  api: ApiRoute;
  operation: OperationRoute;
  params: Record<string, string>;
  /** The request path below the API's path, with a leading slash. */
  relativePath: string;
}

function apiRoute(svc: ApimService, entity: ApiEntity): ApiRoute {
  return {
    key: key(entity.name),
    entity,
    ...routeOf(svc, entity),
    operations: Object.entries(entity.operations).map(([k, op]) => ({ key: k, entity: op, method: op.properties.method.toUpperCase(), template: compileTemplate(op.properties.urlTemplate) })),
  };
}

/** `<api path>;rev=<n>` at the start of a request path (lower-cased), and what follows it. */
const REVISION_IN_PATH = /^(.*?);rev=(\d+)(?=\/|$)/;

export class GatewayView {
  readonly apis: ApiRoute[];
  /**
   * Every revision that is not current, by `<api path>;rev=<n>` (lower-cased; the path with its version under a
   * Segment set): reached only through `;rev=`. Several under Query and Header sets, one per version.
   */
  readonly #revisions = new Map<string, ApiRoute[]>();
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
      .map((entity) => apiRoute(svc, entity))
      .sort((a, b) => b.path.length - a.path.length);
    for (const entity of Object.values(svc.data.apis)) {
      if (entity.properties['isCurrent'] !== false) continue;
      const r = apiRoute(svc, entity);
      const revKey = `${r.path};rev=${String(entity.properties['apiRevision'] ?? '')}`;
      // Under Query and Header the versions of a set share one path: each revision is told apart by its version.
      this.#revisions.set(revKey, [...(this.#revisions.get(revKey) ?? []), r]);
    }
    for (const s of Object.values(svc.data.subscriptions ?? {})) {
      for (const k of [s.properties['primaryKey'], s.properties['secondaryKey']]) {
        if (typeof k !== 'string') continue;
        const list = this.subscriptionsByKey.get(k) ?? [];
        list.push(s);
        this.subscriptionsByKey.set(k, list);
      }
    }
  }

  /**
   * The API whose path is the longest prefix of the request path (segment-wise), with the path below it; among the
   * versions of a Query or Header set on that path, the one the request names.
   */
  findApi(requestPath: string, versionFrom?: VersionSource): { api: ApiRoute; relativePath: string } | undefined {
    const trimmed = requestPath.replace(/^\/+/, '');
    const lower = trimmed.toLowerCase();
    const rev = REVISION_IN_PATH.exec(lower);
    if (rev) return this.#findRevision(trimmed, rev[1]!, rev[2]!, rev[0].length, versionFrom);
    for (const api of this.apis) {
      if (api.path === '' || lower === api.path || lower.startsWith(`${api.path}/`)) {
        const protocols = api.entity.properties['protocols'];
        if (Array.isArray(protocols) && !protocols.includes('https')) continue;
        if (api.version && !versionMatches(api.version, versionFrom)) continue;
        return { api, relativePath: `/${trimmed.slice(api.path.length).replace(/^\/+/, '')}` };
      }
    }
    return undefined;
  }

  /**
   * `<path>;rev=<n>/…`: revision n of the API at exactly that path (the current one, or a non-current one); under a
   * Query or Header set, of the version the request names.
   */
  #findRevision(trimmed: string, path: string, revision: string, consumed: number, versionFrom: VersionSource | undefined): { api: ApiRoute; relativePath: string } | undefined {
    const named = (a: ApiRoute) => !a.version || versionMatches(a.version, versionFrom);
    const current = this.apis.find((a) => a.path === path && String(a.entity.properties['apiRevision'] ?? '1') === revision && named(a));
    const api = current ?? this.#revisions.get(`${path};rev=${revision}`)?.find(named);
    if (!api) return undefined;
    const protocols = api.entity.properties['protocols'];
    if (Array.isArray(protocols) && !protocols.includes('https')) return undefined;
    return { api, relativePath: `/${trimmed.slice(consumed).replace(/^\/+/, '')}` };
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
