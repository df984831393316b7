// Ready: the API of a previous apiId removed once the new one is published, the URL consumers use, the
// implementation's readiness; its outcome carries the status fields the runner writes. Then the parent Component,
// which must see the object that write returned.
import type { ApiStatus, FormerTarget } from '../core/exposedapi-status.ts';
import { publicPathOf } from '../core/api-versioning.ts';
import { formerTargetsAfter } from './target-move.ts';
import type { ExposedApi } from '../core/exposedapi-model.ts';
import type { ApplyRun } from './apply-run.ts';
import { deleteApi, gatewayUrlOf } from './apim-sync.ts';
import { updateParentComponent } from './component-status.ts';
import type { ExposedApiObject } from './exposedapi-object.ts';
import { implementationState } from './implementation-ready.ts';
import { classifyKubeError } from './kube-client.ts';
import { done, type StepOutcome } from './step-outcome.ts';

export async function ready(s: ApplyRun): Promise<StepOutcome> {
  const { ctx, ref, obj, events } = s;
  const { config, log } = ctx;
  const apim = s.apim!;
  const model = s.model!;
  // The ids come from status, which the tenant can write, so each is removed only if APIM's mark says it is this
  // ExposedAPI's; anything else is left and reported.
  for (const former of s.formerIds!) {
    const outcome = await deleteApi(apim, former, s.ownership!.who);
    if (outcome === 'not-ours') events.warning('FormerApiNotOurs', `status named APIM API '${former}' as this ExposedAPI's, but APIM's mark says otherwise: it was left unchanged`);
    else log.info('removed the API of the previous apiId', { previousApiId: former, outcome });
  }
  const gatewayUrl = config.apim.gatewayUrl ?? (await gatewayUrlOf(apim));
  const apiStatus = apiStatusFor(obj, model, gatewayUrl, config.developerUiBaseUrl, publicPathOf(model.spec.path, s.versioning));
  const implementation = await ctx.budget.run('reading the implementation Service', () => implementationState(ctx.kube, ref.namespace, model.spec.implementation), classifyKubeError);
  if (!implementation.serviceExists) events.warning('ImplementationMissing', `Service ${ref.namespace}/${model.spec.implementation} does not exist yet: implementation.ready stays false until it has ready endpoints`);
  s.apiStatus = apiStatus;
  s.implementationReady = implementation.ready;
  return done('Published', `published at ${apiStatus.url}`, {
    apiStatus,
    implementation: { ready: implementation.ready },
    appliedSpecHash: ctx.specHash,
    apim: {
      apiId: s.apiId!,
      serviceName: config.apim.serviceName,
      pendingApiIds: null,
      resourceId: config.apim.resourceId,
      target: config.apim.target?.name ?? '',
      targetSettings: config.apim.target?.settings ?? null,
      // Where it was before a move: the dispatcher removes it there next (executor/target-move.ts).
      // The current revision, when this change went through revisions (null clears an earlier one).
      revision: s.revision?.current ?? null,
      formerTargets: formerOrNull(formerTargetsAfter(obj.status?.apim, { target: config.apim.target?.name ?? '', resourceId: config.apim.resourceId, serviceName: config.apim.serviceName })),
    },
  });
}

function formerOrNull(list: FormerTarget[]): FormerTarget[] | null {
  return list.length > 0 ? list : null;
}

/** No condition of its own: a Component that cannot be updated shows on Ready. */
export async function parentComponentUpdated(s: ApplyRun): Promise<StepOutcome> {
  const apiStatus = s.apiStatus!;
  const parent = await updateParentComponent(s.ctx.kube, s.current ?? s.obj, { url: apiStatus.url, ...(apiStatus.developerUI ? { developerUI: apiStatus.developerUI } : {}), ready: s.implementationReady! });
  if (parent !== 'no-parent') s.ctx.log.info('parent Component', { outcome: parent });
  return done();
}

function joinUrl(base: string, path: string): string {
  return /^https?:\/\//i.test(path) ? path : `${base}${path.startsWith('/') ? '' : '/'}${path}`;
}

/**
 * `publicPath`: what consumers call, spec.path unless a Query or Header version set moves the API to its base path
 * (core/api-versioning.ts publicPathOf); status.apiStatus.path stays the ODA path.
 */
export function apiStatusFor(obj: ExposedApiObject, model: ExposedApi, gatewayUrl: string, developerUiBaseUrl: string | undefined, publicPath = model.spec.path): ApiStatus {
  const s: ApiStatus = {
    name: obj.metadata.name,
    url: joinUrl(gatewayUrl, publicPath),
    path: model.spec.path,
    port: model.spec.port,
    implementation: model.spec.implementation,
    ip: new URL(gatewayUrl).hostname,
  };
  if (model.spec.developerUI) s.developerUI = joinUrl(developerUiBaseUrl ?? gatewayUrl, model.spec.developerUI);
  return s;
}
