// The dispatcher's writes to ExposedAPIs. The ODA CRD has no status subresource, so status goes through the main
// object (and through UPDATE admission, which lets status-only changes pass cheaply). `status.conditions` is a list
// that the executor writes too, and a JSON merge patch replaces lists whole: every write that carries a list is
// guarded by the resourceVersion it was computed from, and a 409 means "plan again from the newer object".
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { FINALIZER, ODA_GROUP } from '../core/exposedapi-model.ts';
import type { Condition } from '../core/exposedapi-status.ts';
import { statusCode } from '../core/kube/errors.ts';
import type { DispatchSummary } from './exposedapi-summary.ts';

export type WriteResult = 'ok' | 'conflict' | 'gone';

/**
 * The field manager of the dispatcher's writes (ExposedAPIs, their parent Components, Events): recorded by the
 * apiserver in metadata.managedFields for merge patches too, so `kubectl get exposedapi X -o yaml
 * --show-managed-fields` tells its fields from the executor's (docs/status.md).
 */
export const DISPATCHER_FIELD_MANAGER = 'exposedapi-apim-dispatcher';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class ExposedApiWrites {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  private async patch(api: Pick<DispatchSummary, 'namespace' | 'name'>, body: object): Promise<WriteResult> {
    try {
      await this.api.patchNamespacedCustomObject(
        { group: ODA_GROUP, version: 'v1', namespace: api.namespace, plural: 'exposedapis', name: api.name, body, fieldManager: DISPATCHER_FIELD_MANAGER },
        mergePatch,
      );
      return 'ok';
    } catch (err) {
      const code = statusCode(err);
      if (code === 409) return 'conflict';
      if (code === 404) return 'gone';
      throw err;
    }
  }

  /** Conditions and lastJob, as of the resourceVersion the plan was made from. */
  writeStatus(api: DispatchSummary, status: { conditions: Condition[]; lastJob?: string }): Promise<WriteResult> {
    return this.patch(api, { metadata: { resourceVersion: api.resourceVersion }, status });
  }

  /** status.implementation.ready alone: a scalar, so no guard is needed and nothing else is touched. */
  writeImplementationReady(api: Pick<DispatchSummary, 'namespace' | 'name'>, ready: boolean): Promise<WriteResult> {
    return this.patch(api, { status: { implementation: { ready } } });
  }

  /** Removes our finalizer, keeping everyone else's. */
  releaseFinalizer(api: DispatchSummary): Promise<WriteResult> {
    return this.patch(api, { metadata: { resourceVersion: api.resourceVersion, finalizers: api.finalizers.filter((f) => f !== FINALIZER) } });
  }

  /** The object as stored now (not as the cache has it), or undefined when it is gone. */
  async read(api: Pick<DispatchSummary, 'namespace' | 'name'>): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({ group: ODA_GROUP, version: 'v1', namespace: api.namespace, plural: 'exposedapis', name: api.name })) as Record<string, unknown>;
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }
}
