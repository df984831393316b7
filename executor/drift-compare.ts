// How an API stored in APIM differs from what its ExposedAPI's applied spec wants: the verify run's judgement
// (docs/drift.md). Pure. It reuses the apply's own comparisons (desired-api.ts driftOf for the settings,
// policy-compare.ts for the policy), so the verify run calls "drift" exactly what the next apply would correct, and
// nothing the apply leaves alone.
import type { ApiContract } from './apim-operations.ts';
import { ownershipOf, type OwnerIdentity } from './api-mark.ts';
import { driftOf, type DesiredApi } from './desired-api.ts';
import { samePolicy } from './policy-compare.ts';

/** What APIM holds for one API, from the verify run's bulk reads. */
export interface StoredApiState {
  /** The API as the service's API list returned it; undefined when the service has no API of that id. */
  api: ApiContract | undefined;
  /** The policy document (rawxml); undefined = the API has no policy; null = not read (not ours, or unreadable). */
  policy: string | undefined | null;
  /** Product and tag ids the API is linked to. */
  products: string[];
  tags: string[];
}

export interface WantedApiState {
  api: DesiredApi;
  policy: string;
  products: string[];
  tags: string[];
  /** Undefined when the backend URL could not be known without writing (an Ingress without an address yet). */
  compareServiceUrl: boolean;
}

/** One difference, as the Drifted condition names it. */
export interface Difference {
  /** The field, as in the apply: an API setting (path, serviceUrl, …), `policy`, `products`, `tags`, `api`, `ownership`. */
  field: string;
  detail?: string;
}

const lower = (s: string): string => s.toLowerCase();

function linkDifference(field: 'products' | 'tags', stored: string[], wanted: string[]): Difference | undefined {
  const have = new Set(stored.map(lower));
  const want = new Set(wanted.map(lower));
  const missing = wanted.filter((x) => !have.has(lower(x)));
  const extra = stored.filter((x) => !want.has(lower(x)));
  if (missing.length === 0 && extra.length === 0) return undefined;
  return { field, detail: [...missing.map((x) => `-${x}`), ...extra.map((x) => `+${x}`)].join(' ') };
}

/**
 * The differences between APIM and the spec, in the order the apply would correct them. An API that is gone, or no
 * longer carries this ExposedAPI's mark, is one difference and nothing else is compared (its policy and links are not
 * this ExposedAPI's to judge).
 */
export function compareApi(stored: StoredApiState, wanted: WantedApiState, who: OwnerIdentity): Difference[] {
  if (!stored.api) return [{ field: 'api', detail: `APIM has no API '${wanted.api.apiId}'` }];
  const own = ownershipOf(stored.api.apiRevisionDescription, who);
  if (own !== 'ours') return [{ field: 'ownership', detail: `APIM API '${wanted.api.apiId}' ${own === 'unmarked' ? 'no longer carries' : 'carries another ExposedAPI\'s mark instead of'} this ExposedAPI's ownership mark` }];
  const out: Difference[] = driftOf(stored.api, wanted.api)
    .filter((field) => field !== 'serviceUrl' || wanted.compareServiceUrl)
    .map((field) => ({ field }));
  if (stored.policy !== null && !samePolicy(stored.policy, wanted.policy)) out.push({ field: 'policy', ...(stored.policy === undefined ? { detail: 'none in APIM' } : {}) });
  const products = linkDifference('products', stored.products, wanted.products);
  if (products) out.push(products);
  const tags = linkDifference('tags', stored.tags, wanted.tags);
  if (tags) out.push(tags);
  return out;
}

/** "serviceUrl, policy, tags (-team-a +manual)": the differences as the condition and the Event say them. */
export function describeDifferences(differences: readonly Difference[]): string {
  return differences.map((d) => (d.detail ? `${d.field} (${d.detail})` : d.field)).join(', ');
}
