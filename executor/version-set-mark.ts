// The mark the executor keeps on every API version set it creates, in the set's description: which cluster and
// namespace the set belongs to, and its grouping key. Like the API mark (api-mark.ts) it is the proof of ownership,
// read in APIM, never from Kubernetes: a set without it (made by hand, by Bicep, by another tool) or with another
// cluster's or namespace's is never changed or deleted. A set is shared by the versions of one base path in one
// namespace (core/api-versioning.ts), so its owner is the namespace, not one ExposedAPI. Pure.
//
//   exposedapi-apim version-set cluster=<id> owner=<16 hex> key=<16 hex> ref=<namespace><base path>
//
// `owner` = SHA-256("<cluster>/<namespace>") cut to 16 hex digits, `key` = SHA-256 of the grouping key; `ref` is for
// people reading the set in the portal and is cut to what is left of 256 characters.
import { createHash } from 'node:crypto';
import { versionSetKeyString, type VersionSetKey } from '../core/api-versioning.ts';
import type { Ownership } from './api-mark.ts';

const PREFIX = 'exposedapi-apim version-set';
const MARK_MAX = 256;

const hash16 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

export function renderVersionSetMark(k: VersionSetKey): string {
  const head = `${PREFIX} cluster=${k.cluster} owner=${hash16(`${k.cluster}/${k.namespace}`)} key=${hash16(versionSetKeyString(k))} ref=`;
  return head + `${k.namespace}${k.basePath}`.slice(0, Math.max(0, MARK_MAX - head.length));
}

/** Whether a set's description says it is this cluster's set for this namespace. */
export function versionSetOwnership(description: string | null | undefined, k: Pick<VersionSetKey, 'cluster' | 'namespace'>): Ownership {
  if (!description || !description.startsWith(`${PREFIX} `)) return 'unmarked';
  const cluster = / cluster=([a-z0-9][a-z0-9.-]*) /.exec(description)?.[1];
  const owner = / owner=([0-9a-f]{16}) /.exec(description)?.[1];
  if (!cluster || !owner) return 'unmarked';
  return cluster === k.cluster && owner === hash16(`${k.cluster}/${k.namespace}`) ? 'ours' : 'other';
}

/** Who a set's mark names, for messages. */
export function describeVersionSetOwner(description: string | null | undefined): string {
  if (!description || !description.startsWith(`${PREFIX} `)) return 'nobody (it was not created by exposedapi-apim)';
  const ref = / ref=(\S+)$/.exec(description)?.[1];
  const cluster = / cluster=(\S+) /.exec(description)?.[1];
  return `the ExposedAPIs of ${ref ? `namespace ${ref.split('/')[0]}` : 'another namespace'}${cluster ? ` of cluster ${cluster}` : ''}`;
}
