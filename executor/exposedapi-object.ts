// The ExposedAPI as the executor reads it from the apiserver: always through v1, the storage version (the canonical
// CRD has no conversion, every version returns the same stored JSON), plus where its status is written.
import { ODA_GROUP } from '../core/exposedapi-model.ts';
import type { ExposedApiStatus } from '../core/exposedapi-status.ts';
import type { KubeClient } from './kube-client.ts';

export const EXPOSEDAPI_VERSION = 'v1';
export const EXPOSEDAPI_API_VERSION = `${ODA_GROUP}/${EXPOSEDAPI_VERSION}`;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ExposedApiObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    ownerReferences?: OwnerReference[];
  };
  spec?: unknown;
  status?: ExposedApiStatus & Record<string, unknown>;
}

export interface ExposedApiRef {
  namespace: string;
  name: string;
}

export function exposedApiPath(ref: ExposedApiRef, subresource?: 'status'): string {
  return `/apis/${ODA_GROUP}/${EXPOSEDAPI_VERSION}/namespaces/${ref.namespace}/exposedapis/${ref.name}${subresource ? `/${subresource}` : ''}`;
}

/**
 * Whether the installed CRD has a status subresource. The ODA CRD (and ours) has none, so status goes through the
 * main object; a CRD that adds one would silently drop status written that way, hence the discovery read.
 */
export async function hasStatusSubresource(kube: KubeClient): Promise<boolean> {
  const list = await kube.get<{ resources?: { name: string }[] }>(`/apis/${ODA_GROUP}/${EXPOSEDAPI_VERSION}`);
  return (list?.resources ?? []).some((r) => r.name === 'exposedapis/status');
}
