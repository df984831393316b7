// Which APIM version set an ExposedAPI's API belongs to, and under which version. Pure; in core/ because the
// executor's apply and delete, the configuration reader and the docs' examples all use the one rule.
//
// The version is the last segment of spec.path when it names one: `v<digits>` (`/…/productCatalogManagement/v4`), or
// the segment that spells specification.version (`4`, `4.0.0`, `v4.0.0` for version "4.0.0"); what precedes it is the
// base path. APIM lets APIs share a path only inside one version set, and a set's versions share exactly one path
// (every scheme: Segment appends the version to it, Query and Header select by a parameter), so the base path is what
// groups: ExposedAPIs of one namespace whose paths differ only in that last version segment form one set. A path
// without a version segment is not versioned (a plain API, as before): under Segment the public URL must stay the
// ODA path, and under Query or Header a base path equal to the full path can never be shared (admission claims
// paths), so a set would only ever hold that one API.
//
// The grouping key is (cluster, namespace, base path compared without case). Not the component or spec.name: the
// component label is optional and tenant-written, spec.name is not unique, and two ExposedAPIs with equal names but
// different base paths could not share a set anyway (a set has one path). The namespace keeps tenants apart: a set
// is shared only by ExposedAPIs of one namespace, so one tenant's version never joins another's set.
import { createHash } from 'node:crypto';

export const VERSIONING_SCHEMES = ['Segment', 'Query', 'Header'] as const;
export type VersioningScheme = (typeof VERSIONING_SCHEMES)[number];

/** APIM_VERSIONING_SCHEME, APIM_VERSION_QUERY_NAME, APIM_VERSION_HEADER_NAME (core/executor-config.ts). */
export interface VersioningConfig {
  scheme: VersioningScheme;
  /** The query parameter naming the version under Query (APIM's versionQueryName). */
  queryName: string;
  /** The request header naming the version under Header (APIM's versionHeaderName). */
  headerName: string;
}

/** Defaults: the names Microsoft's versions page uses in its examples (`?api-version=v1`, `Api-Version: v1`). */
export const DEFAULT_VERSION_QUERY_NAME = 'api-version';
export const DEFAULT_VERSION_HEADER_NAME = 'Api-Version';

/** APIM's limit on a version set id (apiVersionSets/{versionSetId}: 1–80 characters, REST spec 2024-05-01). */
export const VERSION_SET_ID_MAX = 80;
/** APIM's limit on a version set's displayName (1–100 characters). */
export const VERSION_SET_DISPLAY_NAME_MAX = 100;
const HASH_CHARS = 8;

export interface PathVersion {
  /** The version label as written in the path, e.g. `v4`: APIM's apiVersion, and under Segment the URL segment. */
  version: string;
  /** spec.path without its version segment, e.g. `/ctk-productcatalogmanagement/tmf-api/productCatalogManagement`. */
  basePath: string;
}

/** The major version number of a specification.version such as `v4.0.0`, `4.0`, `5`; undefined when it has none. */
export function majorOf(specVersion: string | undefined): number | undefined {
  const m = /^\s*v?(\d+)(?:\.|$|\s)/i.exec(specVersion ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Whether a path segment spells the specification's version: the whole version or its major, with or without `v`. */
function spellsVersion(segment: string, specVersion: string): boolean {
  const bare = (s: string): string => s.trim().replace(/^v/i, '').toLowerCase();
  const major = majorOf(specVersion);
  const seg = bare(segment);
  if (seg === '') return false;
  return seg === bare(specVersion) || (major !== undefined && seg === String(major));
}

/**
 * The version segment of an ExposedAPI's path and the base path before it; undefined when the path names no version
 * (then the API is not versioned). The path decides: a specification.version that disagrees with a `v<N>` segment
 * does not move the API's URL (docs/version-sets.md).
 */
export function pathVersionOf(path: string, specVersion?: string): PathVersion | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  // A version at the root (`/v1`) has no base path to share: APIM's path would be empty.
  if (segments.length < 2) return undefined;
  const last = segments[segments.length - 1]!;
  const named = /^v\d+$/i.test(last) || (specVersion !== undefined && spellsVersion(last, specVersion));
  if (!named) return undefined;
  return { version: last, basePath: `/${segments.slice(0, -1).join('/')}` };
}

/** What the grouping key is made of: two ExposedAPIs belong to one set exactly when these are equal. */
export interface VersionSetKey {
  cluster: string;
  namespace: string;
  basePath: string;
}

/** The grouping key as one string (base path without case: APIM and admission compare paths that way). */
export function versionSetKeyString(k: VersionSetKey): string {
  return `${k.cluster}/${k.namespace}/${k.basePath.toLowerCase()}`;
}

/**
 * The APIM id of a set: `<namespace>-<base path as dashes>` cut to fit, then `-` and 8 hex digits of SHA-256 of the
 * grouping key. The hash is always there because the readable part is lossy (`/a/b` and `/a-b` read the same) and
 * because two clusters sharing one APIM service must not share a set. Only letters, digits, `-`, `.` and `_`: inside
 * APIM's id pattern `^[^*#&+:<>?]+$` and ≤ 80 characters.
 */
export function versionSetIdOf(k: VersionSetKey): string {
  const hash = createHash('sha256').update(versionSetKeyString(k)).digest('hex').slice(0, HASH_CHARS);
  const readable = `${k.namespace}${k.basePath}`
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  const head = readable.slice(0, VERSION_SET_ID_MAX - HASH_CHARS - 1).replace(/[-.]+$/, '');
  return head === '' ? hash : `${head}-${hash}`;
}

/** What the developer portal shows for the set: the base path without its leading slash, its tail kept if too long. */
export function versionSetDisplayName(basePath: string): string {
  const name = basePath.replace(/^\/+/, '');
  return name.length <= VERSION_SET_DISPLAY_NAME_MAX ? name : `...${name.slice(name.length - (VERSION_SET_DISPLAY_NAME_MAX - 3))}`;
}

/** The version set an API belongs to, as the executor applies it. */
export interface ApiVersioning extends PathVersion {
  setId: string;
  displayName: string;
  config: VersioningConfig;
}

/** The versioning of one ExposedAPI's API under the configuration, or undefined for a plain API. */
export function apiVersioningOf(api: { namespace: string; path: string; specVersion?: string }, cluster: string, config: VersioningConfig): ApiVersioning | undefined {
  const pv = pathVersionOf(api.path, api.specVersion);
  if (!pv) return undefined;
  return { ...pv, setId: versionSetIdOf({ cluster, namespace: api.namespace, basePath: pv.basePath }), displayName: versionSetDisplayName(pv.basePath), config };
}

/**
 * The path consumers call (status.apiStatus.url): under Segment exactly spec.path (APIM appends the version to the
 * shared base path); under Query and Header the base path, to which the caller adds the version parameter or header.
 */
export function publicPathOf(path: string, v: ApiVersioning | undefined): string {
  return v && v.config.scheme !== 'Segment' ? v.basePath : path;
}
