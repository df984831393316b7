// The APIM session of one run: the operations on the configured service (apim-operations.ts over arm-client.ts) with
// the run's token, every call run through the run's retry budget, ARM pacing on every attempt, long-running
// operations polled with a short, growing interval, and reads of entities that may be missing.
import type { ExecutorConfig } from '../core/executor-config.ts';
import { classifyApimError, classifyApimResponse, notFoundAfterImport, type ClassifiedError } from './apim-error.ts';
import { ArmClient, type ArmResponse } from './arm-client.ts';
import { ArmPacer, armRequestKind, remainingOf } from './arm-pacing.ts';
import { ApimOperations, type ServiceContract } from './apim-operations.ts';
import type { AccessToken, TokenCredential } from './azure-token.ts';
import { apiResourcePath, type PollOptions } from './import-operation.ts';
import type { JobLog } from './job-log.ts';
import type { RetryBudget } from './retry-loop.ts';

export { loadCredential } from './azure-token.ts';

/** The longest wait between two polls of a long-running operation. */
const MAX_POLL_INTERVAL_MS = 5000;

export interface Apim {
  client: ApimOperations;
  resourceGroup: string;
  serviceName: string;
  budget: RetryBudget;
  log: JobLog;
  /** A call with retries; APIM errors become StepFailures carrying APIM's code, target and message. */
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** Like call, but a 404 answers undefined. */
  find<T>(what: string, fn: () => Promise<T>): Promise<T | undefined>;
  /**
   * Waits for the operation an answer started (operationPending: its Azure-AsyncOperation URL, else its Location),
   * polling with the growing interval; any other answer is already done. A failed operation throws APIM's error.
   */
  awaitOperation(accepted: ArmResponse): Promise<void>;
  /** Polling of imports, from the configuration (import-operation.ts). */
  readonly pollOptions: Omit<PollOptions, 'progress'>;
  /** The ARM URL of an API (`armEndpoint` + its resource path), as APIM's polling URLs spell it. */
  apiUrl(apiId: string): string;
  /** A GET with the run's token, retries and pacing; answers every status (`error()` is what a call would throw). */
  rawGet(url: string, accept?: string): Promise<ArmResponse>;
  /** The service (its sku and gatewayUrl), read once per run. */
  service(): Promise<ServiceContract>;
  /**
   * Marks the end of an import of `apiId` in this run: for IMPORT_NOT_FOUND_WINDOW_SECONDS afterwards, a 404 from
   * APIM is APIM still settling (terraform-provider-azurerm #23322, #28201), retried instead of final.
   */
  importEnded(apiId: string): void;
  /** Classification of a thrown error in this session (classifyApimError with the 404 window after an import). */
  classify(e: unknown): ClassifiedError;
  close(): void;
}

/** Tokens this close to expiry are fetched again (the SDK refreshes ahead of expiry the same way). */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * One token request for concurrent callers: the run's early token request and its first calls would otherwise each
 * start their own, doubling the round trips to Entra ID.
 */
export function singleFlight(inner: TokenCredential, now: () => number = Date.now): TokenCredential {
  const tokens = new Map<string, Promise<AccessToken | null>>();
  return {
    getToken(scopes, options) {
      const key = [scopes].flat().join(' ');
      const cached = tokens.get(key);
      if (cached) {
        return cached.then((token) => (token && token.expiresOnTimestamp - now() > REFRESH_MARGIN_MS ? token : refresh()));
      }
      return refresh();
      function refresh(): Promise<AccessToken | null> {
        const p = inner.getToken(scopes, options);
        tokens.set(key, p);
        p.catch(() => tokens.delete(key));
        return p;
      }
    },
  };
}

/**
 * Whether an answer to a write started an operation that is still running: 202 Accepted, or 200/201 carrying an
 * Azure-AsyncOperation header (ARM's asynchronous operations: the resource is still provisioning; APIM answers a
 * re-import this way, the emulator's 'azure-async-operation' mode). The SDK's core-lro treats both as pending.
 */
export function operationPending(r: ArmResponse): boolean {
  return r.status === 202 || ((r.status === 200 || r.status === 201) && r.header('azure-asyncoperation') !== undefined);
}

/** Statuses of an Azure-AsyncOperation body that mean "not yet" (ARM async operations guidance). */
const RUNNING = new Set(['inprogress', 'notstarted', 'running', 'accepted', 'creating', 'updating', 'deleting']);

