// Where a document served by the implementation is read from: the Service and its EndpointSlices, read through the
// Kubernetes API with the executor's own rights (`services` get, `endpointslices` list: the same reads as
// implementation-ready.ts), judged by core/served-document.ts. DNS is never asked.
import { resolveServedEndpoints, type EndpointResolution, type SpecUrlTarget } from '../core/served-document.ts';
import type { KubeClient } from './kube-client.ts';

export async function servedEndpoints(kube: KubeClient, target: Extract<SpecUrlTarget, { kind: 'implementation' }>): Promise<EndpointResolution> {
  const [service, slices] = await Promise.all([
    kube.get(`/api/v1/namespaces/${target.namespace}/services/${target.service}`),
    kube.get<{ items?: unknown[] }>(`/apis/discovery.k8s.io/v1/namespaces/${target.namespace}/endpointslices`, { labelSelector: `kubernetes.io/service-name=${target.service}` }),
  ]);
  return resolveServedEndpoints(target, service, slices?.items ?? []);
}
