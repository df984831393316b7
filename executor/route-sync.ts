// The cluster route APIM calls, made to match route-manifests.ts: created when missing, patched when it differs,
// never taken over when it belongs to something else. For an Ingress the executor then waits (bounded) for its
// load-balancer address, which becomes APIM's serviceUrl; a route that gets no address is a retriable failure
// that says what to check.
import type { ExecutorConfig, RouteMode } from '../core/executor-config.ts';
import { canonicalJson } from '../core/spec-hash.ts';
import { classifyKubeError, KubeError, type KubeClient } from './kube-client.ts';
import type { RetryBudget } from './retry-loop.ts';
import {
  ingressAddress,
  isOurRoute,
  routeBackendUrl,
  routeFor,
  ROUTE_KINDS,
  routeName,
  routeObjectPath,
  type RouteInput,
} from './route-manifests.ts';
import { permanent, retriable } from './step-failure.ts';

export interface RouteOutcome {
  backendUrl: string;
  /** Condition reason for RouteReady. */
  reason: string;
  message: string;
  /** What changed in the cluster: created, patched or unchanged (url mode: none). */
  action: 'created' | 'patched' | 'unchanged' | 'none';
}

type KubeObject = { metadata?: Record<string, unknown>; spec?: Record<string, unknown>; status?: unknown };

/** A merge patch that turns `current` into `desired` for the parts the executor owns (nulls remove stale keys). */
export function routePatch(current: KubeObject, desired: KubeObject): Record<string, unknown> | undefined {
  const spec: Record<string, unknown> = { ...(desired.spec ?? {}) };
  for (const k of Object.keys(current.spec ?? {})) if (!(k in spec)) spec[k] = null;
  const metaKeys = ['labels', 'annotations', 'ownerReferences'] as const;
  const cm = current.metadata ?? {};
  const dm = desired.metadata ?? {};
  const specSame = canonicalJson(current.spec ?? {}) === canonicalJson(desired.spec ?? {});
  const labelsSame = Object.entries((dm['labels'] ?? {}) as Record<string, string>).every(([k, v]) => (cm['labels'] as Record<string, string> | undefined)?.[k] === v);
  const annotationsSame = Object.entries((dm['annotations'] ?? {}) as Record<string, string>).every(([k, v]) => (cm['annotations'] as Record<string, string> | undefined)?.[k] === v);
  const ownersSame = canonicalJson(cm['ownerReferences'] ?? []) === canonicalJson(dm['ownerReferences'] ?? []);
  if (specSame && labelsSame && annotationsSame && ownersSame) return undefined;
  const metadata: Record<string, unknown> = {};
  for (const k of metaKeys) if (dm[k] !== undefined) metadata[k] = dm[k];
  return { metadata, spec };
}

export interface RouteContext {
  kube: KubeClient;
  budget: RetryBudget;
  config: ExecutorConfig;
}

const kubeCall = <T>(ctx: RouteContext, what: string, fn: () => Promise<T>): Promise<T> => ctx.budget.run(what, fn, classifyKubeError);

async function applyRoute(ctx: RouteContext, mode: RouteMode, input: RouteInput): Promise<{ object: KubeObject; action: RouteOutcome['action'] }> {
  const kind = ROUTE_KINDS[mode];
  const name = routeName(input.name);
  const path = routeObjectPath(kind, input.namespace, name);
  const desired = routeFor(mode, input, ctx.config.route) as KubeObject;
  let current = await kubeCall(ctx, `reading ${kind.kind} ${input.namespace}/${name}`, () => ctx.kube.get<KubeObject>(path));
  if (!current) {
    const object = await kubeCall(ctx, `creating ${kind.kind} ${input.namespace}/${name}`, async () => {
      try {
        return await ctx.kube.create<KubeObject>(routeObjectPath(kind, input.namespace), desired);
      } catch (e) {
        // Created meanwhile (a concurrent run): compare with that one instead.
        if (e instanceof KubeError && e.reason === 'AlreadyExists') return undefined;
        throw e;
      }
    });
    if (object) return { object, action: 'created' };
    current = await kubeCall(ctx, `reading ${kind.kind} ${input.namespace}/${name}`, () => ctx.kube.get<KubeObject>(path));
    if (!current) throw retriable('RouteConflict', `${kind.kind} ${input.namespace}/${name} appeared and disappeared while it was being created`);
  }
  if (!isOurRoute(current, input.uid)) {
    throw permanent('RouteConflict', `${kind.kind} ${input.namespace}/${name} exists and does not belong to this ExposedAPI; rename or remove it (the executor never takes over objects it did not create)`);
  }
  const patch = routePatch(current, desired);
  if (!patch) return { object: current, action: 'unchanged' };
  const object = await kubeCall(ctx, `updating ${kind.kind} ${input.namespace}/${name}`, () => ctx.kube.patch<KubeObject>(path, patch));
  return { object, action: 'patched' };
}

