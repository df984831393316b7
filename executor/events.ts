// Kubernetes Events on the ExposedAPI, one per step (kubectl describe shows the run as it happened). Best effort: an
// Event that cannot be written is logged, never a reason to fail the change.
import type { ExposedApiObject } from './exposedapi-object.ts';
import type { JobLog } from './job-log.ts';
import type { KubeClient } from './kube-client.ts';
import { errorMessage } from '../core/kube/errors.ts';

export const EVENT_SOURCE = 'exposedapi-apim-executor';
/** The apiserver limits an Event message to 1 KiB of useful text; longer ones are cut. */
const MAX_MESSAGE = 1024;

export interface EventRecorder {
  normal(reason: string, message: string): void;
  warning(reason: string, message: string): void;
  /** Waits for the Events written so far. */
  flush(): Promise<void>;
}

export function eventRecorder(kube: KubeClient, obj: Pick<ExposedApiObject, 'apiVersion' | 'metadata'>, log: JobLog, instance: string): EventRecorder {
  const pending: Promise<unknown>[] = [];
  const record = (type: 'Normal' | 'Warning', reason: string, message: string): void => {
    const now = new Date().toISOString();
    const { name, namespace, uid, resourceVersion } = obj.metadata;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: { apiVersion: obj.apiVersion, kind: 'ExposedAPI', name, namespace, uid, resourceVersion },
      type,
      reason,
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
      source: { component: EVENT_SOURCE },
      reportingComponent: `exposedapi-apim.io/executor`,
      reportingInstance: instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    pending.push(
      kube.create(`/api/v1/namespaces/${namespace}/events`, body).catch((e: unknown) => {
        log.warn('could not record an Event', { reason, error: errorMessage(e) });
      }),
    );
  };
  return {
    normal: (reason, message) => record('Normal', reason, message),
    warning: (reason, message) => record('Warning', reason, message),
    flush: async () => {
      await Promise.allSettled(pending);
    },
  };
}
