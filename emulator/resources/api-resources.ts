// APIs and their operations: create (plain or by import), read, update, delete with revisions, and listing.
// An import is asynchronous like the real one: the PUT is accepted at once, the document is fetched, parsed and
// applied after the configured delay, and failures show up on the poll, never on the PUT.
import { ArmError, detail, toArmError, validationError, validationMessage } from '../arm-errors.ts';
import type { ArmErrorDetail } from '../arm-errors.ts';
import type { ArmRequest, ArmResult } from '../arm-request.ts';
import { bodyProperties, noContent, ok } from '../arm-request.ts';
import type { Route } from '../arm-routes.ts';
import type { ApimService } from '../apim-service.ts';
import { page } from '../collection-page.ts';
import { checkInlineSize, importFormat, parseDocumentText } from '../import-document.ts';
import type { ImportFormat } from '../import-document.ts';
import { importOpenApi } from '../import-openapi.ts';
import { mergeOperations } from '../import-apply.ts';
import { importDurationMs } from '../import-duration.ts';
import type { LongRunningOperation } from '../long-running.ts';
import type { ApiEntity, Json, JsonObject, OperationEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import { checkAbsoluteUrl, checkApiPath, checkId, checkLength, checkOneOf, checkRequired, splitRevision } from '../value-rules.ts';
import { apisInVersionSet, versionSetDetails, versionSetNameOf, versionSetOf, versionSetResourceId } from '../version-sets.ts';

/** The API properties the service keeps; anything else in a request (value, format, …) is input only. */
const API_PROPERTIES = [
  'displayName',
  'apiRevision',
  'description',
  'subscriptionRequired',
  'serviceUrl',
  'path',
  'protocols',
  'authenticationSettings',
  'subscriptionKeyParameterNames',
  'type',
  // isCurrent is the service's to set: only a release makes a revision current (release-resources.ts).
  'apiVersion',
  'apiVersionDescription',
  'apiRevisionDescription',
  'apiVersionSetId',
  'termsOfServiceUrl',
  'contact',
  'license',
] as const;

const PROTOCOLS = ['http', 'https', 'ws', 'wss'];
const API_TYPES = ['http', 'soap', 'websocket', 'graphql', 'odata', 'grpc'];

/** The user authorization settings of an API without any, as the service reports them. */
function noAuthenticationSettings(): JsonObject {
  return { oAuth2: null, openid: null, oAuth2AuthenticationSettings: [], openidAuthenticationSettings: [] };
}

/** Server defaults of a new API (recorded responses and the REST spec's examples). */
function newApiProperties(path: string): JsonObject {
  return {
    displayName: null,
    apiRevision: '1',
    description: null,
    subscriptionRequired: true,
    path,
    protocols: ['https'],
    authenticationSettings: noAuthenticationSettings(),
    subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' },
    type: 'http',
    isCurrent: true,
    isOnline: true,
  };
}

function explicitProperties(props: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const name of API_PROPERTIES) {
    if (props[name] !== undefined) out[name] = props[name] as Json;
  }
  // APIM lists protocols in its own order (http, https, ws, wss) whatever order they were sent in.
  if (Array.isArray(out['protocols'])) out['protocols'] = PROTOCOLS.filter((p) => (out['protocols'] as Json[]).includes(p));
  // The single oAuth2/openid settings are mirrored into the newer lists, as the service returns them.
  const auth = out['authenticationSettings'];
  if (auth !== null && typeof auth === 'object' && !Array.isArray(auth)) {
    const a = { ...auth } as JsonObject;
    if (a['oAuth2'] && a['oAuth2AuthenticationSettings'] === undefined) a['oAuth2AuthenticationSettings'] = [a['oAuth2']];
    if (a['openid'] && a['openidAuthenticationSettings'] === undefined) a['openidAuthenticationSettings'] = [a['openid']];
    out['authenticationSettings'] = a;
  }
  // An API created as a new version carries its version set as an id.
  const set = props['apiVersionSet'] as Record<string, unknown> | undefined;
  if (out['apiVersionSetId'] === undefined && set && typeof set['id'] === 'string') out['apiVersionSetId'] = set['id'];
  return out;
}

