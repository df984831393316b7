// The mark the executor keeps on every API it manages, in the API's apiRevisionDescription (256 characters, rarely
// shown, kept by import and update): which ExposedAPI of which cluster owns the API, and the fingerprint of the last
// successful import. Ownership is proven by this mark in APIM, never read from the ExposedAPI (whose status any
// tenant can write: the ODA CRD has no status subresource). Tenants cannot write APIM, so they cannot forge a mark.
// The fingerprint is how a second run knows the document is unchanged without re-importing it. Pure.
//
//   exposedapi-apim cluster=<id> owner=<16 hex> uid=<uid> import=<64 hex> ref=<namespace>/<name>
//
// `owner` = SHA-256("<cluster>/<namespace>/<name>") is the proof (fixed length, so the mark always fits); `ref` is for
// people reading the API in the portal and is cut to what is left of the 256 characters. The uid is recorded, not
// compared: an ExposedAPI deleted with detach-on-delete and created again under the same name in the same namespace
// (the same tenant) takes its API back. Marks written before the cluster field existed (`owner=` of
// SHA-256("<namespace>/<name>"), no `cluster=`) are still recognised, so an upgrade does not orphan any API.
import { createHash } from 'node:crypto';

const PREFIX = 'exposedapi-apim';
/** APIM's limit on apiRevisionDescription. */
export const MARK_MAX = 256;

export interface OwnerIdentity {
  /** CLUSTER_ID: which operator installation; several clusters may share one APIM service. */
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface ApiMark {
  cluster?: string;
  owner?: string;
  uid?: string;
  fingerprint?: string;
  ref?: string;
}

/** Whose an APIM entity is, judged by its mark. */
export type Ownership = 'ours' | 'other' | 'unmarked';

const hash16 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** 16 hex digits of SHA-256("<cluster>/<namespace>/<name>"). */
export function ownerHash(id: Pick<OwnerIdentity, 'cluster' | 'namespace' | 'name'>): string {
  return hash16(`${id.cluster}/${id.namespace}/${id.name}`);
}

/** The owner hash of marks written before CLUSTER_ID existed. */
export function legacyOwnerHash(namespace: string, name: string): string {
  return hash16(`${namespace}/${name}`);
}

export function renderMark(id: OwnerIdentity, fingerprint: string): string {
  const head = `${PREFIX} cluster=${id.cluster} owner=${ownerHash(id)} uid=${id.uid} import=${fingerprint} ref=`;
  return head + `${id.namespace}/${id.name}`.slice(0, Math.max(0, MARK_MAX - head.length));
}

export function parseMark(text: string | null | undefined): ApiMark {
  if (!text || !text.startsWith(`${PREFIX} `)) return {};
  const field = (name: string, pattern: string): string | undefined => new RegExp(`(?:^| )${name}=(${pattern})(?: |$)`).exec(text)?.[1];
  const out: ApiMark = {};
  const cluster = field('cluster', '[a-z0-9][a-z0-9.-]*');
  const owner = field('owner', '[0-9a-f]{16}');
  const uid = field('uid', '[0-9a-zA-Z-]+');
  const fingerprint = field('import', '[0-9a-f]{64}');
  const ref = /(?:^| )ref=(\S+)$/.exec(text)?.[1];
  if (cluster) out.cluster = cluster;
  if (owner) out.owner = owner;
  if (uid) out.uid = uid;
  if (fingerprint) out.fingerprint = fingerprint;
  if (ref) out.ref = ref;
  return out;
}

/** Whether a mark says the entity belongs to this ExposedAPI of this cluster. */
export function ownershipOf(text: string | null | undefined, id: OwnerIdentity): Ownership {
  const mark = parseMark(text);
  if (mark.owner === undefined) return 'unmarked';
  if (mark.cluster === undefined) return mark.owner === legacyOwnerHash(id.namespace, id.name) ? 'ours' : 'other';
  return mark.cluster === id.cluster && mark.owner === ownerHash(id) ? 'ours' : 'other';
}

/** Who a mark names, for messages: "<namespace>/<name> (cluster <id>)" as far as the mark says. */
export function describeOwner(text: string | null | undefined): string {
  const mark = parseMark(text);
  if (mark.owner === undefined) return 'nobody (it was not created by exposedapi-apim)';
  const who = mark.ref ? `ExposedAPI ${mark.ref}` : `another ExposedAPI (owner ${mark.owner})`;
  return mark.cluster ? `${who} of cluster ${mark.cluster}` : who;
}

/** The mark on shared entities the executor creates (products, OpenID Connect providers): who created them. */
export function creatorNote(id: Pick<OwnerIdentity, 'cluster' | 'namespace' | 'name'>): string {
  return `Created by exposedapi-apim (cluster ${id.cluster}) for ExposedAPI ${id.namespace}/${id.name}`;
}
