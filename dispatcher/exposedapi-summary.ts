// What the dispatcher keeps of an ExposedAPI: the few fields its decisions read. Never the spec itself — an inline
// OpenAPI document can be hundreds of kilobytes and thousands of ExposedAPIs must fit in the webhook's memory.
import { DETACH_ANNOTATION, FINALIZER, ODA_GROUP, SPEC_HASH_ANNOTATION } from '../core/exposedapi-model.ts';
import type { Condition } from '../core/exposedapi-status.ts';
import { isObject } from '../core/object-reader.ts';

export interface ComponentOwner {
  name: string;
  uid: string;
}

export interface DispatchSummary {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  /** The webhook's stamp: the accepted change. Absent when the object was never admitted by our webhook. */
  specHash?: string;
  appliedSpecHash?: string;
  lastJob?: string;
  deleting: boolean;
  finalizers: string[];
  detach: boolean;
  conditions: Condition[];
  /** spec.implementation: the Service whose EndpointSlices say whether the API is ready. */
  implementation: string;
  implementationReady?: boolean;
  /** The parent ODA Component, when the ExposedAPI has an ownerReference to one. */
  component?: ComponentOwner;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function readConditions(v: unknown): Condition[] {
  if (!Array.isArray(v)) return [];
  return v.filter((c): c is Condition => isObject(c) && typeof c['type'] === 'string' && typeof c['status'] === 'string').map((c) => ({
    type: c.type,
    status: c.status,
    reason: str(c.reason) ?? '',
    message: str(c.message) ?? '',
    lastTransitionTime: str(c.lastTransitionTime) ?? '',
    ...(typeof c.specHash === 'string' ? { specHash: c.specHash } : {}),
  }));
}

export function dispatchSummary(obj: Record<string, unknown>): DispatchSummary {
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const status = isObject(obj['status']) ? obj['status'] : {};
  const annotations = isObject(meta['annotations']) ? meta['annotations'] : {};
  const implementation = isObject(status['implementation']) ? status['implementation'] : {};
  const owners = Array.isArray(meta['ownerReferences']) ? meta['ownerReferences'] : [];
  const owner = owners.find((o) => isObject(o) && o['kind'] === 'Component' && String(o['apiVersion'] ?? '').startsWith(`${ODA_GROUP}/`));
  const finalizers = Array.isArray(meta['finalizers']) ? meta['finalizers'].filter((f): f is string => typeof f === 'string') : [];
  return {
    namespace: str(meta['namespace']) ?? '',
    name: str(meta['name']) ?? '',
    uid: str(meta['uid']) ?? '',
    resourceVersion: str(meta['resourceVersion']) ?? '',
    specHash: str(annotations[SPEC_HASH_ANNOTATION]),
    appliedSpecHash: str(status['appliedSpecHash']),
    lastJob: str(status['lastJob']),
    deleting: typeof meta['deletionTimestamp'] === 'string' || meta['deletionTimestamp'] instanceof Date,
    finalizers,
    detach: String(annotations[DETACH_ANNOTATION] ?? '').trim().toLowerCase() === 'true',
    conditions: readConditions(status['conditions']),
    implementation: str(spec['implementation']) ?? '',
    implementationReady: typeof implementation['ready'] === 'boolean' ? implementation['ready'] : undefined,
    ...(isObject(owner) ? { component: { name: String(owner['name'] ?? ''), uid: String(owner['uid'] ?? '') } } : {}),
  };
}

export function hasOurFinalizer(api: DispatchSummary): boolean {
  return api.finalizers.includes(FINALIZER);
}

export function keyOf(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}