function validateApiProperties(props: Record<string, unknown>, mode: 'put' | 'patch', creating: boolean, importing: boolean): ArmErrorDetail[] {
  const d: ArmErrorDetail[] = [];
  // The empty path is a valid path (an API at the gateway's root), so only absence counts as missing.
  if (mode === 'put' && (props['path'] === undefined || props['path'] === null)) d.push(detail('path', `'path' is required.`));
  if (props['path'] !== '') d.push(...checkApiPath(props['path']));
  if (creating && !importing && mode === 'put') d.push(...checkRequired('displayName', props['displayName']));
  d.push(...checkLength('displayName', props['displayName'], 1, 300));
  if (props['serviceUrl'] !== null) d.push(...checkAbsoluteUrl('serviceUrl', props['serviceUrl']));
  const protocols = props['protocols'];
  if (protocols !== undefined && (!Array.isArray(protocols) || protocols.some((p) => !PROTOCOLS.includes(p as string)))) {
    d.push(detail('protocols', `'protocols' must be a list of ${PROTOCOLS.map((p) => `'${p}'`).join(', ')}.`));
  }
  d.push(...checkOneOf('type', props['type'], API_TYPES));
  d.push(...checkLength('apiRevision', props['apiRevision'], 1, 100));
  d.push(...checkLength('apiVersion', props['apiVersion'], 0, 100));
  d.push(...checkLength('apiRevisionDescription', props['apiRevisionDescription'], 0, 256));
  d.push(...checkLength('apiVersionDescription', props['apiVersionDescription'], 0, 256));
  if (props['subscriptionRequired'] !== undefined && typeof props['subscriptionRequired'] !== 'boolean') {
    d.push(detail('subscriptionRequired', `'subscriptionRequired' must be true or false.`));
  }
  const names = props['subscriptionKeyParameterNames'];
  if (names !== undefined && names !== null) {
    const n = names as Record<string, unknown>;
    if (typeof names !== 'object' || typeof n['header'] !== 'string' || typeof n['query'] !== 'string') {
      d.push(detail('subscriptionKeyParameterNames', `'subscriptionKeyParameterNames' needs both 'header' and 'query' names.`));
    }
  }
  const hasValue = props['value'] !== undefined;
  const hasFormat = props['format'] !== undefined;
  if (hasValue !== hasFormat) {
    d.push(detail(hasValue ? 'format' : 'value', hasValue ? `'format' is required when 'value' is given.` : `'value' is required when 'format' is given.`));
  }
  if (hasValue && typeof props['value'] !== 'string') d.push(detail('value', `'value' must be a string.`));
  return d;
}

/** apiPathSlashes 'trim': the path is stored without slashes at either end instead of being refused. */
function trimPathSlashes(svc: ApimService, props: Record<string, unknown>): void {
  if (svc.settings.apiPathSlashes === 'trim' && typeof props['path'] === 'string') props['path'] = props['path'].replace(/^\/+|\/+$/g, '');
}

/**
 * A PATCH clearing JWT settings with nulls only (`{openid: null}` without `openidAuthenticationSettings: []`): what
 * the service does is not public, so authenticationSettingsNulls decides (see ServiceSettings). Empty lists are the
 * form the service itself reports for "none" and always clear.
 */
function patchAuthenticationNulls(svc: ApimService, props: Record<string, unknown>): void {
  const auth = props['authenticationSettings'];
  if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) return;
  const a = auth as Record<string, unknown>;
  const nulled = (a['openid'] === null && 'openid' in a) || (a['oAuth2'] === null && 'oAuth2' in a);
  const set = (a['openid'] ?? null) !== null || (a['oAuth2'] ?? null) !== null;
  const lists = Array.isArray(a['openidAuthenticationSettings']) || Array.isArray(a['oAuth2AuthenticationSettings']);
  if (!nulled || set || lists) return;
  switch (svc.settings.authenticationSettingsNulls) {
    case 'clear':
      props['authenticationSettings'] = noAuthenticationSettings();
      return;
    case 'ignore':
      delete props['authenticationSettings'];
      return;
    case 'refuse':
      // unverified wording (the refusal itself is one of the two behaviours the sources leave open).
      throw validationError([
        detail('authenticationSettings', `'authenticationSettings' cannot be cleared with null values alone; send 'openid': null, 'oAuth2': null with 'openidAuthenticationSettings': [] and 'oAuth2AuthenticationSettings': [].`),
      ]);
  }
}

