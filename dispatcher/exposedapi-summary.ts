// What the dispatcher keeps of an ExposedAPI: the few fields its decisions read. Never the spec itself — an inline
// OpenAPI document can be hundreds of kilobytes and thousands of ExposedAPIs must fit in the webhook's memory.
import { DETACH_ANNOTATION, FINALIZER, ODA_GROUP, SPEC_HASH_ANNOTATION } from '../core/exposedapi-model.ts';
import { FORMER_TARGETS_MAX, type Condition, type ConditionType } from '../core/exposedapi-status.ts';
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
  /** spec.apim.target as written (core/target-selection.ts reads it with the namespace's labels). */
  target?: string;
  /** status.apim.target / targetSettings: where the applied hash was applied ('' = the operator's own instance). */
  appliedTarget?: string;
  appliedTargetSettings?: string;
  /** status.apim.formerTargets' names (bounded): instances a move left the API in, each to be released. */
  formerTargets?: string[];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The condition types the operator writes (core/exposedapi-status.ts). Status is writable by anyone who may write the
 * object (the ODA CRD has no status subresource), so the summary keeps only these, the first of each type (the one
 * setCondition and conditionOf use), with bounded fields: 200 objects with 6000 forged conditions each cost 319 MB of
 * heap when every condition was kept. The dispatcher's own status writes then carry only these conditions too.
 */
export const OPERATOR_CONDITION_TYPES = ['Validated', 'RouteReady', 'Imported', 'PoliciesApplied', 'Published', 'CleanedUp', 'Serving', 'Drifted', 'Ready', 'Progressing', 'DeleteBlocked', 'Stalled'] as const satisfies readonly ConditionType[];
// A condition type added to ConditionType but not here fails the type check.
const everyType: Exclude<ConditionType, (typeof OPERATOR_CONDITION_TYPES)[number]> extends never ? true : never = true;
void everyType;
const KNOWN_TYPES = new Set<string>(OPERATOR_CONDITION_TYPES);
const STATUSES = new Set(['True', 'False', 'Unknown']);

/** Longest condition message kept; ours are far shorter (Job names, APIM errors of a few hundred characters). */
export const CONDITION_MESSAGE_MAX = 2048;
const SHORT_FIELD_MAX = 256;

/**
 * A fresh copy of at most `max` characters. A slice of a long string can keep the whole string alive in V8 (a sliced
 * string points into its parent), so a forged megabyte message would stay in memory behind a 2 kB prefix.
 */
function bounded(v: unknown, max: number): string {
  if (typeof v !== 'string') return '';
  if (v.length <= max) return v;
  return Buffer.from(`${v.slice(0, max - 1)}…`, 'utf8').toString('utf8');
}

/** A condition message as the summary keeps it; what the dispatcher writes is bounded the same way, so it reads back equal. */
export function boundedConditionMessage(message: string): string {
  return bounded(message, CONDITION_MESSAGE_MAX);
}

function readConditions(v: unknown): Condition[] {
  if (!Array.isArray(v)) return [];
  const kept = new Map<string, Condition>();
  for (const c of v) {
    if (kept.size === KNOWN_TYPES.size) break;
    if (!isObject(c) || typeof c['type'] !== 'string' || !KNOWN_TYPES.has(c['type']) || kept.has(c['type'])) continue;
    if (typeof c['status'] !== 'string' || !STATUSES.has(c['status'])) continue;
    kept.set(c['type'], {
      type: c['type'] as ConditionType,
      status: c['status'] as Condition['status'],
      reason: bounded(c['reason'], SHORT_FIELD_MAX),
      message: bounded(c['message'], CONDITION_MESSAGE_MAX),
      lastTransitionTime: bounded(c['lastTransitionTime'], SHORT_FIELD_MAX),
      ...(typeof c['specHash'] === 'string' ? { specHash: bounded(c['specHash'], SHORT_FIELD_MAX) } : {}),
    });
  }
  return [...kept.values()];
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
    // Also from tenant-writable status: bounded like the conditions.
    appliedSpecHash: typeof status['appliedSpecHash'] === 'string' ? bounded(status['appliedSpecHash'], SHORT_FIELD_MAX) : undefined,
    lastJob: typeof status['lastJob'] === 'string' ? bounded(status['lastJob'], SHORT_FIELD_MAX) : undefined,
    deleting: typeof meta['deletionTimestamp'] === 'string' || meta['deletionTimestamp'] instanceof Date,
    finalizers,
    detach: String(annotations[DETACH_ANNOTATION] ?? '').trim().toLowerCase() === 'true',
    conditions: readConditions(status['conditions']),
    implementation: str(spec['implementation']) ?? '',
    implementationReady: typeof implementation['ready'] === 'boolean' ? implementation['ready'] : undefined,
    ...(isObject(owner) ? { component: { name: String(owner['name'] ?? ''), uid: String(owner['uid'] ?? '') } } : {}),
    ...targetFields(spec, status),
  };
}

/** The target fields of the summary; status is tenant-writable, so they are bounded like the conditions. */
function targetFields(spec: Record<string, unknown>, status: Record<string, unknown>): Pick<DispatchSummary, 'target' | 'appliedTarget' | 'appliedTargetSettings' | 'formerTargets'> {
  const specApim = isObject(spec['apim']) ? spec['apim'] : {};
  const apim = isObject(status['apim']) ? status['apim'] : {};
  const former = Array.isArray(apim['formerTargets']) ? apim['formerTargets'] : [];
  const names: string[] = [];
  for (const e of former) {
    if (names.length === FORMER_TARGETS_MAX) break;
    if (isObject(e) && typeof e['target'] === 'string' && e['target'].length <= SHORT_FIELD_MAX && !names.includes(e['target'])) names.push(bounded(e['target'], SHORT_FIELD_MAX));
  }
  return {
    ...(typeof specApim['target'] === 'string' ? { target: specApim['target'] } : {}),
    ...(typeof apim['target'] === 'string' ? { appliedTarget: bounded(apim['target'], SHORT_FIELD_MAX) } : {}),
    ...(typeof apim['targetSettings'] === 'string' ? { appliedTargetSettings: bounded(apim['targetSettings'], SHORT_FIELD_MAX) } : {}),
    ...(names.length > 0 ? { formerTargets: names } : {}),
  };
}

export function hasOurFinalizer(api: DispatchSummary): boolean {
  return api.finalizers.includes(FINALIZER);
}

export function keyOf(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}
