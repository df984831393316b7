// Documents served by the implementation itself (springdoc's /v3/api-docs, FastAPI's /openapi.json): a specification
// URL that names the ExposedAPI's own implementation Service is read from that Service's ready pods. Pure.
//
// The guard never trusts DNS for it: a name is matched as text against the forms a pod's resolver would take for the
// Service (`<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local`), and where to connect comes from
// the Kubernetes API (the Service and the EndpointSlices the EndpointSlice controller keeps for it), so:
// - only this object's Service in this object's namespace opens the way, never another Service, another namespace,
//   an IP literal (even the Service's own ClusterIP) or a public name that merely starts like one;
// - only endpoints the EndpointSlice controller wrote for a Service with a selector, pointing at Pods of the namespace:
//   slices written by hand (or mirrored from hand-written Endpoints) can name any address, including another tenant's
//   pod, which is CVE-2021-25740's cross-namespace forwarding. Kubernetes' default roles give tenants no write access
//   to EndpointSlices (and, since 1.22, none to Endpoints), so a controller-written slice names the tenant's own pods;
// - never a link-local or metadata address, whatever a slice says.
// Any other in-cluster name is refused with the fix, unless SPEC_FETCH_ALLOW_PRIVATE lets the platform team open
// private fetches as before.
import { isIP } from 'node:net';
import { classifyAddress } from './address-guard.ts';
import { isObject } from './object-reader.ts';

/** The ExposedAPI a URL is judged for: its namespace and spec.implementation. */
export interface ImplementationScope {
  namespace: string;
  service: string;
}

/** Kubernetes' default cluster domain; a cluster with another can use the shorter forms (`<svc>.<ns>.svc`). */
const CLUSTER_DOMAIN = 'cluster.local';
/** The managed-by value of the slices kube-controller-manager's EndpointSlice controller writes. */
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type SpecUrlTarget =
  /** The implementation Service: read from its ready pods. `port` is the URL's (80/443 when it names none). */
  | { kind: 'implementation'; service: string; namespace: string; port: number; https: boolean }
  /** An in-cluster name that is not the implementation. */
  | { kind: 'other-service'; reason: string }
  /** Anything else: the ordinary fetch rules (https, public addresses, DNS checked) apply. */
  | { kind: 'elsewhere' };

function hostOf(u: URL): string {
  return u.hostname.toLowerCase().replace(/\.$/, '');
}

/** How a specification URL relates to the ExposedAPI's implementation. A URL that does not parse is 'elsewhere'. */
export function classifySpecUrl(url: string, scope: ImplementationScope): SpecUrlTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: 'elsewhere' };
  }
  // Credentials and other schemes stay with the ordinary rules, which refuse them with their own words.
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '') return { kind: 'elsewhere' };
  const host = hostOf(u);
  if (host === '' || isIP(host.replace(/^\[|\]$/g, ''))) return { kind: 'elsewhere' };
  const labels = host.split('.');
  const https = u.protocol === 'https:';
  const port = u.port !== '' ? Number(u.port) : https ? 443 : 80;
  const [svc, ns, ...rest] = labels as [string, string | undefined, ...string[]];
  const tail = rest.join('.');
  const clusterTail = tail === '' || tail === 'svc' || tail === `svc.${CLUSTER_DOMAIN}`;
  if (svc === scope.service && (ns === undefined || (ns === scope.namespace && clusterTail))) {
    return { kind: 'implementation', service: scope.service, namespace: scope.namespace, port, https };
  }
  // The machine's own names: the ordinary rules judge the loopback addresses they resolve to.
  if (host === 'localhost' || host.endsWith('.localhost')) return { kind: 'elsewhere' };
  const fix = `a document served in the cluster is read only from this ExposedAPI's own implementation Service ` +
    `(spec.implementation ${JSON.stringify(scope.service)} in namespace ${scope.namespace}): use http://${scope.service}.${scope.namespace}.svc:<port>/<path>, ` +
    `or publish the document at a public https URL`;
  if (ns === undefined) return { kind: 'other-service', reason: `${host} names Service ${JSON.stringify(svc)}, not this ExposedAPI's implementation; ${fix}` };
  if (tail === 'svc' || tail === `svc.${CLUSTER_DOMAIN}`) {
    return { kind: 'other-service', reason: `${host} names Service ${JSON.stringify(svc)} in namespace ${JSON.stringify(ns)}, not this ExposedAPI's implementation; ${fix}` };
  }
  if (host.endsWith(`.${CLUSTER_DOMAIN}`) || host.endsWith('.svc')) return { kind: 'other-service', reason: `${host} is a cluster-internal name that is not this ExposedAPI's implementation; ${fix}` };
  // <svc>.<ns> resolves through a pod's search path; a public name ends in a top-level domain of letters.
  if (labels.length === 2 && !/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(ns)) {
    return { kind: 'other-service', reason: `${host} can only be a Service of another namespace (<service>.<namespace>), not this ExposedAPI's implementation; ${fix}` };
  }
  return { kind: 'elsewhere' };
}

