// Writing the executor's part of an ExposedAPI's status: conditions (kept per type, lastTransitionTime moving only on
// a status change), the ODA fields apiStatus and implementation, appliedSpecHash, lastJob and the APIM ids. Merge patch
// with the resourceVersion read just before, so a concurrent writer (the dispatcher's Progressing condition) is never
// overwritten: on a conflict the object is read again and the change re-applied.
import { setCondition, type Condition, type ExposedApiStatus } from '../core/exposedapi-status.ts';
import { exposedApiPath, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import { KubeError, MERGE_PATCH, type KubeClient } from './kube-client.ts';

export type ConditionChange = Omit<Condition, 'lastTransitionTime'>;

export interface StatusChange {
  conditions: ConditionChange[];
  apiStatus?: ExposedApiStatus['apiStatus'];
  implementation?: ExposedApiStatus['implementation'];
  appliedSpecHash?: string;
  lastJob?: string;
  apim?: ExposedApiStatus['apim'];
}

/** The status fields to write, given the current status. Pure. */
export function nextStatus(current: ExposedApiStatus | undefined, change: StatusChange, now: Date): ExposedApiStatus {
  let conditions = current?.conditions ?? [];
  for (const c of change.conditions) conditions = setCondition(conditions, c, now);
  const out: ExposedApiStatus = { conditions };
  if (change.apiStatus) out.apiStatus = change.apiStatus;
  if (change.implementation) out.implementation = change.implementation;
  if (change.appliedSpecHash !== undefined) out.appliedSpecHash = change.appliedSpecHash;
  if (change.lastJob !== undefined) out.lastJob = change.lastJob;
  if (change.apim) out.apim = change.apim;
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
