// API releases (`apis/{apiId}/releases/{releaseId}`): a release names a revision of the API and makes it the current
// one, with notes for the change log. Sources: the REST spec 2024-05-01 (Api Release - Create Or Update: properties
// `apiId`, `notes`; 200/201 with ETag; If-Match "Not required when creating an entity, but required when updating an
// entity"), the SDK ("An API release is created when making an API Revision current. Releases are also used to
// rollback to previous revisions": @azure/arm-apimanagement ApiRelease.listByService), PowerShell ("A Release is used
// to make the Api Revision as Current Revision": New-AzApiManagementApiRelease) and azure-cli, which names the revision
// to make current as `/apis/<api>;rev=<n>` in `apiId` and sends If-Match `*` when it creates one
// (azure-cli apim custom.py create_api_release).
//
// Making revision N current re-keys two entities: the plain id always names the current revision, so the former
// current `x` becomes `x;rev=<its number>` and `x;rev=N` becomes `x` (Azure/apiops #97 shows exactly this naming after
// revision 2 was made current in the portal). Links to products, which belong to the API and not to a revision, stay.
import { detail, entityNotFound, validationError } from '../arm-errors.ts';
import type { ArmRequest, ArmResult } from '../arm-request.ts';
import { bodyProperties, noContent, ok } from '../arm-request.ts';
import type { Route } from '../arm-routes.ts';
import type { ApimService } from '../apim-service.ts';
import { page } from '../collection-page.ts';
import type { ApiEntity, SimpleEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import { checkId, splitRevision } from '../value-rules.ts';

function releaseKey(api: ApiEntity, releaseId: string): string {
  return `${key(splitRevision(api.name).base)}/${key(releaseId)}`;
}

function releases(svc: ApimService): Record<string, SimpleEntity> {
  svc.data.releases ??= {};
  return svc.data.releases;
}

/** The API a release route names: its current revision (the path carries the API's plain id). */
function currentApi(svc: ApimService, apiId: string): ApiEntity {
  const d = checkId('apiId', apiId);
  if (d.length > 0) throw validationError(d);
  const api = svc.api(splitRevision(apiId).base);
  if (!api) throw entityNotFound('Api');
  return api;
}

function contract(svc: ApimService, api: ApiEntity, release: SimpleEntity): ReturnType<ApimService['contract']> {
  return svc.contract('apis/releases', `/apis/${splitRevision(api.name).base}/releases/${release.name}`, release.name, release.properties);
}

/** The revision `properties.apiId` names: a full resource id or `/apis/<api>[;rev=<n>]`, of this same API. */
function releasedRevision(svc: ApimService, api: ApiEntity, named: unknown): ApiEntity {
  const base = splitRevision(api.name).base;
  // unverified wording: what the service answers for a missing or foreign apiId was not captured.
  const refuse = (why: string): never => {
    throw validationError([detail('apiId', `'apiId' ${why}; name a revision of API '${base}', e.g. /apis/${base};rev=2.`)]);
  };
  if (typeof named !== 'string' || named === '') return refuse('is required');
  const m = /\/apis\/([^/?]+)$/i.exec(named);
  if (!m) return refuse(`'${named}' is not an API resource id`);
  const id = decodeURIComponent(m[1]!);
  if (key(splitRevision(id).base) !== key(base)) return refuse(`names another API ('${splitRevision(id).base}')`);
  const target = svc.api(id);
  if (!target) return refuse(`names a revision that does not exist ('${id}')`);
  return target;
}

/** Makes `target` the current revision: it takes the plain id, the former current one takes `;rev=<its number>`. */
function makeCurrent(svc: ApimService, current: ApiEntity, target: ApiEntity): void {
  if (target === current) return;
  const base = splitRevision(current.name).base;
  svc.assertNotImporting(current.name);
  svc.assertNotImporting(target.name);
  delete svc.data.apis[key(current.name)];
  delete svc.data.apis[key(target.name)];
  current.name = `${base};rev=${String(current.properties['apiRevision'] ?? '1')}`;
  current.properties['isCurrent'] = false;
  current.etag = svc.nextEtag();
  target.name = base;
  target.properties['isCurrent'] = true;
  target.etag = svc.nextEtag();
  svc.data.apis[key(current.name)] = current;
  svc.data.apis[key(base)] = target;
}

function putRelease(svc: ApimService, req: ArmRequest): ArmResult {
  const api = currentApi(svc, req.params['apiId']!);
  const releaseId = req.params['releaseId']!;
  const d = checkId('releaseId', releaseId);
  if (d.length > 0) throw validationError(d);
  const props = bodyProperties(req.body);
  if (!props) throw validationError([detail('properties', `'properties' is required.`)]);
  if (props['notes'] !== undefined && props['notes'] !== null && typeof props['notes'] !== 'string') {
    throw validationError([detail('notes', `'notes' must be a string.`)]);
  }
  const k = releaseKey(api, releaseId);
  const existing = releases(svc)[k];
  if (existing) {
    // unverified wording; the REST spec says If-Match is required when updating a release.
    if (req.headers['if-match'] === undefined) throw validationError([detail('If-Match', `The 'If-Match' header is required to update a release; send the ETag from GET or '*'.`)]);
    svc.checkIfMatch(req, existing.etag);
  }
  const target = releasedRevision(svc, api, props['apiId']);
  makeCurrent(svc, api, target);
  const now = new Date().toISOString();
  const release: SimpleEntity = {
    name: existing?.name ?? releaseId,
    etag: svc.nextEtag(),
    properties: {
      apiId: svc.resourceId(`/apis/${splitRevision(api.name).base};rev=${String(target.properties['apiRevision'] ?? '1')}`),
      createdDateTime: (existing?.properties['createdDateTime'] as string | undefined) ?? now,
      updatedDateTime: now,
      notes: (props['notes'] as string | undefined) ?? null,
    },
  };
  releases(svc)[k] = release;
  svc.changed();
  return ok(contract(svc, target, release), release.etag, existing ? 200 : 201);
}

function getRelease(svc: ApimService, req: ArmRequest): ArmResult {
  const api = currentApi(svc, req.params['apiId']!);
  const release = releases(svc)[releaseKey(api, req.params['releaseId']!)];
  if (!release) throw entityNotFound('ApiRelease');
  return ok(contract(svc, api, release), release.etag);
}

function deleteRelease(svc: ApimService, req: ArmRequest): ArmResult {
  const api = currentApi(svc, req.params['apiId']!);
  const k = releaseKey(api, req.params['releaseId']!);
  const release = releases(svc)[k];
  if (!release) return noContent();
  svc.checkIfMatch(req, release.etag);
  // Deleting a release leaves the current revision as it is: a rollback is a release of the older revision.
  delete releases(svc)[k];
  svc.changed();
  return ok(undefined);
}

function listReleases(svc: ApimService, req: ArmRequest): ArmResult {
  const api = currentApi(svc, req.params['apiId']!);
  const prefix = `${key(splitRevision(api.name).base)}/`;
  const items = Object.entries(releases(svc))
    .filter(([k]) => k.startsWith(prefix))
    .map(([, r]) => contract(svc, api, r));
  return ok(page(req, `/apis/${api.name}/releases`, items, svc.settings.pageSize));
}

export function releaseRoutes(svc: ApimService): Route[] {
  return [
    { pattern: 'apis/{apiId}/releases', handlers: { GET: (r) => listReleases(svc, r) } },
    {
      pattern: 'apis/{apiId}/releases/{releaseId}',
      handlers: {
        GET: (r) => getRelease(svc, r),
        HEAD: (r) => ({ status: 200, headers: getRelease(svc, r).headers ?? {} }),
        PUT: (r) => putRelease(svc, r),
        DELETE: (r) => deleteRelease(svc, r),
      },
    },
  ];
}
