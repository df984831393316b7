// The dispatcher's writes to ExposedAPIs. The ODA CRD has no status subresource, so status goes through the main
// object (and through UPDATE admission, which lets status-only changes pass cheaply). `status.conditions` is a list
// that the executor writes too, and a JSON merge patch replaces lists whole: every write that carries a list is
// guarded by the resourceVersion it was computed from, and a 409 means "plan again from the newer object". The write
// itself is the project's one status writer (core/kube/status-writer.ts) with one attempt, on client-node
// (kube/client-node-resources.ts) under the dispatcher's field manager.
import type { KubeConfig } from '@kubernetes/client-node';
import { FINALIZER, ODA_GROUP } from '../core/exposedapi-model.ts';
import type { Condition } from '../core/exposedapi-status.ts';
import type { KubeResources } from '../core/kube/client.ts';
import { writeFields, type Versioned } from '../core/kube/status-writer.ts';
import { ClientNodeResources } from '../kube/client-node-resources.ts';
import type { DispatchSummary } from './exposedapi-summary.ts';

export type WriteResult = 'ok' | 'conflict' | 'gone';

/**
 * The field manager of the dispatcher's writes (ExposedAPIs, their parent Components, Events): recorded by the
 * apiserver in metadata.managedFields for merge patches too, so `kubectl get exposedapi X -o yaml
 * --show-managed-fields` tells its fields from the executor's (docs/status.md).
 */
export const DISPATCHER_FIELD_MANAGER = 'exposedapi-apim-dispatcher';

type ApiRef = Pick<DispatchSummary, 'namespace' | 'name'>;

const exposedApiPath = (api: ApiRef): string => `/apis/${ODA_GROUP}/v1/namespaces/${api.namespace}/exposedapis/${api.name}`;

export class ExposedApiWrites {
  /** The dispatcher's client (its field manager on every write); readiness-sync.ts writes Components through it. */
  readonly kube: KubeResources;

  constructor(kubeConfig: KubeConfig) {
    this.kube = new ClientNodeResources(kubeConfig, DISPATCHER_FIELD_MANAGER);
  }

  /** One attempt of the shared writer: a conflict goes back to the plan, which is made again from the newer object. */
  private async patch(api: ApiRef, body: Record<string, unknown>, resourceVersion?: string): Promise<WriteResult> {
    const written = await writeFields<Versioned>({
      kube: this.kube,
      path: exposedApiPath(api),
      fields: () => body,
      attempts: 1,
      guard: resourceVersion !== undefined,
    }, { metadata: { ...(resourceVersion !== undefined ? { resourceVersion } : {}) } });
    return written.result;
  }

  /** Conditions and lastJob, as of the resourceVersion the plan was made from. */
  writeStatus(api: DispatchSummary, status: { conditions: Condition[]; lastJob?: string }): Promise<WriteResult> {
    return this.patch(api, { status }, api.resourceVersion);
  }

  /** status.implementation.ready alone: a scalar, so no guard is needed and nothing else is touched. */
  writeImplementationReady(api: ApiRef, ready: boolean): Promise<WriteResult> {
    return this.patch(api, { status: { implementation: { ready } } });
  }

  /** Removes our finalizer, keeping everyone else's. */
  releaseFinalizer(api: DispatchSummary): Promise<WriteResult> {
    return this.patch(api, { metadata: { finalizers: api.finalizers.filter((f) => f !== FINALIZER) } }, api.resourceVersion);
  }

  /** The object as stored now (not as the cache has it), or undefined when it is gone. */
  read(api: ApiRef): Promise<Record<string, unknown> | undefined> {
    return this.kube.get<Record<string, unknown>>(exposedApiPath(api));
  }
}
