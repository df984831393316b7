// Writing the executor's part of an ExposedAPI's status (docs/status.md: one writer per field): its step conditions
// (kept per type, lastTransitionTime moving only on a status change), status.apiStatus, appliedSpecHash and the APIM
// ids. Merge patch with the resourceVersion read just before, so a concurrent writer (the dispatcher's Progressing
// condition) is never overwritten: on a conflict the object is read again and the change re-applied. Every write
// carries the executor's field manager (kube-client.ts), so managedFields shows what it wrote.
import { setCondition, type Condition, type ExposedApiStatus } from '../core/exposedapi-status.ts';
import { exposedApiPath, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import { KubeError, MERGE_PATCH, type KubeClient } from './kube-client.ts';

export type ConditionChange = Omit<Condition, 'lastTransitionTime'>;

export interface StatusChange {
  conditions: ConditionChange[];
  apiStatus?: ExposedApiStatus['apiStatus'];
  /**
   * @deprecated Not written: status.implementation.ready belongs to the dispatcher's readiness sync (EndpointSlices,
   * docs/status.md). Accepted so callers compile; leave it out.
   */
  implementation?: ExposedApiStatus['implementation'];
  appliedSpecHash?: string;
  /**
   * @deprecated Not written: status.lastJob belongs to the dispatcher, which records a Job when it sees it run
   * (docs/status.md). Accepted so callers compile; leave it out.
   */
  lastJob?: string;
  apim?: ExposedApiStatus['apim'];
}

/**
 * The status fields the executor writes, given the current status. Pure. Only the executor's own fields
 * (docs/status.md): implementation and lastJob in a change are dropped, never written.
 */
export function nextStatus(current: ExposedApiStatus | undefined, change: StatusChange, now: Date): ExposedApiStatus {
  let conditions = current?.conditions ?? [];
  for (const c of executorConditions(change.conditions)) conditions = setCondition(conditions, c, now);
  const out: ExposedApiStatus = { conditions };
  if (change.apiStatus) out.apiStatus = change.apiStatus;
  if (change.appliedSpecHash !== undefined) out.appliedSpecHash = change.appliedSpecHash;
  if (change.apim) out.apim = change.apim;
  return out;
}

/**
 * The executor's conditions in a change (docs/status.md): its step conditions as they are; Ready, DeleteBlocked and
 * Progressing are the dispatcher's and never written here. What a caller still calls them becomes the executor's own
 * type: `Ready` True (the last apply step) is `Published`; a `Ready` False that repeats the failing step's condition is
 * dropped, else (the last step failed) it is `Published` False; `DeleteBlocked` True (a failed delete) is `CleanedUp`
 * False. Pure.
 */
export function executorConditions(changes: readonly ConditionChange[]): ConditionChange[] {
  const out: ConditionChange[] = [];
  for (const c of changes) {
    if (c.type === 'Progressing') continue;
    if (c.type === 'DeleteBlocked') {
      out.push({ ...c, type: 'CleanedUp', status: c.status === 'True' ? 'False' : c.status === 'False' ? 'True' : 'Unknown' });
      continue;
    }
    if (c.type !== 'Ready') {
      out.push(c);
      continue;
    }
    const repeats = changes.some((o) => o.type !== 'Ready' && o.status === c.status && o.reason === c.reason && o.message === c.message);
    if (!repeats) out.push({ ...c, type: 'Published' });
  }
  return out;
}

export interface StatusWriterOptions {
  kube: KubeClient;
  ref: ExposedApiRef;
  statusSubresource: boolean;
  now?: () => Date;
  attempts?: number;
}

/** Applies a status change; returns the updated object, or undefined when the ExposedAPI is gone. */
export async function writeStatus(o: StatusWriterOptions, change: StatusChange, current?: ExposedApiObject): Promise<ExposedApiObject | undefined> {
  let obj = current;
  const attempts = o.attempts ?? 5;
  for (let i = 0; ; i++) {
    obj ??= await o.kube.get<ExposedApiObject>(exposedApiPath(o.ref));
    if (!obj) return undefined;
    const status = nextStatus(obj.status, change, (o.now ?? (() => new Date()))());
    try {
      return await o.kube.patch<ExposedApiObject>(
        exposedApiPath(o.ref, o.statusSubresource ? 'status' : undefined),
        { metadata: { resourceVersion: obj.metadata.resourceVersion }, status },
        MERGE_PATCH,
      );
    } catch (e) {
      if (e instanceof KubeError && e.status === 409 && i + 1 < attempts) {
        obj = undefined;
        continue;
      }
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
  }
}
