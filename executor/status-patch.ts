// Writing the executor's part of an ExposedAPI's status (docs/status.md: one writer per field): its step conditions
// (kept per type, lastTransitionTime moving only on a status change), status.apiStatus, appliedSpecHash and the APIM
// ids. Which fields, and how they follow from the current status, is the executor's (nextStatus); the write is the
// project's one status writer (core/kube/status-writer.ts): merge patch with the resourceVersion read just before, so
// a concurrent writer (the dispatcher's Progressing condition) is never overwritten; on a conflict the object is read
// again and the change re-applied. Every write carries the executor's field manager (kube-client.ts), so
// managedFields shows what it wrote.
import { setCondition, type Condition, type ExposedApiStatus } from '../core/exposedapi-status.ts';
import { exposedApiPath, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import { writeFields } from '../core/kube/status-writer.ts';
import type { KubeClient } from './kube-client.ts';

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
 * The executor's conditions in a change (docs/status.md): its step conditions as they are; Ready, DeleteBlocked,
 * Progressing and Stalled are the dispatcher's and never written here. What a caller still calls them becomes the
 * executor's own type: `Ready` True (the last apply step) is `Published`; a `Ready` False that repeats the failing
 * step's condition is dropped, else (the last step failed) it is `Published` False; `DeleteBlocked` True (a failed
 * delete) is `CleanedUp` False. Pure.
 */
export function executorConditions(changes: readonly ConditionChange[]): ConditionChange[] {
  const out: ConditionChange[] = [];
  for (const c of changes) {
    if (c.type === 'Progressing' || c.type === 'Stalled') continue;
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

/**
 * Applies a status change through the project's one status writer (core/kube/status-writer.ts: guarded merge patch,
 * read again and re-applied on a conflict); returns the updated object, or undefined when the ExposedAPI is gone.
 */
export async function writeStatus(options: StatusWriterOptions, change: StatusChange, current?: ExposedApiObject): Promise<ExposedApiObject | undefined> {
  const now = options.now ?? (() => new Date());
  const written = await writeFields<ExposedApiObject>({
    kube: options.kube,
    path: exposedApiPath(options.ref),
    patchPath: exposedApiPath(options.ref, options.statusSubresource ? 'status' : undefined),
    fields: (obj) => ({ status: nextStatus(obj.status, change, now()) }),
    attempts: options.attempts ?? 5,
  }, current);
  if (written.result === 'conflict') throw written.error;
  return written.result === 'ok' ? written.object : undefined;
}
