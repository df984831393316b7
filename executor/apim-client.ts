// The APIM management client of one run: the Azure SDK client with DefaultAzureCredential, every call run through the
// run's retry budget, long-running operations polled with a short, growing interval, and reads of entities that may be
// missing. The identity and SDK packages are loaded on first use (their own bundle chunks), so a Job with nothing to
// do never loads them and one with work overlaps their loading with its token request and Kubernetes reads.
import type { ApiManagementClient } from '@azure/arm-apimanagement';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { ExecutorConfig } from '../core/executor-config.ts';
import { classifyApimError, classifyApimResponse, notFoundAfterImport, type ClassifiedError } from './apim-error.ts';
import { ArmPacer, armRequestKind, remainingOf } from './arm-pacing.ts';
import { apiResourcePath, type PollOptions } from './import-operation.ts';
import type { JobLog } from './job-log.ts';
import type { RetryBudget } from './retry-loop.ts';

/** The longest wait between two polls of a long-running operation. */
const MAX_POLL_INTERVAL_MS = 5000;

interface Poller<T> {
  isDone(): boolean;
  poll(options?: { abortSignal?: AbortSignal }): Promise<void>;
  getResult(): T | undefined;
}

export interface Apim {
  client: ApiManagementClient;
  resourceGroup: string;
  serviceName: string;
  budget: RetryBudget;
  log: JobLog;
  /** SDK operation options for every call: the budget's abort signal. */
  readonly options: { abortSignal: AbortSignal };
  /** A call with retries; APIM errors become StepFailures carrying APIM's code, target and message. */
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** Like call, but a 404 answers undefined. */
  find<T>(what: string, fn: () => Promise<T>): Promise<T | undefined>;
  /**
   * A long-running operation, started by `begin` and polled until done. A failure on the poll (a failed import)
   * surfaces like any other APIM error; a transient one starts the operation again.
   */
  longRunning<T>(what: string, begin: () => Promise<Poller<T>>): Promise<T | undefined>;
  /** Polling of imports, from the configuration (import-operation.ts). */
  readonly pollOptions: Omit<PollOptions, 'progress'>;
  /** Polls an SDK poller until done, with the growing interval (for operations without a Location to record). */
  sdkPoll<T>(poller: Poller<T>): Promise<T | undefined>;
  /** The ARM URL of an API (`armEndpoint` + its resource path), as APIM's polling URLs spell it. */
  apiUrl(apiId: string): string;
  /**
   * A GET through the client's pipeline (token, the SDK's retries, pacing) without the SDK's deserialization: for
   * bodies the SDK cannot read (bare policy XML) and for polling URLs. Answers every status; `error` turns an answer
   * into the error the SDK would have thrown, for classifyApimError.
   */
  rawGet(url: string, accept?: string): Promise<RawResponse>;
  /**
   * Marks the end of an import of `apiId` in this run: for IMPORT_NOT_FOUND_WINDOW_SECONDS afterwards, a 404 from
   * APIM is APIM still settling (terraform-provider-azurerm #23322, #28201), retried instead of final.
   */
  importEnded(apiId: string): void;
  /** Classification of a thrown error in this session (classifyApimError with the 404 window after an import). */
  classify(e: unknown): ClassifiedError;
}

export interface RawResponse {
  status: number;
  bodyAsText: string | undefined;
  header(name: string): string | undefined;
  /** The error the SDK throws for this answer (a RestError with status, body and headers). */
  error(): Error;
}

/**
 * DefaultAzureCredential (workload identity in AKS, a client secret against the emulator), loaded on its own: the
 * identity package is smaller than the APIM SDK, so the token request can leave while the SDK still loads.
 */
export async function loadCredential(config: ExecutorConfig): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return singleFlight(new DefaultAzureCredential({
    authorityHost: config.apim.authorityHost,
    // MSAL would otherwise ask login.microsoftonline.com whether the authority is known, which fails for the emulator
    // and private clouds.
    disableInstanceDiscovery: config.apim.disableInstanceDiscovery,
  }));
}

/** Tokens this close to expiry are fetched again (the SDK refreshes ahead of expiry the same way). */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * One token request for concurrent callers: the run's early token request and the SDK's first calls would otherwise
 * each start their own (MSAL does not share requests in flight), doubling the round trips to Entra ID.
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

export async function createApimClient(config: ExecutorConfig, credential: TokenCredential): Promise<ApiManagementClient> {
  const { ApiManagementClient } = await import('@azure/arm-apimanagement');
  return new ApiManagementClient(credential, config.apim.subscriptionId, {
    endpoint: config.apim.armEndpoint,
    credentialScopes: [config.apim.armScope],
    // The SDK's own retries absorb short blips (429/503 with Retry-After, 5xx, dropped connections) inside one call,
    // polls included; what they cannot fix (409 in-progress, long outages) reaches the run's retry loop.
    retryOptions: { maxRetries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 8000 },
    userAgentOptions: { userAgentPrefix: 'exposedapi-apim-executor' },
  });
}

