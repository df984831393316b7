// The API version set of an apply, in APIM: created before the first version joins it, corrected when the
// configured scheme changes, and removed when no API references it any more. Reads before it writes, so an
// unchanged set costs one GET. What to remove is proven in APIM (a list of the service's APIs, and the set's own
// mark), never taken from Kubernetes: another namespace's ExposedAPIs, or versions a person added in the portal, keep
// a set alive exactly as APIM sees them.
import type { ApiVersioning, VersionSetKey } from '../core/api-versioning.ts';
import type { Apim } from './apim-client.ts';
import type { VersionSetContract, VersionSetProperties } from './apim-operations.ts';
import { permanent, StepFailure } from './step-failure.ts';
import { describeVersionSetOwner, renderVersionSetMark, versionSetOwnership } from './version-set-mark.ts';
import { apimSafe } from '../core/rules/apim-value-safety.ts';

/** The resource id an API names its set by (apiVersionSetId), as APIM returns it. */
export function versionSetResourceId(apim: Pick<Apim, 'pollOptions'>, setId: string): string {
  const c = apim.pollOptions.coordinates;
  return `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ApiManagement/service/${c.serviceName}/apiVersionSets/${setId}`;
}

/** The set id at the end of an apiVersionSetId (APIM answers the full resource id). */
export function versionSetIdIn(apiVersionSetId: string | null | undefined): string | undefined {
  return apiVersionSetId ? /\/apiVersionSets\/([^/]+)$/i.exec(apiVersionSetId)?.[1] : undefined;
}

export function sameVersionSet(a: string | null | undefined, b: string | null | undefined): boolean {
  return (versionSetIdIn(a)?.toLowerCase() ?? '') === (versionSetIdIn(b)?.toLowerCase() ?? '');
}

/** The set as this configuration wants it; the names of the schemes not in use are not sent (nor compared). */
export function desiredVersionSet(v: ApiVersioning, key: VersionSetKey): VersionSetProperties {
  const { scheme, queryName, headerName } = v.config;
  return {
    displayName: apimSafe('spec.path (the version set\'s display name)', v.displayName),
    versioningScheme: scheme,
    ...(scheme === 'Query' ? { versionQueryName: apimSafe('APIM_VERSION_QUERY_NAME', queryName) } : {}),
    ...(scheme === 'Header' ? { versionHeaderName: apimSafe('APIM_VERSION_HEADER_NAME', headerName) } : {}),
    description: renderVersionSetMark(key),
  };
}

/** The properties in which a stored set differs from the wanted one. */
export function versionSetDrift(stored: VersionSetContract, want: VersionSetProperties): Partial<VersionSetProperties> {
  const out: Partial<VersionSetProperties> = {};
  if (stored.displayName !== want.displayName) out.displayName = want.displayName;
  if (stored.versioningScheme !== want.versioningScheme) out.versioningScheme = want.versioningScheme;
  if (want.versionQueryName !== undefined && stored.versionQueryName !== want.versionQueryName) out.versionQueryName = want.versionQueryName;
  if (want.versionHeaderName !== undefined && stored.versionHeaderName !== want.versionHeaderName) out.versionHeaderName = want.versionHeaderName;
  if (stored.description !== want.description) out.description = want.description;
  return out;
}

/** A set under our id that is not ours is never written: the apply stops, naming who holds it. */
function ownershipGate(stored: VersionSetContract, setId: string, key: VersionSetKey): void {
  if (versionSetOwnership(stored.description, key) === 'ours') return;
  throw permanent(
    'VersionSetNotOwned',
    `APIM API version set '${setId}' exists and belongs to ${describeVersionSetOwner(stored.description)}, not to the ExposedAPIs of namespace ${key.namespace} of cluster ${key.cluster}: it is left unchanged, and the version of ${key.basePath} cannot join it; delete or rename that set in APIM, or change spec.path`,
  );
}

export type VersionSetSync = 'created' | 'updated' | 'unchanged';

/**
 * The set exists, is ours, and has the configured scheme before any version joins it. Two first versions applied at
 * once both create it with the same body, so the second PUT changes nothing. A scheme changed in the configuration
 * (APIM_VERSIONING_SCHEME) is applied to the set at the next apply of any of its versions, for all of them.
 */
export async function ensureVersionSet(apim: Apim, v: ApiVersioning, key: VersionSetKey): Promise<{ outcome: VersionSetSync; changed: string[] }> {
  const id = v.setId;
  const want = desiredVersionSet(v, key);
  const stored = await apim.find(`reading API version set '${id}'`, () => apim.client.readVersionSet(id));
  if (!stored) {
    await apim.call(`creating API version set '${id}'`, () => apim.client.createVersionSet(id, want));
    return { outcome: 'created', changed: [] };
  }
  ownershipGate(stored, id, key);
  const drift = versionSetDrift(stored, want);
  if (Object.keys(drift).length === 0) return { outcome: 'unchanged', changed: [] };
  await apim.call(`updating API version set '${id}' (${Object.keys(drift).join(', ')})`, async () => {
    // Read again on every attempt: a 412 (changed meanwhile) is retried against the current version.
    const current = await apim.client.readVersionSet(id);
    ownershipGate(current, id, key);
    const now = versionSetDrift(current, want);
    if (Object.keys(now).length > 0) await apim.client.updateVersionSet(id, current.eTag ?? '*', now);
  });
  return { outcome: 'updated', changed: Object.keys(drift) };
}

/** Whether a failure is APIM's "ApiVersionSet not found." (the set went between ensureVersionSet and the API's write). */
export function versionSetMissing(e: unknown): boolean {
  return e instanceof StepFailure && e.info.apim?.status === 404 && /ApiVersionSet not found/i.test(e.info.apim.message);
}

export type VersionSetRemoval = { outcome: 'deleted' | 'absent' | 'not-ours' } | { outcome: 'in-use'; users: string[] };

/**
 * Deletes a set no API references any more: "last" is proven by listing the service's APIs (their apiVersionSetId),
 * never by counting ExposedAPIs. A set another version joined meanwhile is refused by APIM, or changed (412): it is
 * kept. APIM may already have deleted the set with its last API (MicrosoftDocs/azure-docs #81857): then it is absent.
 */
export async function removeUnusedVersionSet(apim: Apim, setId: string, owner: Pick<VersionSetKey, 'cluster' | 'namespace'>): Promise<VersionSetRemoval> {
  const apis = await apim.call(`listing the APIs of APIM service '${apim.serviceName}'`, () => apim.client.listApis());
  const users = apis.filter((a) => sameVersionSet(a.apiVersionSetId, `/apiVersionSets/${setId}`)).map((a) => a.name ?? '?');
  if (users.length > 0) return { outcome: 'in-use', users };
  let outcome: VersionSetRemoval['outcome'] = 'deleted';
  try {
    await apim.call(`deleting API version set '${setId}'`, async () => {
      // Read on every attempt: a 412 (the set changed meanwhile) is retried against its current version.
      let stored: VersionSetContract;
      try {
        stored = await apim.client.readVersionSet(setId);
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) return void (outcome = 'absent');
        throw e;
      }
      if (versionSetOwnership(stored.description, owner) !== 'ours') return void (outcome = 'not-ours');
      await apim.client.deleteVersionSet(setId, stored.eTag ?? '*');
    });
  } catch (e) {
    // Another version joined between the list and the delete: APIM refuses to delete a set in use.
    if (e instanceof StepFailure && e.info.apim?.status === 400 && /is used by/i.test(e.info.apim.message)) return { outcome: 'in-use', users: [] };
    throw e;
  }
  return { outcome } as VersionSetRemoval;
}
