// The APIM management client of one run: the Azure SDK client with DefaultAzureCredential, every call run through the
// run's retry budget, long-running operations polled with a short, growing interval, and reads of entities that may be
// missing. The identity and SDK packages are loaded on first use (their own bundle chunks), so a Job with nothing to
// do never loads them and one with work overlaps their loading with its token request and Kubernetes reads.
import type { ApiManagementClient } from '@azure/arm-apimanagement';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { ExecutorConfig } from '../core/executor-config.ts';
import { classifyApimError, classifyApimResponse } from './apim-error.ts';
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

export function apimSession(client: ApiManagementClient, config: ExecutorConfig, budget: RetryBudget, log: JobLog): Apim {
  const options = { abortSignal: budget.signal };
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
  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> => budget.run(what, fn, (e) => classifyApimError(e));
  return {
    client,
    resourceGroup: config.apim.resourceGroup,
    serviceName: config.apim.serviceName,
    budget,
    log,
    options,
    call,
    find: <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> =>
      call(what, async () => {
        try {
          return await fn();
        } catch (e) {
          if (classifyApimError(e).notFound) return undefined;
          throw e;
        }
      }),
    longRunning: <T>(what: string, begin: () => Promise<Poller<T>>): Promise<T | undefined> =>
      call(what, async () => {
        const poller = await begin();
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
      }),
  };
}
