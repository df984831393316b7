// Who an apply works for in APIM, and which earlier apiIds it may have to clean up. status.apim is writable by
// tenants, so the ids read from it are hints only: each is checked against APIM's mark before anything is removed.
import { ADOPT_ANNOTATION } from '../core/exposedapi-model.ts';
import { checkApiId } from '../core/rules/apim-extension.ts';
import { ruleFor } from '../core/tenancy-policy.ts';
import type { OwnerIdentity } from './api-mark.ts';
import type { OwnershipPolicy } from './apim-sync.ts';
import type { EventRecorder } from './events.ts';
import type { ExposedApiObject } from './exposedapi-object.ts';
import type { RunContext } from './run-context.ts';

/** The run's identity in APIM marks, and whether it may adopt an unmarked API (annotation + TENANCY_POLICY). */
export function ownershipPolicy(ctx: RunContext, obj: ExposedApiObject, apiId: string, events: EventRecorder): OwnershipPolicy {
  const who: OwnerIdentity = { cluster: ctx.config.clusterId, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid };
  const asked = obj.metadata.annotations?.[ADOPT_ANNOTATION]?.trim();
  if (!asked) return { who, adopt: false };
  const allowed = ruleFor(ctx.config.tenancy, who.namespace)?.allowAdoption === true;
  if (asked.toLowerCase() !== apiId.toLowerCase()) {
    events.warning('AdoptionIgnored', `${ADOPT_ANNOTATION}=${asked} does not name this ExposedAPI's APIM API '${apiId}'; nothing is adopted`);
    return { who, adopt: false };
  }
  if (!allowed) {
    events.warning('AdoptionNotAllowed', `${ADOPT_ANNOTATION}=${asked} is ignored: TENANCY_POLICY does not allow adoption in namespace ${who.namespace}`);
    return { who, adopt: false };
  }
  return { who, adopt: true };
}

/** Earlier apiIds of this ExposedAPI as its status records them (a hint, checked against APIM's marks before use). */
export function formerApiIdsOf(obj: ExposedApiObject, serviceName: string, apiId: string): string[] {
  const recorded = obj.status?.apim;
  if (!recorded || recorded.serviceName !== serviceName) return [];
  const ids = [recorded.apiId, ...(Array.isArray(recorded.pendingApiIds) ? recorded.pendingApiIds : [])].filter((id): id is string => typeof id === 'string' && id !== '');
  return uniqueIds(ids).filter((id) => id.toLowerCase() !== apiId.toLowerCase() && checkApiId('apiId', id).length === 0);
}

/** status.apim after a failed run that may have created `started`: the published id stays, `started` is pending. */
export function pendingRecord(obj: ExposedApiObject, serviceName: string, started: string): NonNullable<ExposedApiObject['status']>['apim'] {
  const recorded = obj.status?.apim?.serviceName === serviceName ? obj.status.apim : undefined;
  const published = recorded?.apiId || started;
  const pending = uniqueIds([...(Array.isArray(recorded?.pendingApiIds) ? recorded.pendingApiIds : []), ...(published.toLowerCase() === started.toLowerCase() ? [] : [started])]);
  return { apiId: published, serviceName, ...(pending.length > 0 ? { pendingApiIds: pending.slice(-8) } : {}) };
}

/** First spelling wins: APIM compares resource ids case-insensitively. */
export function uniqueIds(ids: string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = id.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
