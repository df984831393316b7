// Configuration of the dispatcher (the part of the webhook process that turns accepted changes into Jobs), from the
// same environment / ConfigMap as the webhook and parsed the same way: a bad value stops the process with the
// variable, the value and what is valid. The tunable parts of the executor's Job are environment variables rather
// than a Job-template ConfigMap on purpose: every value is validated once at start-up (a typo cannot produce Jobs the
// apiserver rejects at 3 a.m.), the dispatcher needs no extra watch or RBAC for a template, and the parts that must
// not be tuned (args, labels, the restricted security context, the podFailurePolicy) stay in code. See
// docs/dispatcher.md for the table.
import { readFileSync } from 'node:fs';
import { EnvReader, type ConfigResult } from './operator-config.ts';

export interface JobTemplateConfig {
  /** The executor image; the Job runs its entrypoint with `execute apply|delete …` (or `command` + those args). */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Replaces the image's entrypoint; the `execute …` args follow it. */
  command?: string[];
  serviceAccountName: string;
  /** The operator ConfigMap, passed to the executor with envFrom. */
  configMapName: string;
  backoffLimit: number;
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
}

export interface LeaseConfig {
  name: string;
  /** How long a leader's claim lasts without renewal: a dead leader is replaced after at most this. */
  durationMs: number;
  /** A leader that cannot renew for this long stops dispatching (before anyone else may take over). */
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * Trying a change again after its Job failed for a transient reason (every pod exit 1, the deadline): an APIM or
 * network outage longer than one Job's own retries must not leave the APIs touched during it failed until someone
 * bumps reconcile-at. Capped exponential backoff with jitter; docs/dispatcher.md "Retries after a failed Job".
 */
export interface JobRetryConfig {
  /** New Jobs for one change after its first failed; 0 = never (the change then waits for a new one). */
  limit: number;
  /** Wait before the first retry; doubles with each further one. */
  baseMs: number;
  /** The doubling stops here. */
  maxMs: number;
  /** Up to this fraction is taken off each wait (0–0.5), differently per object and attempt, so a burst spreads out. */
  jitter: number;
}

export interface DispatcherConfig {
  enabled: boolean;
  /** Where Jobs and the Lease live (the operator's own namespace). */
  operatorNamespace: string;
  /** This replica's name in the Lease. */
  identity: string;
  /** Global cap on concurrently active Jobs (ARM write limits are per subscription): the adaptive cap's ceiling. */
  maxActiveJobs: number;
  /**
   * The adaptive cap (dispatcher/job-cap.ts) between minActiveJobs and maxActiveJobs: grows while Jobs finish fast,
   * halves when they slow down, stays at the floor for holdMs after a pod failed with a retriable exit.
   */
  jobCap: { minActiveJobs: number; slowFactor: number; holdMs: number };
  lease: LeaseConfig;
  job: JobTemplateConfig;
  /** Keep status.implementation.ready (and the parent Component's entry) in step with EndpointSlices. */
  readinessSync: boolean;
  /** Full re-evaluation of every ExposedAPI, a safety net behind the watches. */
  resyncMs: number;
  retry: JobRetryConfig;
  /**
   * DRIFT_INTERVAL_SECONDS: how often the leader starts a verify Job (`execute verify`, docs/drift.md) that compares
   * APIM with the applied specs; 0 = never.
   */
  driftIntervalMs: number;
}

export interface DispatcherContext {
  /** The namespace of the pod's ServiceAccount (in-cluster), when known. */
  serviceAccountNamespace?: string;
  hostname: string;
  /** Distinguishes two processes on one host (tests, a restarted container that kept its hostname). */
  randomSuffix: string;
}

/**
 * The Job's image when EXECUTOR_IMAGE is unset: the image both installs run (the chart's image.repository at its
 * appVersion, which manifests/base is generated from), so a webhook started without the variable still starts
 * executors of its own version. test/core/dispatcher-config.test.ts keeps it equal to the chart.
 */
export const DEFAULT_EXECUTOR_IMAGE = 'ghcr.io/exposedapi-apim/exposedapi-apim:0.1.0';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Kubernetes resource quantities (the forms a manifest author writes), e.g. 100m, 0.5, 128Mi, 1G.
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

function quantity(r: EnvReader, name: string, fallback: string): string {
  const v = r.str(name, fallback);
  if (!QUANTITY.test(v)) r.errors.push(`${name}=${JSON.stringify(v)} is invalid: must be a Kubernetes quantity such as 100m, 1, 128Mi or 1Gi (default ${fallback})`);
  return v;
}

function dnsLabel(r: EnvReader, name: string, fallback: string): string {
  const v = r.str(name, fallback);
  if (!DNS_LABEL.test(v)) r.errors.push(`${name}=${JSON.stringify(v)} is invalid: must be a DNS-1123 label (lowercase letters, digits and "-", at most 63 characters) (default ${fallback})`);
  return v;
}

/** `["node", "/x.ts"]` (JSON, for paths with spaces) or `node /x.ts` (split on whitespace). */
function command(r: EnvReader, name: string): string[] | undefined {
  const raw = r.str(name, '');
  if (raw === '') return undefined;
  if (raw.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((x) => typeof x === 'string' && x !== '')) return parsed as string[];
    } catch {
      // reported below
    }
    r.errors.push(`${name}=${JSON.stringify(raw)} is invalid: must be a JSON array of non-empty strings, e.g. ["node","/app/dist/exposedapi-apim.mjs"], or words separated by spaces`);
    return undefined;
  }
  return raw.split(/\s+/).filter(Boolean);
}