/** Where a served document is read from: a ready pod's address and the container port the Service port maps to. */
export interface ServedEndpoint {
  address: string;
  port: number;
  /** The Pod the EndpointSlice names, for messages. */
  pod: string;
}

export type EndpointResolution =
  | { kind: 'ready'; endpoints: ServedEndpoint[] }
  /** Nothing to read from yet: the Service is missing or has no ready pod. The API waits for it. */
  | { kind: 'not-ready'; reason: string }
  /** The Service cannot serve the document as asked: a configuration error, with the fix. */
  | { kind: 'refused'; reason: string };

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The ready endpoints to read a served document from, from the Service (undefined: not found) and its EndpointSlices
 * as the API returned them. Every slice is judged on its own labels, whatever selector listed it.
 */
export function resolveServedEndpoints(target: Extract<SpecUrlTarget, { kind: 'implementation' }>, service: unknown, slices: readonly unknown[]): EndpointResolution {
  const name = `Service ${target.namespace}/${target.service}`;
  if (!isObject(service)) return { kind: 'not-ready', reason: `${name} does not exist yet` };
  const spec = isObject(service['spec']) ? service['spec'] : {};
  if (spec['type'] === 'ExternalName') {
    return { kind: 'refused', reason: `${name} is an ExternalName Service, which points outside the cluster; serve the document from the implementation's pods, or use a public https URL` };
  }
  const selector = isObject(spec['selector']) ? spec['selector'] : {};
  if (Object.keys(selector).length === 0) {
    return { kind: 'refused', reason: `${name} has no selector, so its endpoints are written by hand and can point anywhere; served documents are read only from pods the EndpointSlice controller lists: give the Service a selector` };
  }
  const ports = (Array.isArray(spec['ports']) ? spec['ports'] : []).filter(isObject);
  const servicePort = ports.find((p) => p['port'] === target.port && (p['protocol'] ?? 'TCP') === 'TCP');
  if (!servicePort) {
    const known = ports.map((p) => String(p['port'])).join(', ') || 'none';
    return { kind: 'refused', reason: `port ${target.port} is not a TCP port of ${name} (its ports: ${known}); put one of them in the URL` };
  }
  const portName = str(servicePort['name']) ?? '';
  const endpoints: ServedEndpoint[] = [];
  let notReady = 0;
  for (const slice of slices) {
    const trusted = trustedSlice(slice, target.namespace, target.service);
    if (!trusted) continue;
    const slicePorts = (Array.isArray(trusted['ports']) ? trusted['ports'] : []).filter(isObject);
    const slicePort = slicePorts.find((p) => (str(p['name']) ?? '') === portName && (p['protocol'] ?? 'TCP') === 'TCP');
    const port = slicePort?.['port'];
    if (typeof port !== 'number' || port < 1 || port > 65535) continue;
    for (const e of Array.isArray(trusted['endpoints']) ? trusted['endpoints'] : []) {
      const usable = usableEndpoint(e, target.namespace);
      if (usable === 'not-ready') notReady++;
      else if (usable) endpoints.push({ address: usable.address, port, pod: usable.pod });
    }
  }
  if (endpoints.length === 0) {
    return { kind: 'not-ready', reason: `${name} has no ready pod for port ${target.port}${notReady > 0 ? ` (${notReady} not ready)` : ''}` };
  }
  // Deterministic order (the same pod first for the same slices), so one run's retries and a log read the same.
  endpoints.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : a.address < b.address ? -1 : 1));
  return { kind: 'ready', endpoints };
}

