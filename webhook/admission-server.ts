// The admission server: fastify over HTTPS with POST /validate and POST /mutate, health and metrics. HTTP plumbing
// only — the decisions live in validate-decision.ts and mutate-decision.ts.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { createSecureContext } from 'node:tls';
import type { Server as HttpsServer } from 'node:https';
import { isObject } from '../core/object-reader.ts';
import type { ValidationContext } from '../core/validate-exposedapi.ts';
import { decodeAdmissionReview, reviewOf } from './admission-review.ts';
import type { AdmissionMetrics } from './admission-metrics.ts';
import { mutateDecision } from './mutate-decision.ts';
import type { PathClaimRegistry } from './path-claim-registry.ts';
import { validateDecision } from './validate-decision.ts';
import type { TlsMaterial } from './tls-reloader.ts';
import { IdleCompactor } from './idle-compaction.ts';
import { BodyBudget, contentLengthOf } from './body-budget.ts';

export interface AdmissionServerOptions {
  tls: TlsMaterial;
  maxBodyBytes: number;
  validation: ValidationContext;
  metrics: AdmissionMetrics;
  /** Admitted path and apiId claims are recorded here until the watch confirms them. */
  claims?: PathClaimRegistry;
  /**
   * Readiness beyond "listening", e.g. the ExposedAPI cache has synced: true when ready; false (still starting) or the
   * reason when not, which /readyz returns with its 503.
   */
  ready?: () => boolean | string;
  logLevel?: string;
  /** Hard budget for a validation, below the webhook timeout, so the apiserver never sees a timeout from us. */
  decisionBudgetMs?: number;
  /** Headers and body must arrive within this (WEBHOOK_REQUEST_TIMEOUT_MS); default 5000. */
  requestTimeoutMs?: number;
  /** Bodies of at least this size share largeBodiesMaxBytes (WEBHOOK_LARGE_BODY_BYTES); default 1 MiB. */
  largeBodyBytes?: number;
  /** Large bodies in flight at once, in bytes (WEBHOOK_LARGE_BODIES_MAX_BYTES); default 24 MiB. */
  largeBodiesMaxBytes?: number;
}