/** Reads the dispatcher's configuration. Pure: the in-cluster facts come in `context`. */
export function readDispatcherConfig(env: Record<string, string | undefined>, context: DispatcherContext): ConfigResult<DispatcherConfig> {
  const r = new EnvReader(env);
  // In a cluster the webhook Deployment is where the dispatcher belongs; elsewhere (npm start, tests) it is opt-in.
  const inCluster = (env['KUBERNETES_SERVICE_HOST'] ?? '') !== '';
  const enabled = r.bool('DISPATCHER_ENABLED', inCluster);
  const operatorNamespace = dnsLabel(r, 'OPERATOR_NAMESPACE', env['POD_NAMESPACE']?.trim() || context.serviceAccountNamespace || 'exposedapi-apim');
  const identity = r.str('POD_NAME', '') || `${context.hostname}_${context.randomSuffix}`;
  const lease: LeaseConfig = {
    name: dnsLabel(r, 'LEASE_NAME', 'exposedapi-apim-dispatcher'),
    durationMs: r.int('LEASE_DURATION_SECONDS', 15, 2, 300) * 1000,
    renewDeadlineMs: r.int('LEASE_RENEW_DEADLINE_SECONDS', 10, 1, 299) * 1000,
    retryPeriodMs: r.int('LEASE_RETRY_PERIOD_SECONDS', 2, 1, 60) * 1000,
  };
  if (lease.renewDeadlineMs >= lease.durationMs) {
    r.errors.push(`LEASE_RENEW_DEADLINE_SECONDS=${lease.renewDeadlineMs / 1000} must be less than LEASE_DURATION_SECONDS=${lease.durationMs / 1000}, so a leader that cannot renew stops before another replica may take over`);
  }
  if (lease.retryPeriodMs >= lease.renewDeadlineMs) {
    r.errors.push(`LEASE_RETRY_PERIOD_SECONDS=${lease.retryPeriodMs / 1000} must be less than LEASE_RENEW_DEADLINE_SECONDS=${lease.renewDeadlineMs / 1000}, so a leader gets more than one chance to renew`);
  }
  const pullPolicy = r.str('EXECUTOR_IMAGE_PULL_POLICY', '');
  const job: JobTemplateConfig = {
    image: r.str('EXECUTOR_IMAGE', DEFAULT_EXECUTOR_IMAGE),
    imagePullPolicy: pullPolicy === '' ? undefined : r.oneOf('EXECUTOR_IMAGE_PULL_POLICY', 'IfNotPresent', ['Always', 'IfNotPresent', 'Never'] as const),
    command: command(r, 'EXECUTOR_COMMAND'),
    serviceAccountName: r.str('EXECUTOR_SERVICE_ACCOUNT', 'exposedapi-apim-executor'),
    configMapName: r.str('EXECUTOR_CONFIGMAP', 'exposedapi-apim-config'),
    backoffLimit: r.int('JOB_BACKOFF_LIMIT', 3, 0, 20),
    activeDeadlineSeconds: r.int('JOB_ACTIVE_DEADLINE_SECONDS', 600, 10, 86_400),
    ttlSecondsAfterFinished: r.int('JOB_TTL_SECONDS_AFTER_FINISHED', 86_400, 0, 30 * 86_400),
    resources: {
      requests: { cpu: quantity(r, 'JOB_CPU_REQUEST', '100m'), memory: quantity(r, 'JOB_MEMORY_REQUEST', '128Mi') },
      limits: { cpu: quantity(r, 'JOB_CPU_LIMIT', '1'), memory: quantity(r, 'JOB_MEMORY_LIMIT', '512Mi') },
    },
  };
  const retry: JobRetryConfig = {
    limit: r.int('JOB_RETRY_LIMIT', 100, 0, 1000),
    baseMs: r.int('JOB_RETRY_BASE_SECONDS', 60, 1, 3600) * 1000,
    maxMs: r.int('JOB_RETRY_MAX_SECONDS', 1800, 1, 86_400) * 1000,
    jitter: r.int('JOB_RETRY_JITTER_PERCENT', 20, 0, 50) / 100,
  };
  if (retry.maxMs < retry.baseMs) {
    r.errors.push(`JOB_RETRY_MAX_SECONDS=${retry.maxMs / 1000} must be at least JOB_RETRY_BASE_SECONDS=${retry.baseMs / 1000}: it caps the doubling wait that starts there`);
  }
  // The failed Job is the retry's clock (its end time and attempt number survive restarts and failover, unlike
  // memory, and tenants cannot write them, unlike status): it must outlive the longest wait.
  if (retry.limit > 0 && job.ttlSecondsAfterFinished * 1000 < retry.maxMs) {
    r.errors.push(`JOB_TTL_SECONDS_AFTER_FINISHED=${job.ttlSecondsAfterFinished} is shorter than JOB_RETRY_MAX_SECONDS=${retry.maxMs / 1000}: a failed Job would expire before its retry is due; raise the TTL to at least ${retry.maxMs / 1000}, lower JOB_RETRY_MAX_SECONDS, or set JOB_RETRY_LIMIT=0 to turn retries off`);
  }
  const maxActiveJobs = r.int('DISPATCH_MAX_ACTIVE_JOBS', 10, 1, 1000);
  // The floor defaults to 2 (never above the ceiling): one Job at a time would serialize unrelated namespaces behind a
  // single slow document; equal to the ceiling, the cap is fixed (the behaviour before the cap adapted).
  const minActiveJobs = r.int('DISPATCH_MIN_ACTIVE_JOBS', Math.min(2, maxActiveJobs), 1, 1000);
  if (minActiveJobs > maxActiveJobs) {
    r.errors.push(`DISPATCH_MIN_ACTIVE_JOBS=${minActiveJobs} must be at most DISPATCH_MAX_ACTIVE_JOBS=${maxActiveJobs}: it is the adaptive cap's floor; set both to the same value for a fixed cap`);
  }
  const jobCap = {
    minActiveJobs,
    slowFactor: r.int('DISPATCH_SLOW_JOB_FACTOR', 2, 2, 20),
    // 20 s: the time ARM needs to refill its whole writes bucket (200 at 10/s), the longest a throttled subscription
    // needs to recover from this operator's own writes.
    holdMs: r.int('DISPATCH_FAILURE_HOLD_SECONDS', 20, 0, 600) * 1000,
  };
  const config: DispatcherConfig = {
    enabled,
    operatorNamespace,
    identity,
    maxActiveJobs,
    jobCap,
    lease,
    job,
    readinessSync: r.bool('READINESS_SYNC', true),
    resyncMs: r.int('DISPATCH_RESYNC_SECONDS', 300, 10, 86_400) * 1000,
    retry,
    driftIntervalMs: r.int('DRIFT_INTERVAL_SECONDS', 3600, 0, 7 * 86_400) * 1000,
  };
  // Below a minute a run could still be reading when the next is due (1,000 APIs take about 40 s at ARM's read rate).
  if (config.driftIntervalMs > 0 && config.driftIntervalMs < 10_000) {
    r.errors.push(`DRIFT_INTERVAL_SECONDS=${config.driftIntervalMs / 1000} is invalid: 0 turns drift verification off, otherwise at least 10 (seconds between verify Jobs; default 3600)`);
  }
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, config };
}

/** The pod's namespace from its ServiceAccount mount (the node agent of the tests points elsewhere, hence the env). */
export function serviceAccountNamespace(env: Record<string, string | undefined> = process.env): string | undefined {
  const dir = env['EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR'] || '/var/run/secrets/kubernetes.io/serviceaccount';
  try {
    return readFileSync(`${dir}/namespace`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
