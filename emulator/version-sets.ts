// How APIs refer to API version sets, read the same way by the API handlers, the version set handlers and the
// gateway. An API names its set by the set's full resource id in `apiVersionSetId` (the REST spec's example
// ApiManagementCreateApiNewVersionUsingExistingApi.json sends and returns
// `/subscriptions/…/service/apimService1/apiVersionSets/<id>`), and its GET shows the set's details beside it
// (`apiVersionSet: {id, name, versioningScheme}`, the same example's response).
import type { ApimService } from './apim-service.ts';
import type { ApiEntity, JsonObject, SimpleEntity } from './service-model.ts';
import { key } from './service-model.ts';

const SET_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ApiManagement\/service\/([^/]+)\/apiVersionSets\/([^/]+)$/i;

/**
 * The set name an `apiVersionSetId` names: undefined when it names none (absent or null), 'invalid' when it is not
 * the resource id of a set of this service (unverified: whether the service also accepts a relative
 * `/apiVersionSets/<id>` or another service's id is not public; refusing is the strict reading of "identifier").
 */
export function versionSetNameOf(svc: ApimService, apiVersionSetId: unknown): string | undefined | 'invalid' {
  if (apiVersionSetId === undefined || apiVersionSetId === null || apiVersionSetId === '') return undefined;
  if (typeof apiVersionSetId !== 'string') return 'invalid';
  const m = SET_ID.exec(apiVersionSetId);
  if (!m) return 'invalid';
  const { subscriptionId, resourceGroup, serviceName } = svc.identity;
  // ARM compares resource ids without case.
  if (m[1]!.toLowerCase() !== subscriptionId.toLowerCase() || m[2]!.toLowerCase() !== resourceGroup.toLowerCase() || m[3]!.toLowerCase() !== serviceName.toLowerCase()) return 'invalid';
  return m[4]!;
}

/** The version set an API belongs to (undefined: none, or a set that no longer exists). */
export function versionSetOf(svc: ApimService, api: ApiEntity): SimpleEntity | undefined {
  const name = versionSetNameOf(svc, api.properties['apiVersionSetId']);
  return name === undefined || name === 'invalid' ? undefined : svc.data.apiVersionSets[key(name)];
}

/** The APIs (every revision) whose apiVersionSetId names the set. */
export function apisInVersionSet(svc: ApimService, setName: string): ApiEntity[] {
  const k = key(setName);
  return Object.values(svc.data.apis).filter((a) => {
    const name = versionSetNameOf(svc, a.properties['apiVersionSetId']);
    return name !== undefined && name !== 'invalid' && key(name) === k;
  });
}

/** The canonical resource id of a set, as the service returns it in apiVersionSetId. */
export function versionSetResourceId(svc: ApimService, set: SimpleEntity): string {
  return svc.resourceId(`/apiVersionSets/${set.name}`);
}

/** The `apiVersionSet` block of an API's contract: the set's id, its displayName as `name`, scheme and names. */
export function versionSetDetails(svc: ApimService, set: SimpleEntity): JsonObject {
  const p = set.properties;
  const out: JsonObject = { id: versionSetResourceId(svc, set), name: p['displayName'] ?? null, versioningScheme: p['versioningScheme'] ?? null };
  for (const k of ['description', 'versionQueryName', 'versionHeaderName']) if (typeof p[k] === 'string') out[k] = p[k];
  return out;
}
