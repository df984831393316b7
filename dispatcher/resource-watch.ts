// A resilient list + watch of any collection (Jobs, EndpointSlices), keeping a slim summary per object: the
// ExposedAPI informer's recipe for built-in resources (that one is specialised to custom objects). Resumes from the
// last resourceVersion after a dropped or timed-out stream, lists again only on 410 Gone (the version is too old),
// backs off on errors, and reports deletions that happened while it was not watching.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { isObject } from '../core/object-reader.ts';

export interface ResourceWatchOptions<S> {
  kubeConfig: KubeConfig;
  /** Collection path for the watch, e.g. /apis/batch/v1/namespaces/ops/jobs. */
  path: string;
  labelSelector?: string;
  /** The matching list call (same path and selector), e.g. through a typed client. */
  list: () => Promise<{ items?: unknown[]; metadata?: { resourceVersion?: string } }>;
  /** The slim summary to keep, or undefined to ignore the object. */
  summarize: (obj: unknown) => S | undefined;
  onUpsert: (key: string, summary: S) => void;
  onRemove: (key: string, summary: S) => void;
  onSynced?: () => void;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  maxBackoffMs?: number;
  /** Server-side timeout of one watch request; below client-node's 30 s inactivity timeout. */
  watchTimeoutSeconds?: number;
}

function keyOf(obj: unknown): string {
  const meta = isObject(obj) && isObject(obj['metadata']) ? obj['metadata'] : {};
  return `${String(meta['namespace'] ?? '')}/${String(meta['name'] ?? '')}`;
}

function statusCode(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown };
  return typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
}

export class ResourceWatch<S> {
  private readonly options: ResourceWatchOptions<S>;
  private readonly items = new Map<string, S>();
  private stopped = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  isSynced = false;
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relistsOnGone: 0, errors: 0 };

  constructor(options: ResourceWatchOptions<S>) {
    this.options = options;
  }

  get(key: string): S | undefined {
    return this.items.get(key);
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

  private upsert(obj: unknown): void {
    const key = keyOf(obj);
    const summary = this.options.summarize(obj);
    if (summary === undefined) {
      const old = this.items.get(key);
      if (old !== undefined) {
        this.items.delete(key);
        this.options.onRemove(key, old);
      }
      return;
    }
    this.items.set(key, summary);
    this.options.onUpsert(key, summary);
  }

  private remove(obj: unknown): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old === undefined) return;
    this.items.delete(key);
    this.options.onRemove(key, old);
  }

  private async list(): Promise<string> {
    const list = await this.options.list();
    this.stats.lists++;
    const seen = new Set<string>();
    for (const obj of list.items ?? []) {
      seen.add(keyOf(obj));
      this.upsert(obj);
    }
    for (const [key, old] of [...this.items]) {
      if (!seen.has(key)) {
        this.items.delete(key);
        this.options.onRemove(key, old);
      }
    }
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
    let rv = '';
    let backoff = 200;
    const maxBackoff = this.options.maxBackoffMs ?? 30_000;
    while (!this.stopped) {
      try {
        if (rv === '') {
          rv = await this.list();
          if (this.stopped) return;
          if (!this.isSynced) {
            this.isSynced = true;
            this.options.onSynced?.();
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
        backoff = 200;
      } catch (err) {
        if (this.stopped) return;
        this.stats.errors++;
        this.options.log?.('watch failed; retrying', { path: this.options.path, error: err instanceof Error ? err.message : String(err), backoffMs: backoff });
        await this.sleep(backoff + Math.random() * backoff * 0.2);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  private watchOnce(resourceVersion: string): Promise<{ resourceVersion: string; gone?: boolean; error?: unknown }> {
    return new Promise((resolve) => {
      let rv = resourceVersion;
      let gone = false;
      this.stats.watches++;
      new Watch(this.options.kubeConfig)
        .watch(
          this.options.path,
          { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: this.options.watchTimeoutSeconds ?? 25, labelSelector: this.options.labelSelector },
          (phase: string, obj: unknown) => {
            if (phase === 'ERROR') {
              if (isObject(obj) && obj['code'] === 410) gone = true;
              this.abort?.abort();
              return;
            }
            const meta = isObject(obj) && isObject(obj['metadata']) ? obj['metadata'] : {};
            if (typeof meta['resourceVersion'] === 'string') rv = meta['resourceVersion'];
            if (phase === 'BOOKMARK') return;
            if (phase === 'DELETED') this.remove(obj);
            else this.upsert(obj);
          },
          (err: unknown) => {
            this.abort = undefined;
            const name = (err as Error | undefined)?.name;
            if (gone || statusCode(err) === 410) resolve({ resourceVersion: rv, gone: true });
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
