// The executor's Azure Resource Manager client: JSON over HTTPS with a bearer token, the transient-failure retries
// the Azure SDK's pipeline makes inside one call, and per-attempt hooks (ARM pacing, the retry budget's record of
// failures). It replaces @azure/arm-apimanagement in the Job's process for the same reason kube-client.ts replaces
// @kubernetes/client-node: loading the SDK (2 MB of serialization mappers for every APIM entity, its pipeline and
// core-lro) cost a Job about 0.2 CPU-seconds and 20 MB before its first request, on every change (docs/executor.md,
// "The Job's process"), for the twenty-odd calls the executor makes (apim-operations.ts lists them). The SDK stays the
// emulator's reference client (test/emulator/), so the emulator is still proven against what the SDK sends.
//
// What the SDK's default pipeline does that matters here, and is done the same way (@azure/core-rest-pipeline
// retryPolicy with throttlingRetryStrategy + exponentialRetryStrategy, as the executor configured it: maxRetries 3,
// 500 ms base, 8 s cap): a 429 or 503 with Retry-After (retry-after-ms, x-ms-retry-after-ms, retry-after) waits that
// long; a refused, reset or timed-out connection, 408 and any 5xx but 501 and 505 wait 500 ms·2^n, capped, between
// half and all of it (calculateRetryDelay); anything else (a 429 without Retry-After too) is answered at once; a request id
// (x-ms-client-request-id) and a user agent on every attempt. Not done: redirects (ARM answers none to these calls)
// and compression (no Accept-Encoding is sent, so ARM answers uncompressed).
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { AccessToken } from './azure-token.ts';
import { retryAfterMs } from './retry-policy.ts';

/** What a call gets back: every status (errors are the caller's to judge: `error()` builds the thrown form). */
export interface ArmResponse {
  status: number;
  bodyAsText: string | undefined;
  header(name: string): string | undefined;
  /**
   * The error for this answer, shaped as the Azure SDK's RestError (name, statusCode, code, response.bodyAsText and
   * headers) so apim-error.ts reads it the one way it reads every APIM failure.
   */
  error(): ArmRestError;
}

export interface ArmRestError extends Error {
  name: 'RestError';
  statusCode?: number;
  code?: string;
  response?: { bodyAsText?: string; headers: { get(name: string): string | undefined } };
}

