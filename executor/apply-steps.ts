// The steps that publish the API: the route APIM calls (RouteReady), the API's identity and ownership, the API and
// its document (Imported), its policy and links (PoliciesApplied). Each reads before it writes, so a repeated run
// writes nothing to APIM when nothing changed.
import { apiIdOf } from '../core/api-id.ts';
import { apiVersioningOf } from '../core/api-versioning.ts';
import { ADOPT_ANNOTATION, type ExposedApi, type JwtSettings } from '../core/exposedapi-model.ts';
import { parsePolicyIdentifier } from '../core/policy-identifier.ts';
import { formerApiIdsOf, ownershipPolicy, uniqueIds } from './apply-ownership.ts';
import type { ApplyRun } from './apply-run.ts';
import { ensureOpenIdProvider, readApi, syncApi, syncLinks, syncPolicy } from './apim-sync.ts';
import { desiredApi } from './desired-api.ts';
import { desiredLinks, desiredPolicyXml } from './desired-policy.ts';
import { EXPOSEDAPI_API_VERSION } from './exposedapi-object.ts';
import { planImport } from './import-plan.ts';
import { withMaxSizeHint } from './service-tier.ts';
import { importContext } from './import-status.ts';
import { ensureRoute, removeRoute } from './route-sync.ts';
import { ownershipOf } from './api-mark.ts';
import { claimsUrl, guardPublicUrl } from './public-url-guard.ts';
import { revisionsEnabled } from './revision-plan.ts';
import { syncRevision } from './revision-sync.ts';
import type { RunContext } from './run-context.ts';
import { StepFailure } from './step-failure.ts';
import { ensureVersionSet, removeUnusedVersionSet, sameVersionSet, versionSetMissing, versionSetResourceId } from './version-set-sync.ts';
import { done, failureOf, type StepOutcome } from './step-outcome.ts';

export async function routeReady(s: ApplyRun): Promise<StepOutcome> {
  const { ctx, obj } = s;
  const model = s.model!;
  const routeInput = {
    namespace: obj.metadata.namespace,
    name: obj.metadata.name,
    uid: obj.metadata.uid,
    ownerApiVersion: EXPOSEDAPI_API_VERSION,
    path: model.spec.path,
    implementation: model.spec.implementation,
    port: model.spec.port,
  };
  const routeCtx = { kube: ctx.kube, budget: ctx.budget, config: ctx.config };
  if (model.spec.apim.backend.mode === 'url') {
    // A fixed URL needs no route; one left from an earlier ingress-mode spec is removed.
    await removeRoute(routeCtx, ctx.config.route.mode, routeInput);
    s.backendUrl = model.spec.apim.backend.url!;
    return done('BackendUrl', `APIM calls ${s.backendUrl} (spec.apim.backend.url)`);
  }
  const route = await ensureRoute(routeCtx, ctx.config.route.mode, routeInput);
  s.backendUrl = route.backendUrl;
  return done(route.reason, route.message);
}

/** No condition of its own: a session that cannot be had shows on Ready, as no step of the API's has begun. */
export async function identified(s: ApplyRun): Promise<StepOutcome> {
  const { ctx, obj } = s;
  s.apim = await ctx.apim();
  const apiId = apiIdOf(s.model!);
  s.apiId = apiId;
  s.ownership = ownershipPolicy(ctx, obj, apiId, s.events);
  s.formerIds = formerApiIdsOf(obj, ctx.config.apim.serviceName, apiId);
  s.importStarted = apiId;
  s.jwt = jwtFor(s.model!, ctx);
  s.versioning = versioningOf(s);
  s.revisions = revisionsEnabled(s.model!, ctx.config);
  return done();
}

/** The version set of this apply's API (core/api-versioning.ts: the path's version segment, grouped by base path). */
export function versioningOf(s: Pick<ApplyRun, 'ctx' | 'obj' | 'model'>): ReturnType<typeof apiVersioningOf> {
  const spec = s.model!.spec;
  const specVersion = spec.specification[0]?.version;
  return apiVersioningOf({ namespace: s.obj.metadata.namespace, path: spec.path, ...(specVersion !== undefined ? { specVersion } : {}) }, s.ctx.config.clusterId, s.ctx.config.versioning);
}

