// Which APIM API an ExposedAPI owns. The id is derived from the namespace and name (so equal names in different
// namespaces never share an API) unless spec.apim.apiId gives one. Pure.
//
// Rule: `<namespace>-<name>`, lower-cased. Longer than APIM's 80 characters: the first 71 characters (trailing "-" and
// "." dropped), "-" and 8 hex digits of SHA-256("<namespace>/<name>"), so cut ids of different objects stay distinct.
// Namespace and object names are DNS names, so the result is APIM-legal (core/rules/apim-extension.ts checkApiId
// proves it in the tests). `a-b`/`c` and `a`/`b-c` would derive the same id: the ownership mark the executor keeps on
// the API (see apim-ownership.ts) turns that into a clear error instead of one ExposedAPI overwriting the other's API.
import { createHash } from 'node:crypto';
import { APIM_ID_MAX } from '../core/rules/apim-extension.ts';
import type { ExposedApi } from '../core/exposedapi-model.ts';

const HASH_CHARS = 8;

export function derivedApiId(namespace: string, name: string): string {
  const full = `${namespace}-${name}`.toLowerCase();
  if (full.length <= APIM_ID_MAX) return full;
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, HASH_CHARS);
  const head = full.slice(0, APIM_ID_MAX - HASH_CHARS - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}

export function apiIdOf(api: Pick<ExposedApi, 'namespace' | 'name' | 'spec'>): string {
  return api.spec.apim.apiId ?? derivedApiId(api.namespace, api.name);
}