async function waitForAddress(ctx: RouteContext, input: RouteInput, first: KubeObject): Promise<string> {
  const path = routeObjectPath(ROUTE_KINDS.ingress, input.namespace, routeName(input.name));
  const deadline = Date.now() + Math.min(ctx.config.route.waitMs, ctx.budget.remainingMs());
  let object: KubeObject | undefined = first;
  let interval = 100;
  for (;;) {
    const address = ingressAddress(object);
    if (address) return address;
    if (Date.now() + interval > deadline) break;
    await ctx.budget.sleep(interval);
    interval = Math.min(2000, interval * 2);
    object = await kubeCall(ctx, `reading Ingress ${input.namespace}/${routeName(input.name)}`, () => ctx.kube.get<KubeObject>(path));
  }
  const cls = ctx.config.route.ingressClass ? `class "${ctx.config.route.ingressClass}"` : 'the default class';
  throw retriable(
    'AddressPending',
    `Ingress ${input.namespace}/${routeName(input.name)} has no load-balancer address after ${Math.round(ctx.config.route.waitMs / 1000)} s: check that an ingress controller serves ${cls} (INGRESS_CLASS) and publishes its address in status.loadBalancer`,
  );
}

export async function ensureRoute(ctx: RouteContext, mode: RouteMode, input: RouteInput): Promise<RouteOutcome> {
  const kind = ROUTE_KINDS[mode];
  const name = `${input.namespace}/${routeName(input.name)}`;
  const { object, action } = await applyRoute(ctx, mode, input);
  if (mode !== 'ingress') {
    const backendUrl = routeBackendUrl(ctx.config.route, input.path);
    return { backendUrl, action, reason: `${kind.kind}Applied`, message: `${kind.kind} ${name} routes ${input.path} to ${input.implementation}:${input.port}; APIM calls ${backendUrl}` };
  }
  // A route whose URL does not come from its address is still given the chance to be admitted, unless the wait is off.
  const needsAddress = !ctx.config.route.baseUrl && !ctx.config.route.host;
  const address = needsAddress || ctx.config.route.waitMs > 0 ? await waitForAddress(ctx, input, object) : undefined;
  const backendUrl = routeBackendUrl(ctx.config.route, input.path, address);
  return {
    backendUrl,
    action,
    reason: 'IngressReady',
    message: `Ingress ${name} routes ${input.path} to ${input.implementation}:${input.port}${address ? ` at ${address}` : ''}; APIM calls ${backendUrl}`,
  };
}

/** Removes this ExposedAPI's route of the given kind, if it exists and is ours. */
export async function removeRoute(ctx: RouteContext, mode: RouteMode, input: Pick<RouteInput, 'namespace' | 'name' | 'uid'>): Promise<boolean> {
  const kind = ROUTE_KINDS[mode];
  const name = routeName(input.name);
  const path = routeObjectPath(kind, input.namespace, name);
  const current = await kubeCall(ctx, `reading ${kind.kind} ${input.namespace}/${name}`, () => ctx.kube.get<KubeObject>(path));
  if (!current || !isOurRoute(current, input.uid)) return false;
  return kubeCall(ctx, `deleting ${kind.kind} ${input.namespace}/${name}`, () => ctx.kube.delete(path));
}