export interface ArmRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Called around every attempt (the client's own retries included): ARM pacing and the retry budget's record. */
export interface AttemptHooks {
  before?(request: ArmRequest): Promise<void>;
  /** An answer arrived (any status). */
  answered?(request: ArmRequest, response: ArmResponse): void;
  /** No answer: the connection failed or timed out (not called for an abort). */
  failed?(request: ArmRequest, error: ArmRestError): void;
}

export interface ArmClientOptions {
  /** ARM's origin (ARM_ENDPOINT); every request must go there: the token is never sent anywhere else. */
  endpoint: string;
  getToken(): Promise<AccessToken>;
  signal: AbortSignal;
  hooks?: AttemptHooks;
  userAgent?: string;
  /** Retries inside one call (the SDK's maxRetries). */
  maxRetries?: number;
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** No answer within this long is a lost connection (retried). */
  timeoutMs?: number;
  random?: () => number;
  /** CA certificates to trust besides the system's (tests; in a pod, NODE_EXTRA_CA_CERTS does this). */
  ca?: string;
}

/** The SDK's exponential strategy: transient statuses (retry-policy.ts's Retry-After aside). */
export function retriableStatus(status: number): boolean {
  return status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

/** The SDK's throttling strategy: these statuses with a Retry-After header wait what the server asked. */
function throttled(status: number): boolean {
  return status === 429 || status === 503;
}

export function restError(message: string, statusCode: number | undefined, code: string | undefined, bodyAsText: string | undefined, header: (name: string) => string | undefined): ArmRestError {
  return Object.assign(new Error(message), {
    name: 'RestError' as const,
    ...(statusCode !== undefined ? { statusCode } : {}),
    ...(code !== undefined ? { code } : {}),
    response: { ...(bodyAsText !== undefined ? { bodyAsText } : {}), headers: { get: header } },
  });
}

function errorCodeOf(bodyAsText: string | undefined): string | undefined {
  if (!bodyAsText) return undefined;
  try {
    const code = (JSON.parse(bodyAsText) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

export class ArmClient {
  readonly origin: string;
  private readonly agent: https.Agent;
  private readonly options: Required<Omit<ArmClientOptions, 'hooks' | 'ca'>> & { hooks: AttemptHooks };

  constructor(given: ArmClientOptions) {
    this.origin = new URL(given.endpoint).origin;
    this.agent = new https.Agent({ keepAlive: true, ...(given.ca ? { ca: given.ca } : {}) });
    this.options = {
      userAgent: 'exposedapi-apim-executor',
      maxRetries: 3,
      retryDelayMs: 500,
      maxRetryDelayMs: 8000,
      timeoutMs: 120_000,
      random: Math.random,
      hooks: {},
      ...given,
    };
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * One call, retried like the SDK's pipeline. Answers every status once retries are over; throws only when no
   * answer came (ArmRestError without statusCode, code REQUEST_SEND_ERROR) or the run's signal aborted (AbortError).
   */
  async send(request: ArmRequest): Promise<ArmResponse> {
    const url = new URL(request.url);
    // Polling URLs come from APIM's headers; a URL elsewhere would carry our token there.
    if (url.origin !== this.origin || url.protocol !== 'https:') {
      throw restError(`refusing to send an ARM token to ${url.origin}: only ${this.origin} (ARM_ENDPOINT) is called`, undefined, 'ARM_ORIGIN', undefined, () => undefined);
    }
    for (let attempt = 0; ; attempt++) {
      await this.options.hooks.before?.(request);
      let response: ArmResponse;
      try {
        response = await this.attempt(url, request);
      } catch (e) {
        if (this.options.signal.aborted || (e as Error).name === 'AbortError') throw e;
        const err = e as ArmRestError;
        this.options.hooks.failed?.(request, err);
        if (attempt >= this.options.maxRetries || !SYSTEM_ERRORS.has(err.code ?? '')) throw err;
        await this.sleep(this.backoff(attempt));
        continue;
      }
      this.options.hooks.answered?.(request, response);
      if (attempt >= this.options.maxRetries) return response;
      const after = throttled(response.status) ? retryAfterMs(response.header, Date.now()) : undefined;
      if (after !== undefined) {
        await this.sleep(after);
        continue;
      }
      if (!retriableStatus(response.status)) return response;
      await this.sleep(this.backoff(attempt));
    }
  }

  /** 500 ms·2^n, capped, then between half and all of it (core-rest-pipeline's calculateRetryDelay). */
  private backoff(attempt: number): number {
    const clamped = Math.min(this.options.maxRetryDelayMs, this.options.retryDelayMs * 2 ** attempt);
    return Math.round(clamped / 2 + this.options.random() * (clamped / 2));
  }

  private sleep(ms: number): Promise<void> {
    // Rejects with an AbortError when the run's budget ends during the wait.
    return delay(ms, undefined, { signal: this.options.signal });
  }


  private async attempt(url: URL, request: ArmRequest): Promise<ArmResponse> {
    const token = await this.options.getToken();
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    return new Promise<ArmResponse>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: request.method,
          agent: this.agent,
          signal: this.options.signal,
          timeout: this.options.timeoutMs,
          headers: {
            accept: 'application/json',
            ...request.headers,
            authorization: `Bearer ${token.token}`,
            'user-agent': this.options.userAgent,
            'x-ms-client-request-id': randomUUID(),
            ...(payload ? { 'content-type': 'application/json; charset=utf-8', 'content-length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(sendError(request, e)));
          res.on('end', () => {
            const text = chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            const header = (name: string): string | undefined => {
              const v = res.headers[name.toLowerCase()];
              return Array.isArray(v) ? v.join(', ') : v;
            };
            resolve({
              status,
              bodyAsText: text,
              header,
              error: () => restError(text ?? `HTTP ${status}`, status, errorCodeOf(text), text, header),
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${this.options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => reject((e as Error).name === 'AbortError' ? e : sendError(request, e)));
      req.end(payload);
    });
  }
}

/** Connection failures the SDK retries (exponentialRetryStrategy's isSystemError); others (a TLS error) are final. */
const SYSTEM_ERRORS = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ENOTFOUND']);

function sendError(request: ArmRequest, e: Error): ArmRestError {
  // The SDK's form of a request that got no answer: a RestError without status, code the system error's or
  // REQUEST_SEND_ERROR.
  const path = new URL(request.url).pathname;
  return restError(`${request.method} ${path}: ${e.message}`, undefined, (e as { code?: string }).code ?? 'REQUEST_SEND_ERROR', undefined, () => undefined);
}
