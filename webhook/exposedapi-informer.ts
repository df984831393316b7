// The list + watch of ExposedAPIs, one per configured namespace (or one cluster-wide), over the project's one
// list-watch (kube/list-watch.ts: resume, relist on 410 Gone, back-off). It keeps a slim summary per object, never the
// full object: an inline OpenAPI document can be hundreds of kilobytes, and thousands of ExposedAPIs must fit in a
// small process. After any failure it lists again rather than resuming (a 404 means the served version changed).
//
// A 404 on the list or the watch means the apiserver no longer serves the watched version: the CRD was deleted, or
// replaced by one without this version. The cache then describes nothing real, so the informer says so once, loudly,
// reports not ready (isReady, what /readyz answers) and keeps retrying until the version is served again.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ODA_GROUP } from '../core/exposedapi-model.ts';
import { errorMessage, isNotFound } from '../core/kube/errors.ts';
import { isObject } from '../core/object-reader.ts';
import { ListWatch, type ListResult } from '../kube/list-watch.ts';
import type { Log } from '../core/log.ts';

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
  log?: Log;
  maxBackoffMs?: number;
}

export class ExposedApiInformer<S> {
  private readonly opts: Required<Omit<InformerOptions<S>, 'log'>> & Pick<InformerOptions<S>, 'log'>;
  /** One list-watch per scope: a namespace, or the whole cluster (key ''). */
  private readonly watches = new Map<string, ListWatch<S>>();
  private pendingSync: number;
  /** Scopes ('*' or a namespace) whose list or watch last answered 404: the version is not served. */
  private readonly unserved = new Set<string>();
  isSynced = false;

  constructor(opts: InformerOptions<S>) {
    this.opts = { version: 'v1', plural: 'exposedapis', maxBackoffMs: 30_000, ...opts };
    this.pendingSync = Math.max(1, opts.namespaces.length);
    const scopes = this.opts.namespaces.length > 0 ? this.opts.namespaces : [undefined];
    for (const ns of scopes) this.watches.set(ns ?? '', this.watchOf(ns));
  }

  /** Counters for tests and metrics, summed over the scopes. */
  get stats(): { lists: number; watches: number; relistsOnGone: number; errors: number } {
    const sum = { lists: 0, watches: 0, relistsOnGone: 0, errors: 0 };
    for (const w of this.watches.values()) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += w.stats[k];
    return sum;
  }

  get(namespace: string, name: string): S | undefined {
    return (this.watches.get(namespace) ?? this.watches.get(''))?.get(`${namespace}/${name}`);
  }

  *values(): IterableIterator<S> {
    for (const w of this.watches.values()) yield* w.values();
  }

  get size(): number {
    let n = 0;
    for (const w of this.watches.values()) n += w.size;
    return n;
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
    this.opts.log?.info(`${this.resource()} is served again; ready once every watched namespace is listed`, { namespace: scope });
  }

  private notServed(scope: string, e: unknown): void {
    if (this.unserved.has(scope)) return; // said once per outage; the retries stay quiet
    this.unserved.add(scope);
    this.opts.log?.error(
      `${this.resource()} is not served by the apiserver (404): its CRD was deleted or replaced without version ${this.opts.version}; ` +
        'not ready (path claims and dispatch are blind) until it is served again: install the CRD (manifests/base/crd.yaml)',
      { namespace: scope, error: errorMessage(e) },
    );
  }

  start(): void {
    for (const w of this.watches.values()) w.start();
  }

  stop(): void {
    for (const w of this.watches.values()) w.stop();
  }

  private basePath(namespace: string | undefined): string {
    const { version, plural } = this.opts;
    return namespace ? `/apis/${ODA_GROUP}/${version}/namespaces/${namespace}/${plural}` : `/apis/${ODA_GROUP}/${version}/${plural}`;
  }

  private watchOf(namespace: string | undefined): ListWatch<S> {
    const scope = namespace ?? '*';
    const { version, plural, kubeConfig, summarize, events } = this.opts;
    const api = kubeConfig.makeApiClient(CustomObjectsApi);
    const list = async (): Promise<ListResult> =>
      (namespace
        ? await api.listNamespacedCustomObject({ group: ODA_GROUP, version, namespace, plural })
        : await api.listClusterCustomObject({ group: ODA_GROUP, version, plural })) as ListResult;
    const watch = new ListWatch<S>({
      kubeConfig,
      path: this.basePath(namespace),
      list,
      summarize: (obj) => summarize(isObject(obj) ? obj : {}),
      backoff: { maxMs: this.opts.maxBackoffMs },
      relistAfterError: true,
    });
    watch
      .on('listed', () => this.servedAgain(scope))
      .on('upsert', (summary, obj) => events.upsert(obj as Record<string, unknown>, summary))
      .on('remove', (summary) => events.remove(summary))
      .on('synced', () => {
        if (--this.pendingSync === 0) {
          this.isSynced = true;
          events.synced?.();
        }
      })
      .on('error', (e, backoffMs) => {
        if (isNotFound(e)) this.notServed(scope, e);
        else this.opts.log?.warn('ExposedAPI watch failed; retrying', { namespace: scope, error: errorMessage(e), backoffMs });
      });
    return watch;
  }
}
