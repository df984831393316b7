// `execute apply`: make APIM, the cluster route and the ExposedAPI's status match the spec the Job was spawned for.
// Steps, each a condition: Validated (the webhook's rules, the document resolved), RouteReady (the route APIM calls),
// Imported (the API and its document), PoliciesApplied (policy, products, tags), then Ready. Every step reads before
// it writes, so a run repeats safely: a second run with nothing changed writes nothing to APIM, and a run killed at
// any point is completed by the next.
import { ADOPT_ANNOTATION, readExposedApi, type ExposedApi, type JwtSettings } from '../core/exposedapi-model.ts';
import { ruleFor } from '../core/tenancy-policy.ts';
import { checkApiId } from '../core/rules/apim-extension.ts';
import { EXIT_OK, type ApiStatus, type ConditionType } from '../core/exposedapi-status.ts';
import { renderInvalid } from '../core/field-error.ts';
import { parsePolicyIdentifier } from '../core/policy-identifier.ts';
import { renderPolicyXml } from '../core/policy-xml.ts';
import { DocumentCheckCache } from '../core/spec-document.ts';
import { SpecFetcher } from '../core/spec-fetch.ts';
import { systemHostResolver } from '../core/host-resolver.ts';
import { defaultValidationContext, validateExposedApi } from '../core/validate-exposedapi.ts';
import type { OwnerIdentity } from './api-mark.ts';
import { apiIdOf } from '../core/api-id.ts';
import { deleteApi, ensureOpenIdProvider, gatewayUrlOf, readApi, syncApi, syncLinks, syncPolicy, type OwnershipPolicy } from './apim-sync.ts';
import { updateParentComponent } from './component-status.ts';
import { desiredApi } from './desired-api.ts';
import { eventRecorder, type EventRecorder } from './events.ts';
import { EXPOSEDAPI_API_VERSION, hasStatusSubresource, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import { implementationState } from './implementation-ready.ts';
import { passThroughDocument, planImport, type ResolvedDocument } from './import-plan.ts';
import { classifyKubeError } from './kube-client.ts';
import { ensureRoute, removeRoute } from './route-sync.ts';
import type { RunContext } from './run-context.ts';
import { writeStatus, type ConditionChange, type StatusChange } from './status-patch.ts';
import { permanent, retriable, StepFailure } from './step-failure.ts';
import { exitCodeOf, failureChange, inStep } from './step-outcome.ts';

interface Validated {
  model: ExposedApi;
  document: ResolvedDocument;
  passThrough: boolean;
}

async function validate(ctx: RunContext, obj: ExposedApiObject, events: EventRecorder): Promise<Validated> {
  const fetcher = new SpecFetcher(ctx.config.specFetch);
  const result = await validateExposedApi(
    obj,
    defaultValidationContext({
      defaultJwt: ctx.config.validationDefaultJwt,
      documents: new DocumentCheckCache(),
      fetch: (url) => fetcher.fetch(url),
      remoteMode: ctx.config.remoteSpecCheck,
      // Backend and JWT discovery host names are resolved here, just before APIM is pointed at them.
      outbound: ctx.config.outbound,
      resolveHost: systemHostResolver(),
      tenancy: ctx.config.tenancy,
    }),
  );
  for (const w of result.warnings) {
    ctx.log.warn('validation warning', { warning: w });
    events.warning('ValidationWarning', w);
  }
  if (result.errors.length > 0) throw permanent('Invalid', renderInvalid('ExposedAPI', obj.metadata.name, result.errors));
  const model = result.model;
  if (model.spec.apiType !== 'openapi') {
    return { model, passThrough: true, document: { text: passThroughDocument(model.spec.apiType) } };
  }
  const source = model.spec.specification[0]!;
  if (source.kind === 'inline') return { model, passThrough: false, document: { text: source.text } };
  // The validation fetched it already (cached by URL), unless remote checks are off.
  const fetched = await fetcher.fetch(source.url);
  if (fetched.kind === 'refused') throw permanent('SpecificationRefused', `${source.field}: ${source.url} will not be fetched: ${fetched.reason}`);
  if (fetched.kind === 'unreachable') throw retriable('SpecificationUnreachable', `${source.field}: could not fetch ${source.url}: ${fetched.reason}`);
  return { model, passThrough: false, document: { text: fetched.text, url: source.url } };
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

function joinUrl(base: string, path: string): string {
  return /^https?:\/\//i.test(path) ? path : `${base}${path.startsWith('/') ? '' : '/'}${path}`;
}

export function apiStatusFor(obj: ExposedApiObject, model: ExposedApi, gatewayUrl: string, developerUiBaseUrl: string | undefined): ApiStatus {
  const s: ApiStatus = {
    name: obj.metadata.name,
    url: joinUrl(gatewayUrl, model.spec.path),
    path: model.spec.path,
    port: model.spec.port,
    implementation: model.spec.implementation,
    ip: new URL(gatewayUrl).hostname,
  };
  if (model.spec.developerUI) s.developerUI = joinUrl(developerUiBaseUrl ?? gatewayUrl, model.spec.developerUI);
  return s;
}

/** Applies the change; `obj` is the ExposedAPI as read for the gate (change-gate.ts). */
export async function executeApply(ctx: RunContext, ref: ExposedApiRef, obj: ExposedApiObject): Promise<number> {
  const { kube, log, config } = ctx;
  ctx.warmUpApim();
  // The stored API is read while the spec is validated (a read is harmless even if validation then fails).
  const early = apiIdOf({ ...readExposedApi(obj).model, namespace: obj.metadata.namespace, name: obj.metadata.name });
  const storedEarly = checkApiId('apiId', early).length === 0 ? ctx.apim().then((apim) => readApi(apim, early)) : undefined;
  storedEarly?.catch(() => undefined);
  const events = eventRecorder(kube, obj, log, ctx.instance);
  const statusSubresource = hasStatusSubresource(kube).catch(() => false);
  const hash = ctx.specHash;
  const done: ConditionChange[] = [];
  const ok = (type: ConditionType, reason: string, message: string): void => {
    done.push({ type, status: 'True', reason, message, specHash: hash });
    events.normal(reason, message);
    log.info(message, { condition: type, reason });
  };
  let current: ExposedApiObject | undefined = obj;
  /** The apiId an import may have created before the run failed (recorded so a later rename removes it). */
  let importStarted: string | undefined;
  const write = async (change: StatusChange): Promise<void> => {
    current = await writeStatus({ kube, ref, statusSubresource: await statusSubresource }, change, current);
  };

  try {
    const { model, document, passThrough } = await inStep('Validated', () => validate(ctx, obj, events));
    ok('Validated', 'Valid', passThrough
      ? `the spec is valid; apiType ${model.spec.apiType} has no OpenAPI document, so it is published as a pass-through API (/* per method)`
      : `the spec and its OpenAPI document pass the admission rules`);

    const routeInput = {
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      ownerApiVersion: EXPOSEDAPI_API_VERSION,
      path: model.spec.path,
      implementation: model.spec.implementation,
      port: model.spec.port,
    };
    const routeCtx = { kube, budget: ctx.budget, config };
    const backendUrl = await inStep('RouteReady', async () => {
      if (model.spec.apim.backend.mode === 'url') {
        // A fixed URL needs no route; one left from an earlier ingress-mode spec is removed.
        await removeRoute(routeCtx, config.route.mode, routeInput);
        const url = model.spec.apim.backend.url!;
        ok('RouteReady', 'BackendUrl', `APIM calls ${url} (spec.apim.backend.url)`);
        return url;
      }
      const route = await ensureRoute(routeCtx, config.route.mode, routeInput);
      ok('RouteReady', route.reason, route.message);
      return route.backendUrl;
    });

    const apim = await ctx.apim();
    const apiId = apiIdOf(model);
    const ownership = ownershipPolicy(ctx, obj, apiId, events);
    const formerIds = formerApiIdsOf(obj, config.apim.serviceName, apiId);
    importStarted = apiId;
    const jwt = jwtFor(model, ctx);
    const plan = await inStep('Imported', async () => {
      const planned = planImport(document, config.specImportMode, passThrough);
      if (planned instanceof StepFailure) throw planned;
      if (planned.note) log.info(planned.note);
      const provider = jwt ? await ensureOpenIdProvider(apim, jwt) : undefined;
      const desired = desiredApi(model, { apiId, serviceUrl: backendUrl, who: ownership.who, plan: planned, ...(provider ? { openidProviderId: provider.id } : {}) });
      // Read at the start of the run, concurrently with validation; nothing of this run has written to it since.
      const stored = storedEarly ? await storedEarly : await readApi(apim, apiId);
      const result = await syncApi(apim, desired, planned, ownership, stored);
      if (result.adopted) events.warning('Adopted', `APIM API '${apiId}' was not created by exposedapi-apim and has been adopted (${ADOPT_ANNOTATION}, allowed for namespace ${ref.namespace} by TENANCY_POLICY): its document, policy and links are now this ExposedAPI's`);
      for (const id of result.replaced) log.info('removed an earlier API of this ExposedAPI that held the path', { apiId: id });
      const what = { created: 'created', imported: 're-imported (document changed)', updated: `updated (${result.drift.join(', ')})`, unchanged: 'unchanged' }[result.action];
      ok('Imported', result.action === 'unchanged' ? 'UpToDate' : result.action === 'updated' ? 'Updated' : 'Imported',
        `APIM API '${apiId}' ${what}: ${planned.passThrough ? 'pass-through operations' : planned.link ? `${planned.format} from ${planned.value}` : `${planned.format}, ${planned.documentBytes} bytes`}, backend ${backendUrl}`);
      return planned;
    });

    await inStep('PoliciesApplied', async () => {
      const xml = renderPolicyXml({ spec: model.spec, jwt, quotaRenewalPeriodSeconds: config.quotaRenewalPeriodSeconds, documentValidation: !plan.passThrough });
      const products = unique([...config.defaults.products, ...model.spec.apim.products]);
      const tags = unique([...config.defaults.tags, ...model.spec.apim.tags]);
      const [policy, links] = await Promise.all([syncPolicy(apim, apiId, xml), syncLinks(apim, apiId, { products, tags }, { ...config, who: ownership.who })]);
      const changes = [...links.linked.map((l) => `+${l}`), ...links.unlinked.map((l) => `-${l}`)];
      const changed = policy === 'applied' || changes.length > 0;
      ok('PoliciesApplied', changed ? 'Applied' : 'UpToDate',
        `policy ${policy === 'applied' ? 'written' : 'unchanged'}; products [${products.join(', ')}], tags [${tags.join(', ')}]${changes.length > 0 ? ` (${changes.join(' ')})` : ''}`);
    });

    // A rename removes the old API once the new one is published. The ids come from status, which the tenant can
    // write, so each is removed only if APIM's mark says it is this ExposedAPI's; anything else is left and logged.
    for (const former of formerIds) {
      const outcome = await inStep('Ready', () => deleteApi(apim, former, ownership.who));
      if (outcome === 'not-ours') events.warning('FormerApiNotOurs', `status named APIM API '${former}' as this ExposedAPI's, but APIM's mark says otherwise: it was left unchanged`);
      else log.info('removed the API of the previous apiId', { previousApiId: former, outcome });
    }

    const gatewayUrl = await inStep('Ready', async () => config.apim.gatewayUrl ?? (await gatewayUrlOf(apim)));
    const apiStatus = apiStatusFor(obj, model, gatewayUrl, config.developerUiBaseUrl);
    const implementation = await inStep('Ready', () => ctx.budget.run('reading the implementation Service', () => implementationState(kube, ref.namespace, model.spec.implementation), classifyKubeError));
    if (!implementation.serviceExists) events.warning('ImplementationMissing', `Service ${ref.namespace}/${model.spec.implementation} does not exist yet: implementation.ready stays false until it has ready endpoints`);
    ok('Ready', 'Published', `published at ${apiStatus.url}`);
    await write({
      conditions: done,
      apiStatus,
      implementation: { ready: implementation.ready },
      appliedSpecHash: hash,
      ...(config.jobName ? { lastJob: config.jobName } : {}),
      apim: { apiId, serviceName: config.apim.serviceName, pendingApiIds: null },
    });
    const parent = await updateParentComponent(kube, current ?? obj, { url: apiStatus.url, ...(apiStatus.developerUI ? { developerUI: apiStatus.developerUI } : {}), ready: implementation.ready });
    if (parent !== 'no-parent') log.info('parent Component', { outcome: parent });

    await events.flush();
    return EXIT_OK;
  } catch (e) {
    const failure = e instanceof StepFailure ? e : new StepFailure({ retriable: true, reason: 'UnexpectedError', message: e instanceof Error ? e.message : String(e) }, { cause: e });
    log.error(failure.message, { condition: failure.condition ?? 'Ready', reason: failure.info.reason, retriable: failure.info.retriable, ...(failure.info.apim ? { apim: failure.info.apim } : {}) });
    events.warning(failure.info.reason, failure.message);
    try {
      await write({
        conditions: [...done, ...failureChange(failure, hash)],
        ...(config.jobName ? { lastJob: config.jobName } : {}),
        ...(importStarted ? { apim: pendingRecord(obj, config.apim.serviceName, importStarted) } : {}),
      });
    } catch (statusError) {
      log.error('could not write the failure to the ExposedAPI status', { error: statusError instanceof Error ? statusError.message : String(statusError) });
    }
    await events.flush();
    return exitCodeOf(failure);
  }
}

/** The run's identity in APIM marks, and whether it may adopt an unmarked API (annotation + TENANCY_POLICY). */
function ownershipPolicy(ctx: RunContext, obj: ExposedApiObject, apiId: string, events: EventRecorder): OwnershipPolicy {
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
  return unique(ids).filter((id) => id.toLowerCase() !== apiId.toLowerCase() && checkApiId('apiId', id).length === 0);
}

/** status.apim after a failed run that may have created `started`: the published id stays, `started` is pending. */
export function pendingRecord(obj: ExposedApiObject, serviceName: string, started: string): NonNullable<ExposedApiObject['status']>['apim'] {
  const recorded = obj.status?.apim?.serviceName === serviceName ? obj.status.apim : undefined;
  const published = recorded?.apiId || started;
  const pending = unique([...(Array.isArray(recorded?.pendingApiIds) ? recorded.pendingApiIds : []), ...(published.toLowerCase() === started.toLowerCase() ? [] : [started])]);
  return { apiId: published, serviceName, ...(pending.length > 0 ? { pendingApiIds: pending.slice(-8) } : {}) };
}

function unique(ids: string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = id.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

