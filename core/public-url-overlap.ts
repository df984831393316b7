// Which public URL an API claims at the gateway beyond the literal path APIM keeps unique, which one filtered list of
// APIs finds who else serves it, and whether what that list shows is a clash. Pure; the executor's guard
// (executor/public-url-guard.ts) does the read and the refusal.
//
// APIM refuses a second API with the same `path` unless both are versions of one set, and compares nothing else. But
// under a Segment version set the gateway URL is the path followed by the version (`<base>/<version>`), so a plain API
// at `a/b` and version `b` of a Segment set at `a` both claim `https://<gateway>/a/b/…`, and APIM accepts both; which
// one the gateway then serves is documented nowhere we found. Two directions, one list read each:
//   - our Segment version at `<base>/<version>`: any other API whose path is `<base>/<version>` serves that URL;
//   - our plain API (or our Query/Header version, whose URL is its base path) at `<parent>/<last>`: another API at path
//     `<parent>` that is version `<last>` of a Segment set serves it.
// The other overlaps are APIM's own refusal: equal literal paths (PathTaken from the import).
import type { VersioningScheme } from './api-versioning.ts';

/** What the API will be in APIM: its literal path (no leading slash) and, in a set, its version and the set's scheme. */
export interface ApiPlacement {
  path: string;
  version?: { value: string; scheme: VersioningScheme };
}

/**
 * The URL the API claims (APIM path form, no slashes at the ends) and where another API claiming it would sit:
 * `holderPath` is the literal path to list; `version`, when set, is the Segment version such an API must have.
 */
export interface UrlClaim {
  url: string;
  holderPath: string;
  /** Absent: any API at holderPath serves the URL. Set: only a version of a Segment set at holderPath with this version. */
  version?: string;
}

/** A path without slashes at its ends (APIM's form). */
export const trimSlashes = (p: string): string => p.replace(/^\/+|\/+$/g, '');

/** The claim to check, or undefined when there is nothing APIM does not already guard (an API at the root). */
export function urlClaimOf(p: ApiPlacement): UrlClaim | undefined {
  const path = trimSlashes(p.path);
  if (p.version && p.version.scheme === 'Segment' && p.version.value !== '') {
    const url = path === '' ? p.version.value : `${path}/${p.version.value}`;
    return { url, holderPath: url };
  }
  if (path === '') return undefined;
  const segments = path.split('/');
  return { url: path, holderPath: segments.slice(0, -1).join('/'), version: segments[segments.length - 1]! };
}

/**
 * The list filter that finds the APIs at holderPath (REST Api_ListByService: `path` is filterable with `eq`; named
 * `properties/path` as every field but `name` must be, MicrosoftDocs/feedback #3217, and as the APIM developer
 * portal's own queries name them). OData strings double their quotes.
 */
export function claimFilter(c: UrlClaim): string {
  return `properties/path eq '${c.holderPath.replace(/'/g, "''")}'`;
}

/** An API as the list shows it, with whether it carries this ExposedAPI's mark (executor/api-mark.ts). */
export interface ListedApi {
  name: string;
  path: string;
  apiVersion?: string;
  /** The set's id, when the API is in one. */
  versionSetId?: string;
  /** The set's scheme as the list details it; absent when the list did not say (then read the set). */
  scheme?: string;
  ours: boolean;
}

/** `x;rev=3` and `x` are one API (its revisions). */
export const apiFamilyOf = (name: string): string => name.replace(/;rev=.*$/i, '').toLowerCase();

/**
 * The APIs of others that may serve the claimed URL: at holderPath (compared without case, as APIM and its gateway
 * compare paths; the list's own filter is not trusted to have applied), not a revision of this API nor of any API
 * carrying this ExposedAPI's mark, and, for a versioned claim, versions `<version>` (without case) of a set. Whether
 * that set is Segment is clashes' question: the list may not detail it.
 */
export function foreignHolders(c: UrlClaim, apis: readonly ListedApi[], ownApiId: string): ListedApi[] {
  const ours = new Set([ownApiId.toLowerCase(), ...apis.filter((a) => a.ours).map((a) => apiFamilyOf(a.name))]);
  const holderPath = c.holderPath.toLowerCase();
  return apis.filter((a) => {
    if (ours.has(apiFamilyOf(a.name)) || trimSlashes(a.path).toLowerCase() !== holderPath) return false;
    if (c.version === undefined) return true;
    return a.versionSetId !== undefined && (a.apiVersion ?? '').toLowerCase() === c.version.toLowerCase();
  });
}

/** Whether a foreign holder (foreignHolders) serves the claimed URL, given the scheme of its set (if any). */
export function clashes(c: UrlClaim, scheme: string | undefined): boolean {
  return c.version === undefined || scheme === 'Segment';
}
