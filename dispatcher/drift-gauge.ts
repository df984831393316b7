// What the exposedapi_apim_drifted gauge counts: an ExposedAPI whose Drifted condition is True for the spec hash it
// carries now (a verdict about an older spec says nothing about the current one). Pure.
import type { DispatchSummary } from './exposedapi-summary.ts';

export function isDrifted(api: Pick<DispatchSummary, 'conditions' | 'specHash' | 'deleting'>): boolean {
  if (api.deleting || api.specHash === undefined) return false;
  const drifted = api.conditions.find((c) => c.type === 'Drifted');
  return drifted?.status === 'True' && drifted.specHash === api.specHash;
}
