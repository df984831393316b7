// What one run of the executor works with: configuration, the Kubernetes client, the run's retry budget and log, and
// the APIM session, created on first use (its SDK loads in the background from the moment the run knows it will
// need it).
import { hostname } from 'node:os';
import type { ExecutorConfig } from '../core/executor-config.ts';
import type { TokenCredential } from '@azure/identity';
import { apimSession, createApimClient, loadCredential, type Apim } from './apim-client.ts';
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
  /** Starts loading the identity package (no network): cheap enough for runs that turn out to have nothing to do. */
  prepareApim(): void;
  /** Starts the token request and loading the APIM SDK, without waiting. */
  warmUpApim(): void;
  apim(): Promise<Apim>;
}

export interface RunOptions {
  config: ExecutorConfig;
  kube: KubeClient;
  log: JobLog;
  specHash: string;
}

export function runContext(options: RunOptions): RunContext {
  const budget = new RetryBudget(options.config.retryBudgetMs, options.log);
  let credential: Promise<TokenCredential> | undefined;
  let session: Promise<Apim> | undefined;
  const loadIdentity = (): Promise<TokenCredential> => {
    credential ??= loadCredential(options.config);
    return credential;
  };
  const apim = (): Promise<Apim> => {
    session ??= loadIdentity().then(async (c) => {
      // The first token request leaves before the SDK loads; the SDK's calls then find the token cached. Its errors
      // surface, with the retry loop's classification, on the first real call.
      c.getToken(options.config.apim.armScope).catch(() => undefined);
      return apimSession(await createApimClient(options.config, c), options.config, budget, options.log);
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
    prepareApim: () => {
      loadIdentity().catch(() => undefined);
    },
    warmUpApim: () => {
      // Failures surface when the session is awaited.
      apim().catch(() => undefined);
    },
    apim,
  };
}
