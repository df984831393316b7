// Before an API is imported or moved, its public URL must not be served already by an API this ExposedAPI does not own:
// APIM compares literal paths only, so a version `v4` of a Segment set at `taken` and a plain API at `taken/v4` would
// both be accepted and both claim https://<gateway>/taken/v4 (core/public-url-overlap.ts). One filtered list read,
// only on runs that import or move the API; nothing is written before it, so a refused run leaves whatever serves now.
import type { VersioningScheme } from '../core/api-versioning.ts';
import { claimFilter, clashes, foreignHolders, trimSlashes, urlClaimOf, type ListedApi, type UrlClaim } from '../core/public-url-overlap.ts';
import { describeOwner, ownershipOf, parseMark, type OwnerIdentity } from './api-mark.ts';
import type { Apim } from './apim-client.ts';
import type { ApiContract } from './apim-operations.ts';
import { gatewayUrlOf } from './apim-sync.ts';
import { permanent } from './step-failure.ts';
import { sameVersionSet, versionSetIdIn } from './version-set-sync.ts';

/** Where this run puts the API: APIM's path (no leading slash) and, in a set, the set's resource id, version and scheme. */
export interface WantedPlacement {
  path: string;
  set?: { id: string; version: string; scheme: VersioningScheme };
}

const trim = (p: string | undefined): string => trimSlashes(p ?? '');

/**
 * Whether this run may change which URL the API serves: it creates, imports (document changed, adoption, an import an
 * earlier run left) or moves it (path, set, version, or the scheme of its set). An unchanged API costs no list read.
 * An API under our id marked by another ExposedAPI is the ownership gate's refusal (ApiIdTaken), not this one's.
 */
export function claimsUrl(stored: ApiContract | undefined, want: WantedPlacement, fingerprint: string, who: OwnerIdentity): boolean {
  if (!stored) return true;
  const own = ownershipOf(stored.apiRevisionDescription, who);
  if (own === 'other') return false;
  if (own === 'unmarked' || parseMark(stored.apiRevisionDescription).fingerprint !== fingerprint) return true;
  if (trim(stored.path) !== want.path) return true;
  if (!want.set) return Boolean(stored.apiVersionSetId);
  const storedScheme = stored.apiVersionSet?.versioningScheme;
  return !sameVersionSet(stored.apiVersionSetId, want.set.id) || (stored.apiVersion ?? '') !== want.set.version || (storedScheme !== undefined && storedScheme !== want.set.scheme);
}

/** The scheme of a holder's set: as the list detailed it, else read (only for a holder whose version matches). */
async function schemeOf(apim: Apim, holder: ListedApi): Promise<string | undefined> {
  if (holder.scheme !== undefined || holder.versionSetId === undefined) return holder.scheme;
  const set = await apim.find(`reading API version set '${holder.versionSetId}'`, () => apim.client.readVersionSet(holder.versionSetId!));
  return set?.versioningScheme;
}

function listedOf(a: ApiContract, who: OwnerIdentity): ListedApi {
  const setId = versionSetIdIn(a.apiVersionSetId);
  return {
    name: a.name!,
    path: a.path ?? '',
    ours: ownershipOf(a.apiRevisionDescription, who) === 'ours',
    ...(a.apiVersion ? { apiVersion: a.apiVersion } : {}),
    ...(setId ? { versionSetId: setId } : {}),
    ...(a.apiVersionSet?.versioningScheme ? { scheme: a.apiVersionSet.versioningScheme } : {}),
  };
}

function describeHolder(h: ListedApi, scheme: string | undefined): string {
  if (h.versionSetId === undefined) return `a plain API at path '${trim(h.path)}'`;
  return `version '${h.apiVersion ?? ''}' of ${scheme ?? 'an'} API version set '${h.versionSetId}' at path '${trim(h.path)}'`;
}

function describeWanted(want: WantedPlacement): string {
  if (!want.set) return `a plain API at path '${want.path}'`;
  const how = want.set.scheme === 'Segment' ? '' : `; under ${want.set.scheme} its URL is the path`;
  return `version '${want.set.version}' of API version set '${versionSetIdIn(want.set.id) ?? want.set.id}' at path '${want.path}' (${want.set.scheme}${how})`;
}

/** The gateway's address for the message; a placeholder when the service does not say (the refusal is the point). */
async function gatewayOf(apim: Apim, configured: string | undefined): Promise<string> {
  if (configured) return configured.replace(/\/+$/, '');
  return gatewayUrlOf(apim).catch(() => 'https://<gateway>');
}

/**
 * Refuses (permanent PathTaken) when an API that is not this ExposedAPI's serves the URL the wanted placement claims.
 * Ours is proven by the mark (api-mark.ts), as syncApi proves it; revisions (`;rev=`) of an API are that API.
 */
export async function guardPublicUrl(apim: Apim, o: { apiId: string; specPath: string; want: WantedPlacement; who: OwnerIdentity; gatewayUrl?: string }): Promise<void> {
  const claim: UrlClaim | undefined = urlClaimOf({ path: o.want.path, ...(o.want.set ? { version: { value: o.want.set.version, scheme: o.want.set.scheme } } : {}) });
  if (!claim) return;
  const listed = (await apim.call(`listing the APIs at path '${claim.holderPath}' of APIM service '${apim.serviceName}'`, () => apim.client.listApisWhere(claimFilter(claim))))
    .filter((a) => a.name);
  for (const holder of foreignHolders(claim, listed.map((a) => listedOf(a, o.who)), o.apiId)) {
    const scheme = await schemeOf(apim, holder);
    if (!clashes(claim, scheme)) continue;
    const mark = listed.find((a) => a.name === holder.name)?.apiRevisionDescription;
    const url = `${await gatewayOf(apim, o.gatewayUrl)}/${claim.url}`;
    throw permanent(
      'PathTaken',
      `spec.path '${o.specPath}': ${url} is already served by APIM API '${holder.name}' (${describeHolder(holder, scheme)}), and this ExposedAPI's API '${o.apiId}' would serve it too as ${describeWanted(o.want)}. APIM accepts both because their paths differ, but which one its gateway routes to is not documented, so nothing was written. APIM API '${holder.name}' is managed by ${describeOwner(mark)} and is left unchanged: choose another spec.path`,
    );
  }
}