function familyOf(apiId: string): string {
  return key(splitRevision(apiId).base);
}

/** Where an API is to live once a write is applied: its version set (by name) and its version. */
interface Versioning {
  set: string | undefined;
  version: string;
}

/**
 * Two APIs may share a path only within one API (its revisions) or one version set (the service's refusal quoted in
 * ../shared/guide/apim-contract.md), and inside one set under different versions: a set routes a request to one
 * version by its identifier (https://learn.microsoft.com/azure/api-management/api-management-versions), so two
 * versions with one identifier could not both be called (unverified wording of that refusal).
 */
function checkPathUnique(svc: ApimService, apiId: string, path: string, v: Versioning): void {
  const family = familyOf(apiId);
  for (const other of Object.values(svc.data.apis)) {
    if (familyOf(other.name) === family) continue;
    const otherPath = other.properties['path'];
    if (typeof otherPath !== 'string' || otherPath.toLowerCase() !== path.toLowerCase()) continue;
    const otherSet = versionSetNameOf(svc, other.properties['apiVersionSetId']);
    if (v.set !== undefined && typeof otherSet === 'string' && otherSet !== 'invalid' && key(otherSet) === key(v.set)) {
      if (String(other.properties['apiVersion'] ?? '').toLowerCase() !== v.version.toLowerCase()) continue;
      throw validationError([
        detail('apiVersion', `Cannot create API '${apiId}' with the same Path '${path}' as API '${other.name}' and the same version '${v.version}' in one version set; give it another apiVersion.`),
      ]);
    }
    throw validationError([
      detail('path', `Cannot create API '${apiId}' with the same Path '${path}' as API '${other.name}'  unless it's a part of the same version set`),
    ]);
  }
}

/**
 * The version set and version a write leaves the API with (what the body says, else what the API has), checked:
 * the id must be a set of this service (versionSetNameOf) that exists — "ApiVersionSet not found." with 404 on the
 * PUT itself (Azure/apiops #584, hashicorp/terraform-provider-azurerm #21498) — and a version needs a set ("Can't set
 * VersionName when ApiVersionSetId is not set.", target ApiVersion: pulumi/pulumi-azure-native #1661).
 */
function resolveVersioning(svc: ApimService, props: Record<string, unknown>, existing: ApiEntity | undefined): Versioning {
  const given = props['apiVersionSetId'] !== undefined ? props['apiVersionSetId'] : (props['apiVersionSet'] as Record<string, unknown> | undefined)?.['id'];
  const raw = given !== undefined ? given : existing?.properties['apiVersionSetId'];
  const name = versionSetNameOf(svc, raw);
  if (name === 'invalid') {
    // unverified wording.
    throw validationError([detail('apiVersionSetId', `'apiVersionSetId' must be the resource id of an API version set of this service, e.g. '${svc.resourceId('/apiVersionSets/<versionSetId>')}'; got '${String(raw)}'.`)]);
  }
  const version = String((props['apiVersion'] !== undefined ? props['apiVersion'] : existing?.properties['apiVersion']) ?? '');
  if (name === undefined) {
    if (version !== '') throw validationError([detail('ApiVersion', `Can't set VersionName when ApiVersionSetId is not set.`)]);
    return { set: undefined, version };
  }
  const set = svc.data.apiVersionSets[key(name)];
  if (!set) throw new ArmError(404, 'ResourceNotFound', 'ApiVersionSet not found.');
  // Stored the way the service returns it: the set's full resource id.
  if (given !== undefined) props['apiVersionSetId'] = versionSetResourceId(svc, set);
  return { set: set.name, version };
}

/** `details`: whether the set's details ride beside apiVersionSetId (a GET does; a list only when asked, below). */
export function apiContract(svc: ApimService, api: ApiEntity, details = true): JsonObject {
  const set = details ? versionSetOf(svc, api) : undefined;
  const properties = set ? { ...api.properties, apiVersionSet: versionSetDetails(svc, set) } : api.properties;
  return svc.contract('apis', `/apis/${api.name}`, api.name, properties);
}