export function apimSession(credential: TokenCredential, config: ExecutorConfig, budget: RetryBudget, log: JobLog, pacer = new ArmPacer(config.apim.pacingReservePercent)): Apim {
  const importEndedAt = new Map<string, number>();
  const classify = (e: unknown): ClassifiedError => notFoundAfterImport(classifyApimError(e), [...importEndedAt.values()], config.apim.importNotFoundWindowMs);
  const token = async (): Promise<AccessToken> => {
    const t = await credential.getToken(config.apim.armScope, { abortSignal: budget.signal });
    if (!t) throw Object.assign(new Error('the credential returned no token'), { name: 'AuthenticationError' });
    return t;
  };
  const arm = new ArmClient({
    endpoint: config.apim.armEndpoint,
    getToken: token,
    signal: budget.signal,
    hooks: {
      // Each attempt (the client's own retries included) waits while ARM's bucket of its kind is nearly empty, and
      // each answer says what is left (arm-pacing.ts): concurrent Jobs slow down before they drive it into 429s.
      async before(request) {
        const kind = armRequestKind(request.method);
        const wait = pacer.waitMs(kind);
        if (wait > 0) {
          pacer.paced++;
          pacer.pacedMs += wait;
          log.debug('pacing ARM requests: the bucket is nearly empty', { kind, waitMs: wait });
          await budget.sleep(wait);
        }
      },
      // Every attempt is seen, including those the client retries by itself: when the budget runs out in the middle
      // of them, the failure still names APIM's last answer instead of "aborted".
      answered(request, response) {
        const kind = armRequestKind(request.method);
        pacer.observe(kind, remainingOf(kind, response.header));
        if (response.status >= 400) {
          const c = classifyApimResponse(response.status, response.bodyAsText, response.header);
          budget.observe(c);
          log.debug('APIM answered with an error', { method: request.method, status: response.status, reason: c.reason, error: c.detail.message });
        }
      },
      failed(_request, error) {
        budget.observe(classifyApimError(error));
      },
    },
  });
  const client = new ApimOperations(arm, config.apim);
  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> => budget.run(what, fn, classify);
  const rawGet = (url: string, accept = 'application/json'): Promise<ArmResponse> => arm.send({ method: 'GET', url, headers: { accept } });
  const awaitOperation = async (accepted: ArmResponse): Promise<void> => {
    if (!operationPending(accepted)) return;
    const asyncUrl = accepted.header('azure-asyncoperation');
    const location = accepted.header('location');
    const url = asyncUrl ?? location;
    if (!url) throw Object.assign(accepted.error(), { message: 'APIM accepted the operation (202) without a Location or Azure-AsyncOperation header to follow' });
    let interval = config.apim.pollIntervalMs;
    for (let polls = 1; ; polls++) {
      await budget.sleep(interval);
      interval = Math.min(MAX_POLL_INTERVAL_MS, Math.round(interval * 1.5));
      const r = await rawGet(url);
      if (r.status >= 400) throw r.error();
      if (asyncUrl) {
        let body: { status?: string; error?: { code?: string; message?: string } };
        try {
          body = r.bodyAsText ? JSON.parse(r.bodyAsText) : {};
        } catch {
          throw Object.assign(r.error(), { message: `APIM's operation status at ${new URL(url).pathname} is not JSON: ${r.bodyAsText!.slice(0, 200)}` });
        }
        const status = (body.status ?? '').toLowerCase();
        if (RUNNING.has(status)) continue;
        if (status === 'succeeded') return void log.debug('long-running operation done', { polls });
        // The SDK's words for a failed operation (core-lro), which apim-error.ts reads for APIM's code and message.
        throw new Error(`The long-running operation has failed. ${body.error?.code ?? body.status ?? 'Unknown'}. ${body.error?.message ?? 'APIM reported the operation as failed without details'}`);
      }
      if (r.status !== 202) return void log.debug('long-running operation done', { polls });
    }
  };
  let service: Promise<ServiceContract> | undefined;
  return {
    client,
    resourceGroup: config.apim.resourceGroup,
    serviceName: config.apim.serviceName,
    budget,
    log,
    call,
    classify,
    rawGet,
    awaitOperation,
    apiUrl: (apiId) => `${config.apim.armEndpoint.replace(/\/+$/, '')}${apiResourcePath(config.apim, apiId)}`,
    service: () => {
      service ??= call(`reading APIM service '${config.apim.serviceName}'`, () => client.readService());
      service.catch(() => {
        service = undefined;
      });
      return service;
    },
    pollOptions: {
      coordinates: config.apim,
      pollIntervalMs: config.apim.pollIntervalMs,
      notFoundWindowMs: config.apim.importNotFoundWindowMs,
    },
    importEnded: (apiId) => {
      importEndedAt.set(apiId.toLowerCase(), Date.now());
    },
    find: <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> =>
      call(what, async () => {
        try {
          return await fn();
        } catch (e) {
          // Absence, even inside the 404 window after an import: a new API has no policy, and the write that follows
          // is what meets (and retries) a transient "Api not found.".
          if (classifyApimError(e).notFound) return undefined;
          throw e;
        }
      }),
    close: () => arm.close(),
  };
}