/** The slice when the EndpointSlice controller wrote it for this Service, with IP addresses; else undefined. */
function trustedSlice(slice: unknown, namespace: string, service: string): Record<string, unknown> | undefined {
  if (!isObject(slice)) return undefined;
  const meta = isObject(slice['metadata']) ? slice['metadata'] : {};
  const labels = isObject(meta['labels']) ? meta['labels'] : {};
  if (labels[SERVICE_NAME_LABEL] !== service || labels[SLICE_MANAGED_BY_LABEL] !== ENDPOINTSLICE_CONTROLLER) return undefined;
  if ((meta['namespace'] ?? namespace) !== namespace) return undefined;
  if (slice['addressType'] !== 'IPv4' && slice['addressType'] !== 'IPv6') return undefined;
  return slice;
}

/** An endpoint naming a Pod of the namespace: its address when ready and usable, 'not-ready', or undefined (ignored). */
function usableEndpoint(e: unknown, namespace: string): { address: string; pod: string } | 'not-ready' | undefined {
  if (!isObject(e)) return undefined;
  const conditions = isObject(e['conditions']) ? e['conditions'] : {};
  const ref = isObject(e['targetRef']) ? e['targetRef'] : {};
  if (ref['kind'] !== 'Pod' || (ref['namespace'] ?? namespace) !== namespace) return undefined;
  // An absent `ready` counts as ready, as the EndpointSlice API defines.
  if (conditions['ready'] === false) return 'not-ready';
  const address = Array.isArray(e['addresses']) ? str(e['addresses'][0]) : undefined;
  if (address === undefined) return undefined;
  const c = classifyAddress(address);
  if (c === 'never' || c === 'invalid') return undefined;
  return { address, pod: str(ref['name']) ?? '' };
}

/**
 * Whether one EndpointSlice (as listed or watched) has a pod a served document could be read from, by the rule of
 * resolveServedEndpoints less the Service's own port and selector, which a slice does not carry: the dispatcher's
 * readiness for the retry of a Job that found none, so the two judge readiness alike.
 */
export function sliceServesDocuments(slice: unknown): boolean {
  if (!isObject(slice)) return false;
  const meta = isObject(slice['metadata']) ? slice['metadata'] : {};
  const labels = isObject(meta['labels']) ? meta['labels'] : {};
  const namespace = str(meta['namespace']) ?? '';
  const service = str(labels[SERVICE_NAME_LABEL]) ?? '';
  const trusted = trustedSlice(slice, namespace, service);
  if (!trusted || namespace === '' || service === '') return false;
  return (Array.isArray(trusted['endpoints']) ? trusted['endpoints'] : []).some((e) => {
    const usable = usableEndpoint(e, namespace);
    return usable !== undefined && usable !== 'not-ready';
  });
}

/** Admission's words for a URL it leaves to the executor. */
export function deferredMessage(field: string, url: string, target: Extract<SpecUrlTarget, { kind: 'implementation' }>): string {
  return `${field}: ${url} is served by this ExposedAPI's implementation (Service ${target.namespace}/${target.service}), so it is not fetched now; ` +
    `the Job reads it from the Service's ready pods when the API is applied, and until one is ready the ExposedAPI says Ready=False ImplementationNotReady and is applied when the pods are ready`;
}
