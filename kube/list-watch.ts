// The one list-then-watch of the project: the webhook's ExposedAPI informer, the dispatcher's watches of Jobs and
// EndpointSlices and the dev cluster's reconcilers (node agent, ingress faker) are each a small adapter over it.
// Its shape is client-node's cache (`get/list/on/start/stop`, src/cache.ts); its restart behaviour is ours:
//
// - list, then watch from the list's resourceVersion, and keep the resourceVersion of every event and bookmark;
// - a stream that ends cleanly (the server's timeoutSeconds, a closed connection, client-node's own timeout) is
//   resumed from that resourceVersion, without listing: lists are the expensive call;
// - 410 Gone (as an ERROR event in the stream, or as the HTTP status of the watch request) means the resourceVersion
//   is too old: list again, and report as removed what the new list no longer holds (deleted while not watching);
// - any other failure is reported (`on('error')`) and backed off exponentially with jitter, bounded by
//   `backoff.maxMs`; then the watch resumes, or, with `relistAfterError`, lists again;
// - stop() ends the stream and any back-off at once.
//
// The watch asks the server to end each request after `watchTimeoutSeconds` (25 s): client-node aborts a watch that
// has been silent for 30 s, and a server-side end is a clean one, resumed from the last resourceVersion.
//
// It keeps what `summarize` returns per object, never the full object unless asked to: an ExposedAPI can carry an
// inline OpenAPI document of hundreds of kilobytes, and thousands must fit in a small process.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { isObject } from '../core/object-reader.ts';
import { isGone } from '../core/kube/errors.ts';

export interface ListResult {
  items?: unknown[];
  metadata?: { resourceVersion?: string };
}

export interface ListWatchOptions<S> {
  kubeConfig: KubeConfig;
  /** Collection path of the watch, e.g. /apis/batch/v1/namespaces/ops/jobs. */
  path: string;
  labelSelector?: string;
  /** The matching list call (same collection and selector), e.g. through a typed client. */
  list: () => Promise<ListResult>;
  /** What to keep of an object, or undefined to ignore it (an object kept before is then reported removed). */
  summarize: (obj: unknown) => S | undefined;
  /** Exponential back-off after a failure: from initialMs (200), doubling, at most maxMs (30 000); 20 % jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** After a failure, list again instead of resuming the watch (the ExposedAPI informer: a 404 means the served version changed). */
  relistAfterError?: boolean;
  /** Server-side timeout of one watch request; below client-node's 30 s inactivity timeout. */
  watchTimeoutSeconds?: number;
}

export interface ListWatchHandlers<S> {
  /** An object was listed ('ADDED') or added or changed in the watch; its summary, the full object and its key. */
  upsert: (summary: S, obj: unknown, key: string, type: 'ADDED' | 'MODIFIED') => void;
  /** A kept object was deleted (obj: the watch event's object) or is missing from a new list (obj undefined). */
  remove: (summary: S, key: string, obj: unknown) => void;
  /** The first list has been delivered. */
  synced: () => void;
  /** The list, the watch request or the stream failed; retried after backoffMs. */
  error: (err: unknown, backoffMs: number) => void;
  /** A list succeeded (every time, not only the first). */
  listed: () => void;
}

type Handlers<S> = { [E in keyof ListWatchHandlers<S>]: ListWatchHandlers<S>[E][] };

/** `namespace/name`, the key of the cache (and of `get`). */
export function objectKey(obj: unknown): string {
  const meta = isObject(obj) && isObject(obj['metadata']) ? obj['metadata'] : {};
  return `${String(meta['namespace'] ?? '')}/${String(meta['name'] ?? '')}`;
}

type WatchEnd = { resourceVersion: string; gone?: boolean; error?: unknown };

