// List-then-watch that never gives up while the harness runs. The node agent and the ingress faker are reconcilers:
// each event hands over the object's latest state, and replaying an object is harmless. So after any watch failure we
// simply resume from the last resourceVersion, or list again when the apiserver says it is too old (410 Gone).
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

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

// Below the client's 30 s inactivity timeout, so a quiet watch ends cleanly on the server side and is resumed.
const WATCH_TIMEOUT_SECONDS = 25;

export function runWatchLoop<T extends KubernetesObject>(options: WatchLoopOptions<T>): WatchLoop {
  const watch = new Watch(options.kubeConfig);
  let stopped = false;
  let resourceVersion = '';
  let current: AbortController | undefined;
  let wake: (() => void) | undefined;
  const known = new Map<string, T>();
  const key = (obj: T): string => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  });

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        if (!resourceVersion) {
          const list = await options.list();
          if (stopped) return;
          const seen = new Set<string>();
          for (const item of list.items) {
            seen.add(key(item));
            known.set(key(item), item);
            options.onEvent('ADDED', item);
          }
          // Objects deleted while we were not watching.
          for (const [k, obj] of known) if (!seen.has(k)) { known.delete(k); options.onEvent('DELETED', obj); }
          resourceVersion = list.metadata?.resourceVersion ?? '';
          markSynced();
        }
        const err = await new Promise<unknown>((resolve) => {
          watch.watch(options.path, { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS },
            (type: string, obj: T & { code?: number }) => {
              if (type === 'ERROR') {
                if (obj.code === 410) resourceVersion = '';
                return;
              }
              const rv = obj.metadata?.resourceVersion;
              if (rv) resourceVersion = rv;
              if (type === 'BOOKMARK') return;
              if (type === 'DELETED') known.delete(key(obj));
              else known.set(key(obj), obj);
              options.onEvent(type as WatchEventType, obj);
            },
            (doneErr: unknown) => resolve(doneErr),
          ).then((ac) => { current = ac; if (stopped) ac.abort(); }, resolve);
        });
        current = undefined;
        if (stopped) return;
        if (err) {
          if ((err as { statusCode?: number }).statusCode === 410) resourceVersion = '';
          else if ((err as Error).name !== 'TimeoutError' && (err as Error).name !== 'AbortError') {
            options.onError?.(err);
            await sleep(500);
          }
        }
      } catch (err) {
        if (stopped) return;
        options.onError?.(err);
        await sleep(500);
      }
    }
  };
  void loop();
  return {
    synced,
    stop: () => {
      stopped = true;
      current?.abort();
      wake?.();
    },
  };
}
