// What one run of the executor works with: configuration, the Kubernetes client, the run's retry budget and log, and
// the APIM session, created on first use (its SDK loads in the background from the moment the run knows it will
// need it).
import { hostname } from 'node:os';
import type { ExecutorConfig } from '../core/executor-config.ts';
import { apimSession, createApimClient, type Apim, type ApimClientFactory } from './apim-client.ts';
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
  /** Starts loading the APIM SDK and fetching a token without waiting. */
  warmUpApim(): void;
  apim(): Promise<Apim>;
}

export interface RunOptions {
  config: ExecutorConfig;
  kube: KubeClient;
  log: JobLog;
  specHash: string;
  apimFactory?: ApimClientFactory;
}

export function runContext(o: RunOptions): RunContext {
  const budget = new RetryBudget(o.config.retryBudgetMs, o.log);
  const factory = o.apimFactory ?? createApimClient;
  let session: Promise<Apim> | undefined;
  const apim = (): Promise<Apim> => {
    session ??= factory(o.config).then(({ client, warmUp }) => {
      warmUp();
      return apimSession(client, o.config, budget, o.log);
    });
    return session;
  };
  return {
    config: o.config,
    kube: o.kube,
    budget,
    log: o.log,
    specHash: o.specHash,
    instance: o.config.jobName ?? hostname(),
    warmUpApim: () => {
      // Failures surface when the session is awaited.
      apim().catch(() => undefined);
    },
    apim,
  };
}