export function apimSession(client: ApiManagementClient, config: ExecutorConfig, budget: RetryBudget, log: JobLog, pacer = new ArmPacer(config.apim.pacingReservePercent)): Apim {
  const options = { abortSignal: budget.signal };
  // Each attempt (the SDK's own retries included) waits while ARM's bucket of its kind is nearly empty, and each answer
  // says what is left (arm-pacing.ts): concurrent Jobs slow down before they drive the bucket into 429s.
  client.pipeline.addPolicy(
    {
      name: 'exposedapi-apim-arm-pacing',
      async sendRequest(request, next) {
        const kind = armRequestKind(request.method);
        const wait = pacer.waitMs(kind);
        if (wait > 0) {
          pacer.paced++;
          pacer.pacedMs += wait;
          log.debug('pacing ARM requests: the bucket is nearly empty', { kind, waitMs: wait });
          await budget.sleep(wait);
        }
        const response = await next(request);
        pacer.observe(kind, remainingOf(kind, (n) => response.headers.get(n)));
        return response;
      },
    },
    { afterPhase: 'Retry' },
  );
  const importEndedAt = new Map<string, number>();
  const classify = (e: unknown): ClassifiedError => notFoundAfterImport(classifyApimError(e), [...importEndedAt.values()], config.apim.importNotFoundWindowMs);
  // Sees every attempt, including those the SDK retries by itself: when the budget runs out in the middle of the
  // SDK's retries, the failure still names APIM's last answer instead of "aborted".
  client.pipeline.addPolicy(
    {
      name: 'exposedapi-apim-observe-failures',
      async sendRequest(request, next) {
        try {
          const response = await next(request);
          if (response.status >= 400) {
            const c = classifyApimResponse(response.status, response.bodyAsText ?? undefined, (n) => response.headers.get(n));
            budget.observe(c);
            log.debug('APIM answered with an error', { method: request.method, status: response.status, reason: c.reason, error: c.detail.message });
          }
          return response;
        } catch (e) {
          if (!(e instanceof Error && e.name === 'AbortError')) budget.observe(classifyApimError(e));
          throw e;
        }
      },
    },
    { afterPhase: 'Retry' },
  );
  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> => budget.run(what, fn, classify);
  const sdkPoll = async <T>(poller: Poller<T>, what = 'long-running operation'): Promise<T | undefined> => {
    let interval = config.apim.pollIntervalMs;
    let polls = 0;
    while (!poller.isDone()) {
      await budget.sleep(interval);
      interval = Math.min(MAX_POLL_INTERVAL_MS, Math.round(interval * 1.5));
      polls++;
      await poller.poll({ abortSignal: budget.signal });
    }
    log.debug('long-running operation done', { what, polls });
    return poller.getResult();
  };
  const apiUrl = (apiId: string): string => `${config.apim.armEndpoint.replace(/\/+$/, '')}${apiResourcePath(config.apim, apiId)}`;
  return {
    client,
    resourceGroup: config.apim.resourceGroup,
    serviceName: config.apim.serviceName,
    budget,
    log,
    options,
    call,
    apiUrl,
    classify,
    sdkPoll: (poller) => sdkPoll(poller),
    pollOptions: {
      coordinates: config.apim,
      pollIntervalMs: config.apim.pollIntervalMs,
      notFoundWindowMs: config.apim.importNotFoundWindowMs,
    },
    importEnded: (apiId) => {
      importEndedAt.set(apiId.toLowerCase(), Date.now());
    },
    rawGet: async (url, accept = 'application/json') => {
      const { createHttpHeaders, createPipelineRequest } = await import('@azure/core-rest-pipeline');
      const request = createPipelineRequest({ url, method: 'GET', abortSignal: budget.signal, headers: createHttpHeaders({ accept }) });
      const response = await client.sendRequest(request);
      const header = (n: string): string | undefined => response.headers.get(n) ?? undefined;
      return {
        status: response.status,
        bodyAsText: response.bodyAsText ?? undefined,
        header,
        error: () => Object.assign(new Error(response.bodyAsText ?? `HTTP ${response.status}`), { name: 'RestError', statusCode: response.status, response: { bodyAsText: response.bodyAsText, headers: { get: header } } }),
      };
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
    longRunning: <T>(what: string, begin: () => Promise<Poller<T>>): Promise<T | undefined> =>
      call(what, async () => sdkPoll(await begin(), what)),
  };
}
