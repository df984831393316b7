// Remembers every state a namespace's pods went through, including pods already deleted: Job pods may be gone (TTL,
// deadline, garbage collection) by the time a test asserts on their exit codes.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { runWatchLoop } from '../../dev-cluster/control-plane/watch-loop.ts';

export interface PodHistory {
  /** The latest state seen for each pod name, deleted pods included. */
  latest: () => Map<string, V1Pod>;
  deleted: () => Set<string>;
  stop: () => void;
}

export async function watchPodHistory(kubeConfig: KubeConfig, namespace: string): Promise<PodHistory> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const latest = new Map<string, V1Pod>();
  const deleted = new Set<string>();
  const loop = runWatchLoop<V1Pod>({
    kubeConfig,
    path: `/api/v1/namespaces/${namespace}/pods`,
    list: () => core.listNamespacedPod({ namespace }),
    onEvent: (type, pod) => {
      const name = pod.metadata!.name!;
      latest.set(name, pod);
      if (type === 'DELETED') deleted.add(name);
    },
  });
  await loop.synced;
  return { latest: () => latest, deleted: () => deleted, stop: loop.stop };
}

/** The terminated state of a pod's container, if it has one. */
export function terminated(pod: V1Pod | undefined, container = 'main') {
  return pod?.status?.containerStatuses?.find((c) => c.name === container)?.state?.terminated;
}
