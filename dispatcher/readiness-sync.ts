// Readiness without Jobs: watches EndpointSlices (only those of Services, by label) in the watched namespaces and
// keeps status.implementation.ready of each ExposedAPI — and the `ready` of its entry in the parent Component's
// status — equal to "the implementation Service has a ready endpoint". Endpoints come and go far more often than
// specs change, and starting a Job (a pod, an APIM login) to flip one boolean would be absurd, so this is a direct
// merge patch.
import { DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ODA_GROUP } from '../core/exposedapi-model.ts';
import { componentReadyChange, SERVICE_NAME_LABEL, ServiceReadiness, sliceSummary, type SliceSummary } from './endpoint-readiness.ts';
import { keyOf, type DispatchSummary } from './exposedapi-summary.ts';
import { componentEntryReady } from '../core/exposedapi-status.ts';
import { writeFields, type Versioned } from '../core/kube/status-writer.ts';
import type { Log } from '../core/log.ts';
import type { ExposedApiWrites } from './exposedapi-writes.ts';
import { ResourceWatch } from './resource-watch.ts';

export interface ReadinessSyncOptions {
  kubeConfig: KubeConfig;
  /** Empty = all namespaces. */
  namespaces: string[];
  writes: ExposedApiWrites;
  /** A Service's readiness changed: the ExposedAPIs that name it need a sync. */
  onServiceChanged: (namespace: string, service: string) => void;
  onSynced: () => void;
  log?: Log;
}

export class ReadinessSync {
  private readonly options: ReadinessSyncOptions;
  private readonly readiness = new ServiceReadiness();
  private readonly watches: ResourceWatch<SliceSummary>[];
  /** The ready value each ExposedAPI's Component entry is known to have (cleared on resync). */
  private readonly componentState = new Map<string, boolean>();
  /** Writes that were needed (for tests and metrics). */
  readonly stats = { statusWrites: 0, componentWrites: 0 };

  constructor(options: ReadinessSyncOptions) {
    this.options = options;
    const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
    const scopes = options.namespaces.length > 0 ? options.namespaces : [undefined];
    let pending = scopes.length;
    this.watches = scopes.map((namespace) => new ResourceWatch<SliceSummary>({
      kubeConfig: options.kubeConfig,
      path: namespace ? `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices` : '/apis/discovery.k8s.io/v1/endpointslices',
      labelSelector: SERVICE_NAME_LABEL,
      list: () => (namespace
        ? discovery.listNamespacedEndpointSlice({ namespace, labelSelector: SERVICE_NAME_LABEL })
        : discovery.listEndpointSliceForAllNamespaces({ labelSelector: SERVICE_NAME_LABEL })),
      summarize: sliceSummary,
      onUpsert: (key, s) => this.changed(this.readiness.upsert(key, s), s),
      onRemove: (key, s) => this.changed(this.readiness.remove(key, s), s),
      onSynced: () => {
        if (--pending === 0) options.onSynced();
      },
      log: options.log,
      resource: 'EndpointSlice',
    }));
  }

  get isSynced(): boolean {
    return this.watches.every((w) => w.isSynced);
  }

  start(): void {
    for (const w of this.watches) w.start();
  }

  stop(): void {
    for (const w of this.watches) w.stop();
  }

  /** The implementation Service as the watch sees it; undefined until the watch has listed every slice. */
  implementation(namespace: string, service: string): { ready: boolean; readySinceMs?: number } | undefined {
    return this.isSynced ? this.readiness.view(namespace, service) : undefined;
  }

  /** Forget what is known about Components, so the next sync checks them again (a safety net for resyncs). */
  forgetComponents(): void {
    this.componentState.clear();
  }

  forget(key: string): void {
    this.componentState.delete(key);
  }

  private changed(serviceKey: string | undefined, s: SliceSummary): void {
    if (serviceKey !== undefined && this.isSynced) this.options.onServiceChanged(s.namespace, s.service);
  }

  /**
   * Brings one ExposedAPI (and its Component entry) in line with its Service. 'later' = the Component does not list
   * the API yet (the component operator writes its status after creating the ExposedAPIs), or another writer changed
   * the Component between our read and our patch (409): ask again in a while.
   */
  async sync(api: DispatchSummary): Promise<'done' | 'later'> {
    if (!this.isSynced || api.deleting || api.implementation === '') return 'done';
    const ready = this.readiness.isReady(api.namespace, api.implementation);
    if (api.implementationReady !== ready) {
      this.stats.statusWrites++;
      await this.options.writes.writeImplementationReady(api, ready);
    }
    // The entry says ready only while APIM does not serve a half-applied change (docs/status.md, "A failed change").
    return api.component ? this.syncComponent(api, componentEntryReady(ready, api.conditions)) : 'done';
  }

  private async syncComponent(api: DispatchSummary, ready: boolean): Promise<'done' | 'later'> {
    const key = keyOf(api);
    const owner = api.component!;
    if (this.componentState.get(key) === ready) return 'done';
    const path = `/apis/${ODA_GROUP}/v1/namespaces/${api.namespace}/components/${owner.name}`;
    const component = await this.options.writes.kube.get<Record<string, unknown> & Versioned>(path);
    if (!component) return 'done'; // the Component is gone; the garbage collector will follow
    const change = componentReadyChange(component, api.uid, ready);
    if (change.kind === 'no-entry') return 'later';
    if (change.kind === 'patch') {
      this.stats.componentWrites++;
      // The Component CRD has no status subresource either: status goes through the main object. It has several
      // writers (the ODA component operator, the executor, this sync): a conflict is expected, not an error. Read it
      // again on the next pass (the caller retries 'later' quietly).
      const written = await writeFields({ kube: this.options.writes.kube, path, fields: () => ({ status: { [change.section]: change.list } }), attempts: 1 }, component);
      if (written.result === 'conflict') return 'later';
    }
    this.componentState.set(key, ready);
    return 'done';
  }
}
