// The one shape of the Kubernetes Events the operator writes (`kubectl describe exposedapi` and `kubectl get events`
// show them), and the one writer both the dispatcher and the executor use. Pure: the writer is given the create
// call of whichever client its process runs on (client-node in the dispatcher; the executor's light client, see
// executor/kube-client.ts for why), so the executor loads nothing more to write Events.

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about. */
export interface EventTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/** Who writes: the component (e.g. exposedapi-apim-dispatcher) and its instance (pod or replica). */
export interface EventSource {
  component: string;
  instance: string;
}

/** The apiserver limits an Event message to 1 KiB of useful text; longer ones are cut. */
export const MAX_EVENT_MESSAGE = 1024;

/** A core/v1 Event, as both clients send it. */
export function eventBody(target: EventTarget, source: EventSource, type: EventType, reason: string, message: string, now = new Date()) {
  const time = now.toISOString();
  const { apiVersion, kind, namespace, name, uid, resourceVersion } = target;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    // generateName: the apiserver picks a unique suffix; names are limited to 253 characters.
    metadata: { generateName: `${name.slice(0, 200)}.`, namespace },
    involvedObject: { apiVersion, kind, namespace, name, ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
    type,
    reason,
    message: message.length > MAX_EVENT_MESSAGE ? `${message.slice(0, MAX_EVENT_MESSAGE - 1)}…` : message,
    source: { component: source.component },
    reportingComponent: source.component,
    reportingInstance: source.instance.slice(0, 128),
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}

export type EventBody = ReturnType<typeof eventBody>;

export interface EventWriter {
  /** Writes one Event; rejects when the apiserver refuses it (callers treat Events as best effort). */
  record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void>;
}

/** An EventWriter over a client's create call (POST /api/v1/namespaces/{namespace}/events). */
export function eventWriter(create: (namespace: string, body: EventBody) => Promise<unknown>, source: EventSource): EventWriter {
  return {
    record: async (target, type, reason, message) => {
      await create(target.namespace, eventBody(target, source, type, reason, message));
    },
  };
}
