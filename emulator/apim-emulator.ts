// The APIM emulator as a library: one HTTPS port serving the Entra ID token endpoints, the ARM management plane of
// one API Management service, and the /_emulator admin API. Tests and the sandbox embed it with startApimEmulator();
// the `emulator` CLI command runs the same thing as a process.
//
// Plain node:https rather than fastify: measured on loopback TLS with keep-alive, both serve ~14k small requests/s,
// so the framework buys nothing here, while ARM's details (HEAD without bodies, raw ETag/Location headers, bodies up
// to several MB, dropping connections on demand) are simpler to control directly.
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { issueCertificate } from '../certs/pki.ts';
import { handleAdmin } from './admin-api.ts';
import { ApimService } from './apim-service.ts';
import type { ServiceSettings } from './apim-service.ts';
import { ArmError, throttled, unauthorized } from './arm-errors.ts';
import { dispatchArm } from './arm-dispatch.ts';
import type { ArmResult } from './arm-request.ts';
import { RouteTable } from './arm-routes.ts';
import { defaultEmulatorDir, openEmulatorHome } from './emulator-home.ts';
import { faultError, FaultInjector } from './faults.ts';
import type { ImportDuration } from './import-duration.ts';
import type { AsyncMode } from './long-running.ts';
import { fetchDocument } from './link-fetch.ts';
import { RequestCounts } from './request-counts.ts';
import { apiRoutes } from './resources/api-resources.ts';
import { releaseRoutes } from './resources/release-resources.ts';
import { linkRoutes } from './resources/link-resources.ts';
import { policyResourceRoutes } from './resources/policy-resources.ts';
import {
  API_VERSION_SETS,
  BACKENDS,
  LOGGERS,
  NAMED_VALUES,
  OPENID_CONNECT_PROVIDERS,
  PRODUCTS,
  simpleRoutes,
  TAGS,
} from './resources/simple-resources.ts';
import { serviceSnapshot } from './service-snapshot.ts';
import { findTier, unknownSkuMessage } from './sku-tiers.ts';
import { loadStateFile, StateWriter } from './state-file.ts';
import type { Gateway } from './gateway/gateway-server.ts';
import { startGateway } from './gateway/gateway-server.ts';
import { SUBSCRIPTIONS } from './resources/subscription-resources.ts';
import type { ThrottlingConfig } from './throttling.ts';
import { DEFAULT_THROTTLING, requestKind, Throttling } from './throttling.ts';
import type { ClientRegistration, FederatedCredential, TokenServiceConfig } from './token-endpoint.ts';
import { checkBearer, issueToken, jwks, openidConfiguration, unknownTenant } from './token-endpoint.ts';

export interface ApimEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Address to listen on; default 127.0.0.1 (the admin API has no authentication). */
  host?: string;
  /** Where the CA, token key and identity live; default ~/.cache/exposedapi-apim/emulator/. */
  dir?: string;
  /** Persist entities to this JSON file (loaded on start, saved on change). */
  stateFile?: string;
  /** Fixed duration of imports and other long-running writes (default 100 ms, so tests are fast). */
  importDelayMs?: number;
  /** Import duration: fixed milliseconds or 'realistic' (size-scaled, minutes for large documents); default importDelayMs. */
  importDurationMs?: ImportDuration;
  /** The realism switches of ServiceSettings (404 window after imports, properties at import, …). */
  notFoundAfterImportMs?: number;
  importAppliesProperties?: boolean;
  authenticationSettingsNulls?: ServiceSettings['authenticationSettingsNulls'];
  apiPathSlashes?: ServiceSettings['apiPathSlashes'];
  versionSetRemovedWithLastApi?: boolean;
  asyncMode?: AsyncMode;
  sku?: string;
  pageSize?: number;
  subscriptionId?: string;
  resourceGroup?: string;
  serviceName?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Trusted (issuer, subject) pairs for workload identity; none → any service-account subject. */
  federatedCredentials?: FederatedCredential[];
  /** More applications that may get tokens. */
  extraClients?: ClientRegistration[];
  tokenLifetimeSeconds?: number;
  /** Extra DNS names / IPs for the serving certificate (e.g. a Kubernetes service name). */
  hostnames?: string[];
  throttling?: Partial<ThrottlingConfig>;
  /** Largest request body accepted, in bytes (default 64 MiB). */
  bodyLimitBytes?: number;
  /** Called with one line per request when set. */
  log?: (line: string) => void;
  /** The gateway's port (0, the default, picks a free one). */
  gatewayPort?: number;
  /**
   * The host name in the gateway's URL (added to the serving certificate); default the listening address. A name such
   * as `apim-emulator.azure-api.net` keeps the real service's form, for callers that resolve it to the emulator
   * (the sandbox's --gateway-host: curl --resolve, a preload for Node programs).
   */
  gatewayHost?: string;
  /**
   * Whether the service GET reports the gateway's URL as `gatewayUrl` (so ExposedAPI status URLs the executor writes
   * answer, as a real service's do). Default true; false reports `https://<serviceName>.azure-api.net`, the real
   * service's form, which resolves nowhere locally.
   */
  advertiseGateway?: boolean;
}

