// Entities that are a name, an ETag and properties: products, tags, OpenID Connect providers, backends, named values
// and API version sets. One description per family says how it is validated, what defaults it gets and what a
// response leaves out (secrets); the CRUD semantics (If-Match, 201/200, 404, 204 on deleting nothing) are shared.
import { randomBytes } from 'node:crypto';
import { detail, entityNotFound, validationError, validationMessage } from '../arm-errors.ts';
import { apisInVersionSet } from '../version-sets.ts';
import type { ArmErrorDetail } from '../arm-errors.ts';
import type { ArmRequest, ArmResult } from '../arm-request.ts';
import { bodyProperties, noContent, ok } from '../arm-request.ts';
import type { Route } from '../arm-routes.ts';
import type { ApimService } from '../apim-service.ts';
import { page } from '../collection-page.ts';
import type { Json, JsonObject, SimpleEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import type { IdKind } from '../value-rules.ts';
import { checkAbsoluteUrl, checkId, checkLength, checkNamedValueDisplayName, checkOneOf, checkRequired } from '../value-rules.ts';

export interface SimpleResourceSpec {
  /** URL segment and contract type suffix, e.g. `backends`. */
  collection: string;
  /** Name of the id in the URL (`backendId`), also the id rule to apply. */
  param: string;
  idKind: IdKind;
  /** The contract's type below `Microsoft.ApiManagement/service/` when it is not the URL segment. */
  contractType?: string;
  /** As APIM names it in 404s ("Backend not found."). */
  entityName: string;
  store(svc: ApimService): Record<string, SimpleEntity>;
  /** Problems with the merged properties of a create (existing undefined) or update. */
  validate(props: Record<string, unknown>, existing: SimpleEntity | undefined, svc: ApimService, id: string): ArmErrorDetail[];
  defaults?: JsonObject;
  /** The properties a response shows (e.g. without secrets). */
  render?(props: JsonObject): JsonObject;
  /** Writes answer as long-running operations (named values). */
  longRunning?: boolean;
  onDelete?(svc: ApimService, entity: SimpleEntity): void;
  /** Refuses a delete (throws) while something still needs the entity (a version set its APIs). */
  beforeDelete?(svc: ApimService, entity: SimpleEntity): void;
  /** Rewrites the merged properties just before they are stored (e.g. secrets moved into named values). */
  beforeStore?(svc: ApimService, props: JsonObject): void;
  /** Extra routes below one entity, e.g. `listSecrets`. */
  actions?: Record<string, (svc: ApimService, entity: SimpleEntity) => ArmResult>;
}

function contract(svc: ApimService, spec: SimpleResourceSpec, e: SimpleEntity): JsonObject {
  const props = spec.render ? spec.render(e.properties) : e.properties;
  return svc.contract(spec.contractType ?? spec.collection, `/${spec.collection}/${e.name}`, e.name, props);
}

function writeProperties(req: ArmRequest): Record<string, unknown> {
  const props = bodyProperties(req.body);
  if (!props) throw validationError([detail('properties', `'properties' is required.`)]);
  return props;
}

export function simpleRoutes(svc: ApimService, spec: SimpleResourceSpec): Route[] {
  const find = (req: ArmRequest): SimpleEntity => {
    const e = spec.store(svc)[key(req.params[spec.param]!)];
    if (!e) throw entityNotFound(spec.entityName);
    return e;
  };

  const write = (req: ArmRequest, mode: 'put' | 'patch'): ArmResult => {
    const id = req.params[spec.param]!;
    const idErrors = checkId(spec.idKind, id);
    if (idErrors.length > 0) throw validationError(idErrors);
    const store = spec.store(svc);
    const existing = store[key(id)];
    if (mode === 'patch') {
      if (!existing) throw entityNotFound(spec.entityName);
      if (req.headers['if-match'] === undefined) {
        throw validationError([detail('If-Match', `The 'If-Match' header is required for an update; send the ETag from GET or '*'.`)]);
      }
    }
    svc.checkIfMatch(req, existing?.etag);
    const incoming = mode === 'patch' ? (bodyProperties(req.body) ?? {}) : writeProperties(req);
    const merged: JsonObject = { ...(existing ? existing.properties : (spec.defaults ?? {})), ...(incoming as JsonObject) };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    const details = spec.validate(merged, existing, svc, id);
    if (details.length > 0) throw validationError(details);
    const apply = (): SimpleEntity => {
      spec.beforeStore?.(svc, merged);
      const entity: SimpleEntity = { name: existing?.name ?? id, etag: svc.nextEtag(), properties: merged };
      store[key(id)] = entity;
      svc.changed();
      return entity;
    };
    if (!spec.longRunning) {
      const entity = apply();
      return ok(contract(svc, spec, entity), entity.etag, existing || mode === 'patch' ? 200 : 201);
    }
    const op = svc.lro.start(`/${spec.collection}/${id}`, existing ? 200 : 201);
    svc.later(svc.settings.importDelayMs, () => {
      apply();
      svc.lro.succeed(op);
    });
    const draft = spec.render ? spec.render(merged) : merged;
    return svc.accepted(req, op, svc.contract(spec.contractType ?? spec.collection, `/${spec.collection}/${id}`, id, { ...draft, provisioningState: 'InProgress' }));
  };

  const get = (req: ArmRequest): ArmResult => {
    const render = (): ArmResult => {
      const e = find(req);
      return ok(contract(svc, spec, e), e.etag);
    };
    return (spec.longRunning ? svc.pollByLocation(req, render) : undefined) ?? render();
  };

  const routes: Route[] = [
    {
      pattern: spec.collection,
      handlers: { GET: (req) => ok(page(req, `/${spec.collection}`, Object.values(spec.store(svc)).map((e) => contract(svc, spec, e)), svc.settings.pageSize)) },
    },
    {
      pattern: `${spec.collection}/{${spec.param}}`,
      handlers: {
        GET: get,
        HEAD: (req) => ({ status: 200, headers: { etag: find(req).etag } }),
        PUT: (req) => write(req, 'put'),
        PATCH: (req) => write(req, 'patch'),
        DELETE: (req) => {
          const store = spec.store(svc);
          const e = store[key(req.params[spec.param]!)];
          if (!e) return noContent();
          svc.checkIfMatch(req, e.etag);
          spec.beforeDelete?.(svc, e);
          delete store[key(e.name)];
          spec.onDelete?.(svc, e);
          svc.changed();
          return { status: 200 };
        },
      },
    },
  ];
  for (const [action, fn] of Object.entries(spec.actions ?? {})) {
    routes.push({ pattern: `${spec.collection}/{${spec.param}}/${action}`, handlers: { POST: (req) => fn(svc, find(req)) } });
  }
  return routes;
}

function bool(props: Record<string, unknown>, name: string): ArmErrorDetail[] {
  const v = props[name];
  return v === undefined || typeof v === 'boolean' ? [] : [detail(name, `'${name}' must be true or false.`)];
}

export const PRODUCTS: SimpleResourceSpec = {
  collection: 'products',
  param: 'productId',
  idKind: 'productId',
  entityName: 'Product',
  store: (svc) => svc.data.products,
  defaults: { subscriptionRequired: true, approvalRequired: false, state: 'notPublished' },
  validate(props, existing, svc, id) {
    const d = [...checkRequired('displayName', props['displayName']), ...checkLength('displayName', props['displayName'], 1, 300)];
    d.push(...checkLength('description', props['description'], 0, 1000));
    d.push(...checkOneOf('state', props['state'], ['notPublished', 'published']));
    d.push(...bool(props, 'subscriptionRequired'), ...bool(props, 'approvalRequired'));
    if (props['subscriptionRequired'] === false && props['approvalRequired'] === true) {
      d.push(detail('approvalRequired', `'approvalRequired' can be true only when 'subscriptionRequired' is true.`));
    }
    const name = props['displayName'];
    if (typeof name === 'string') {
      for (const other of Object.values(svc.data.products)) {
        if (key(other.name) === key(id) || other === existing) continue;
        if (String(other.properties['displayName']).toLowerCase() === name.toLowerCase()) {
          // unverified wording; the uniqueness rule itself is the service's.
          d.push(detail('displayName', `Product with the display name '${name}' already exists (product '${other.name}'); product display names must be unique.`));
        }
      }
    }
    return d;
  },
  onDelete(svc, e) {
    delete svc.data.productApis[key(e.name)];
  },
};

export const TAGS: SimpleResourceSpec = {
  collection: 'tags',
  param: 'tagId',
  idKind: 'tagId',
  entityName: 'Tag',
  store: (svc) => svc.data.tags,
  validate(props) {
    return [...checkRequired('displayName', props['displayName']), ...checkLength('displayName', props['displayName'], 1, 160)];
  },
  onDelete(svc, e) {
    const k = key(e.name);
    for (const api of Object.values(svc.data.apis)) {
      api.tags = api.tags.filter((t) => key(t) !== k);
      for (const op of Object.values(api.operations)) op.tags = op.tags.filter((t) => key(t) !== k);
    }
  },
};

export const OPENID_CONNECT_PROVIDERS: SimpleResourceSpec = {
  collection: 'openidConnectProviders',
  contractType: 'openidconnectproviders',
  param: 'opid',
  idKind: 'opid',
  entityName: 'OpenidConnectProvider',
  store: (svc) => svc.data.openidConnectProviders,
  validate(props) {
    return [
      ...checkRequired('displayName', props['displayName']),
      ...checkLength('displayName', props['displayName'], 1, 50),
      ...checkRequired('metadataEndpoint', props['metadataEndpoint']),
      ...checkAbsoluteUrl('metadataEndpoint', props['metadataEndpoint']),
      ...checkRequired('clientId', props['clientId']),
      ...bool(props, 'useInTestConsole'),
      ...bool(props, 'useInApiDocumentation'),
    ];
  },
  // The client secret is write-only; it is read back with POST …/listSecrets.
  render(props) {
    const { clientSecret: _secret, ...rest } = props;
    return rest;
  },
  actions: {
    listSecrets: (_svc, e) => ok({ clientSecret: (e.properties['clientSecret'] as Json) ?? null }),
  },
};

export const BACKENDS: SimpleResourceSpec = {
  collection: 'backends',
  param: 'backendId',
  idKind: 'backendId',
  entityName: 'Backend',
  store: (svc) => svc.data.backends,
  validate(props) {
    return [
      ...checkRequired('url', props['url']),
      ...checkAbsoluteUrl('url', props['url']),
      ...checkRequired('protocol', props['protocol']),
      ...checkOneOf('protocol', props['protocol'], ['http', 'soap']),
      ...checkLength('title', props['title'], 1, 300),
      ...checkLength('description', props['description'], 1, 2000),
      ...checkLength('resourceId', props['resourceId'], 1, 2000),
    ];
  },
};

export const NAMED_VALUES: SimpleResourceSpec = {
  collection: 'namedValues',
  param: 'namedValueId',
  idKind: 'namedValueId',
  entityName: 'NamedValue',
  store: (svc) => svc.data.namedValues,
  longRunning: true,
  defaults: { secret: false },
  validate(props) {
    const d = [...checkRequired('displayName', props['displayName']), ...checkNamedValueDisplayName(props['displayName']), ...bool(props, 'secret')];
    if (props['keyVault'] === undefined) d.push(...checkRequired('value', props['value']));
    d.push(...checkLength('value', props['value'], 1, 4096));
    const tags = props['tags'];
    if (tags !== undefined && (!Array.isArray(tags) || tags.length > 32)) d.push(detail('tags', `'tags' must be a list of at most 32 strings.`));
    return d;
  },
  // Secret values are not returned; POST …/listValue reads them.
  render(props) {
    if (props['secret'] !== true) return props;
    const { value: _value, ...rest } = props;
    return rest;
  },
  actions: {
    listValue: (_svc, e) => ok({ value: (e.properties['value'] as Json) ?? null }),
  },
};

/**
 * API version sets (apimapiversionsets.json, api-version 2024-05-01): `displayName` (1–100) and `versioningScheme`
 * (Segment, Query, Header) required; `versionQueryName` required under Query and `versionHeaderName` under Header,
 * each 1–100 characters ("Must be 1 to 100 characters long", the SDK's ApiVersionSetContract docs); `description`.
 * A set that APIs still reference is not deleted: no public source says what the service does then (unverified),
 * and refusing is the strict answer, so a client deleting a set too early finds out here rather than leaving APIs
 * pointing at nothing. A set the last of its APIs leaves by being deleted goes with it (apis' delete, see
 * ServiceSettings.versionSetRemovedWithLastApi).
 */
export const API_VERSION_SETS: SimpleResourceSpec = {
  collection: 'apiVersionSets',
  contractType: 'api-version-sets',
  param: 'versionSetId',
  idKind: 'versionSetId',
  entityName: 'ApiVersionSet',
  store: (svc) => svc.data.apiVersionSets,
  validate(props) {
    const d = [...checkRequired('displayName', props['displayName']), ...checkLength('displayName', props['displayName'], 1, 100)];
    d.push(...checkRequired('versioningScheme', props['versioningScheme']), ...checkOneOf('versioningScheme', props['versioningScheme'], ['Segment', 'Query', 'Header']));
    if (props['versioningScheme'] === 'Query') d.push(...checkRequired('versionQueryName', props['versionQueryName']));
    if (props['versioningScheme'] === 'Header') d.push(...checkRequired('versionHeaderName', props['versionHeaderName']));
    d.push(...checkLength('versionQueryName', props['versionQueryName'], 1, 100), ...checkLength('versionHeaderName', props['versionHeaderName'], 1, 100));
    d.push(...checkLength('description', props['description'], 0, 10000));
    return d;
  },
  beforeDelete(svc, e) {
    const users = apisInVersionSet(svc, e.name);
    // unverified wording, after APIM's refusal to delete a policy fragment still in use ("The Policy Fragment '<id>'
    // is used by the following entities:", Azure/apiops-cli #261).
    if (users.length > 0) throw validationMessage(`The Api Version Set '${e.name}' is used by the following entities:\r\n${users.map((a) => `/apis/${a.name}`).join('\r\n')}\r\n`);
  },
};

const LOGGER_TYPES = ['azureEventHub', 'applicationInsights', 'azureMonitor'];
/** The credentials APIM treats as secrets and keeps out of the logger (terraform-provider-azurerm's logger resources). */
const LOGGER_SECRET_CREDENTIALS = ['instrumentationKey', 'connectionString'];

/**
 * Loggers, as the 2024-05-01 REST spec's LoggerContract: `loggerType` (azureEventHub, applicationInsights,
 * azureMonitor), `description` (≤ 256), `credentials` (string map), `isBuffered` (default true), `resourceId`.
 * A secret credential given as a plain value is moved into an auto-generated secret named value whose display name
 * is `Logger-Credentials--<24 hex>`, and the logger keeps `{{Logger-Credentials--…}}` in its place; every write of a
 * plain value mints a new one (hashicorp/terraform-provider-azurerm's logger resources: "returned by the Azure API is
 * intentionally masked (e.g. "{{Logger-Credentials--<hash>}}")"; exported templates pair each logger with such a
 * named value, `secret: true`).
 */
export const LOGGERS: SimpleResourceSpec = {
  collection: 'loggers',
  param: 'loggerId',
  idKind: 'opid',
  entityName: 'Logger',
  store: (svc) => (svc.data.loggers ??= {}),
  defaults: { isBuffered: true },
  validate(props) {
    const d = [...checkRequired('loggerType', props['loggerType']), ...checkOneOf('loggerType', props['loggerType'], LOGGER_TYPES)];
    d.push(...checkLength('description', props['description'], 0, 256), ...bool(props, 'isBuffered'));
    const credentials = props['credentials'];
    if (credentials !== undefined && (credentials === null || typeof credentials !== 'object' || Array.isArray(credentials) || Object.values(credentials).some((v) => typeof v !== 'string'))) {
      d.push(detail('credentials', `'credentials' must be an object of string values.`));
    } else {
      const c = (credentials ?? {}) as Record<string, string>;
      // unverified wording; which credentials each type needs follows the REST spec's logger examples.
      if (props['loggerType'] === 'applicationInsights' && c['instrumentationKey'] === undefined && c['connectionString'] === undefined) {
        d.push(detail('credentials', `An applicationInsights logger needs 'credentials.instrumentationKey' or 'credentials.connectionString'.`));
      }
      if (props['loggerType'] === 'azureEventHub' && (c['name'] === undefined || (c['connectionString'] === undefined && c['endpointAddress'] === undefined))) {
        d.push(detail('credentials', `An azureEventHub logger needs 'credentials.name' and 'credentials.connectionString' (or 'credentials.endpointAddress' with a managed identity).`));
      }
    }
    return d;
  },
  beforeStore(svc, props) {
    const credentials = props['credentials'];
    if (credentials === null || typeof credentials !== 'object' || Array.isArray(credentials)) return;
    const masked: JsonObject = { ...credentials };
    for (const name of LOGGER_SECRET_CREDENTIALS) {
      const value = masked[name];
      if (typeof value !== 'string' || /^\{\{.+\}\}$/.test(value)) continue;
      const id = randomBytes(12).toString('hex');
      const displayName = `Logger-Credentials--${randomBytes(12).toString('hex')}`;
      svc.data.namedValues[key(id)] = { name: id, etag: svc.nextEtag(), properties: { displayName, value, secret: true, tags: [] } };
      masked[name] = `{{${displayName}}}`;
    }
    props['credentials'] = masked;
  },
};
