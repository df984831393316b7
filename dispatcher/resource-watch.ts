// The dispatcher's watches of built-in collections (Jobs, EndpointSlices), keeping a slim summary per object: an
// adapter over the project's one list-watch (kube/list-watch.ts, which says how it resumes, relists and backs off).
import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '../core/kube/errors.ts';
import type { Log } from '../core/log.ts';
import { ListWatch, type ListResult } from '../kube/list-watch.ts';

export interface ResourceWatchOptions<S> {
  kubeConfig: KubeConfig;
  /** Collection path for the watch, e.g. /apis/batch/v1/namespaces/ops/jobs. */
  path: string;
  labelSelector?: string;
  /** The matching list call (same path and selector), e.g. through a typed client. */
  list: () => Promise<ListResult>;
  /** The slim summary to keep, or undefined to ignore the object. */
  summarize: (obj: unknown) => S | undefined;
  onUpsert: (key: string, summary: S) => void;
  onRemove: (key: string, summary: S) => void;
  onSynced?: () => void;
  log?: Log;
  /** What is watched, as the log says it (Job, EndpointSlice). */
  resource?: string;
  maxBackoffMs?: number;
  /** Server-side timeout of one watch request; below client-node's 30 s inactivity timeout. */
  watchTimeoutSeconds?: number;
}

export class ResourceWatch<S> extends ListWatch<S> {
  constructor(options: ResourceWatchOptions<S>) {
    const { onUpsert, onRemove, onSynced, log, resource, maxBackoffMs, ...rest } = options;
    super({ ...rest, ...(maxBackoffMs !== undefined ? { backoff: { maxMs: maxBackoffMs } } : {}) });
    this.on('upsert', (summary, _obj, key) => onUpsert(key, summary));
    this.on('remove', (summary, key) => onRemove(key, summary));
    if (onSynced) this.on('synced', onSynced);
    if (log) this.on('error', (err, backoffMs) => log.warn(`${resource ? `${resource} ` : ''}watch failed; retrying`, { path: options.path, error: errorMessage(err), backoffMs }));
  }
}
