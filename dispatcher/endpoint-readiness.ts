// Whether an implementation Service is ready, from its EndpointSlices (label kubernetes.io/service-name), and the
// change that marks an ExposedAPI ready on its parent ODA Component. Pure.
import { isObject } from '../core/object-reader.ts';
import { sliceServesDocuments } from '../core/served-document.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface SliceSummary {
  namespace: string;
  service: string;
  /** At least one endpoint is ready (an absent `ready` counts as ready, as the EndpointSlice API defines). */
  ready: boolean;
  /**
   * At least one ready endpoint a served document may be read from (core/served-document.ts: written by the
   * EndpointSlice controller, naming a Pod): what the retry after exit 43 waits for.
   */
  servesDocuments: boolean;
}

export function sliceSummary(obj: unknown): SliceSummary | undefined {
  if (!isObject(obj)) return undefined;
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
  const labels = isObject(meta['labels']) ? meta['labels'] : {};
  const service = labels[SERVICE_NAME_LABEL];
  if (typeof service !== 'string' || service === '') return undefined;
  const endpoints = Array.isArray(obj['endpoints']) ? obj['endpoints'] : [];
  const ready = endpoints.some((e) => {
    const conditions = isObject(e) && isObject(e['conditions']) ? e['conditions'] : {};
    return conditions['ready'] !== false;
  });
  return { namespace: String(meta['namespace'] ?? ''), service, ready, servesDocuments: sliceServesDocuments(obj) };
}

/** EndpointSlices by Service: a Service is ready when any of its slices has a ready endpoint. */
export class ServiceReadiness {
  private readonly byService = new Map<string, Map<string, { ready: boolean; servesDocuments: boolean }>>();
  /** When each ready Service was seen to become ready (epoch ms): a Job that started before may not have seen it. */
  private readonly readySince = new Map<string, number>();

  static serviceKey(namespace: string, service: string): string {
    return `${namespace}/${service}`;
  }

  /** Records a slice; returns the Service key when the Service's readiness changed. */
  upsert(sliceKey: string, s: SliceSummary, nowMs = Date.now()): string | undefined {
    const key = ServiceReadiness.serviceKey(s.namespace, s.service);
    const before = this.isReady(s.namespace, s.service);
    const served = this.servesDocuments(key);
    let slices = this.byService.get(key);
    if (!slices) this.byService.set(key, (slices = new Map()));
    slices.set(sliceKey, { ready: s.ready, servesDocuments: s.servesDocuments });
    return this.settle(key, s, before, served, nowMs);
  }

  remove(sliceKey: string, s: SliceSummary, nowMs = Date.now()): string | undefined {
    const key = ServiceReadiness.serviceKey(s.namespace, s.service);
    const before = this.isReady(s.namespace, s.service);
    const served = this.servesDocuments(key);
    const slices = this.byService.get(key);
    slices?.delete(sliceKey);
    if (slices?.size === 0) this.byService.delete(key);
    return this.settle(key, s, before, served, nowMs);
  }

  /** The Service's key when either readiness changed (both replan the ExposedAPIs that name it). */
  private settle(key: string, s: SliceSummary, before: boolean, servedBefore: boolean, nowMs: number): string | undefined {
    const served = this.servesDocuments(key);
    if (served !== servedBefore) {
      if (served) this.readySince.set(key, nowMs);
      else this.readySince.delete(key);
    }
    return before === this.isReady(s.namespace, s.service) && served === servedBefore ? undefined : key;
  }

  private servesDocuments(key: string): boolean {
    for (const slice of this.byService.get(key)?.values() ?? []) if (slice.servesDocuments) return true;
    return false;
  }

  /**
   * Whether a served document can be read from the Service (core/served-document.ts), and since when (the moment this
   * process saw it): what the retry of a Job that found no ready pod waits for.
   */
  view(namespace: string, service: string): { ready: boolean; readySinceMs?: number } {
    const key = ServiceReadiness.serviceKey(namespace, service);
    const since = this.readySince.get(key);
    return since !== undefined ? { ready: true, readySinceMs: since } : { ready: false };
  }

  isReady(namespace: string, service: string): boolean {
    const slices = this.byService.get(ServiceReadiness.serviceKey(namespace, service));
    if (!slices) return false;
    for (const slice of slices.values()) if (slice.ready) return true;
    return false;
  }
}

export const COMPONENT_API_SECTIONS = ['coreAPIs', 'managementAPIs', 'securityAPIs'] as const;
export type ComponentApiSection = (typeof COMPONENT_API_SECTIONS)[number];

export type ComponentReadyChange =
  | { kind: 'patch'; section: ComponentApiSection; list: unknown[] }
  | { kind: 'unchanged' }
  /** The component operator has not listed the ExposedAPI yet: try again later. */
  | { kind: 'no-entry' };

/**
 * The Component's status entry whose `uid` is the ExposedAPI's, with `ready` set. A merge patch replaces a list
 * whole, so the change is the full list (written under the Component's resourceVersion).
 */
export function componentReadyChange(component: unknown, apiUid: string, ready: boolean): ComponentReadyChange {
  const status = isObject(component) && isObject(component['status']) ? component['status'] : {};
  for (const section of COMPONENT_API_SECTIONS) {
    const list = status[section];
    if (!Array.isArray(list)) continue;
    const i = list.findIndex((e) => isObject(e) && e['uid'] === apiUid);
    if (i < 0) continue;
    const entry = list[i] as Record<string, unknown>;
    if (entry['ready'] === ready) return { kind: 'unchanged' };
    const next = [...list];
    next[i] = { ...entry, ready };
    return { kind: 'patch', section, list: next };
  }
  return { kind: 'no-entry' };
}
