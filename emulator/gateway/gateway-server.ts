// The gateway's HTTPS listener, next to the management port: the service's published APIs served to callers, with the
// policies the service holds enforced (gateway-pipeline.ts). It shares the emulator's serving certificate and reads
// the service's state directly; the routing view is rebuilt after each change to the service.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ApimService } from '../apim-service.ts';
import { BackendClient } from './backend-forward.ts';
import { CompiledPolicies } from './compiled-policies.ts';
import type { PolicyRuntime } from './effective-policy.ts';
import { internalServerError } from './gateway-errors.ts';
import { handleGatewayRequest } from './gateway-pipeline.ts';
import type { GatewaySettings } from './gateway-settings.ts';
import { defaultGatewaySettings, patchGatewaySettings } from './gateway-settings.ts';
import { GatewayView } from './gateway-view.ts';
import { OpenIdKeys } from './openid-keys.ts';
import { QuotaCounters } from './quota-counters.ts';
import { RateLimitCounters } from './rate-limit-counters.ts';

export interface GatewayOptions {
  svc: ApimService;
  certPem: string;
  keyPem: string;
  /** The emulator's CA: trusted for its own identity endpoint (openid-config) and for TLS backends it issued. */
  caPem: string;
  host: string;
  /** 0 picks a free port. */
  port?: number;
  /** The host name in the gateway's URL (default: the listening address). */
  urlHost?: string;
  bodyLimit: number;
  log?: (line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  readonly settings: GatewaySettings;
  /** How many effective policies were compiled so far (each is compiled once per change to what it is built from). */
  readonly policyCompilations: number;
  /** Forgets counters and cached OpenID keys (the emulator's reset). */
  reset(): void;
  /** GET/PATCH /_emulator/gateway. */
  admin(method: string, body: unknown): { status: number; body?: unknown };
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const settings = defaultGatewaySettings();
  const rt: PolicyRuntime = {
    svc: options.svc,
    settings,
    rateLimits: new RateLimitCounters(),
    quotas: new QuotaCounters(),
    openIdKeys: new OpenIdKeys([options.caPem]),
  };
  const backend = new BackendClient([options.caPem]);
  const policies = new CompiledPolicies(rt);
  let view: GatewayView | undefined;
  const unsubscribe = options.svc.onChanged(() => {
    view = undefined;
  });
  const ctx = {
    svc: options.svc,
    view: () => (view ??= new GatewayView(options.svc, policies)),
    backend,
    bodyLimit: options.bodyLimit,
    ...(options.log ? { log: options.log } : {}),
  };

  const server = createServer({ cert: options.certPem, key: options.keyPem, keepAliveTimeout: 65_000 }, (req, res) => {
    handleGatewayRequest(ctx, req, res).catch((err: unknown) => {
      options.log?.(`gateway: ${req.method} ${req.url} failed: ${err instanceof Error ? err.stack : String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const reply = internalServerError();
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.urlHost ?? (options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host);

  return {
    url: `https://${host}:${port}`,
    port,
    settings,
    get policyCompilations() {
      return policies.compilations;
    },
    reset() {
      rt.rateLimits.reset();
      rt.quotas.reset();
      rt.openIdKeys.reset();
      policies.clear();
      view = undefined;
    },
    admin(method, body) {
      if (method === 'GET') return { status: 200, body: { settings, counters: { rateLimitKeys: rt.rateLimits.size, policyCompilations: policies.compilations } } };
      if (method === 'PATCH' || method === 'PUT') {
        const problem = patchGatewaySettings(settings, body);
        if (problem) return { status: 400, body: { error: { code: 'BadRequest', message: problem } } };
        // Compiled policies captured the old settings.
        policies.settingsChanged();
        view = undefined;
        return { status: 200, body: { settings } };
      }
      return { status: 405, body: { error: { code: 'MethodNotAllowed', message: `/_emulator/gateway takes GET and PATCH` } } };
    },
    async close() {
      unsubscribe();
      backend.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
