// The project's small client interface (core/kube/client.ts) over client-node, for the webhook process: objects by
// API path, so the shared pure parts of the Kubernetes layer (the status writer, core/kube/status-writer.ts) run on
// the same calls here as on the executor's light client. Requests go through the KubeConfig's own authentication and
// transport (`applySecurityAuthentication`), so a KubeConfig that reuses connections
// (dispatcher/kube-connection-reuse.ts) reuses them here too. Every write carries the writer's field manager.
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { MERGE_PATCH, type KubeResources } from '../core/kube/client.ts';
import { KubeError } from '../core/kube/errors.ts';

const transport = new IsomorphicFetchHttpLibrary();

interface Request {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string>;
}

export class ClientNodeResources implements KubeResources {
  private readonly kubeConfig: KubeConfig;
  readonly fieldManager: string;

  constructor(kubeConfig: KubeConfig, fieldManager: string) {
    this.kubeConfig = kubeConfig;
    this.fieldManager = fieldManager;
  }

  private async request<T>(method: HttpMethod, path: string, request: Request = {}): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server + path);
    if (method !== HttpMethod.GET && method !== HttpMethod.DELETE) url.searchParams.set('fieldManager', this.fieldManager);
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
    const context = new RequestContext(url.toString(), method);
    context.setHeaderParam('Accept', 'application/json');
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', request.contentType ?? 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    await this.kubeConfig.applySecurityAuthentication(context);
    const response = await transport.send(context).toPromise();
    const text = await response.body.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) return body as T;
    const status = (body ?? {}) as { reason?: string; message?: string };
    throw new KubeError(method, url.pathname, response.httpStatusCode, status.reason ?? `HTTP${response.httpStatusCode}`, status.message ?? text.slice(0, 300));
  }

  async get<T>(path: string, query?: Record<string, string>): Promise<T | undefined> {
    try {
      return await this.request<T>(HttpMethod.GET, path, query ? { query } : {});
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return undefined;
      throw err;
    }
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(HttpMethod.POST, path, { body });
  }

  patch<T>(path: string, body: unknown, contentType: string = MERGE_PATCH): Promise<T> {
    return this.request<T>(HttpMethod.PATCH, path, { body, contentType });
  }

  async delete(path: string): Promise<boolean> {
    try {
      await this.request(HttpMethod.DELETE, path);
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return false;
      throw err;
    }
  }
}
