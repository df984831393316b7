// The small Kubernetes client interface the operator's code needs: objects by API path, JSON in and out, errors in
// the vocabulary of core/kube/errors.ts. The executor's light client implements it (executor/kube-client.ts, whose
// header says why the executor does not load client-node).

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

export interface KubeResources {
  /** The object at `path`, or undefined when it does not exist (404). */
  get<T>(path: string, query?: Record<string, string>): Promise<T | undefined>;
  create<T>(path: string, body: unknown): Promise<T>;
  /** A merge patch unless `contentType` says otherwise (JSON_PATCH). */
  patch<T>(path: string, body: unknown, contentType?: string): Promise<T>;
  /** True when deleted, false when it was already gone. */
  delete(path: string): Promise<boolean>;
}
