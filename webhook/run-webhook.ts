// Wires the admission server to its configuration, the ExposedAPI watch (for path claims) and certificate rotation.
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import type { WebhookConfig } from '../core/operator-config.ts';
import { SpecFetcher } from '../core/spec-fetch.ts';
import { DocumentCheckCache } from '../core/spec-document.ts';
import { IsolatedDocumentChecker } from './document-check-process.ts';
import type { ValidationContext } from '../core/validate-exposedapi.ts';
import { createAdmissionMetrics, type AdmissionMetrics } from './admission-metrics.ts';
import { applyTls, buildAdmissionServer } from './admission-server.ts';
import { ExposedApiInformer } from './exposedapi-informer.ts';
import { PathClaimRegistry, pathSummary, type PathSummary } from './path-claim-registry.ts';
import { readTls, TlsReloader } from './tls-reloader.ts';

export interface RunningWebhook {
  app: FastifyInstance<HttpsServer>;
  url: string;
  port: number;
  metrics: AdmissionMetrics;
  claims?: PathClaimRegistry;
  informer?: ExposedApiInformer<PathSummary>;
  fetcher: SpecFetcher;
  tlsReloader: TlsReloader;
  checker: IsolatedDocumentChecker;
  close(): Promise<void>;
}

/** Loads a KubeConfig from KUBECONFIG or the in-cluster service account. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export async function startWebhook(config: WebhookConfig, deps: { kubeConfig?: KubeConfig } = {}): Promise<RunningWebhook> {
  const metrics = createAdmissionMetrics();
  const fetcher = new SpecFetcher(config.specFetch);
  fetcher.onOutcome = (outcome) => metrics.fetches.inc({ outcome });

  let claims: PathClaimRegistry | undefined;
  let informer: ExposedApiInformer<PathSummary> | undefined;
  if (config.pathUniqueness) {
    claims = new PathClaimRegistry();
    const registry = claims;
    informer = new ExposedApiInformer<PathSummary>({
      kubeConfig: deps.kubeConfig ?? loadKubeConfig(),
      namespaces: config.watchNamespaces,
      summarize: pathSummary,
      events: { upsert: (_obj, s) => registry.observed(s), remove: (s) => registry.removed(s) },
    });
  }

  let log: ((msg: string, fields?: Record<string, unknown>) => void) | undefined;
  const checker = new IsolatedDocumentChecker({
    log: (msg, fields) => log?.(msg, fields),
    timeoutMs: config.documentCheckTimeoutMs,
    idleMs: config.documentCheckerIdleMs,
    maxRssMb: config.documentCheckerMaxRssMb,
  });
  const validation: ValidationContext = {
    pathClaims: claims,
    defaultJwt: config.defaultJwt,
    documents: new DocumentCheckCache(32, (text) => checker.check(text)),
    fetch: (url) => fetcher.fetch(url),
    remoteMode: config.remoteSpecCheck,
  };
  const app = buildAdmissionServer({
    tls: readTls(config.tlsCertFile, config.tlsKeyFile),
    maxBodyBytes: config.maxBodyBytes,
    validation,
    metrics,
    claims,
    ready: () => (informer ? informer.isSynced : true),
    logLevel: config.logLevel,
  });
  log = (msg, fields) => app.log.info(fields ?? {}, msg);
  const tlsReloader = new TlsReloader(
    config.tlsCertFile,
    config.tlsKeyFile,
    (tls) => {
      applyTls(app, tls);
      app.log.info('serving certificate reloaded');
    },
    (e) => app.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'serving certificate not reloaded; retrying'),
  );
  informer?.start();
  await app.listen({ host: config.host, port: config.port });
  tlsReloader.start(config.tlsReloadIntervalMs);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    app,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    metrics,
    claims,
    informer,
    fetcher,
    tlsReloader,
    checker,
    async close() {
      tlsReloader.stop();
      informer?.stop();
      await app.close();
      await checker.close();
    },
  };
}
