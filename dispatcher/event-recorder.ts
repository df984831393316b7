// Kubernetes Events on ExposedAPIs (`kubectl describe exposedapi` and `kubectl get events` show them): the place
// an operator looks first when a change or a delete is stuck. Best effort — an Event that cannot be written is
// logged, never retried, and never blocks the dispatcher.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { KIND, ODA_GROUP } from '../core/exposedapi-model.ts';
import type { PlanEvent } from './dispatch-plan.ts';
import { DISPATCHER_FIELD_MANAGER } from './exposedapi-writes.ts';

export const EVENT_SOURCE = 'exposedapi-apim-dispatcher';

export class EventRecorder {
  private readonly core: CoreV1Api;
  private readonly instance: string;

  constructor(kubeConfig: KubeConfig, instance: string) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.instance = instance;
  }

  async record(api: { namespace: string; name: string; uid: string }, event: PlanEvent): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: api.namespace,
      fieldManager: DISPATCHER_FIELD_MANAGER,
      body: {
        metadata: { name: `${api.name.slice(0, 200)}.${randomBytes(8).toString('hex')}`, namespace: api.namespace },
        involvedObject: { apiVersion: `${ODA_GROUP}/v1`, kind: KIND, namespace: api.namespace, name: api.name, uid: api.uid },
        type: event.type,
        reason: event.reason,
        // The Event API limits messages to 1 KiB.
        message: event.message.length > 1024 ? `${event.message.slice(0, 1021)}...` : event.message,
        source: { component: EVENT_SOURCE },
        reportingComponent: EVENT_SOURCE,
        reportingInstance: this.instance.slice(0, 128),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
