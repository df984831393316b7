// A small Kubernetes REST client for the executor: JSON over HTTPS with the connection's token and CA, the three
// patch types, and errors as data (status, reason, message). The executor makes a handful of calls per run; a plain
// client keeps the Job's start-up to the time of Node itself (the full @kubernetes/client-node costs ~130 ms to load,
// measured beside the other start-up figures in docs/executor.md), which matters for a process started once per
// change. This header is the one place that says why the executor has its own client; other places link here. It
// implements the project's small client interface (core/kube/client.ts) and speaks its error vocabulary.
import https from 'node:https';
import { JSON_PATCH, MERGE_PATCH, type KubeResources } from '../core/kube/client.ts';
import { errorMessage, isRetriable, KubeError } from '../core/kube/errors.ts';
import type { KubeConnection } from './in-cluster-config.ts';
import type { Classified } from './retry-loop.ts';
import { retryAfterMs } from './retry-policy.ts';

export { JSON_PATCH, MERGE_PATCH };
/**
 * The field manager of every write the executor makes (`?fieldManager=`): the apiserver records it in
 * metadata.managedFields for merge and JSON patches as for server-side apply, so `kubectl get exposedapi X -o yaml
 * --show-managed-fields` shows which status fields the executor wrote (docs/status.md says which are its own).
 */
export const EXECUTOR_FIELD_MANAGER = 'exposedapi-apim-executor';
/** Methods that accept fieldManager (DELETE and GET do not). */
const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/** Errors as data, in the project's one vocabulary (core/kube/errors.ts: status, reason, retriable or permanent). */
export { KubeError };

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string>;
}

/** The project's small client interface (core/kube/client.ts) over plain HTTPS. */
export class KubeClient implements KubeResources {
  readonly server: string;
  private readonly agent: https.Agent;
  private readonly token?: string;
  readonly timeoutMs: number;
  readonly fieldManager: string;

  constructor(conn: KubeConnection, timeoutMs = 30_000, fieldManager = EXECUTOR_FIELD_MANAGER) {
    this.server = conn.server;
    this.token = conn.token;
    this.timeoutMs = timeoutMs;
    this.fieldManager = fieldManager;
    this.agent = new https.Agent({
      keepAlive: true,
      ...(conn.caPem ? { ca: conn.caPem } : {}),
      ...(conn.clientCertPem ? { cert: conn.clientCertPem } : {}),
      ...(conn.clientKeyPem ? { key: conn.clientKeyPem } : {}),
    });
  }

  close(): void {
    this.agent.destroy();
  }

  request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const url = new URL(path, this.server);
    if (WRITES.has(method)) url.searchParams.set('fieldManager', this.fieldManager);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    return new Promise<T>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            'user-agent': 'exposedapi-apim-executor',
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
            ...(payload ? { 'content-type': o.contentType ?? 'application/json', 'content-length': String(payload.length) } : {}),
          },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            let body: unknown;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              body = undefined;
            }
            if (status >= 200 && status < 300) return resolve(body as T);
            const s = (body ?? {}) as { reason?: string; message?: string };
            const header = (name: string): string | undefined => {
              const v = res.headers[name];
              return Array.isArray(v) ? v[0] : v;
            };
            reject(new KubeError(method, url.pathname, status, s.reason ?? `HTTP${status}`, s.message ?? text.slice(0, 300), retryAfterMs(header, Date.now())));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The object, or undefined when it does not exist. */
  async get<T>(path: string, query?: Record<string, string>): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path, { ...(query ? { query } : {}) });
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  patch<T>(path: string, body: unknown, contentType: string = MERGE_PATCH): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType });
  }

  /** True when deleted, false when it was already gone. */
  async delete(path: string): Promise<boolean> {
    try {
      await this.request('DELETE', path);
      return true;
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return false;
      throw e;
    }
  }
}

/** Kubernetes failures for the retry loop: throttling, server errors and lost connections are transient. */
export function classifyKubeError(e: unknown): Classified {
  if (e instanceof KubeError) {
    // 409 Conflict is a stale resourceVersion (read again); AlreadyExists is handled where objects are created.
    const retriable = isRetriable(e);
    const reason = e.status === 403 ? 'KubernetesForbidden' : retriable ? 'KubernetesUnavailable' : 'KubernetesRejected';
    return {
      retriable,
      reason,
      detail: { status: e.status, code: e.reason, message: e.message },
      ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
    };
  }
  return { retriable: true, reason: 'KubernetesUnreachable', detail: { message: `the Kubernetes API could not be reached: ${errorMessage(e)}` } };
}