export interface ApimEmulatorInfo {
  url: string;
  /** The gateway: the published APIs served with their policies (the service's gatewayUrl unless advertiseGateway is false). */
  gatewayUrl: string;
  caFile: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
}

export interface ApimEmulator extends ApimEmulatorInfo {
  port: number;
  /** The gateway (emulator/gateway/): its URL is gatewayUrl. */
  readonly gateway: Gateway;
  caPem: string;
  /** Everything the service holds plus request counts (the same as GET /_emulator/state). */
  state(): ReturnType<typeof serviceSnapshot>;
  reset(): void;
  info(): ApimEmulatorInfo;
  readonly service: ApimService;
  readonly faults: FaultInjector;
  readonly throttling: Throttling;
  readonly settings: ServiceSettings;
  readonly requests: RequestCounts;
  close(): Promise<void>;
}

const IDENTITY_PATH = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/;

const SERVICE_PREFIX = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ApiManagement\/service\/[^/]+\//i;

/** The decoded path segments below `…/service/{name}/` (empty when the path is not below a service). */
function segmentsBelowService(pathname: string): string[] {
  const m = SERVICE_PREFIX.exec(pathname);
  if (!m) return [];
  return pathname
    .slice(m[0].length)
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function armHeaders(): Record<string, string> {
  const id = randomUUID();
  return {
    'cache-control': 'no-cache',
    pragma: 'no-cache',
    expires: '-1',
    'x-content-type-options': 'nosniff',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-ms-request-id': id,
    'x-ms-correlation-request-id': id,
  };
}

function send(res: ServerResponse, method: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const h: Record<string, string> = { ...headers };
  let payload: string | undefined;
  if (body !== undefined && method !== 'HEAD' && status !== 204) {
    // A handler that names its own content type sends a text body as it is (a bare policy document); all else is JSON.
    const asIs = typeof body === 'string' && h['content-type'] !== undefined;
    payload = asIs ? body : JSON.stringify(body);
    if (!asIs) h['content-type'] = 'application/json; charset=utf-8';
    h['content-length'] = String(Buffer.byteLength(payload));
  } else {
    h['content-length'] = '0';
  }
  res.writeHead(status, h);
  res.end(payload);
}

export async function startApimEmulator(options: ApimEmulatorOptions = {}): Promise<ApimEmulator> {
  // An unmodelled tier would answer the service GET with an error and offer no tier-limited policy: refuse it now.
  if (options.sku !== undefined && !findTier(options.sku)) throw new Error(unknownSkuMessage(options.sku));
  const home = await openEmulatorHome(options.dir ?? defaultEmulatorDir());
  const host = options.host ?? '127.0.0.1';
  const tenantId = options.tenantId ?? home.identity.tenantId;
  const clientId = options.clientId ?? home.identity.clientId;
  const clientSecret = options.clientSecret ?? home.identity.clientSecret;
  const subscriptionId = options.subscriptionId ?? home.identity.subscriptionId;
  const resourceGroup = options.resourceGroup ?? 'rg-emulator';
  const serviceName = options.serviceName ?? 'apim-emulator';
  const tokenConfig: TokenServiceConfig = {
    tenantId,
    clients: [{ clientId, clientSecret, federatedCredentials: options.federatedCredentials ?? [] }, ...(options.extraClients ?? [])],
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
  };
  const serving = await issueCertificate(home.ca, {
    commonName: 'exposedapi-apim emulator',
    dnsNames: ['localhost', ...[...(options.hostnames ?? []), ...(options.gatewayHost ? [options.gatewayHost] : [])].filter((h) => !/^[\d.:]+$/.test(h))],
    ipAddresses: ['127.0.0.1', '::1', ...(options.hostnames ?? []).filter((h) => /^[\d.:]+$/.test(h))],
    usage: 'server',
  });

  const data = options.stateFile ? await loadStateFile(options.stateFile) : undefined;
  let writer: StateWriter | undefined;
  const service = new ApimService({
    subscriptionId,
    resourceGroup,
    serviceName,
    importDelayMs: options.importDelayMs ?? 100,
    asyncMode: options.asyncMode ?? 'location',
    sku: options.sku ?? 'Developer',
    pageSize: options.pageSize ?? 100,
    ...(options.importDurationMs !== undefined ? { importDurationMs: options.importDurationMs } : {}),
    ...(options.notFoundAfterImportMs !== undefined ? { notFoundAfterImportMs: options.notFoundAfterImportMs } : {}),
    ...(options.importAppliesProperties !== undefined ? { importAppliesProperties: options.importAppliesProperties } : {}),
    ...(options.authenticationSettingsNulls !== undefined ? { authenticationSettingsNulls: options.authenticationSettingsNulls } : {}),
    ...(options.apiPathSlashes !== undefined ? { apiPathSlashes: options.apiPathSlashes } : {}),
    ...(options.versionSetRemovedWithLastApi !== undefined ? { versionSetRemovedWithLastApi: options.versionSetRemovedWithLastApi } : {}),
    fetchDocument,
    ...(data ? { data } : {}),
    onChange: () => writer?.schedule(),
  });
  if (options.stateFile) writer = new StateWriter(options.stateFile, () => service.data);

  const routes = new RouteTable([
    ...apiRoutes(service),
    ...releaseRoutes(service),
    ...policyResourceRoutes(service),
    ...linkRoutes(service),
    ...simpleRoutes(service, PRODUCTS),
    ...simpleRoutes(service, TAGS),
    ...simpleRoutes(service, OPENID_CONNECT_PROVIDERS),
    ...simpleRoutes(service, BACKENDS),
    ...simpleRoutes(service, NAMED_VALUES),
    ...simpleRoutes(service, API_VERSION_SETS),
    ...simpleRoutes(service, LOGGERS),
    ...simpleRoutes(service, SUBSCRIPTIONS),
  ]);
  const faults = new FaultInjector();
  const throttling = new Throttling({ ...DEFAULT_THROTTLING, ...(options.throttling ?? {}) });
  const requests = new RequestCounts();
  const bodyLimit = options.bodyLimitBytes ?? 64 * 1024 * 1024;
  let info: ApimEmulatorInfo | undefined;
  let gateway: Gateway | undefined;

  const state = (): ReturnType<typeof serviceSnapshot> => serviceSnapshot(service, requests.snapshot());
  const reset = (): void => {
    service.reset();
    faults.clear();
    throttling.reset();
    requests.reset();
    gateway?.reset();
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const origin = `https://${req.headers.host ?? `${host}:${port}`}`;
    const url = new URL(req.url ?? '/', origin);
    const raw = await readBody(req, bodyLimit);
    if (raw === 'too-large') {
      const e = new ArmError(413, 'RequestEntityTooLarge', `The request content exceeds the emulator's limit of ${bodyLimit} bytes.`);
      send(res, method, e.status, e.body(), { connection: 'close' });
      return;
    }
    const headers = headerMap(req);

    if (url.pathname.startsWith('/_emulator/')) {
      let body: unknown;
      try {
        body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch {
        send(res, method, 400, { error: { code: 'BadRequest', message: 'The request body is not valid JSON.' } });
        return;
      }
      const reply = url.pathname.replace(/\/+$/, '') === '/_emulator/gateway' && gateway
        ? gateway.admin(method, body)
        : handleAdmin({ state, reset, info: () => info, faults, throttling, settings: service.settings, imports: () => service.importsRunning() }, method, url.pathname, body);
      send(res, method, reply.status, reply.body);
      return;
    }

    requests.record(method, url.pathname);
    options.log?.(`${method} ${url.pathname}${url.search}`);
    const rule = faults.take(method, `${url.pathname}${url.search}`);
    if (rule) {
      if (rule.delayMs !== undefined) await new Promise((r) => setTimeout(r, rule.delayMs));
      if (rule.drop) {
        req.socket.destroy();
        return;
      }
      if (rule.status !== undefined) {
        const e = faultError(rule);
        send(res, method, e.status, e.body(), { ...armHeaders(), ...e.headers });
        return;
      }
    }

    const identity = IDENTITY_PATH.exec(url.pathname);
    if (identity) {
      const [, tenant, endpoint] = identity;
      if (endpoint === 'oauth2/v2.0/token') {
        if (method !== 'POST') return send(res, method, 405, { error: 'invalid_request', error_description: 'The token endpoint takes POST.' });
        const reply = issueToken(new URLSearchParams(raw.toString('utf8')), tenant!, tokenConfig, home.signingKey, origin);
        return send(res, method, reply.status, reply.body);
      }
      if (tenant!.toLowerCase() !== tenantId.toLowerCase()) {
        const reply = unknownTenant(tenant!);
        return send(res, method, reply.status, reply.body);
      }
      if (endpoint === 'discovery/v2.0/keys') return send(res, method, 200, jwks(home.signingKey));
      return send(res, method, 200, openidConfiguration(origin, tenantId));
    }

    if (!url.pathname.toLowerCase().startsWith('/subscriptions/')) {
      return send(res, method, 404, { error: { code: 'NotFound', message: `The requested path '${url.pathname}' was not found.`, details: null } });
    }

    const auth = checkBearer(headers['authorization'], tokenConfig, home.signingKey);
    if (!auth.ok) {
      const e = auth.code === 'AuthenticationFailed' ? unauthorized(auth.message) : new ArmError(401, auth.code, auth.message);
      return send(res, method, 401, e.body(), { ...armHeaders(), ...e.headers });
    }
    const kind = requestKind(method);
    const decision = throttling.take(auth.principal.objectId, kind);
    const rateHeader = { [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(decision.remaining) };
    if (!decision.allowed) {
      const e = throttled(kind === 'reads' ? 'read' : kind === 'writes' ? 'write' : 'delete', subscriptionId, auth.principal.objectId, decision.retryAfterSeconds);
      return send(res, method, 429, e.body(), { ...armHeaders(), ...rateHeader, ...e.headers });
    }
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        const e = new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(err as Error).message}'.`);
        return send(res, method, 400, e.body(), { ...armHeaders(), ...rateHeader });
      }
    }
    const hidden = service.notFoundAfterImport(method, segmentsBelowService(url.pathname));
    if (hidden) return send(res, method, hidden.status, hidden.body(), { ...armHeaders(), ...rateHeader });
    const result: ArmResult = await dispatchArm(service, routes, { method, url, headers, body, origin });
    send(res, method, result.status, result.body, { ...armHeaders(), ...rateHeader, ...(result.headers ?? {}) });
  }

  const server = createServer({ cert: serving.certPem, key: serving.keyPem, keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = new ArmError(500, 'InternalServerError', `The emulator failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) send(res, req.method ?? 'GET', 500, e.body());
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `https://${urlHost}:${port}`;
  gateway = await startGateway({
    svc: service,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    caPem: home.ca.certPem,
    host,
    port: options.gatewayPort ?? 0,
    ...(options.gatewayHost ? { urlHost: options.gatewayHost } : {}),
    bodyLimit,
    ...(options.log ? { log: options.log } : {}),
  });
  if (options.advertiseGateway ?? true) service.gatewayUrl = gateway.url;
  info = { url, gatewayUrl: gateway.url, caFile: home.caFile, authorityHost: url, tenantId, clientId, clientSecret, subscriptionId, resourceGroup, serviceName };

  return {
    ...info,
    port,
    gateway,
    caPem: home.ca.certPem,
    state,
    reset,
    info: () => info!,
    service,
    faults,
    throttling,
    settings: service.settings,
    requests,
    async close(): Promise<void> {
      service.stop();
      await gateway!.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await writer?.flush();
    },
  };
}
