// The cluster route APIM calls, as Kubernetes objects: a networking.k8s.io/v1 Ingress, an Istio VirtualService or a
// Gateway API HTTPRoute, sending spec.path to the implementation Service's port. Pure. Every route is named after the
// ExposedAPI, labelled as ours and owner-referenced to it, so the garbage collector removes it with the ExposedAPI even
// if a delete Job never runs.
import { createHash } from 'node:crypto';
import type { ExecutorConfig, RouteMode } from '../core/executor-config.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'exposedapi-apim';
/** `<namespace>/<name>` of the ExposedAPI a route serves (an annotation: names can exceed label value limits). */
export const ROUTE_OWNER_ANNOTATION = 'exposedapi-apim.io/exposedapi';

export interface RouteKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

export const ROUTE_KINDS: Record<RouteMode, RouteKind> = {
  ingress: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses' },
  istio: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService', plural: 'virtualservices' },
  'gateway-api': { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute', plural: 'httproutes' },
};

export function routeObjectPath(kind: RouteKind, namespace: string, name?: string): string {
  return `/apis/${kind.group}/${kind.version}/namespaces/${namespace}/${kind.plural}${name ? `/${name}` : ''}`;
}

export interface RouteInput {
  namespace: string;
  /** metadata.name of the ExposedAPI. */
  name: string;
  uid: string;
  /** apiVersion the owner reference names, e.g. oda.tmforum.org/v1. */
  ownerApiVersion: string;
  path: string;
  implementation: string;
  port: number;
}

/** `<name>-apim`, cut with a hash suffix when longer than a DNS subdomain allows. */
export function routeName(exposedApiName: string): string {
  const name = `${exposedApiName}-apim`;
  if (name.length <= 253) return name;
  const hash = createHash('sha256').update(exposedApiName).digest('hex').slice(0, 8);
  return `${exposedApiName.slice(0, 253 - 14).replace(/[-.]+$/, '')}-${hash}-apim`;
}

function metadata(input: RouteInput): Record<string, unknown> {
  return {
    name: routeName(input.name),
    namespace: input.namespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations: { [ROUTE_OWNER_ANNOTATION]: `${input.namespace}/${input.name}` },
    ownerReferences: [{ apiVersion: input.ownerApiVersion, kind: 'ExposedAPI', name: input.name, uid: input.uid, controller: true }],
  };
}

export function ingressFor(input: RouteInput, route: Pick<ExecutorConfig['route'], 'ingressClass' | 'host'>): Record<string, unknown> {
  const rule: Record<string, unknown> = {
    http: {
      paths: [{ path: input.path, pathType: 'Prefix', backend: { service: { name: input.implementation, port: { number: input.port } } } }],
    },
  };
  if (route.host) rule['host'] = route.host;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: metadata(input),
    spec: { ...(route.ingressClass ? { ingressClassName: route.ingressClass } : {}), rules: [rule] },
  };
}

export function virtualServiceFor(input: RouteInput, route: Pick<ExecutorConfig['route'], 'host' | 'gateway'>): Record<string, unknown> {
  if (!route.gateway) throw new Error('ROUTE_GATEWAY is required for VirtualServices');
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: metadata(input),
    spec: {
      hosts: [route.host ?? '*'],
      gateways: [`${route.gateway.namespace}/${route.gateway.name}`],
      http: [
        {
          name: 'exposedapi',
          // Exact path or below it: a bare prefix would also send /api-other to this API.
          match: [{ uri: { exact: input.path } }, { uri: { prefix: `${input.path}/` } }],
          route: [{ destination: { host: `${input.implementation}.${input.namespace}.svc.cluster.local`, port: { number: input.port } } }],
        },
      ],
    },
  };
}

export function httpRouteFor(input: RouteInput, route: Pick<ExecutorConfig['route'], 'host' | 'gateway'>): Record<string, unknown> {
  if (!route.gateway) throw new Error('ROUTE_GATEWAY is required for HTTPRoutes');
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: metadata(input),
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: route.gateway.namespace, name: route.gateway.name }],
      ...(route.host ? { hostnames: [route.host] } : {}),
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: input.path } }], backendRefs: [{ name: input.implementation, port: input.port }] }],
    },
  };
}

export function routeFor(mode: RouteMode, input: RouteInput, route: ExecutorConfig['route']): Record<string, unknown> {
  switch (mode) {
    case 'ingress':
      return ingressFor(input, route);
    case 'istio':
      return virtualServiceFor(input, route);
    case 'gateway-api':
      return httpRouteFor(input, route);
  }
}

/** The load-balancer address of an Ingress (status.loadBalancer.ingress[0].ip or hostname), if it has one yet. */
export function ingressAddress(ingress: unknown): string | undefined {
  const lb = (ingress as { status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } } | undefined)?.status?.loadBalancer?.ingress?.[0];
  return lb?.ip || lb?.hostname || undefined;
}

/**
 * The serviceUrl APIM calls: ROUTE_BASE_URL + path when configured, else (Ingress) the route's host or its
 * load-balancer address + path.
 */
export function routeBackendUrl(route: Pick<ExecutorConfig['route'], 'baseUrl' | 'host' | 'scheme'>, path: string, address?: string): string {
  if (route.baseUrl) return `${route.baseUrl}${path}`;
  const host = route.host ?? address;
  if (!host) throw new Error('no host: the route has no load-balancer address and neither ROUTE_HOST nor ROUTE_BASE_URL is set');
  return `${route.scheme}://${host.includes(':') ? `[${host}]` : host}${path}`;
}

/** Whether an existing object is the route of this ExposedAPI (never take over someone else's object). */
export function isOurRoute(obj: unknown, uid: string): boolean {
  const refs = (obj as { metadata?: { ownerReferences?: { uid?: string }[] } }).metadata?.ownerReferences ?? [];
  return refs.some((r) => r.uid === uid);
}
