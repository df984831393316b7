// Kubernetes Events on ExposedAPIs (`kubectl describe exposedapi` and `kubectl get events`): the place an operator
// looks first when a change or a delete is stuck. Best effort — an Event that cannot be written is logged, never
// retried, and never blocks the dispatcher. The Event's shape and writer are the project's one
// (core/kube/event.ts), here on client-node.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { KIND, ODA_GROUP } from '../core/exposedapi-model.ts';
import { eventWriter, type EventWriter } from '../core/kube/event.ts';
import type { PlanEvent } from './dispatch-plan.ts';
import { DISPATCHER_FIELD_MANAGER } from './exposedapi-writes.ts';

export const EVENT_SOURCE = 'exposedapi-apim-dispatcher';

export class EventRecorder {
  private readonly writer: EventWriter;

  constructor(kubeConfig: KubeConfig, instance: string) {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    this.writer = eventWriter(
      (namespace, body) => core.createNamespacedEvent({ namespace, fieldManager: DISPATCHER_FIELD_MANAGER, body: body as unknown as CoreV1Event }),
      { component: EVENT_SOURCE, instance },
    );
  }

  record(api: { namespace: string; name: string; uid: string }, event: PlanEvent): Promise<void> {
    return this.writer.record({ apiVersion: `${ODA_GROUP}/v1`, kind: KIND, namespace: api.namespace, name: api.name, uid: api.uid }, event.type, event.reason, event.message);
  }
}