export class ListWatch<S> {
  private readonly options: ListWatchOptions<S>;
  private readonly items = new Map<string, S>();
  private readonly handlers: Handlers<S> = { upsert: [], remove: [], synced: [], error: [], listed: [] };
  private stopped = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  isSynced = false;
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relistsOnGone: 0, errors: 0 };

  constructor(options: ListWatchOptions<S>) {
    this.options = options;
  }

  on<E extends keyof ListWatchHandlers<S>>(event: E, handler: ListWatchHandlers<S>[E]): this {
    this.handlers[event].push(handler);
    return this;
  }

  get(key: string): S | undefined {
    return this.items.get(key);
  }

  list(): S[] {
    return [...this.items.values()];
  }

  values(): IterableIterator<S> {
    return this.items.values();
  }

  get size(): number {
    return this.items.size;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
  }

  private emit<E extends keyof ListWatchHandlers<S>>(event: E, ...args: Parameters<ListWatchHandlers<S>[E]>): void {
    for (const h of this.handlers[event]) (h as (...a: unknown[]) => void)(...args);
  }

  private upsert(obj: unknown, type: 'ADDED' | 'MODIFIED'): void {
    const key = objectKey(obj);
    const summary = this.options.summarize(obj);
    if (summary === undefined) return this.remove(key, obj);
    this.items.set(key, summary);
    this.emit('upsert', summary, obj, key, type);
  }

  private remove(key: string, obj: unknown): void {
    const old = this.items.get(key);
    if (old === undefined) return;
    this.items.delete(key);
    this.emit('remove', old, key, obj);
  }

  private async relist(): Promise<string> {
    const list = await this.options.list();
    this.stats.lists++;
    this.emit('listed');
    const seen = new Set<string>();
    for (const obj of list.items ?? []) {
      seen.add(objectKey(obj));
      this.upsert(obj, 'ADDED');
    }
    // Objects deleted while we were not watching.
    for (const key of [...this.items.keys()]) if (!seen.has(key)) this.remove(key, undefined);
    return list.metadata?.resourceVersion ?? '';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const initial = this.options.backoff?.initialMs ?? 200;
    const max = this.options.backoff?.maxMs ?? 30_000;
    let rv = '';
    let backoff = initial;
    while (!this.stopped) {
      try {
        if (rv === '') {
          rv = await this.relist();
          if (this.stopped) return;
          backoff = initial;
          if (!this.isSynced) {
            this.isSynced = true;
            this.emit('synced');
          }
        }
        const result = await this.watchOnce(rv);
        rv = result.resourceVersion;
        if (result.gone) {
          this.stats.relistsOnGone++;
          rv = '';
          continue;
        }
        if (result.error) throw result.error;
        backoff = initial;
      } catch (err) {
        if (this.stopped) return;
        this.stats.errors++;
        if (this.options.relistAfterError) rv = '';
        this.emit('error', err, backoff);
        await this.sleep(backoff + Math.random() * backoff * 0.2);
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  private watchOnce(resourceVersion: string): Promise<WatchEnd> {
    return new Promise((resolve) => {
      let rv = resourceVersion;
      let gone = false;
      let failure: Error | undefined;
      this.stats.watches++;
      new Watch(this.options.kubeConfig)
        .watch(
          this.options.path,
          {
            resourceVersion: rv,
            allowWatchBookmarks: true,
            timeoutSeconds: this.options.watchTimeoutSeconds ?? 25,
            labelSelector: this.options.labelSelector,
          },
          (phase: string, obj: unknown) => {
            if (phase === 'ERROR') {
              // A Status object: 410 is Gone; anything else (404 when the resource is no longer served) fails the stream.
              const code = isObject(obj) && typeof obj['code'] === 'number' ? obj['code'] : undefined;
              if (code === 410) gone = true;
              else failure = Object.assign(new Error(String((isObject(obj) && obj['message']) || 'watch error')), { code });
              this.abort?.abort();
              return;
            }
            const meta = isObject(obj) && isObject(obj['metadata']) ? obj['metadata'] : {};
            if (typeof meta['resourceVersion'] === 'string') rv = meta['resourceVersion'];
            if (phase === 'BOOKMARK') return;
            if (phase === 'DELETED') this.remove(objectKey(obj), obj);
            else this.upsert(obj, phase === 'ADDED' ? 'ADDED' : 'MODIFIED');
          },
          (err: unknown) => {
            this.abort = undefined;
            const name = (err as Error | undefined)?.name;
            if (gone || isGone(err)) resolve({ resourceVersion: rv, gone: true });
            else if (failure && !this.stopped) resolve({ resourceVersion: rv, error: failure });
            // A timed-out or closed stream is routine: resume from where it stopped.
            else if (!err || this.stopped || name === 'AbortError' || name === 'TimeoutError') resolve({ resourceVersion: rv });
            else resolve({ resourceVersion: rv, error: err });
          },
        )
        .then(
          (a) => {
            this.abort = a;
            if (this.stopped) a.abort();
          },
          (err: unknown) => resolve({ resourceVersion: rv, error: err }),
        );
    });
  }
}
