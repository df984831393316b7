// Wires the admission server to its configuration, the ExposedAPI watch (for path claims and the dispatcher), the
// dispatcher (docs/dispatcher.md) and certificate rotation.
import { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import { AUTO_DOCUMENT_CHECKERS_MAX, type WebhookConfig } from '../core/operator-config.ts';
import type { DispatcherConfig } from '../core/dispatcher-config.ts';
import { Dispatcher, type ExposedApiCache } from '../dispatcher/dispatcher.ts';
import { createDispatcherMetrics } from '../dispatcher/dispatcher-metrics.ts';
import { dispatchSummary, type DispatchSummary } from '../dispatcher/exposedapi-summary.ts';
import { reuseConnections } from '../dispatcher/kube-connection-reuse.ts';
import { SpecFetcher } from '../core/spec-fetch.ts';
import { DocumentCheckCache } from '../core/spec-document.ts';
import { DocumentCheckerPool } from './document-checker-pool.ts';
import { readUsableCpus } from '../core/cgroup-cpu-limit.ts';
import type { ValidationContext } from '../core/validate-exposedapi.ts';
import { createAdmissionMetrics, type AdmissionMetrics } from './admission-metrics.ts';
import { applyTls, buildAdmissionServer } from './admission-server.ts';
import { ExposedApiInformer } from './exposedapi-informer.ts';
import { PathClaimRegistry, pathSummary, type PathSummary } from './path-claim-registry.ts';
import { TargetDirectory } from '../core/target-selection.ts';
import { TargetWatch } from '../dispatcher/target-watch.ts';
import { readTls, TlsReloader } from './tls-reloader.ts';
import { errorMessage } from '../core/kube/errors.ts';
import { pinoLog } from '../core/log.ts';

/** What the one ExposedAPI informer keeps per object: its claims (path, apiId) and, with the dispatcher, its dispatch summary. */

/** The smallest document every check accepts: warms a checker process up at start. */
const WARM_UP_DOCUMENT = JSON.stringify({ swagger: '2.0', info: { title: 'warm-up', version: '1' }, paths: {} });

export type WatchedExposedApi = PathSummary & { dispatch?: DispatchSummary };

export interface RunningWebhook {
  app: FastifyInstance<HttpsServer>;
  url: string;
  port: number;
  metrics: AdmissionMetrics;
  claims?: PathClaimRegistry;
  /** The ApimTargets and namespace labels this process knows (undefined without a Kubernetes connection). */
  targets?: TargetDirectory;
  informer?: ExposedApiInformer<WatchedExposedApi>;
  /** The dispatcher (DISPATCHER_ENABLED): this replica campaigns for the Lease and dispatches while it leads. */
  dispatcher?: Dispatcher;
  fetcher: SpecFetcher;
  tlsReloader: TlsReloader;
  /** The document checker processes (DOCUMENT_CHECKERS). */
  checker: DocumentCheckerPool;
  close(): Promise<void>;
}

/**
 * How many document checker processes may run at once: DOCUMENT_CHECKERS when set, else the CPUs this process may
 * use (the cgroup CPU quota counts: os.availableParallelism() alone does not see it), at most
 * AUTO_DOCUMENT_CHECKERS_MAX, since each member can hold up to DOCUMENT_CHECKER_MAX_RSS_MB and a large node without a
 * CPU limit must not multiply that.
 */
export function documentCheckerCount(configured: number, usable: () => ReturnType<typeof readUsableCpus> = readUsableCpus): { size: number; fields: Record<string, unknown> } {
  if (configured > 0) return { size: configured, fields: { documentCheckers: configured, source: 'DOCUMENT_CHECKERS' } };
  const cpus = usable();
  const size = Math.min(cpus.cpus, AUTO_DOCUMENT_CHECKERS_MAX);
  return { size, fields: { documentCheckers: size, source: 'cpus', usableCpus: cpus.cpus, availableParallelism: cpus.available, cpuQuota: cpus.limit.cpus ?? null, cpuQuotaFile: cpus.limit.source ?? null } };
}

/** Loads a KubeConfig from KUBECONFIG or the in-cluster service account. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export async function startWebhook(config: WebhookConfig, deps: { kubeConfig?: KubeConfig; dispatcher?: DispatcherConfig } = {}): Promise<RunningWebhook> {
  const metrics = createAdmissionMetrics();
  const fetcher = new SpecFetcher(config.specFetch);
  fetcher.onOutcome = (outcome) => metrics.fetches.inc({ outcome });

  // ONE ExposedAPI informer per process feeds both the path-claim registry and the dispatcher (issue 6): one list,
  // one watch, one slim summary per object, whichever of the two is enabled.
  const dispatcherConfig = deps.dispatcher?.enabled ? deps.dispatcher : undefined;
  // Connections are reused (dispatcher/kube-connection-reuse.ts): client-node would open one per API call.
  const kubeConfig = config.pathUniqueness || dispatcherConfig ? reuseConnections(deps.kubeConfig ?? loadKubeConfig()) : undefined;
  // Which instance each ExposedAPI publishes into (core/target-selection.ts): the scope of its claims, its tier and the
  // tenancy check at admission, and its Jobs' environment in the dispatcher. Without a Kubernetes connection there is
  // nothing to watch, and every ExposedAPI uses the operator's own instance.
  const directory = kubeConfig ? new TargetDirectory(config.operatorServiceId) : undefined;
  const scopeOf = (namespace: string, target: string | undefined) => directory?.scopeOf(directory.choose(namespace, target, config.tenancy)) ?? '';
  const claims = config.pathUniqueness ? new PathClaimRegistry(undefined, scopeOf) : undefined;
  let dispatcher: Dispatcher | undefined; // created below, once the logger exists; the informer starts after that
  let informer: ExposedApiInformer<WatchedExposedApi> | undefined;
  if (kubeConfig) {
    informer = new ExposedApiInformer<WatchedExposedApi>({
      kubeConfig,
      namespaces: config.watchNamespaces,
      summarize: dispatcherConfig ? (obj) => ({ ...pathSummary(obj), dispatch: dispatchSummary(obj) }) : pathSummary,
      events: {
        // A changed or removed claim may decide another object's standing: the dispatcher plans those again.
        upsert: (_obj, s) => {
          const affected = claims?.observed(s) ?? [];
          if (s.dispatch) dispatcher?.observed(s.dispatch);
          for (const key of affected) dispatcher?.claimsChanged(key);
        },
        remove: (s) => {
          const affected = claims?.removed(s) ?? [];
          dispatcher?.removed(s);
          for (const key of affected) dispatcher?.claimsChanged(key);
        },
        synced: () => dispatcher?.apisSynced(),
      },
      // Started below, once the server's logger exists.
      log: pinoLog(() => app.log),
    });
  }

  const targetWatch = kubeConfig && directory
    ? new TargetWatch({
        kubeConfig,
        directory,
        onChange: () => {
          for (const key of claims?.rescope() ?? []) dispatcher?.claimsChanged(key);
          dispatcher?.targetsChanged();
        },
        onSynced: () => dispatcher?.apisSynced(),
        log: pinoLog(() => app.log),
      })
    : undefined;

  let log: ((msg: string, fields?: Record<string, unknown>) => void) | undefined;
  const checkers = documentCheckerCount(config.documentCheckers);
  const checker = new DocumentCheckerPool({
    size: checkers.size,
    log: (msg, fields) => log?.(msg, fields),
    timeoutMs: config.documentCheckTimeoutMs,
    idleMs: config.documentCheckerIdleMs,
    maxRssMb: config.documentCheckerMaxRssMb,
  });
  // The first check starts a checker process and compiles the OpenAPI schemas: seconds on a loaded node, which the
  // first review would otherwise pay inside the apiserver's webhook timeout. Done at start, and /readyz waits for it
  // (it always ends: a failed start answers as a transient verdict).
  let checkerWarm = false;
  void checker.check(WARM_UP_DOCUMENT).then(() => (checkerWarm = true));
  const validation: ValidationContext = {
    claims,
    defaultJwt: config.defaultJwt,
    documents: new DocumentCheckCache(32, (text) => checker.check(text)),
    fetch: (url) => fetcher.fetch(url),
    remoteMode: config.remoteSpecCheck,
    allowPrivateFetch: config.specFetch.allowPrivate,
    outbound: config.outbound,
    tenancy: config.tenancy,
    ...(config.apimSku ? { apimSku: config.apimSku } : {}),
    ...(directory ? { targets: directory } : {}),
  };
  const app = buildAdmissionServer({
    tls: readTls(config.tlsCertFile, config.tlsKeyFile),
    maxBodyBytes: config.maxBodyBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    largeBodyBytes: config.largeBodyBytes,
    largeBodiesMaxBytes: config.largeBodiesMaxBytes,
    validation,
    metrics,
    claims,
    ready: () => (!checkerWarm
      ? 'the document checker is starting'
      : targetWatch && !targetWatch.isSynced ? 'the ApimTarget and Namespace watches are syncing'
      : informer ? informer.notReadyReason ?? true : true),
    logLevel: config.logLevel,
  });
  log = (msg, fields) => app.log.info(fields ?? {}, msg);
  app.log.info(checkers.fields, 'document checker pool sized');
  if (dispatcherConfig && kubeConfig && informer) {
    const cache = informer;
    const apis: ExposedApiCache = {
      get: (namespace, name) => cache.get(namespace, name)?.dispatch,
      *values() {
        for (const s of cache.values()) if (s.dispatch) yield s.dispatch;
      },
      get isSynced() {
        return cache.isSynced;
      },
    };
    dispatcher = new Dispatcher({
      config: dispatcherConfig,
      kubeConfig,
      watchNamespaces: config.watchNamespaces,
      apis,
      claims,
      ...(targetWatch && directory ? { targets: { directory, get isSynced() { return targetWatch.isSynced; }, tenancy: config.tenancy } } : {}),
      metrics: createDispatcherMetrics(metrics.registry),
      log: app.log.child({ component: 'dispatcher' }),
    });
  }
  const tlsReloader = new TlsReloader(
    config.tlsCertFile,
    config.tlsKeyFile,
    (tls) => {
      applyTls(app, tls);
      app.log.info('serving certificate reloaded');
    },
    (e) => app.log.warn({ err: errorMessage(e) }, 'serving certificate not reloaded; retrying'),
  );
  targetWatch?.start();
  informer?.start();
  await app.listen({ host: config.host, port: config.port });
  tlsReloader.start(config.tlsReloadIntervalMs);
  dispatcher?.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    app,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    metrics,
    claims,
    ...(directory ? { targets: directory } : {}),
    informer,
    dispatcher,
    fetcher,
    tlsReloader,
    checker,
    async close() {
      tlsReloader.stop();
      await dispatcher?.stop(); // hands the lease over before the watch goes
      informer?.stop();
      targetWatch?.stop();
      await app.close();
      await checker.close();
    },
  };
}