function operationContract(svc: ApimService, api: ApiEntity, op: OperationEntity): JsonObject {
  return svc.contract('apis/operations', `/apis/${api.name}/operations/${op.name}`, op.name, op.properties);
}

function checkApiId(apiId: string): void {
  const d = checkId('apiId', apiId);
  if (d.length > 0) throw validationError(d);
}

function newEntity(svc: ApimService, apiId: string, path: string): ApiEntity {
  return { name: apiId, etag: svc.nextEtag(), properties: newApiProperties(path), operations: {}, tags: [] };
}

/**
 * A new `x;rev=N` starts as a copy of its source: `sourceApiId` (REST example ApiManagementCreateApiRevisionFromExistingApi;
 * terraform's azurerm_api_management_api passes e.g. `<api id>;rev=1`), else the current revision (an import straight
 * into `x;rev=N`, as terraform's create-with-import does). The copy keeps operations, schemas, tags and the policy:
 * "By default, each revision has the same security settings as the current revision"
 * (https://learn.microsoft.com/azure/api-management/api-management-revisions).
 */
function newRevision(svc: ApimService, apiId: string, revision: string, sourceApiId?: unknown): ApiEntity {
  const { base: baseId } = splitRevision(apiId);
  const base = svc.api(baseId);
  if (!base) throw validationMessage(`Api '${baseId}' not found; create the API before its revision ${revision}.`);
  let source = base;
  if (sourceApiId !== undefined && sourceApiId !== null) {
    const named = typeof sourceApiId === 'string' ? /\/apis\/([^/?]+)$/i.exec(sourceApiId)?.[1] : undefined;
    const found = named !== undefined ? svc.api(decodeURIComponent(named)) : undefined;
    // unverified wording: a revision's source must be a revision of the same API (a clone of another API is a new API).
    if (!found || familyOf(found.name) !== familyOf(apiId)) {
      throw validationError([detail('sourceApiId', `'sourceApiId' must be the resource id of a revision of API '${baseId}', e.g. ${svc.resourceId(`/apis/${baseId}`)}.`)]);
    }
    source = found;
  }
  const copy = structuredClone(source);
  copy.name = apiId;
  copy.etag = svc.nextEtag();
  copy.properties['apiRevision'] = revision;
  copy.properties['isCurrent'] = false;
  return copy;
}

/**
 * What only the current revision may change: "If you're editing a non-current revision of an API, you can't change
 * the following properties: Name, Type, Description, Subscription required, API version, API version description,
 * Path, Protocols … the error message Can't change property for non-current revision is displayed"
 * (https://learn.microsoft.com/azure/api-management/api-management-revisions). The REST answer, seen for Name, Path,
 * Description and ApiVersion (Azure/azure-powershell #9270, Azure/apiops #436, #285, terraform-provider-azurerm
 * #18093): 400 ValidationError "Can't change property Path for non-current revision " (trailing space included),
 * details null. The names for the other properties follow that pattern (unverified).
 */
const REVISION_LOCKED: readonly [string, string][] = [
  ['displayName', 'Name'],
  ['type', 'Type'],
  ['description', 'Description'],
  ['subscriptionRequired', 'SubscriptionRequired'],
  ['apiVersion', 'ApiVersion'],
  ['apiVersionDescription', 'ApiVersionDescription'],
  ['path', 'Path'],
  ['protocols', 'Protocols'],
];

