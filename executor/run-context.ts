// What one run of the executor works with: configuration, the Kubernetes client, the run's retry budget and log, and
// the APIM session, created on first use (the token request leaves from the moment the run knows it will need it).
import { hostname } from 'node:os';
import type { ExecutorConfig } from '../core/executor-config.ts';
import { apimSession, loadCredential, singleFlight, type Apim } from './apim-client.ts';
import type { TokenCredential } from './azure-token.ts';
import type { JobLog } from './job-log.ts';
import type { KubeClient } from './kube-client.ts';
import { RetryBudget } from './retry-loop.ts';

export interface RunContext {
  config: ExecutorConfig;
  kube: KubeClient;
  budget: RetryBudget;
  log: JobLog;
  /** The spec hash the Job was spawned for. */
  specHash: string;
  /** JOB_NAME, else the pod's host name: who wrote the status and Events. */
  instance: string;
  /** Starts the token request, without waiting. */
  warmUpApim(): void;
  apim(): Promise<Apim>;
  /** Closes the APIM session's connections, if one was opened. */
  close(): void;
}

export interface RunOptions {
  config: ExecutorConfig;
  kube: KubeClient;
  log: JobLog;
  specHash: string;
}

export function runContext(options: RunOptions): RunContext {
  const budget = new RetryBudget(options.config.retryBudgetMs, options.log);
  let session: Promise<Apim> | undefined;
  let opened: Apim | undefined;
  const apim = (): Promise<Apim> => {
    session ??= loadCredential(options.config).then((c: TokenCredential) => {
      const credential = singleFlight(c);
      // The first token request leaves now; the first calls find it in flight or cached. Its errors surface, with the
      // retry loop's classification, on the first real call.
      credential.getToken(options.config.apim.armScope).catch(() => undefined);
      opened = apimSession(credential, options.config, budget, options.log);
      return opened;
    });
    return session;
  };
  return {
    config: options.config,
    kube: options.kube,
    budget,
    log: options.log,
    specHash: options.specHash,
    instance: options.config.jobName ?? hostname(),
    warmUpApim: () => {
      // Failures surface when the session is awaited.
      apim().catch(() => undefined);
    },
    apim,
    close: () => opened?.close(),
  };
}
