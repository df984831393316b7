// Moving an ExposedAPI between APIM instances (docs/apim-targets.md): an apply on the new instance records where the
// API was before (status.apim.formerTargets), and the dispatcher then runs a `release` Job against each of those with
// that instance's environment and identity, which removes the API there (proving ownership in APIM, as a delete does)
// and drops the entry. Publish first, remove after: consumers are never left without the API. Pure.
import { FORMER_TARGETS_MAX, type ExposedApiStatus, type FormerTarget } from '../core/exposedapi-status.ts';
import { sameServiceId } from '../core/apim-target.ts';
import { isObject } from '../core/object-reader.ts';

type RecordedApim = ExposedApiStatus['apim'] | undefined;

/** The former targets as status records them: well-formed entries only, at most FORMER_TARGETS_MAX (status is tenant-writable). */
export function recordedFormerTargets(apim: RecordedApim): FormerTarget[] {
  const raw: unknown = apim?.formerTargets;
  if (!Array.isArray(raw)) return [];
  const out: FormerTarget[] = [];
  for (const e of raw) {
    if (!isObject(e) || typeof e['target'] !== 'string' || typeof e['resourceId'] !== 'string') continue;
    if (out.some((o) => o.target === e['target'])) continue;
    out.push({ target: e['target'], resourceId: e['resourceId'] });
    if (out.length === FORMER_TARGETS_MAX) break;
  }
  return out;
}

/**
 * The former targets once an apply has published on `here`: what status recorded, plus the instance status said the
 * API was in when that is another one (an object published before targets existed recorded no resourceId: its service
 * name tells), less `here` itself (a move back).
 */
export function formerTargetsAfter(apim: RecordedApim, here: { target: string; resourceId: string; serviceName: string }): FormerTarget[] {
  const list = recordedFormerTargets(apim);
  if (apim && typeof apim.apiId === 'string' && apim.apiId !== '') {
    const target = typeof apim.target === 'string' ? apim.target : '';
    const resourceId = typeof apim.resourceId === 'string' ? apim.resourceId : '';
    const elsewhere = resourceId !== '' ? !sameServiceId(resourceId, here.resourceId) : apim.serviceName !== here.serviceName || target !== here.target;
    if (elsewhere && !list.some((e) => e.target === target)) list.push({ target, resourceId });
  }
  return list.filter((e) => e.target !== here.target && !(e.resourceId !== '' && sameServiceId(e.resourceId, here.resourceId))).slice(0, FORMER_TARGETS_MAX);
}

export type ReleaseGate = { proceed: true } | { proceed: false; message: string };

/**
 * Whether a release Job for `here` may remove the API: status must list `here` as a former target, and must not say
 * the API is published there now (a forged or stale entry must never take the live API away).
 */
export function releaseGate(apim: RecordedApim, here: { target: string; resourceId: string }): ReleaseGate {
  if (!recordedFormerTargets(apim).some((e) => e.target === here.target)) {
    return { proceed: false, message: `status.apim.formerTargets does not list ${here.target === '' ? 'the operator\'s own instance' : `ApimTarget "${here.target}"`}: nothing to release` };
  }
  const current = typeof apim?.resourceId === 'string' ? apim.resourceId : '';
  if ((current !== '' && sameServiceId(current, here.resourceId)) || (apim?.target ?? '') === here.target) {
    return { proceed: false, message: `the API is published in ${here.resourceId} now (status.apim): it is not released from there` };
  }
  return { proceed: true };
}
