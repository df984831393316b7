// `execute verify`: one run compares APIM with what every applied ExposedAPI of this APIM instance wants, and says so
// on each (docs/drift.md). Reads only: it never writes to APIM. It lists the ExposedAPIs, reads APIM in bulk
// (drift-inventory.ts), computes each API's wanted state with the apply's own code (desired-api.ts,
// desired-policy.ts, the route's backend URL), compares (drift-compare.ts) and writes the Drifted condition and an
// Event where the verdict changed. In repair mode the condition asks the dispatcher for an apply Job
// (dispatcher/dispatch-plan.ts repairRequested); the apply, not this run, restores APIM.
//
// Tenants write spec, annotations and status. Nothing they write widens what this run reads or touches: an API is
// compared only when APIM's mark proves it is this ExposedAPI's (api-mark.ts), its policy is read only then, and the
// only write is the Drifted condition and an Event on that same ExposedAPI.
import { apiIdOf } from '../core/api-id.ts';
import { SPEC_HASH_ANNOTATION, readExposedApi, type ExposedApi } from '../core/exposedapi-model.ts';
import { specHash } from '../core/spec-hash.ts';
import { writeFields } from '../core/kube/status-writer.ts';
import { errorMessage } from '../core/kube/errors.ts';
import { setCondition } from '../core/exposedapi-status.ts';
import { sameServiceId } from '../core/apim-target.ts';
import { globMatch, ruleFor, type TenancyPolicy } from '../core/tenancy-policy.ts';
import { ownershipOf, parseMark, type OwnerIdentity } from './api-mark.ts';
import type { Apim } from './apim-client.ts';
import { readPolicy } from './apim-sync.ts';
import { jwtFor, versioningOf } from './apply-steps.ts';
import { versionSetResourceId } from './version-set-sync.ts';
import { desiredApi } from './desired-api.ts';
import { desiredLinks, desiredPolicyXml } from './desired-policy.ts';
import { compareApi, describeDifferences, type Difference } from './drift-compare.ts';
import { readInventory, eachLimited, type ApimInventory } from './drift-inventory.ts';
import { driftChanged, driftCondition, driftedOf } from './drift-status.ts';
import { eventRecorder } from './events.ts';
import { EXPOSEDAPI_API_VERSION, exposedApiPath, hasStatusSubresource, type ExposedApiObject } from './exposedapi-object.ts';
import { classifyKubeError } from './kube-client.ts';
import { openidProviderId } from './openid-provider.ts';
import { ingressAddress, routeBackendUrl, routeName, routeObjectPath, ROUTE_KINDS } from './route-manifests.ts';
import type { RunContext } from './run-context.ts';
import { StepFailure } from './step-failure.ts';
import { failureOf } from './step-outcome.ts';
import type { RunResult } from './step-runner.ts';

/** Policy reads in flight at once: enough to keep ARM's read rate busy, few enough for the pacer to space them. */
const CONCURRENCY = 8;
/** ExposedAPIs per list page from the apiserver. */
const PAGE = 500;

/** The instance a verify run covers: its Job's APIM_* (and APIM_TARGET, '' = the operator's own instance). */
export interface VerifyScope {
  /** ARM id of the instance (core/executor-config.ts apim.resourceId: what an apply records in status.apim.resourceId). */
  resourceId: string;
  serviceName: string;
  /** The ApimTarget the run is for; '' = the operator's own instance. */
  target: string;
  /** TENANCY_POLICY: a target's run never compares an ExposedAPI of a namespace that may not use that target. */
  tenancy: TenancyPolicy;
}

export function verifyScopeOf(config: RunContext['config']): VerifyScope {
  return { resourceId: config.apim.resourceId, serviceName: config.apim.serviceName, target: config.apim.target?.name ?? '', tenancy: config.tenancy };
}

/**
 * Why an ExposedAPI is not compared in this run; undefined when it is. Pure.
 *
 * It is this run's when status.apim.resourceId is the run's instance (ARM ids compare case-insensitively) and it was
 * published through the same ApimTarget: an ApimTarget may name the operator's own instance, and then each run judges
 * the ExposedAPIs published through it, with its own drift mode, and no API is judged twice. A status an older version
 * wrote has no resourceId: its serviceName is the operator's own instance's, the only one it knew. Status is
 * tenant-writable, so all of this is a hint: a forged one only hides the object's own drift, or has it judged by another
 * instance's run, which reads an API's policy only when APIM's mark proves it is this ExposedAPI's and whose repair is
 * an apply Job of the object's own spec in its own chosen instance (the dispatcher's choice, not status).
 */
