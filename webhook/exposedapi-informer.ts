// A resilient list + watch of ExposedAPIs: relists on 410 Gone, backs off on errors, one watch per configured
// namespace (or one cluster-wide). It keeps a slim summary per object, never the full object: an inline OpenAPI
// document can be hundreds of kilobytes, and thousands of ExposedAPIs must fit in a small process.
//
// A 404 on the list or the watch means the apiserver no longer serves the watched version: the CRD was deleted, or
// replaced by one without this version. The cache then describes nothing real, so the informer says so once, loudly,
// reports not ready (isReady, what /readyz answers) and keeps retrying until the version is served again.
import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { ODA_GROUP } from '../core/exposedapi-model.ts';
import { isObject } from '../core/object-reader.ts';
import { statusCode } from '../dispatcher/exposedapi-writes.ts';

export interface InformerEvents<S> {
  /** An object was added or changed (full object, then its summary). */
  upsert(obj: Record<string, unknown>, summary: S): void;
  remove(summary: S): void;
  /** The initial list of every watched namespace has been processed. */
  synced?(): void;
}

export interface InformerOptions<S> {
  kubeConfig: KubeConfig;
  /** Empty = all namespaces. */
  namespaces: string[];
  summarize(obj: Record<string, unknown>): S;
  events: InformerEvents<S>;
  /** Watched version; v1 is the storage version, and every object is visible through it. */
  version?: string;
  plural?: string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  maxBackoffMs?: number;
}

function keyOf(obj: Record<string, unknown>): string {
  const m = isObject(obj['metadata']) ? obj['metadata'] : {};
  return `${String(m['namespace'] ?? '')}/${String(m['name'] ?? '')}`;
}

