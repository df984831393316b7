// The ApimTargets and the namespaces' labels, watched into a TargetDirectory (core/target-selection.ts): what admission
// and the dispatcher choose an ExposedAPI's instance from. Both are cluster-scoped and read only (get/list/watch,
// templates/rbac/webhook.yaml). Without the ApimTarget CRD (an install that keeps crd.install=false and has not added
// it yet) there are simply no targets: the list's 404 reads as an empty list, so every ExposedAPI keeps publishing into
// the operator's own instance, and the watch keeps asking, so targets work as soon as the CRD is installed. The same for
// a 403 (RBAC of an older install that lacks the read of ApimTargets or Namespaces), said once as a warning: what the
// process cannot read, it cannot choose by.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { TARGET_GROUP, TARGET_PLURAL, TARGET_VERSION } from '../core/apim-target.ts';
import { errorMessage, isNotFound, statusCode } from '../core/kube/errors.ts';
import type { Log } from '../core/log.ts';
import { isObject } from '../core/object-reader.ts';
import type { TargetDirectory } from '../core/target-selection.ts';
import type { ListResult } from '../kube/list-watch.ts';
import { ResourceWatch } from './resource-watch.ts';

export interface TargetWatchOptions {
  kubeConfig: KubeConfig;
  directory: TargetDirectory;
  /** Something a choice reads changed (a target, or a namespace's labels while some target selects by label). */
  onChange: () => void;
  onSynced?: () => void;
  log: Log;
}

interface TargetSummary {
  name: string;
  /** The object as the directory reads it: its name and spec (status and the rest of metadata are not read). */
  obj: Record<string, unknown>;
}

interface NamespaceSummary {
  name: string;
  labels: Record<string, string>;
}

export class TargetWatch {
  private readonly targets: ResourceWatch<TargetSummary>;
  private readonly namespaces: ResourceWatch<NamespaceSummary>;
  private crdMissing = false;
  private namespacesForbidden = false;

  constructor(options: TargetWatchOptions) {
    const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    const synced = () => {
      if (this.isSynced) options.onSynced?.();
    };
    this.targets = new ResourceWatch<TargetSummary>({
      kubeConfig: options.kubeConfig,
      path: `/apis/${TARGET_GROUP}/${TARGET_VERSION}/${TARGET_PLURAL}`,
      list: async () => {
        try {
          const list = (await custom.listClusterCustomObject({ group: TARGET_GROUP, version: TARGET_VERSION, plural: TARGET_PLURAL })) as ListResult;
          if (this.crdMissing) options.log.info('the ApimTarget CRD is served: ApimTargets are used');
          this.crdMissing = false;
          return list;
        } catch (err) {
          if (!isNotFound(err) && statusCode(err) !== 403) throw err;
          if (!this.crdMissing) {
            if (isNotFound(err)) options.log.info('the ApimTarget CRD is not installed: every ExposedAPI publishes into the operator\'s own instance (docs/apim-targets.md)');
            else options.log.warn('not allowed to list ApimTargets (RBAC: get/list/watch apimtargets.exposedapi-apim.io, templates/rbac/webhook.yaml): every ExposedAPI publishes into the operator\'s own instance', { error: errorMessage(err) });
          }
          this.crdMissing = true;
          return { items: [], metadata: { resourceVersion: '' } };
        }
      },
      summarize: (obj) => {
        if (!isObject(obj) || !isObject(obj['metadata'])) return undefined;
        const name = String(obj['metadata']['name'] ?? '');
        return { name, obj: { metadata: { name }, spec: obj['spec'] } };
      },
      onUpsert: (_key, s) => {
        if (options.directory.setTarget(s.obj)) options.onChange();
      },
      onRemove: (_key, s) => {
        if (options.directory.removeTarget(s.name)) options.onChange();
      },
      onSynced: synced,
      resource: 'ApimTarget',
      maxBackoffMs: 30_000,
    });
    // Failures are logged here: a missing CRD is said once (above), not at every retry.
    this.targets.on('error', (err, backoffMs) => {
      if (this.crdMissing && (isNotFound(err) || statusCode(err) === 403)) return;
      options.log.warn('ApimTarget watch failed; retrying', { error: errorMessage(err), backoffMs });
    });
    this.namespaces = new ResourceWatch<NamespaceSummary>({
      kubeConfig: options.kubeConfig,
      path: '/api/v1/namespaces',
      list: async () => {
        try {
          const list = (await core.listNamespace()) as ListResult;
          this.namespacesForbidden = false;
          return list;
        } catch (err) {
          if (statusCode(err) !== 403) throw err;
          if (!this.namespacesForbidden) options.log.warn('not allowed to list Namespaces (RBAC: get/list/watch namespaces, templates/rbac/webhook.yaml): no ApimTarget namespaceSelector matches', { error: errorMessage(err) });
          this.namespacesForbidden = true;
          return { items: [], metadata: { resourceVersion: '' } };
        }
      },
      summarize: (obj) => {
        if (!isObject(obj) || !isObject(obj['metadata'])) return undefined;
        const labels = isObject(obj['metadata']['labels']) ? obj['metadata']['labels'] : {};
        return { name: String(obj['metadata']['name'] ?? ''), labels: Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string')) };
      },
      // Labels matter only while a target selects namespaces by them.
      onUpsert: (_key, s) => {
        if (options.directory.setNamespace(s.name, s.labels) && options.directory.selectsByLabel) options.onChange();
      },
      onRemove: (_key, s) => {
        if (options.directory.removeNamespace(s.name) && options.directory.selectsByLabel) options.onChange();
      },
      onSynced: synced,
      resource: 'Namespace',
    });
    this.namespaces.on('error', (err, backoffMs) => {
      if (this.namespacesForbidden && statusCode(err) === 403) return;
      options.log.warn('Namespace watch failed; retrying', { error: errorMessage(err), backoffMs });
    });
  }

  get isSynced(): boolean {
    return this.targets.isSynced && this.namespaces.isSynced;
  }

  start(): void {
    this.targets.start();
    this.namespaces.start();
  }

  stop(): void {
    this.targets.stop();
    this.namespaces.stop();
  }
}