export function notVerifiable(obj: ExposedApiObject, here: VerifyScope): string | undefined {
  if (obj.metadata.deletionTimestamp) return 'being deleted';
  const hash = obj.metadata.annotations?.[SPEC_HASH_ANNOTATION];
  if (!hash) return 'not admitted by this operator (no spec hash)';
  if (obj.status?.appliedSpecHash !== hash) return 'its current spec is not applied yet (an apply Job is responsible)';
  if (obj.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'True')) return 'a Job is running for it';
  const apim = obj.status?.apim;
  const resourceId = typeof apim?.resourceId === 'string' ? apim.resourceId : '';
  const target = typeof apim?.target === 'string' ? apim.target : '';
  if (resourceId === '') {
    if (here.target !== '') return 'its status names no APIM instance (status.apim.resourceId): published by an older version into the operator\'s own instance';
    if (apim?.serviceName !== here.serviceName) return `published to APIM service '${apim?.serviceName ?? '(none)'}', not this one`;
    return undefined;
  }
  if (!sameServiceId(resourceId, here.resourceId)) return `published to APIM instance ${resourceId}, not this one`;
  if (target !== here.target) return `published through ${target === '' ? 'the operator\'s own instance' : `ApimTarget "${target}"`}, which verifies it in its own run`;
  if (here.target !== '') {
    const allowed = ruleFor(here.tenancy, obj.metadata.namespace)?.targets;
    if (allowed && !allowed.some((p) => globMatch(p, here.target))) return `namespace "${obj.metadata.namespace}" may not publish into ApimTarget "${here.target}" (TENANCY_POLICY)`;
  }
  return undefined;
}

export interface VerifySummary {
  exposedApis: number;
  compared: number;
  drifted: number;
  skipped: number;
  written: number;
}

async function listExposedApis(ctx: RunContext): Promise<ExposedApiObject[]> {
  const namespaces = ctx.config.drift.watchNamespaces.length > 0 ? ctx.config.drift.watchNamespaces : [undefined];
  const out: ExposedApiObject[] = [];
  for (const ns of namespaces) {
    const path = `/apis/${EXPOSEDAPI_API_VERSION}${ns ? `/namespaces/${ns}` : ''}/exposedapis`;
    let cont: string | undefined;
    do {
      const query: Record<string, string> = { limit: String(PAGE), ...(cont ? { continue: cont } : {}) };
      const page = await ctx.budget.run(`listing ExposedAPIs${ns ? ` in namespace ${ns}` : ''}`, () => ctx.kube.get<{ items?: ExposedApiObject[]; metadata?: { continue?: string } }>(path, query), classifyKubeError);
      for (const item of page?.items ?? []) out.push({ ...item, apiVersion: EXPOSEDAPI_API_VERSION, kind: 'ExposedAPI' });
      cont = page?.metadata?.continue || undefined;
    } while (cont);
  }
  return out;
}

/**
 * The serviceUrl the apply would send, found without writing anything: the spec's URL, the configured base URL or
 * host, or the Ingress's load-balancer address (read, never created). Undefined when the Ingress has none yet.
 */
async function backendUrlOf(ctx: RunContext, obj: ExposedApiObject, model: ExposedApi): Promise<string | undefined> {
  if (model.spec.apim.backend.mode === 'url') return model.spec.apim.backend.url;
  const route = ctx.config.route;
  if (route.mode !== 'ingress' || route.baseUrl || route.host) return routeBackendUrl(route, model.spec.path);
  const ingress = await ctx.budget.run(`reading the Ingress of ${obj.metadata.namespace}/${obj.metadata.name}`,
    () => ctx.kube.get(routeObjectPath(ROUTE_KINDS.ingress, obj.metadata.namespace, routeName(obj.metadata.name))), classifyKubeError);
  const address = ingressAddress(ingress);
  return address ? routeBackendUrl(route, model.spec.path, address) : undefined;
}

/** The differences of one ExposedAPI, or a reason it could not be judged. */
async function verifyOne(ctx: RunContext, apim: Apim, inventory: ApimInventory, obj: ExposedApiObject, hash: string): Promise<Difference[] | { skipped: string }> {
  const { namespace, name, uid } = obj.metadata;
  const read = readExposedApi(obj);
  if (read.errors.length > 0) return { skipped: 'its spec no longer reads as an ExposedAPI' };
  const model = { ...read.model, namespace, name };
  // The spec must be the one the hash was stamped for (the spec and the annotation change together only through admission).
  if (specHash(model) !== hash) return { skipped: 'its spec does not match its spec hash (changed without admission); the next apply judges it' };
  const apiId = apiIdOf(model);
  const who: OwnerIdentity = { cluster: ctx.config.clusterId, namespace, name, uid };
  const stored = inventory.apis.get(apiId.toLowerCase());
  const ours = stored !== undefined && ownershipOf(stored.apiRevisionDescription, who) === 'ours';
  const serviceUrl = ours ? await backendUrlOf(ctx, obj, model) : undefined;
  const jwt = jwtFor(model, ctx);
  // The version set the apply puts the API in (its path's version segment): the API's path is then the set's base path.
  const v = versioningOf({ ctx, obj, model });
  const api = desiredApi(model, {
    apiId,
    serviceUrl: serviceUrl ?? '',
    who,
    // The document is not compared (docs/drift.md): the mark's own fingerprint stands in for it.
    plan: { fingerprint: parseMark(stored?.apiRevisionDescription).fingerprint ?? '' },
    ...(jwt ? { openidProviderId: openidProviderId(jwt.openidConfigUrl) } : {}),
    ...(v ? { versionSet: { id: versionSetResourceId(apim, v.setId), apiVersion: v.version, basePath: v.basePath } } : {}),
  });
  // As the apply: a plain API that is in a set leaves it.
  if (!v && stored?.apiVersionSetId) api.versionSet = null;
  const wanted = {
    api,
    policy: desiredPolicyXml(model, apiId, jwt, ctx.config, model.spec.apiType !== 'openapi'),
    ...desiredLinks(model, ctx.config),
    compareServiceUrl: serviceUrl !== undefined,
  };
  const key = apiId.toLowerCase();
  return compareApi({
    api: stored,
    // Read only for an API proven ours: a tenant cannot make this run read another API's policy.
    policy: ours ? await readPolicy(apim, apiId) : null,
    products: inventory.products.get(key) ?? [],
    tags: inventory.tags.get(key) ?? [],
  }, wanted, who);
}

