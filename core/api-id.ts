// Which APIM API an ExposedAPI owns. The id is derived from the namespace and name (so equal names in different
// namespaces never share an API) unless spec.apim.apiId gives one. Pure; in core/ because admission claims the id
// (core/rules/claims.ts) exactly as the executor uses it — one rule, not two copies.
//
// Rule: `<namespace>-<name>`, lower-cased. Longer than APIM's 80 characters: the first 71 characters (trailing "-" and
// "." dropped), "-" and 8 hex digits of SHA-256("<namespace>/<name>"), so cut ids of different objects stay distinct.
// Namespace and object names are DNS names, so the result is APIM-legal (core/rules/apim-extension.ts checkApiId
// proves it in the tests). `a-b`/`c` and `a`/`b-c` derive the same id: the apiId claim denies the second at
// admission (the dispatcher gates it if both got in at once), and the ownership mark the executor keeps on the API
// (executor/api-mark.ts) keeps one ExposedAPI from ever writing or deleting the other's API.
import { createHash } from 'node:crypto';
import { APIM_ID_MAX } from './rules/apim-extension.ts';
import type { ExposedApi } from './exposedapi-model.ts';

const HASH_CHARS = 8;

export function derivedApiId(namespace: string, name: string): string {
  const full = `${namespace}-${name}`.toLowerCase();
  if (full.length <= APIM_ID_MAX) return full;
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, HASH_CHARS);
  const head = full.slice(0, APIM_ID_MAX - HASH_CHARS - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}

/** spec.apim.apiId as written (any string, even an invalid one: validation reports it), else the derived id. */
export function effectiveApiId(namespace: string, name: string, apiId: unknown): string {
  return typeof apiId === 'string' ? apiId : derivedApiId(namespace, name);
}

export function apiIdOf(api: Pick<ExposedApi, 'namespace' | 'name' | 'spec'>): string {
  return effectiveApiId(api.namespace, api.name, api.spec.apim.apiId);
}

/** The key two apiIds collide on: APIM compares resource ids case-insensitively. */
export function apiIdClaimKey(apiId: string): string {
  return apiId.toLowerCase();
}
