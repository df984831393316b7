// status.implementation.ready (ODA): the implementation Service has at least one ready endpoint, read from its
// EndpointSlices (label kubernetes.io/service-name). A missing Service is "not ready", not an error: components create
// their Services and ExposedAPIs in any order.
import type { KubeClient } from './kube-client.ts';

interface EndpointSlice {
  endpoints?: { conditions?: { ready?: boolean } }[] | null;
}

/** Pure: EndpointConditions.ready unset means ready (discovery.k8s.io/v1 semantics). */
export function anyReadyEndpoint(slices: EndpointSlice[]): boolean {
  return slices.some((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready !== false));
}

export interface ImplementationState {
  ready: boolean;
  serviceExists: boolean;
}

export async function implementationState(kube: KubeClient, namespace: string, service: string): Promise<ImplementationState> {
  const [svc, slices] = await Promise.all([
    kube.get(`/api/v1/namespaces/${namespace}/services/${service}`),
    kube.get<{ items?: EndpointSlice[] }>(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`, { labelSelector: `kubernetes.io/service-name=${service}` }),
  ]);
  return { serviceExists: svc !== undefined, ready: svc !== undefined && anyReadyEndpoint(slices?.items ?? []) };
}
