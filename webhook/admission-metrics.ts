// Prometheus metrics of the admission server. prom-client is the maintained standard for Node; its text format and
// default process metrics are what cluster Prometheus setups expect.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface AdmissionMetrics {
  registry: Registry;
  reviews: Counter<'webhook' | 'operation' | 'outcome'>;
  latency: Histogram<'webhook'>;
  fetches: Counter<'outcome'>;
  /** Large AdmissionReviews refused unread because the in-flight budget was spent (webhook/body-budget.ts). */
  bodiesRefused: Counter;
}

export function createAdmissionMetrics(): AdmissionMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'exposedapi_apim_' });
  return {
    registry,
    reviews: new Counter({
      name: 'exposedapi_apim_admission_reviews_total',
      help: 'AdmissionReviews answered, by webhook (validate|mutate), operation and outcome',
      labelNames: ['webhook', 'operation', 'outcome'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'exposedapi_apim_admission_duration_seconds',
      help: 'Time to answer an AdmissionReview',
      labelNames: ['webhook'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    fetches: new Counter({
      name: 'exposedapi_apim_spec_fetches_total',
      help: 'Remote specification fetches, by outcome (ok, cached, revalidated, refused, unreachable)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    bodiesRefused: new Counter({
      name: 'exposedapi_apim_admission_bodies_refused_total',
      help: 'Large AdmissionReviews answered 503 unread: WEBHOOK_LARGE_BODIES_MAX_BYTES of them were already in flight',
      registers: [registry],
    }),
  };
}
