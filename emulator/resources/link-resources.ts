// Links between entities: an API in a product (`products/{productId}/apis/{apiId}`) and a tag on an API
// (`apis/{apiId}/tags/{tagId}`). A link has no body of its own: PUT answers with the linked entity's contract.
import { entityNotFound } from '../arm-errors.ts';
import type { ArmRequest, ArmResult } from '../arm-request.ts';
import { noContent, ok } from '../arm-request.ts';
import type { Route } from '../arm-routes.ts';
import type { ApimService } from '../apim-service.ts';
import { page } from '../collection-page.ts';
import type { JsonObject, SimpleEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import { apiContract } from './api-resources.ts';

function product(svc: ApimService, req: ArmRequest): SimpleEntity {
  const p = svc.data.products[key(req.params['productId']!)];
  if (!p) throw entityNotFound('Product');
  return p;
}

function productContract(svc: ApimService, p: SimpleEntity): JsonObject {
  return svc.contract('products', `/products/${p.name}`, p.name, p.properties);
}

function tag(svc: ApimService, tagId: string): SimpleEntity {
  const t = svc.data.tags[key(tagId)];
  if (!t) throw entityNotFound('Tag');
  return t;
}

function tagContract(svc: ApimService, t: SimpleEntity): JsonObject {
  return svc.contract('tags', `/tags/${t.name}`, t.name, t.properties);
}

function productApiRoutes(svc: ApimService): Route[] {
  return [
    {
      pattern: 'products/{productId}/apis',
      handlers: {
        GET: (req) => {
          const p = product(svc, req);
          const apis = (svc.data.productApis[key(p.name)] ?? []).map((k) => svc.data.apis[k]).filter((a) => a !== undefined);
          return ok(page(req, `/products/${p.name}/apis`, apis.map((a) => apiContract(svc, a)), svc.settings.pageSize));
        },
      },
    },
    {
      pattern: 'products/{productId}/apis/{apiId}',
      handlers: {
        PUT: (req): ArmResult => {
          const p = product(svc, req);
          const api = svc.requireApi(req.params['apiId']!);
          const list = (svc.data.productApis[key(p.name)] ??= []);
          const linked = list.includes(key(api.name));
          if (!linked) {
            list.push(key(api.name));
            svc.changed();
          }
          return ok(apiContract(svc, api), undefined, linked ? 200 : 201);
        },
        // checkEntityExists: 204 when linked, 404 otherwise.
        HEAD: (req): ArmResult => {
          const p = product(svc, req);
          const linked = (svc.data.productApis[key(p.name)] ?? []).includes(key(req.params['apiId']!));
          if (!linked) throw entityNotFound('Api');
          return noContent();
        },
        DELETE: (req): ArmResult => {
          const p = product(svc, req);
          const list = svc.data.productApis[key(p.name)] ?? [];
          const k = key(req.params['apiId']!);
          if (!list.includes(k)) return noContent();
          svc.data.productApis[key(p.name)] = list.filter((x) => x !== k);
          svc.changed();
          return { status: 200 };
        },
      },
    },
    {
      pattern: 'apis/{apiId}/products',
      handlers: {
        GET: (req) => {
          const api = svc.requireApi(req.params['apiId']!);
          const products = Object.entries(svc.data.productApis)
            .filter(([, apis]) => apis.includes(key(api.name)))
            .map(([pk]) => svc.data.products[pk])
            .filter((p) => p !== undefined);
          return ok(page(req, `/apis/${api.name}/products`, products.map((p) => productContract(svc, p)), svc.settings.pageSize));
        },
      },
    },
  ];
}

function apiTagRoutes(svc: ApimService): Route[] {
  const linkedTag = (req: ArmRequest): SimpleEntity => {
    const api = svc.requireApi(req.params['apiId']!);
    const t = tag(svc, req.params['tagId']!);
    if (!api.tags.some((x) => key(x) === key(t.name))) throw entityNotFound('Tag');
    return t;
  };
  return [
    {
      pattern: 'apis/{apiId}/tags',
      handlers: {
        GET: (req) => {
          const api = svc.requireApi(req.params['apiId']!);
          const tags = api.tags.map((t) => svc.data.tags[key(t)]).filter((t) => t !== undefined);
          return ok(page(req, `/apis/${api.name}/tags`, tags.map((t) => tagContract(svc, t)), svc.settings.pageSize));
        },
      },
    },
    {
      pattern: 'apis/{apiId}/tags/{tagId}',
      handlers: {
        GET: (req) => {
          const t = linkedTag(req);
          return ok(tagContract(svc, t), t.etag);
        },
        HEAD: (req) => ({ status: 200, headers: { etag: linkedTag(req).etag } }),
        PUT: (req) => {
          const apiId = req.params['apiId']!;
          svc.assertNotImporting(apiId);
          const api = svc.requireApi(apiId);
          const t = tag(svc, req.params['tagId']!);
          const linked = api.tags.some((x) => key(x) === key(t.name));
          if (!linked) {
            api.tags.push(t.name);
            svc.changed();
          }
          return ok(tagContract(svc, t), t.etag, linked ? 200 : 201);
        },
        DELETE: (req) => {
          const apiId = req.params['apiId']!;
          svc.assertNotImporting(apiId);
          const api = svc.requireApi(apiId);
          const k = key(req.params['tagId']!);
          if (!api.tags.some((x) => key(x) === k)) return noContent();
          api.tags = api.tags.filter((x) => key(x) !== k);
          svc.changed();
          return { status: 200 };
        },
      },
    },
  ];
}

/**
 * `GET …/apisByTags`: one item per (API, tag) link, `{tag: {id, name}, api: {id, name, …}}` with service-relative ids
 * (`/tags/x`, `/apis/y`) and names that are display names, as the REST spec's ApiManagementListApisByTags example
 * shows; untagged current APIs appear (as `{api}` alone) only with `includeNotTaggedApis=true`.
 */
function apisByTags(svc: ApimService, req: ArmRequest): ArmResult {
  const includeUntagged = req.query.get('includeNotTaggedApis') === 'true';
  const items: { name?: unknown; properties?: unknown }[] = [];
  for (const api of Object.values(svc.data.apis)) {
    if (api.properties['isCurrent'] === false) continue;
    const p = api.properties;
    const apiRef: JsonObject = { id: `/apis/${api.name}`, name: (p['displayName'] as string | null) ?? api.name };
    for (const field of ['path', 'serviceUrl', 'protocols', 'apiRevision', 'apiVersion', 'isCurrent', 'description', 'subscriptionRequired', 'type']) {
      if (p[field] !== undefined && p[field] !== null) apiRef[field] = p[field]!;
    }
    const tags = api.tags.map((t) => svc.data.tags[key(t)]).filter((t) => t !== undefined);
    // $filter (e.g. `isCurrent eq true`, `contains(name, 'x')`) reads the API's fields, so the API rides as properties.
    if (tags.length === 0 && includeUntagged) items.push({ name: apiRef['name'], properties: apiRef, api: apiRef } as never);
    for (const t of tags) items.push({ name: apiRef['name'], properties: apiRef, api: apiRef, tag: { id: `/tags/${t.name}`, name: t.properties['displayName'] ?? t.name } } as never);
  }
  const result = page(req, '/apisByTags', items, svc.settings.pageSize);
  // The listing's items are `{tag, api, operation?}` only.
  const value = result.value.map((i) => {
    const { name: _n, properties: _p, ...rest } = i as Record<string, unknown>;
    return rest;
  });
  return ok({ ...result, value });
}

export function linkRoutes(svc: ApimService): Route[] {
  return [...productApiRoutes(svc), ...apiTagRoutes(svc), { pattern: 'apisByTags', handlers: { GET: (req) => apisByTags(svc, req) } }];
}
