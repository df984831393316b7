// The mark the executor keeps on every API it manages, in the API's apiRevisionDescription (256 characters, rarely
// shown, kept by import and update): which ExposedAPI owns the API, and the fingerprint of the last successful import.
// The fingerprint is how a second run knows the document is unchanged without re-importing it (an import rewrites
// every operation); the owner is how two ExposedAPIs that derive the same apiId are told apart. Pure.
import { createHash } from 'node:crypto';

const PREFIX = 'exposedapi-apim';

export interface ApiMark {
  owner?: string;
  fingerprint?: string;
}

/** 16 hex digits of SHA-256("<namespace>/<name>"). */
export function ownerOf(namespace: string, name: string): string {
  return createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 16);
}

export function renderMark(owner: string, fingerprint: string): string {
  return `${PREFIX} owner=${owner} import=${fingerprint}`;
}

export function parseMark(text: string | null | undefined): ApiMark {
  if (!text || !text.startsWith(PREFIX)) return {};
  const owner = /\bowner=([0-9a-f]{16})\b/.exec(text)?.[1];
  const fingerprint = /\bimport=([0-9a-f]{64})\b/.exec(text)?.[1];
  return { ...(owner ? { owner } : {}), ...(fingerprint ? { fingerprint } : {}) };
}
