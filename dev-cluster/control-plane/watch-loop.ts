// List-then-watch that never gives up while the harness runs, over the project's one list-watch
// (kube/list-watch.ts). The node agent and the ingress faker are reconcilers: each event hands over the object's
// latest state, and replaying an object is harmless; so every failure is retried after a short fixed pause (500 ms)
// from the last resourceVersion, and the apiserver's 410 Gone leads to a new list.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ListWatch } from '../../kube/list-watch.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchLoopOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Collection path, e.g. /api/v1/pods. */
  path: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  onEvent: (type: WatchEventType, obj: T) => void;
  onError?: (err: unknown) => void;
}

export interface WatchLoop {
  /** Resolves after the first list has been delivered. */
  synced: Promise<void>;
  stop: () => void;
}

export function runWatchLoop<T extends KubernetesObject>(options: WatchLoopOptions<T>): WatchLoop {
  const watch = new ListWatch<T>({
    kubeConfig: options.kubeConfig,
    path: options.path,
    list: options.list,
    summarize: (obj) => obj as T, // reconcilers want the whole object
    backoff: { initialMs: 500, maxMs: 500 },
  });
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  watch
    .on('upsert', (obj, _raw, _key, type) => options.onEvent(type, obj))
    .on('remove', (known, _key, deleted) => options.onEvent('DELETED', (deleted as T | undefined) ?? known))
    .on('synced', markSynced);
  if (options.onError) watch.on('error', (err) => options.onError!(err));
  watch.start();
  return { synced, stop: () => watch.stop() };
}
