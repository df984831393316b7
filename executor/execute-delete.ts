// `execute delete`: undo an apply once the ExposedAPI is being deleted. Every APIM API that carries this ExposedAPI's
// ownership mark goes with its revisions and its product and tag links (shared products, tags and OpenID Connect
// providers stay), then the route, then our finalizer, which lets Kubernetes finish the deletion. What to remove is
// found from APIM's marks, never from status (which the tenant can write): a forged status.apim.apiId naming another
// team's API changes nothing, and an API without our mark is never deleted. With the annotation exposedapi-apim.io/detach-on-delete: "true"
// APIM is left untouched. An API already gone is success, so a killed run is simply run again.
import { DETACH_ANNOTATION, FINALIZER, readExposedApi } from '../core/exposedapi-model.ts';
import { checkApiId } from '../core/rules/apim-extension.ts';
import { apiIdOf } from '../core/api-id.ts';
import type { OwnerIdentity } from './api-mark.ts';
import { deleteApi, ownedApis } from './apim-sync.ts';
import { apiVersioningOf } from '../core/api-versioning.ts';
import { removeUnusedVersionSet, versionSetIdIn } from './version-set-sync.ts';
import { eventRecorder, type EventRecorder } from './events.ts';
import { exposedApiPath, hasStatusSubresource, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import { classifyKubeError, JSON_PATCH, KubeError, type KubeClient } from './kube-client.ts';
import { removeRoute } from './route-sync.ts';
import type { RunContext } from './run-context.ts';
import { writeStatus } from './status-patch.ts';
import { done, type StepOutcome } from './step-outcome.ts';
import { runSteps, type Procedure, type RunResult } from './step-runner.ts';

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

export interface DeleteRun {
  ctx: RunContext;
  ref: ExposedApiRef;
  /** The ExposedAPI as read for the gate: being deleted, hash current. */
  obj: ExposedApiObject;
  events: EventRecorder;
}

async function detached(s: DeleteRun): Promise<StepOutcome> {
  s.events.normal('Detached', `${DETACH_ANNOTATION} is "true": the APIM API is left as it is`);
  s.ctx.log.info('detached: APIM left untouched');
  return done();
}

export async function apisDeleted(s: Pick<DeleteRun, 'ctx' | 'obj' | 'events'>): Promise<StepOutcome> {
  const { ctx, obj } = s;
  const apim = await ctx.apim();
  const who: OwnerIdentity = { cluster: ctx.config.clusterId, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid };
  const candidates = apiIdsToDelete(obj, ctx.config.apim.serviceName);
  const owned = await ownedApis(apim, who);
  for (const id of owned.map((a) => a.name!)) if (!candidates.some((c) => c.toLowerCase() === id.toLowerCase())) candidates.push(id);
  // The version sets the APIs leave: the ones APIM says they are in, and the one the frozen spec names (its API may
  // be gone already, from a run that was killed after deleting it).
  const sets = new Set<string>();
  for (const a of owned) {
    const id = versionSetIdIn(a.apiVersionSetId);
    if (id) sets.add(id);
  }
  const { model } = readExposedApi(obj);
  const specVersion = model.spec.specification[0]?.version;
  const fromSpec = apiVersioningOf({ namespace: obj.metadata.namespace, path: model.spec.path, ...(specVersion !== undefined ? { specVersion } : {}) }, ctx.config.clusterId, ctx.config.versioning);
  if (fromSpec && ![...sets].some((id) => id.toLowerCase() === fromSpec.setId.toLowerCase())) sets.add(fromSpec.setId);
  for (const apiId of candidates) {
    const outcome = await deleteApi(apim, apiId, who);
    const message = {
      deleted: `APIM API '${apiId}' deleted with its revisions and links`,
      absent: `APIM API '${apiId}' was already gone`,
      'not-ours': `APIM API '${apiId}' does not carry this ExposedAPI's ownership mark and was left alone`,
    }[outcome];
    ctx.log.info(message, { apiId, outcome });
    s.events.normal(outcome === 'deleted' ? 'ApiDeleted' : 'ApiAbsent', message);
  }
  // A set goes with its last version, proven by APIM's list of APIs; one that other versions still use stays.
  for (const setId of sets) {
    const removal = await removeUnusedVersionSet(apim, setId, { cluster: ctx.config.clusterId, namespace: obj.metadata.namespace });
    const message = {
      deleted: `APIM API version set '${setId}' deleted: no API is in it any more`,
      absent: `APIM API version set '${setId}' is gone (APIM removes a set with its last API)`,
      'not-ours': `APIM API version set '${setId}' does not carry this namespace's mark and was left alone`,
      'in-use': `APIM API version set '${setId}' stays: ${removal.outcome === 'in-use' && removal.users.length > 0 ? `API(s) ${removal.users.join(', ')} still use it` : 'another version joined it meanwhile'}`,
    }[removal.outcome];
    ctx.log.info(message, { versionSetId: setId, outcome: removal.outcome });
    if (removal.outcome === 'deleted') s.events.normal('VersionSetDeleted', message);
  }
  return done();
}

async function routeDeleted(s: DeleteRun): Promise<StepOutcome> {
  const { ctx, ref, obj } = s;
  const removed = await removeRoute({ kube: ctx.kube, budget: ctx.budget, config: ctx.config }, ctx.config.route.mode, { namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid });
  if (removed) s.events.normal('RouteDeleted', `the route of ${ref.namespace}/${ref.name} was deleted`);
  return done();
}

async function finalizerRemoved(s: DeleteRun): Promise<StepOutcome> {
  const { ctx, ref, obj } = s;
  const removed = await ctx.budget.run('removing the finalizer', () => removeFinalizer(ctx.kube, ref, obj), classifyKubeError);
  ctx.log.info(removed ? `finalizer ${FINALIZER} removed` : `finalizer ${FINALIZER} was not present`);
  return done();
}

/**
 * The steps report no conditions: a delete that works leaves nothing in status; one that fails says CleanedUp False
 * (the dispatcher turns that into DeleteBlocked, docs/status.md).
 */
export function deleteProcedure(detach: boolean): Procedure<DeleteRun> {
  return {
    steps: [{ run: detach ? detached : apisDeleted }, { run: routeDeleted }, { run: finalizerRemoved }],
    failureCondition: 'CleanedUp',
    failure: (s, failure) => {
      const message = `${failure.message}. To delete the ExposedAPI without touching APIM: kubectl annotate exposedapi ${s.ref.name} -n ${s.ref.namespace} ${DETACH_ANNOTATION}=true`;
      return { message, conditions: [{ type: 'CleanedUp', status: 'False', reason: failure.reason, message, specHash: s.ctx.specHash }] };
    },
  };
}

/** Undoes the change; `obj` is the ExposedAPI as read for the gate (change-gate.ts): being deleted, hash current. */
export async function executeDelete(ctx: RunContext, ref: ExposedApiRef, obj: ExposedApiObject): Promise<RunResult> {
  const { kube, log, config } = ctx;
  const events = eventRecorder(kube, obj, log, ctx.instance);
  const detach = obj.metadata.annotations?.[DETACH_ANNOTATION] === 'true';
  if (!detach) ctx.warmUpApim();
  return runSteps(deleteProcedure(detach), { ctx, ref, obj, events }, {
    events,
    log,
    specHash: ctx.specHash,
    ...(config.jobName ? { lastJob: config.jobName } : {}),
    // Only a failure is written, so the status subresource is looked up only then; always onto the gate's object.
    write: async (change) => {
      const statusSubresource = await hasStatusSubresource(kube).catch(() => false);
      await writeStatus({ kube, ref, statusSubresource }, change, obj);
    },
  });
}