function sameValue(name: string, a: unknown, b: unknown): boolean {
  if (name === 'protocols' && Array.isArray(a) && Array.isArray(b)) return [...a].sort().join(',') === [...b].sort().join(',');
  if (name === 'path' && typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Refuses a change to a locked property of a non-current revision (`props`: what the request or import would set). */
function checkRevisionLocked(svc: ApimService, apiId: string, props: Record<string, unknown>): void {
  const current = svc.api(splitRevision(apiId).base);
  if (!current) return;
  for (const [name, label] of REVISION_LOCKED) {
    if (props[name] === undefined || sameValue(name, props[name], current.properties[name])) continue;
    throw validationMessage(`Can't change property ${label} for non-current revision `);
  }
}

function putApi(svc: ApimService, req: ArmRequest): ArmResult {
  const apiId = req.params['apiId']!;
  checkApiId(apiId);
  svc.assertNotImporting(apiId);
  const existing = svc.api(apiId);
  svc.checkIfMatch(req, existing?.etag);
  const props = bodyProperties(req.body);
  if (!props) throw validationError([detail('properties', `'properties' is required.`)]);
  trimPathSlashes(svc, props);
  const importing = props['value'] !== undefined || props['format'] !== undefined;
  const { revision } = splitRevision(apiId);
  // "Can't set new revision as current." (target IsCurrent): a new revision is never current; a release makes it so
  // (Azure/azure-api-management-devops-resource-kit #316).
  if (revision !== undefined && existing === undefined && props['isCurrent'] === true) {
    throw validationError([detail('IsCurrent', `Can't set new revision as current.`)]);
  }
  // A new revision copies its display name (and everything else) from the current revision.
  const details = validateApiProperties(props, 'put', existing === undefined && revision === undefined, importing);
  if (details.length > 0) throw validationError(details);
  const path = props['path'] as string;
  // A new revision starts as a copy of the current one, set and version included.
  const versioning = resolveVersioning(svc, props, existing ?? (revision !== undefined ? svc.api(splitRevision(apiId).base) : undefined));
  checkPathUnique(svc, apiId, path, versioning);
  const explicit = explicitProperties(props);
  const nonCurrent = existing ? existing.properties['isCurrent'] === false : revision !== undefined;

  if (!importing) {
    if (nonCurrent) checkRevisionLocked(svc, apiId, explicit);
    const entity = existing ?? (revision !== undefined ? newRevision(svc, apiId, revision, props['sourceApiId']) : newEntity(svc, apiId, path));
    Object.assign(entity.properties, explicit);
    entity.etag = svc.nextEtag();
    svc.data.apis[key(entity.name)] = entity;
    svc.changed();
    return ok(apiContract(svc, entity), entity.etag, existing ? 200 : 201);
  }

  const format = importFormat(props['format']);
  const value = props['value'] as string;
  if (format.link) {
    const d = checkAbsoluteUrl('value', value, 8000);
    if (d.length > 0) throw validationError(d);
  } else {
    checkInlineSize(value);
  }
  const op = svc.lro.start(`/apis/${apiId}`, existing ? 200 : 201);
  svc.importing.set(key(apiId), op);
  const translate = props['translateRequiredQueryParameters'] === 'query' ? 'query' : 'template';
  // A revision the import creates starts from its source (sourceApiId) or the current revision.
  if (!existing && revision !== undefined) newRevision(svc, apiId, revision, props['sourceApiId']);
  void runImport(svc, apiId, op, format, value, { ...explicit, ...(props['sourceApiId'] !== undefined ? { sourceApiId: props['sourceApiId'] as Json } : {}) }, translate);
  const draft = existing ? structuredClone(existing.properties) : newApiProperties(path);
  Object.assign(draft, importedProperties(svc, explicit), { provisioningState: 'InProgress' });
  return svc.accepted(req, op, svc.contract('apis', `/apis/${apiId}`, apiId, draft));
}

/** What an import keeps from its own body whatever the setting: where the API lives and which version it is. */
const IMPORT_STRUCTURAL = ['path', 'apiVersion', 'apiVersionSetId', 'apiVersionSet', 'apiRevision', 'isCurrent', 'type'];

/** The body's properties an import applies (all of them, or only the structural ones; see importAppliesProperties). */
function importedProperties(svc: ApimService, explicit: JsonObject): JsonObject {
  if (svc.settings.importAppliesProperties) return explicit;
  return Object.fromEntries(Object.entries(explicit).filter(([k]) => IMPORT_STRUCTURAL.includes(k)));
}

/**
 * The import itself: a link's document is fetched first (its size decides a realistic duration), then the import
 * completes or fails when its duration has passed, counted from the PUT. Timers belong to the service, so stopping
 * or resetting it abandons the import.
 */
async function runImport(svc: ApimService, apiId: string, op: LongRunningOperation, format: ImportFormat, value: string, explicit: JsonObject, translate: 'template' | 'query'): Promise<void> {
  const started = Date.now();
  let text = value;
  let failure: ArmError | undefined;
  if (format.link) {
    try {
      text = await svc.fetchDocument(value);
    } catch (err) {
      // unverified wording: the real service reports an unreachable link as a validation error.
      failure = validationMessage(`Failed to download the API definition from '${value}': ${(err as Error).message}`);
    }
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  const duration = importDurationMs(svc.settings.importDurationMs, svc.settings.importDelayMs, bytes);
  op.documentBytes = bytes;
  op.expectedEndTime = new Date(started + duration).toISOString();
  svc.later(Math.max(0, started + duration - Date.now()), () => finishImport(svc, apiId, op, format, value, text, failure, explicit, translate));
}

function finishImport(
  svc: ApimService,
  apiId: string,
  op: LongRunningOperation,
  format: ImportFormat,
  value: string,
  text: string,
  failure: ArmError | undefined,
  explicitInput: JsonObject,
  translate: 'template' | 'query',
): void {
  let explicit = explicitInput;
  // A reset (or a stop) while the document was being fetched forgot this import.
  if (svc.importing.get(key(apiId)) !== op) return;
  try {
    if (failure) throw failure;
    // The set named at the PUT may have gone while the document was imported (deleted with its last API, or by a
    // client): the import then fails as the PUT would have (unverified: when the service checks again).
    const setName = versionSetNameOf(svc, explicit['apiVersionSetId']);
    if (typeof setName === 'string' && setName !== 'invalid' && !svc.data.apiVersionSets[key(setName)]) throw new ArmError(404, 'ResourceNotFound', 'ApiVersionSet not found.');
    const doc = parseDocumentText(text, format);
    // Copied through JSON so the stored operations hold strings of their own: V8 keeps substrings (descriptions,
    // names, YAML scalars) as slices of the whole document text, so every stored API would otherwise pin its full
    // document (measured: 26 TMF620 v5 imports held ~20 MB of heap beyond 2.2 MB of state).
    const imported = JSON.parse(JSON.stringify(importOpenApi(doc, format.kind, { ...(format.link ? { sourceUrl: value } : {}), translateRequiredQueryParameters: translate }))) as ReturnType<typeof importOpenApi>;
    const current = svc.api(apiId);
    const { revision } = splitRevision(apiId);
    const { sourceApiId, ...applied } = explicit;
    explicit = applied;
    const entity = current ?? (revision !== undefined ? newRevision(svc, apiId, revision, sourceApiId) : newEntity(svc, apiId, explicit['path'] as string));
    const nonCurrent = entity.properties['isCurrent'] === false;
    const merged = mergeOperations(entity.operations, imported.operations, () => svc.nextEtag());
    // A (re-)import resets what its body does not carry: serviceUrl becomes the document's server, or none
    // (Azure/azure-cli #29363: "clears serviceUrl when the optional --service-url parameter isn't provided";
    // terraform PR #23011: without service_url the import sets "the default value"), and the API's user
    // authorization settings go back to none (Azure/azure-cli #22871, Azure/azure-powershell #18880).
    const fromDocument: JsonObject = { description: imported.description, protocols: imported.protocols, serviceUrl: imported.serviceUrl };
    if (current) fromDocument['authenticationSettings'] = noAuthenticationSettings();
    if (imported.displayName !== undefined) fromDocument['displayName'] = imported.displayName;
    if (nonCurrent) {
      // unverified: whether a document's own description is refused on a non-current revision (as a PUT's is) is not
      // public; it is kept from the current revision here. Its title becoming the name is refused
      // (Azure/azure-powershell #9270: "Can't change property Name for non-current revision"), seen on the poll.
      delete fromDocument['description'];
      checkRevisionLocked(svc, apiId, { ...fromDocument, ...importedProperties(svc, explicit) });
    }
    Object.assign(entity.properties, fromDocument, importedProperties(svc, explicit));
    if (entity.properties['displayName'] === null || entity.properties['displayName'] === undefined) entity.properties['displayName'] = apiId;
    entity.operations = merged.operations;
    entity.schemas = imported.schemas;
    entity.etag = svc.nextEtag();
    for (const tag of imported.tags) {
      if (!svc.data.tags[key(tag.id)]) {
        svc.data.tags[key(tag.id)] = { name: tag.id, etag: svc.nextEtag(), properties: { displayName: tag.displayName } };
      }
    }
    svc.data.apis[key(entity.name)] = entity;
    svc.lro.succeed(op);
    svc.hideAfterImport(apiId);
  } catch (err) {
    svc.lro.fail(op, err instanceof ArmError ? err : toArmError(err));
  } finally {
    svc.importing.delete(key(apiId));
    svc.changed();
  }
}

function getApi(svc: ApimService, req: ArmRequest): ArmResult {
  const apiId = req.params['apiId']!;
  const render = (): ArmResult => {
    const api = svc.requireApi(apiId);
    return ok(apiContract(svc, api), api.etag);
  };
  return svc.pollByLocation(req, render) ?? render();
}

function headApi(svc: ApimService, req: ArmRequest): ArmResult {
  const api = svc.requireApi(req.params['apiId']!);
  return { status: 200, headers: { etag: api.etag } };
}

function patchApi(svc: ApimService, req: ArmRequest): ArmResult {
  const apiId = req.params['apiId']!;
  checkApiId(apiId);
  svc.assertNotImporting(apiId);
  const api = svc.requireApi(apiId);
  // unverified wording; the SDK always sends If-Match on update, other clients may not.
  if (req.headers['if-match'] === undefined) throw validationError([detail('If-Match', `The 'If-Match' header is required to update an API; send the ETag from GET or '*'.`)]);
  svc.checkIfMatch(req, api.etag);
  const props = bodyProperties(req.body) ?? {};
  trimPathSlashes(svc, props);
  patchAuthenticationNulls(svc, props);
  const details = validateApiProperties(props, 'patch', false, false);
  if (props['value'] !== undefined || props['format'] !== undefined) details.push(detail('value', `An API is imported with PUT, not PATCH.`));
  if (details.length > 0) throw validationError(details);
  const versioning = resolveVersioning(svc, props, api);
  const path = typeof props['path'] === 'string' ? props['path'] : String(api.properties['path'] ?? '');
  // Leaving a set (apiVersionSetId null) is checked too: the path may be one its versions share.
  if (typeof props['path'] === 'string' || versioning.set !== undefined || props['apiVersionSetId'] !== undefined) checkPathUnique(svc, apiId, path, versioning);
  if (api.properties['isCurrent'] === false) checkRevisionLocked(svc, apiId, explicitProperties(props));
  Object.assign(api.properties, explicitProperties(props));
  api.etag = svc.nextEtag();
  svc.changed();
  return ok(apiContract(svc, api), api.etag);
}

function deleteApi(svc: ApimService, req: ArmRequest): ArmResult {
  const apiId = req.params['apiId']!;
  checkApiId(apiId);
  svc.assertNotImporting(apiId);
  const api = svc.api(apiId);
  // Deleting what is not there succeeds with 204, like ARM deletes generally (If-Match is not evaluated then).
  if (!api) return noContent();
  svc.checkIfMatch(req, api.etag);
  const family = familyOf(api.name);
  const others = Object.values(svc.data.apis).filter((a) => a !== api && familyOf(a.name) === family);
  const deleteRevisions = req.query.get('deleteRevisions') === 'true';
  if (api.properties['isCurrent'] !== false && others.length > 0 && !deleteRevisions) {
    throw validationMessage('Cannot delete the current revision of an API.');
  }
  const doomed = api.properties['isCurrent'] !== false && deleteRevisions ? [api, ...others] : [api];
  const sets = new Set(doomed.map((a) => versionSetOf(svc, a)?.name).filter((n): n is string => n !== undefined));
  // The API's releases go with the API (they describe its revisions).
  if (doomed.length > others.length && svc.data.releases) {
    for (const k of Object.keys(svc.data.releases)) if (k.startsWith(`${family}/`)) delete svc.data.releases[k];
  }
  for (const a of doomed) {
    delete svc.data.apis[key(a.name)];
    for (const [productKey, list] of Object.entries(svc.data.productApis)) {
      svc.data.productApis[productKey] = list.filter((k) => k !== key(a.name));
    }
  }
  // "When deleting the last API/version from a version set, the version set itself is being removed" (reported for
  // every client, MicrosoftDocs/azure-docs #81857; terraform then finds "ApiVersionSet not found", #21498).
  if (svc.settings.versionSetRemovedWithLastApi) {
    for (const name of sets) if (apisInVersionSet(svc, name).length === 0) delete svc.data.apiVersionSets[key(name)];
  }
  svc.changed();
  const op = svc.lro.start(`/apis/${apiId}`, 204);
  svc.lro.succeed(op);
  return svc.accepted(req, op, undefined, deleteRevisions ? '&deleteRevisions=true' : '');
}

function listApis(svc: ApimService, req: ArmRequest): ArmResult {
  const current = Object.values(svc.data.apis).filter((a) => a.properties['isCurrent'] !== false);
  // Api_ListByService's `expandApiVersionSet` ("Include full ApiVersionSet resource in response", REST spec
  // apimapis.json): without it a listed API names its set by apiVersionSetId only (unverified beyond that wording).
  const details = req.query.get('expandApiVersionSet') === 'true';
  return ok(page(req, '/apis', current.map((a) => apiContract(svc, a, details)), svc.settings.pageSize));
}

function listOperations(svc: ApimService, req: ArmRequest): ArmResult {
  const api = svc.requireApi(req.params['apiId']!);
  const items = Object.values(api.operations).map((op) => operationContract(svc, api, op));
  return ok(page(req, `/apis/${api.name}/operations`, items, svc.settings.pageSize));
}

function getOperation(svc: ApimService, req: ArmRequest): ArmResult {
  const api = svc.requireApi(req.params['apiId']!);
  const op = api.operations[key(req.params['operationId']!)];
  if (!op) throw new ArmError(404, 'ResourceNotFound', 'Operation not found.');
  return ok(operationContract(svc, api, op), op.etag);
}

function listRevisions(svc: ApimService, req: ArmRequest): ArmResult {
  const api = svc.requireApi(req.params['apiId']!);
  const family = familyOf(api.name);
  const items = Object.values(svc.data.apis)
    .filter((a) => familyOf(a.name) === family)
    .map((a) => {
      const revision = String(a.properties['apiRevision'] ?? '1');
      // ApiRevisionContract (REST spec 2024-05-01): a flat item, privateUrl the gateway path of that revision
      // ("Append ;rev={revisionNumber} at the end of your API URL": docs api-management-revisions).
      return {
        apiId: `/apis/${splitRevision(a.name).base};rev=${revision}`,
        apiRevision: revision,
        isCurrent: a.properties['isCurrent'] !== false,
        isOnline: true,
        description: (a.properties['apiRevisionDescription'] as string | undefined) ?? null,
        privateUrl: `/${String(a.properties['path'] ?? '')};rev=${revision}`,
      };
    });
  return ok(page(req, `/apis/${api.name}/revisions`, items as unknown as { name?: unknown }[], svc.settings.pageSize));
}

export function apiRoutes(svc: ApimService): Route[] {
  return [
    { pattern: 'apis', handlers: { GET: (r) => listApis(svc, r) } },
    {
      pattern: 'apis/{apiId}',
      handlers: {
        GET: (r) => getApi(svc, r),
        HEAD: (r) => headApi(svc, r),
        PUT: (r) => putApi(svc, r),
        PATCH: (r) => patchApi(svc, r),
        DELETE: (r) => deleteApi(svc, r),
      },
    },
    { pattern: 'apis/{apiId}/operations', handlers: { GET: (r) => listOperations(svc, r) } },
    {
      pattern: 'apis/{apiId}/operations/{operationId}',
      handlers: { GET: (r) => getOperation(svc, r), HEAD: (r) => ({ status: 200, headers: getOperation(svc, r).headers ?? {} }) },
    },
    { pattern: 'apis/{apiId}/revisions', handlers: { GET: (r) => listRevisions(svc, r) } },
    { pattern: 'tenant/operationResults/{operationId}', handlers: { GET: (r) => svc.operationResult(r.params['operationId']!) } },
  ];
}
