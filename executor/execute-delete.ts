// `execute delete`: undo an apply once the ExposedAPI is being deleted. Every APIM API that carries this ExposedAPI's
// ownership mark goes with its revisions and its product and tag links (shared products, tags and OpenID Connect
// providers stay), then the route, then our finalizer, which lets Kubernetes finish the deletion. What to remove is
// found from APIM's marks, never from status (which the tenant can write): a forged status.apim.apiId naming another
// team's API changes nothing, and an API without our mark is never deleted. With the annotation exposedapi-apim.io/detach-on-delete: "true"
// APIM is left untouched. An API already gone is success, so a killed run is simply run again.
import { DETACH_ANNOTATION, FINALIZER, readExposedApi } from '../core/exposedapi-model.ts';
import { EXIT_OK } from '../core/exposedapi-status.ts';
import { checkApiId } from '../core/rules/apim-extension.ts';
import { apiIdOf } from '../core/api-id.ts';
import type { OwnerIdentity } from './api-mark.ts';
import { deleteApi, listOwnedApis } from './apim-sync.ts';
import { eventRecorder } from './events.ts';
import { exposedApiPath, hasStatusSubresource, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import { classifyKubeError, JSON_PATCH, KubeError, type KubeClient } from './kube-client.ts';
import { removeRoute } from './route-sync.ts';
import type { RunContext } from './run-context.ts';
import { writeStatus } from './status-patch.ts';
import { StepFailure } from './step-failure.ts';
import { exitCodeOf } from './step-outcome.ts';

/**
 * The APIM APIs this ExposedAPI may have, to be checked against their marks: the one its (frozen) spec names, and the
 * ones its status records (a hint). The scan of the service's marks (listOwnedApis) adds any others.
 */
export function apiIdsToDelete(obj: ExposedApiObject, serviceName: string): string[] {
  const ids: string[] = [];
  const recorded = obj.status?.apim;
  if (recorded?.apiId && recorded.serviceName === serviceName) {
    for (const id of [recorded.apiId, ...(Array.isArray(recorded.pendingApiIds) ? recorded.pendingApiIds : [])]) {
      if (typeof id === 'string' && checkApiId('apiId', id).length === 0 && !ids.some((x) => x.toLowerCase() === id.toLowerCase())) ids.push(id);
    }
  }
  const { model } = readExposedApi(obj);
  const fromSpec = apiIdOf({ namespace: obj.metadata.namespace, name: obj.metadata.name, spec: model.spec });
  // A spec id APIM would reject cannot name an API we created.
  if (checkApiId('spec.apim.apiId', fromSpec).length === 0 && !ids.some((id) => id.toLowerCase() === fromSpec.toLowerCase())) ids.push(fromSpec);
  return ids;
}

/** Removes only our finalizer (JSON patch with a test, so other finalizers and concurrent edits are untouched). */
export async function removeFinalizer(kube: KubeClient, ref: ExposedApiRef, obj: ExposedApiObject): Promise<boolean> {
  let current: ExposedApiObject | undefined = obj;
  for (let attempt = 0; attempt < 5; attempt++) {
    current ??= await kube.get<ExposedApiObject>(exposedApiPath(ref));
    if (!current) return false;
    const i = (current.metadata.finalizers ?? []).indexOf(FINALIZER);
    if (i < 0) return false;
    try {
      await kube.patch(exposedApiPath(ref), [
        { op: 'test', path: `/metadata/finalizers/${i}`, value: FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${i}` },
      ], JSON_PATCH);
      return true;
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return false;
      if (e instanceof KubeError && (e.status === 422 || e.status === 409)) {
        current = undefined;
        continue;
      }
      throw e;
    }
  }
  throw new Error(`the finalizers of ExposedAPI ${ref.namespace}/${ref.name} kept changing`);
}

/** Undoes the change; `obj` is the ExposedAPI as read for the gate (change-gate.ts): being deleted, hash current. */
export async function executeDelete(ctx: RunContext, ref: ExposedApiRef, obj: ExposedApiObject): Promise<number> {
  const { kube, log, config } = ctx;
  const events = eventRecorder(kube, obj, log, ctx.instance);
  const detach = obj.metadata.annotations?.[DETACH_ANNOTATION] === 'true';
  if (!detach) ctx.warmUpApim();
  try {
    if (detach) {
      events.normal('Detached', `${DETACH_ANNOTATION} is "true": the APIM API is left as it is`);
      log.info('detached: APIM left untouched');
    } else {
      const apim = await ctx.apim();
      const who: OwnerIdentity = { cluster: config.clusterId, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid };
      const candidates = apiIdsToDelete(obj, config.apim.serviceName);
      for (const id of await listOwnedApis(apim, who)) if (!candidates.some((c) => c.toLowerCase() === id.toLowerCase())) candidates.push(id);
      for (const apiId of candidates) {
        const outcome = await deleteApi(apim, apiId, who);
        const message = {
          deleted: `APIM API '${apiId}' deleted with its revisions and links`,
          absent: `APIM API '${apiId}' was already gone`,
          'not-ours': `APIM API '${apiId}' does not carry this ExposedAPI's ownership mark and was left alone`,
        }[outcome];
        log.info(message, { apiId, outcome });
        events.normal(outcome === 'deleted' ? 'ApiDeleted' : 'ApiAbsent', message);
      }
    }
    const routeRemoved = await removeRoute({ kube, budget: ctx.budget, config }, config.route.mode, { namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid });
    if (routeRemoved) events.normal('RouteDeleted', `the route of ${ref.namespace}/${ref.name} was deleted`);
    const removed = await ctx.budget.run('removing the finalizer', () => removeFinalizer(kube, ref, obj), classifyKubeError);
    log.info(removed ? `finalizer ${FINALIZER} removed` : `finalizer ${FINALIZER} was not present`);
    await events.flush();
    return EXIT_OK;
  } catch (e) {
    const failure = e instanceof StepFailure ? e : new StepFailure({ retriable: true, reason: 'UnexpectedError', message: e instanceof Error ? e.message : String(e) }, { cause: e });
    const message = `${failure.message}. To delete the ExposedAPI without touching APIM: kubectl annotate exposedapi ${ref.name} -n ${ref.namespace} ${DETACH_ANNOTATION}=true`;
    log.error(failure.message, { reason: failure.info.reason, retriable: failure.info.retriable, ...(failure.info.apim ? { apim: failure.info.apim } : {}) });
    events.warning(failure.info.reason, message);
    try {
      const statusSubresource = await hasStatusSubresource(kube).catch(() => false);
      await writeStatus({ kube, ref, statusSubresource }, {
        conditions: [{ type: 'DeleteBlocked', status: 'True', reason: failure.info.reason, message, specHash: ctx.specHash }],
        ...(config.jobName ? { lastJob: config.jobName } : {}),
      }, obj);
    } catch (statusError) {
      log.error('could not write the failure to the ExposedAPI status', { error: statusError instanceof Error ? statusError.message : String(statusError) });
    }
    await events.flush();
    return exitCodeOf(failure);
  }
}
