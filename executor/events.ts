// Kubernetes Events on the ExposedAPI, one per step (kubectl describe shows the run as it happened). Best effort: an
// Event that cannot be written is logged, never a reason to fail the change. The Event's shape and writer are the
// project's one (core/kube/event.ts), here on the executor's light client.
import { errorMessage } from '../core/kube/errors.ts';
import { eventWriter } from '../core/kube/event.ts';
import type { ExposedApiObject } from './exposedapi-object.ts';
import type { JobLog } from './job-log.ts';
import type { KubeClient } from './kube-client.ts';

export const EVENT_SOURCE = 'exposedapi-apim-executor';

export interface EventRecorder {
  normal(reason: string, message: string): void;
  warning(reason: string, message: string): void;
  /** Waits for the Events written so far. */
  flush(): Promise<void>;
}

export function eventRecorder(kube: KubeClient, obj: Pick<ExposedApiObject, 'apiVersion' | 'metadata'>, log: JobLog, instance: string): EventRecorder {
  const writer = eventWriter((namespace, body) => kube.create(`/api/v1/namespaces/${namespace}/events`, body), { component: EVENT_SOURCE, instance });
  const { name, namespace, uid, resourceVersion } = obj.metadata;
  const target = { apiVersion: obj.apiVersion, kind: 'ExposedAPI', name, namespace, uid, resourceVersion };
  const pending: Promise<unknown>[] = [];
  const record = (type: 'Normal' | 'Warning', reason: string, message: string): void => {
    pending.push(
      writer.record(target, type, reason, message).catch((e: unknown) => {
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