export async function imported(s: ApplyRun): Promise<StepOutcome> {
  const { ctx, ref } = s;
  const apim = s.apim!;
  const apiId = s.apiId!;
  const ownership = s.ownership!;
  const planned = planImport(s.document!, ctx.config.specImportMode, s.passThrough);
  if (planned instanceof StepFailure) return failureOf(planned);
  if (planned.note) ctx.log.info(planned.note);
  const v = s.versioning;
  // Read at the start of the run, concurrently with validation; nothing of this run has written to it since.
  const stored = s.storedEarly ? await s.storedEarly : await readApi(apim, apiId);
  // Before anything is written: an import or a move must not put the API on a URL another API already serves.
  const placement = { path: (v?.basePath ?? s.model!.spec.path).replace(/^\/+/, ''), ...(v ? { set: { id: versionSetResourceId(apim, v.setId), version: v.version, scheme: v.config.scheme } } : {}) };
  if (claimsUrl(stored, placement, planned.fingerprint, ownership.who)) {
    await guardPublicUrl(apim, { apiId, specPath: s.model!.spec.path, want: placement, who: ownership.who, ...(ctx.config.apim.gatewayUrl ? { gatewayUrl: ctx.config.apim.gatewayUrl } : {}) });
  }
  const provider = s.jwt ? await ensureOpenIdProvider(apim, s.jwt) : undefined;
  const setKey = v ? { cluster: ctx.config.clusterId, namespace: ref.namespace, basePath: v.basePath } : undefined;
  // The set exists before the first version joins it (APIM answers a PUT naming a missing set with 404).
  const set = v ? await ensureVersionSet(apim, v, setKey!) : undefined;
  const desired = desiredApi(s.model!, {
    apiId,
    serviceUrl: s.backendUrl!,
    who: ownership.who,
    plan: planned,
    ...(provider ? { openidProviderId: provider.id } : {}),
    ...(v ? { versionSet: { id: versionSetResourceId(apim, v.setId), apiVersion: v.version, basePath: v.basePath } } : {}),
  });
  // A plain API that is in a set (its path lost its version segment) leaves it.
  if (!v && stored?.apiVersionSetId) desired.versionSet = null;
  const imports = importContext(s, apiId);
  // With revisions, a change to an API of ours goes into a new revision; the first publication (no API yet), an
  // adoption and an import an earlier run left running go the plain way. Both ways write desired's version set.
  const viaRevision = s.revisions === true && stored !== undefined && !imports.recorded && ownershipOf(stored.apiRevisionDescription, ownership.who) === 'ours';
  s.plan = planned;
  const write = (current: typeof stored) => viaRevision
    ? syncRevision({
      apim, desired, plan: planned, ownership, stored: current ?? stored!, xml: policyXmlFor(s), specHash: ctx.specHash, keep: ctx.config.revisions.keep,
      coordinates: ctx.config.apim, ...(ctx.config.apim.gatewayUrl ? { gatewayUrl: ctx.config.apim.gatewayUrl } : {}),
      // The new revision keeps the current one's version; when that is the set this run made sure of, its scheme is the configured one.
      ...(v && current?.apiVersionSetId && sameVersionSet(current.apiVersionSetId, desired.versionSet?.id)
        ? { version: { scheme: v.config.scheme, value: current.apiVersion ?? '', queryName: v.config.queryName, headerName: v.config.headerName } }
        : {}),
    })
    : syncApi(apim, desired, planned, ownership, current, current === stored ? imports : importContext(s, apiId));
  let result;
  try {
    result = await write(stored);
  } catch (e) {
    // The set went between its check and the API's write (APIM deletes a set with its last API, and a delete Job of
    // another version may have removed it): made again, and the write tried once more.
    if (!v || !versionSetMissing(e)) throw e;
    ctx.log.info('the version set disappeared before the API joined it; creating it again', { versionSetId: v.setId });
    await ensureVersionSet(apim, v, setKey!);
    result = await write(await readApi(apim, apiId));
  }
  // The set the API left (its base path changed, or it is no longer versioned) goes if nothing else uses it.
  if (stored?.apiVersionSetId && !sameVersionSet(stored.apiVersionSetId, desired.versionSet?.id)) {
    const former = stored.apiVersionSetId.replace(/^.*\/apiVersionSets\//i, '');
    const removal = await removeUnusedVersionSet(apim, former, { cluster: ctx.config.clusterId, namespace: ref.namespace });
    ctx.log.info('the API left its former version set', { versionSetId: former, outcome: removal.outcome });
  }
  const inSet = v ? `; version ${v.version} in API version set '${v.setId}' (${v.config.scheme}${set!.outcome === 'unchanged' ? '' : `, set ${set!.outcome}${set!.changed.length > 0 ? `: ${set!.changed.join(', ')}` : ''}`})` : '';
  const setChanged = set?.outcome === 'created' || set?.outcome === 'updated';
  if ('current' in result) {
    const r = result;
    s.revision = r;
    if (r.released) {
      const { revision, previous, releaseId } = r.released;
      return done('Released', `APIM API '${apiId}': revision ${revision} made current by release ${releaseId} after its check (revision ${previous} served until then)${r.pruned.length > 0 ? `; earlier revisions deleted: ${r.pruned.join(', ')}` : ''}${r.drift.length > 0 ? `; updated ${r.drift.join(', ')}` : ''}, backend ${s.backendUrl}${inSet}`);
    }
    return done(r.action === 'updated' || setChanged ? 'Updated' : 'UpToDate', `APIM API '${apiId}' revision ${r.current} ${r.action === 'updated' ? `updated (${r.drift.join(', ')})` : 'unchanged'}, backend ${s.backendUrl}${inSet}`);
  }
  if (result.adopted) s.events.warning('Adopted', `APIM API '${apiId}' was not created by exposedapi-apim and has been adopted (${ADOPT_ANNOTATION}, allowed for namespace ${ref.namespace} by TENANCY_POLICY): its document, policy and links are now this ExposedAPI's`);
  for (const id of result.replaced) ctx.log.info('removed an earlier API of this ExposedAPI that held the path', { apiId: id });
  const what = { created: 'created', imported: 're-imported (document changed)', updated: `updated (${result.drift.join(', ')})`, unchanged: 'unchanged' }[result.action];
  return done(result.action === 'unchanged' && !setChanged ? 'UpToDate' : result.action === 'updated' || result.action === 'unchanged' ? 'Updated' : 'Imported',
    `APIM API '${apiId}' ${what}: ${planned.passThrough ? 'pass-through operations' : planned.link ? `${planned.format} from ${planned.value}` : `${planned.format}, ${planned.documentBytes} bytes`}, backend ${s.backendUrl}${inSet}`);
}

/** The API's policy as rendered for this run (written by PoliciesApplied, or into a new revision before its check). */
export function policyXmlFor(s: ApplyRun): string {
  const { config } = s.ctx;
  return desiredPolicyXml(s.model!, s.apiId!, s.jwt, config, s.plan!.passThrough === true);
}

export async function policiesApplied(s: ApplyRun): Promise<StepOutcome> {
  const { config } = s.ctx;
  const model = s.model!;
  const apiId = s.apiId!;
  const xml = policyXmlFor(s);
  const { products, tags } = desiredLinks(model, config);
  const written = syncPolicy(s.apim!, apiId, xml).catch((e: unknown) => {
    throw withMaxSizeHint(e, config.validateContentMaxSize);
  });
  const [policy, links] = await Promise.all([written, syncLinks(s.apim!, apiId, { products, tags }, { ...config, who: s.ownership!.who })]);
  const changes = [...links.linked.map((l) => `+${l}`), ...links.unlinked.map((l) => `-${l}`)];
  const changed = policy === 'applied' || changes.length > 0;
  return done(changed ? 'Applied' : 'UpToDate',
    `policy ${policy === 'applied' ? 'written' : 'unchanged'}; products [${products.join(', ')}], tags [${tags.join(', ')}]${changes.length > 0 ? ` (${changes.join(' ')})` : ''}`);
}

/** The JWT settings an API is validated with: its own, else the operator's when configured as default or needed. */
export function jwtFor(model: ExposedApi, ctx: Pick<RunContext, 'config'>): JwtSettings | undefined {
  if (model.spec.apim.jwt) return model.spec.apim.jwt;
  const claimCounter = [model.spec.rateLimit.enabled ? model.spec.rateLimit.identifier : '', model.spec.quota.limit !== '' ? model.spec.quota.identifier : '']
    .map((raw) => parsePolicyIdentifier(raw))
    .some((p) => p.ok && p.identifier.kind === 'claim');
  const { defaults } = ctx.config;
  return defaults.authentication === 'jwt' || claimCounter ? defaults.jwt : undefined;
}
