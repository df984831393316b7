// The one vocabulary of Kubernetes errors, for both clients (client-node's ApiException and watch errors in the
// webhook, dispatcher and dev cluster; the executor's light client, executor/kube-client.ts): the HTTP status, the
// Status reason, a message for logs, and whether trying again can help. Pure, so every part may use it, the
// executor without loading client-node.

/**
 * A failed call of a client of the small interface (core/kube/client.ts: the executor's light client,
 * kube/client-node-resources.ts): the HTTP status and the Status object's reason and message.
 */
export class KubeError extends Error {
  readonly status: number;
  /** The Status object's reason (NotFound, Conflict, AlreadyExists, Forbidden, Invalid, …). */
  readonly reason: string;
  readonly retryAfterMs?: number;
  constructor(method: string, path: string, status: number, reason: string, message: string, retryAfter?: number) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
    this.name = 'KubeError';
    this.status = status;
    this.reason = reason;
    if (retryAfter !== undefined) this.retryAfterMs = retryAfter;
  }
}

/**
 * The HTTP status of a failed Kubernetes call, or undefined when there was no answer (connection refused, timeout):
 * `status` of a KubeError, `code` of client-node's ApiException (and of a watch's ERROR Status), `statusCode` of a
 * failed watch request.
 */
export function statusCode(err: unknown): number | undefined {
  if (err instanceof KubeError) return err.status;
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

/** The Status reason of a failed call (AlreadyExists, Conflict, …), when the answer carried one. */
export function statusReason(err: unknown): string | undefined {
  if (err instanceof KubeError) return err.reason;
  let body = (err as { body?: unknown } | undefined)?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const reason = (body as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** The message of anything thrown, for a log field or a status message. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Whether trying the same call again can succeed: throttling (429), server errors (5xx), a stale resourceVersion
 * (409 Conflict, read again; AlreadyExists is not: the object is there) and no answer at all are retriable;
 * every other answer (400, 401, 403, 404, 422, …) is permanent for this call.
 */
export function isRetriable(err: unknown): boolean {
  const status = statusCode(err);
  if (status === undefined) return true;
  return status === 429 || status >= 500 || (status === 409 && statusReason(err) !== 'AlreadyExists');
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
export const isGone = (err: unknown): boolean => statusCode(err) === 410;