export function buildAdmissionServer(opts: AdmissionServerOptions): FastifyInstance<HttpsServer> {
  const budgetMs = opts.decisionBudgetMs ?? 8000;
  // The apiserver sends a review in one go from close by and gives up after its webhook timeout (≤ 10 s): a client
  // that has not delivered headers and body within a few seconds is not the apiserver, or has already given up.
  const requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
  const app = Fastify({
    https: {
      cert: opts.tls.cert,
      key: opts.tls.key,
      minVersion: 'TLSv1.2',
      handshakeTimeout: requestTimeoutMs,
      // Node checks requestTimeout/headersTimeout only this often (default 30 s, far beyond the apiserver's patience).
      connectionsCheckingInterval: Math.min(1000, requestTimeoutMs),
    },
    requestTimeout: requestTimeoutMs,
    // Socket inactivity, a backstop: long enough for a full request plus the slowest decision (no bytes flow while a
    // validation runs). Idle keep-alive connections are governed by keepAliveTimeout, left at fastify's 72 s: an idle
    // connection costs little, and reusing the apiserver's connections saves a TLS handshake per review.
    connectionTimeout: requestTimeoutMs + budgetMs + 2000,
    bodyLimit: opts.maxBodyBytes,
    logger: { level: opts.logLevel ?? 'info', redact: ['req.headers.authorization'] },
    // One log line per admission is noise at any real rate; denials and failures are logged by the handlers.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance<HttpsServer>;

  app.server.headersTimeout = requestTimeoutMs;
  const compactor = new IdleCompactor();
  const bodies = new BodyBudget({
    largeBodyBytes: opts.largeBodyBytes ?? 1024 * 1024,
    maxInflightBytes: opts.largeBodiesMaxBytes ?? 24 * 1024 * 1024,
    unknownLengthBytes: opts.maxBodyBytes,
  });
  // A callback hook, not an async one: it runs on every review, and an async hook costs a promise and a microtask
  // turn each time (measured with bench:admission).
  app.addHook('onRequest', (req, reply, done) => {
    const length = contentLengthOf(req.headers['content-length']);
    compactor.note(length ?? 0);
    if (req.method !== 'POST' || (length ?? 0) > opts.maxBodyBytes) return done(); // too large: fastify answers 413 unread
    const reservation = bodies.reserve(length);
    if (!reservation.ok) {
      opts.metrics.bodiesRefused.inc();
      // Answered before the body is read (done() is not called); closing the connection stops the rest arriving.
      reply.code(503).header('retry-after', '1').header('connection', 'close').send({
        error: 'Service Unavailable',
        message: `the webhook is already receiving or judging ${reservation.inflightBytes} bytes of large AdmissionReviews (WEBHOOK_LARGE_BODIES_MAX_BYTES); retry the request`,
      });
      return;
    }
    // 'close' fires once the response is sent or the connection is gone (timeout, reset): the body is released then.
    if (reservation.bytes > 0) reply.raw.once('close', reservation.release);
    done();
  });
  app.addHook('onClose', async () => compactor.stop());

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: 'Payload Too Large',
        message: `the AdmissionReview is larger than ${opts.maxBodyBytes} bytes (WEBHOOK_MAX_BODY_BYTES); an ExposedAPI with a document this large should reference it by URL`,
      });
    }
    if (status >= 400 && status < 500) return reply.code(status).send({ error: 'Bad Request', message: err.message });
    req.log.error({ err: err.message }, 'admission handler failed');
    return reply.code(500).send({ error: 'Internal Server Error', message: 'the webhook failed to process the review; see its log' });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = opts.ready ? opts.ready() : true;
    if (ready === true) return reply.code(200).send({ status: 'ready' });
    return reply.code(503).send(typeof ready === 'string' ? { status: 'not ready', reason: ready } : { status: 'starting' });
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });

  app.post('/validate', async (req, reply) => {
    const started = performance.now();
    const decoded = decodeAdmissionReview(req.body);
    if (!decoded.ok) return reply.code(400).send({ error: 'Bad Request', message: decoded.error });
    const r = decoded.request;
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`validation took longer than ${budgetMs} ms`)), budgetMs);
    });
    try {
      const { response, outcome } = await Promise.race([validateDecision(r, opts.validation), budget]);
      if (outcome === 'allowed' && !r.dryRun && opts.claims && r.object && r.namespace) {
        const meta = isObject(r.object['metadata']) ? r.object['metadata'] : {};
        const name = String(meta['name'] ?? r.name ?? '');
        if (name) opts.claims.admitted(r.object, r.namespace, name);
      }
      opts.metrics.reviews.inc({ webhook: 'validate', operation: r.operation, outcome });
      if (outcome === 'denied') req.log.info({ uid: r.uid, namespace: r.namespace, name: r.name, reason: response.status?.message }, 'denied ExposedAPI');
      return reviewOf(response);
    } finally {
      clearTimeout(timer);
      opts.metrics.latency.observe({ webhook: 'validate' }, (performance.now() - started) / 1000);
    }
  });

  app.post('/mutate', async (req, reply) => {
    const started = performance.now();
    const decoded = decodeAdmissionReview(req.body);
    if (!decoded.ok) return reply.code(400).send({ error: 'Bad Request', message: decoded.error });
    // The document is checked here already (so its digest can be stamped); validation then finds it in the cache.
    const { response, outcome } = await mutateDecision(decoded.request, { documents: opts.validation, budgetMs });
    opts.metrics.reviews.inc({ webhook: 'mutate', operation: decoded.request.operation, outcome });
    opts.metrics.latency.observe({ webhook: 'mutate' }, (performance.now() - started) / 1000);
    return reviewOf(response);
  });

  return app;
}

/** Replaces the serving certificate of a running server (new connections use it; open ones keep theirs). */
export function applyTls(app: FastifyInstance<HttpsServer>, tls: TlsMaterial): void {
  createSecureContext({ cert: tls.cert, key: tls.key }); // throws on a mismatched pair before anything changes
  app.server.setSecureContext({ cert: tls.cert, key: tls.key });
}
