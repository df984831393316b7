// Prometheus metrics of the dispatcher, on the webhook's /metrics registry (one scrape target per replica; only the
// leader's Job counters move, and `exposedapi_apim_dispatcher_leader` says which replica that is).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface DispatcherMetrics {
  jobsCreated: Counter<'action'>;
  jobsSucceeded: Counter<'action'>;
  jobsFailed: Counter<'action'>;
  queueDepth: Gauge;
  activeJobs: Gauge;
  jobCap: Gauge;
  leader: Gauge;
  dispatchLatency: Histogram<'action'>;
  readinessWrites: Counter<'target'>;
  /** ExposedAPIs whose Drifted condition is True for their current spec hash (docs/drift.md). */
  drifted: Gauge;
  verifyJobsCreated: Counter;
}

export function createDispatcherMetrics(registry: Registry): DispatcherMetrics {
  const registers = [registry];
  return {
    jobsCreated: new Counter({ name: 'exposedapi_apim_dispatcher_jobs_created_total', help: 'Executor Jobs created, by action (apply|delete)', labelNames: ['action'], registers }),
    jobsSucceeded: new Counter({ name: 'exposedapi_apim_dispatcher_jobs_succeeded_total', help: 'Executor Jobs seen to complete, by action', labelNames: ['action'], registers }),
    jobsFailed: new Counter({ name: 'exposedapi_apim_dispatcher_jobs_failed_total', help: 'Executor Jobs seen to fail, by action', labelNames: ['action'], registers }),
    queueDepth: new Gauge({ name: 'exposedapi_apim_dispatcher_queue_depth', help: 'Changes waiting for their object\'s running Job or for the global cap (exposedapi_apim_dispatcher_job_cap)', registers }),
    activeJobs: new Gauge({ name: 'exposedapi_apim_dispatcher_active_jobs', help: 'Executor Jobs currently running', registers }),
    jobCap: new Gauge({ name: 'exposedapi_apim_dispatcher_job_cap', help: 'The global cap on running Jobs now: adapts between DISPATCH_MIN_ACTIVE_JOBS and DISPATCH_MAX_ACTIVE_JOBS (docs/dispatcher.md)', registers }),
    leader: new Gauge({ name: 'exposedapi_apim_dispatcher_leader', help: '1 while this replica holds the dispatcher lease', registers }),
    dispatchLatency: new Histogram({
      name: 'exposedapi_apim_dispatch_latency_seconds',
      help: 'From a change becoming visible to the dispatcher (the spec-hash annotation, or the deletion) to its Job being created; includes waiting for a running Job or the cap',
      labelNames: ['action'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    drifted: new Gauge({ name: 'exposedapi_apim_drifted', help: 'ExposedAPIs whose APIM API differs from their applied spec (condition Drifted True for the current spec hash, written by the verify Jobs; docs/drift.md)', registers }),
    verifyJobsCreated: new Counter({ name: 'exposedapi_apim_dispatcher_verify_jobs_created_total', help: 'Verify Jobs created (every DRIFT_INTERVAL_SECONDS while leading)', registers }),
    readinessWrites: new Counter({ name: 'exposedapi_apim_readiness_writes_total', help: 'Readiness written from EndpointSlices, by target (exposedapi|component)', labelNames: ['target'], registers }),
  };
}