export class ExposedApiInformer<S> {
  private readonly opts: Required<Omit<InformerOptions<S>, 'log'>> & Pick<InformerOptions<S>, 'log'>;
  private readonly items = new Map<string, S>();
  private readonly aborts = new Set<AbortController>();
  private stopped = false;
  private pendingSync: number;
  /** Scopes ('*' or a namespace) whose list or watch last answered 404: the version is not served. */
  private readonly unserved = new Set<string>();
  isSynced = false;
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relistsOnGone: 0, errors: 0 };

  constructor(opts: InformerOptions<S>) {
    this.opts = { version: 'v1', plural: 'exposedapis', maxBackoffMs: 30_000, ...opts };
    this.pendingSync = Math.max(1, opts.namespaces.length);
  }

  get(namespace: string, name: string): S | undefined {
    return this.items.get(`${namespace}/${name}`);
  }

  values(): IterableIterator<S> {
    return this.items.values();
  }

  get size(): number {
    return this.items.size;
  }

  /** Why the informer is not ready: still listing (false), the version not served (a sentence), or undefined. */
  get notReadyReason(): string | false | undefined {
    if (this.unserved.size > 0) return `${this.resource()} is not served by the apiserver (its CRD was deleted or replaced without version ${this.opts.version})`;
    return this.isSynced ? undefined : false;
  }

  private resource(): string {
    return `${this.opts.plural}.${ODA_GROUP}/${this.opts.version}`;
  }

  private servedAgain(scope: string): void {
    if (!this.unserved.delete(scope)) return;
    this.opts.log?.('info', `${this.resource()} is served again; ready once every watched namespace is listed`, { namespace: scope });
  }

  private notServed(scope: string, e: unknown): void {
    if (this.unserved.has(scope)) return; // said once per outage; the retries stay quiet
    this.unserved.add(scope);
    this.opts.log?.(
      'error',
      `${this.resource()} is not served by the apiserver (404): its CRD was deleted or replaced without version ${this.opts.version}; ` +
        'not ready (path claims and dispatch are blind) until it is served again: install the CRD (manifests/base/crd.yaml)',
      { namespace: scope, error: e instanceof Error ? e.message : String(e) },
    );
  }

  start(): void {
    const scopes = this.opts.namespaces.length > 0 ? this.opts.namespaces : [undefined];
    for (const ns of scopes) void this.run(ns);
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
    this.aborts.clear();
  }

  private basePath(namespace: string | undefined): string {
    const { version, plural } = this.opts;
    return namespace ? `/apis/${ODA_GROUP}/${version}/namespaces/${namespace}/${plural}` : `/apis/${ODA_GROUP}/${version}/${plural}`;
  }

  private inScope(key: string, namespace: string | undefined): boolean {
    return namespace === undefined || key.startsWith(`${namespace}/`);
  }

  private async list(namespace: string | undefined): Promise<string> {
    const api = this.opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const { version, plural } = this.opts;
    const list = (namespace
      ? await api.listNamespacedCustomObject({ group: ODA_GROUP, version, namespace, plural })
      : await api.listClusterCustomObject({ group: ODA_GROUP, version, plural })) as { items?: Record<string, unknown>[]; metadata?: { resourceVersion?: string } };
    this.stats.lists++;
    const seen = new Set<string>();
    for (const obj of list.items ?? []) {
      const key = keyOf(obj);
      seen.add(key);
      const summary = this.opts.summarize(obj);
      this.items.set(key, summary);
      this.opts.events.upsert(obj, summary);
    }
    // Objects deleted while we were not watching.
    for (const [key, summary] of [...this.items]) {
      if (this.inScope(key, namespace) && !seen.has(key)) {
        this.items.delete(key);
        this.opts.events.remove(summary);
      }
    }
    return list.metadata?.resourceVersion ?? '';
  }

  private async run(namespace: string | undefined): Promise<void> {
    let backoff = 200;
    let firstSync = true;
    const scope = namespace ?? '*';
    while (!this.stopped) {
      try {
        let rv = await this.list(namespace);
        this.servedAgain(scope);
        if (firstSync) {
          firstSync = false;
          if (--this.pendingSync === 0) {
            this.isSynced = true;
            this.opts.events.synced?.();
          }
        }
        backoff = 200;
        // Watch until the server closes the stream (normal every few minutes) or says our version is too old.
        for (;;) {
          if (this.stopped) return;
          const result = await this.watchOnce(namespace, rv);
          if (result.gone) {
            this.stats.relistsOnGone++;
            break; // relist
          }
          if (result.error) throw result.error;
          rv = result.resourceVersion;
        }
      } catch (e) {
        if (this.stopped) return;
        this.stats.errors++;
        if (statusCode(e) === 404) this.notServed(scope, e);
        else this.opts.log?.('warn', 'ExposedAPI watch failed; retrying', { namespace: scope, error: e instanceof Error ? e.message : String(e), backoffMs: backoff });
        await new Promise((r) => setTimeout(r, backoff + Math.random() * backoff * 0.2));
        backoff = Math.min(backoff * 2, this.opts.maxBackoffMs);
      }
    }
  }

  private watchOnce(namespace: string | undefined, resourceVersion: string): Promise<{ resourceVersion: string; gone?: boolean; error?: unknown }> {
    return new Promise((resolve) => {
      let rv = resourceVersion;
      let gone = false;
      let notFound: Record<string, unknown> | undefined;
      let abort: AbortController | undefined;
      this.stats.watches++;
      const watch = new Watch(this.opts.kubeConfig);
      watch
        .watch(
          this.basePath(namespace),
          // client-node ends a watch that has been silent for 30 s as an error (which would mean a full relist); asking the
          // server to close it first ends it cleanly, and the loop resumes from the last resourceVersion.
          { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 25 },
          (phase: string, obj: Record<string, unknown>) => {
            if (phase === 'ERROR') {
              if (isObject(obj) && obj['code'] === 410) gone = true;
              else if (isObject(obj) && obj['code'] === 404) notFound = obj;
              abort?.abort();
              return;
            }
            const meta = isObject(obj?.['metadata']) ? obj['metadata'] : {};
            if (typeof meta['resourceVersion'] === 'string') rv = meta['resourceVersion'];
            if (phase === 'BOOKMARK') return;
            const key = keyOf(obj);
            if (phase === 'DELETED') {
              const summary = this.items.get(key) ?? this.opts.summarize(obj);
              this.items.delete(key);
              this.opts.events.remove(summary);
            } else {
              const summary = this.opts.summarize(obj);
              this.items.set(key, summary);
              this.opts.events.upsert(obj, summary);
            }
          },
          (err: unknown) => {
            if (abort) this.aborts.delete(abort);
            if (gone) resolve({ resourceVersion: rv, gone: true });
            else if (notFound) resolve({ resourceVersion: rv, error: Object.assign(new Error(String(notFound['message'] ?? 'Not Found')), { code: 404 }) });
            else if (err && !this.stopped) resolve({ resourceVersion: rv, error: err });
            else resolve({ resourceVersion: rv });
          },
        )
        .then(
          (a) => {
            abort = a;
            if (this.stopped) a.abort();
            else this.aborts.add(a);
          },
          (err: unknown) => resolve({ resourceVersion: rv, error: err }),
        );
    });
  }
}