/** Writes the verdict on the object it was made for; a conflict (the object changed meanwhile) leaves it to the next run. */
async function recordVerdict(ctx: RunContext, obj: ExposedApiObject, hash: string, differences: Difference[], statusSubresource: boolean): Promise<boolean> {
  const next = driftCondition(differences, hash, ctx.config.drift.mode, ctx.config.jobName);
  const current = driftedOf(obj.status?.conditions);
  if (!driftChanged(current, next)) return false;
  const ref = { namespace: obj.metadata.namespace, name: obj.metadata.name };
  const written = await ctx.budget.run(`writing Drifted on ExposedAPI ${ref.namespace}/${ref.name}`, () => writeFields<ExposedApiObject>({
    kube: ctx.kube,
    path: exposedApiPath(ref),
    patchPath: exposedApiPath(ref, statusSubresource ? 'status' : undefined),
    fields: (o) => ({ status: { conditions: setCondition(o.status?.conditions, next, new Date()) } }),
    // Guarded by the version that was judged: anything newer is the next run's to judge.
    attempts: 1,
  }, obj), classifyKubeError);
  if (written.result !== 'ok') {
    ctx.log.info('ExposedAPI changed while it was verified; the next run judges it', { exposedapi: `${ref.namespace}/${ref.name}`, result: written.result });
    return false;
  }
  const events = eventRecorder(ctx.kube, written.object, ctx.log, ctx.instance);
  if (next.status === 'True') events.warning('Drifted', next.message);
  else if (current?.status === 'True') events.normal('DriftResolved', next.message);
  await events.flush();
  return true;
}

export async function executeVerify(ctx: RunContext): Promise<RunResult & { summary?: VerifySummary }> {
  const { log, config } = ctx;
  const started = performance.now();
  try {
    ctx.warmUpApim();
    const statusSubresource = hasStatusSubresource(ctx.kube).catch(() => false);
    const objects = await listExposedApis(ctx);
    const scope = verifyScopeOf(config);
    const candidates: { obj: ExposedApiObject; hash: string }[] = [];
    let skipped = 0;
    for (const obj of objects) {
      const why = notVerifiable(obj, scope);
      if (why === undefined) candidates.push({ obj, hash: obj.metadata.annotations![SPEC_HASH_ANNOTATION]! });
      else {
        skipped += 1;
        log.debug('not verified', { exposedapi: `${obj.metadata.namespace}/${obj.metadata.name}`, why });
      }
    }
    const summary: VerifySummary = { exposedApis: objects.length, compared: 0, drifted: 0, skipped, written: 0 };
    if (candidates.length > 0) {
      const apim = await ctx.apim();
      const inventory = await readInventory(apim, CONCURRENCY);
      const subresource = await statusSubresource;
      await eachLimited(candidates, CONCURRENCY, async ({ obj, hash }) => {
        const ref = `${obj.metadata.namespace}/${obj.metadata.name}`;
        let verdict: Difference[] | { skipped: string };
        try {
          verdict = await verifyOne(ctx, apim, inventory, obj, hash);
        } catch (e) {
          // A value the renderers refuse, or one API's read failing for good: that ExposedAPI is not judged; the rest are.
          if (e instanceof StepFailure && e.info.retriable) throw e;
          verdict = { skipped: failureOf(e).message };
        }
        if (!Array.isArray(verdict)) {
          summary.skipped += 1;
          log.warn('not verified', { exposedapi: ref, why: verdict.skipped });
          return;
        }
        summary.compared += 1;
        if (verdict.length > 0) {
          summary.drifted += 1;
          log.warn('APIM differs from the applied spec', { exposedapi: ref, differences: describeDifferences(verdict) });
        }
        if (await recordVerdict(ctx, obj, hash, verdict, subresource)) summary.written += 1;
      });
    }
    log.info('verify run finished', { ...summary, mode: config.drift.mode, serviceName: config.apim.serviceName, resourceId: scope.resourceId, target: scope.target, ms: Math.round(performance.now() - started) });
    return { kind: 'done', summary };
  } catch (e) {
    const failure = failureOf(e);
    log.error(`verify run failed: ${failure.message}`, { reason: failure.reason, retriable: failure.retriable, error: errorMessage(e) });
    return failure;
  }
}
