// Operator configuration from environment variables (a ConfigMap in the cluster). One parser for every process, so the
// webhook and the executor cannot disagree about, say, which specification hosts may be fetched. Bad values are
// reported with the variable, the value and the fix, and the process refuses to start.
import type { RemoteSpecMode } from './rules/specification.ts';
import type { SpecFetchOptions } from './spec-fetch.ts';
import type { OutboundPolicy } from './outbound-url.ts';
import { NO_POLICY, parseTenancyPolicy, type TenancyPolicy } from './tenancy-policy.ts';
import { APIM_SKUS, knownSku, type ApimSku } from './apim-tiers.ts';
import { serviceIdOf } from './apim-target.ts';

export interface WebhookConfig {
  host: string;
  port: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** How often the certificate files are checked for rotation. */
  tlsReloadIntervalMs: number;
  maxBodyBytes: number;
  /** Headers and body of a request must arrive within this; a slower client is cut (408). */
  requestTimeoutMs: number;
  /** AdmissionReviews of at least this size count against largeBodiesMaxBytes. */
  largeBodyBytes: number;
  /** Large AdmissionReviews in flight at once, in bytes; one more is answered 503 unread. */
  largeBodiesMaxBytes: number;
  /** Namespaces whose ExposedAPIs this operator serves; empty = all. */
  watchNamespaces: string[];
  /** Deny a second ExposedAPI on a path (needs list/watch of ExposedAPIs). */
  pathUniqueness: boolean;
  remoteSpecCheck: RemoteSpecMode;
  specFetch: SpecFetchOptions;
  /** Hard budget for checking one OpenAPI document (in the webhook's checker process). */
  documentCheckTimeoutMs: number;
  /** The checker process exits after this much idle time, returning its memory. */
  documentCheckerIdleMs: number;
  /** The checker process is replaced when its RSS exceeds this. */
  documentCheckerMaxRssMb: number;
  /** DOCUMENT_CHECKERS: checker processes at most; 0 = as many as the CPUs the webhook may use (cgroup quota included). */
  documentCheckers: number;
  /** An operator-wide default JWT configuration exists (claim-keyed counters are then usable without spec.apim). */
  defaultJwt: boolean;
  /** Which URLs spec.apim.backend.url and the JWT discovery URL may name (OUTBOUND_ALLOW_HTTP / _PRIVATE). */
  outbound: OutboundPolicy;
  /** What each namespace may publish (TENANCY_POLICY, core/tenancy-policy.ts). */
  tenancy: TenancyPolicy;
  /** APIM_SKU: the tier of the APIM service; policies it does not offer are denied at admission. Absent = not checked. */
  apimSku?: ApimSku;
  /**
   * The ARM id of the operator's own instance, from APIM_SUBSCRIPTION_ID, APIM_RESOURCE_GROUP and APIM_SERVICE_NAME
   * when all three are set (the Jobs' ConfigMap is the webhook's too): the claim scope of the ExposedAPIs that use no
   * ApimTarget, so an ApimTarget for the same instance shares their paths (core/target-selection.ts).
   */
  operatorServiceId?: string;
  logLevel: string;
}

export type ConfigResult<T> = { ok: true; config: T } | { ok: false; errors: string[] };

class EnvReader {
  readonly errors: string[] = [];
  private readonly env: Record<string, string | undefined>;
  constructor(env: Record<string, string | undefined>) {
    this.env = env;
  }
  str(name: string, fallback: string): string {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? fallback : v.trim();
  }
  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.errors.push(`${name}=${JSON.stringify(raw)} is invalid: must be a whole number from ${min} to ${max} (default ${fallback})`);
      return fallback;
    }
    return n;
  }
  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    this.errors.push(`${name}=${JSON.stringify(raw)} is invalid: must be true or false (default ${fallback})`);
    return fallback;
  }
  oneOf<T extends string>(name: string, fallback: T, values: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    if ((values as readonly string[]).includes(raw.trim())) return raw.trim() as T;
    this.errors.push(`${name}=${JSON.stringify(raw)} is invalid: must be one of ${values.join(', ')} (default ${fallback})`);
    return fallback;
  }
  list(name: string): string[] {
    return (this.env[name] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
}

export function readSpecFetchOptions(r: EnvReader): SpecFetchOptions {
  return {
    timeoutMs: r.int('SPEC_FETCH_TIMEOUT_MS', 3000, 100, 60_000),
    maxBytes: r.int('SPEC_FETCH_MAX_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    allowHttp: r.bool('SPEC_FETCH_ALLOW_HTTP', false),
    allowPrivate: r.bool('SPEC_FETCH_ALLOW_PRIVATE', false),
    allowedHosts: r.list('SPEC_ALLOWED_HOSTS'),
    freshMs: r.int('SPEC_FETCH_CACHE_SECONDS', 60, 0, 86_400) * 1000,
    maxRedirects: 3,
  };
}

/** TENANCY_POLICY: read by the webhook and the executor alike, so both enforce the same policy. */
export function readTenancyPolicy(r: EnvReader): TenancyPolicy {
  const parsed = parseTenancyPolicy(r.str('TENANCY_POLICY', ''));
  if (parsed.ok) return parsed.policy;
  r.errors.push(...parsed.errors);
  return NO_POLICY;
}

/**
 * APIM_SKU: the service's tier (its sku.name), so admission can deny policies the tier lacks (core/apim-tiers.ts).
 * Empty = not checked at admission; the executor checks against the tier it reads from the service either way.
 */
export function readApimSku(r: EnvReader): ApimSku | undefined {
  const raw = r.str('APIM_SKU', '');
  if (raw === '') return undefined;
  const sku = knownSku(raw);
  if (!sku) r.errors.push(`APIM_SKU=${JSON.stringify(raw)} is invalid: must be the service's sku.name, one of ${APIM_SKUS.join(', ')}, or empty to check tiers only at apply time`);
  return sku;
}

/** OUTBOUND_ALLOW_*: read by the webhook and the executor alike, so admission and apply judge URLs the same way. */
export function readOutboundPolicy(r: EnvReader): OutboundPolicy {
  return { allowHttp: r.bool('OUTBOUND_ALLOW_HTTP', false), allowPrivate: r.bool('OUTBOUND_ALLOW_PRIVATE', false) };
}

function operatorServiceId(r: EnvReader): { operatorServiceId?: string } {
  const subscriptionId = r.str('APIM_SUBSCRIPTION_ID', '');
  const resourceGroup = r.str('APIM_RESOURCE_GROUP', '');
  const serviceName = r.str('APIM_SERVICE_NAME', '');
  if (subscriptionId === '' || resourceGroup === '' || serviceName === '') return {};
  // The executor validates these; here a malformed one only means "a scope of its own", never a refusal to start.
  return { operatorServiceId: serviceIdOf({ subscriptionId: subscriptionId.toLowerCase(), resourceGroup, serviceName }) };
}

export function readWebhookConfig(env: Record<string, string | undefined> = process.env): ConfigResult<WebhookConfig> {
  const r = new EnvReader(env);
  const config: WebhookConfig = {
    host: r.str('WEBHOOK_HOST', '0.0.0.0'),
    port: r.int('WEBHOOK_PORT', 8443, 0, 65535),
    tlsCertFile: r.str('TLS_CERT_FILE', '/etc/exposedapi-apim/tls/tls.crt'),
    tlsKeyFile: r.str('TLS_KEY_FILE', '/etc/exposedapi-apim/tls/tls.key'),
    tlsReloadIntervalMs: r.int('TLS_RELOAD_INTERVAL_SECONDS', 10, 1, 3600) * 1000,
    maxBodyBytes: r.int('WEBHOOK_MAX_BODY_BYTES', 8 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
    requestTimeoutMs: r.int('WEBHOOK_REQUEST_TIMEOUT_MS', 5000, 1000, 9000),
    largeBodyBytes: r.int('WEBHOOK_LARGE_BODY_BYTES', 1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
    largeBodiesMaxBytes: r.int('WEBHOOK_LARGE_BODIES_MAX_BYTES', 24 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    watchNamespaces: r.list('WATCH_NAMESPACES'),
    pathUniqueness: r.bool('PATH_UNIQUENESS', true),
    remoteSpecCheck: r.oneOf('REMOTE_SPEC_CHECK', 'deny', ['deny', 'warn', 'off'] as const),
    specFetch: readSpecFetchOptions(r),
    documentCheckTimeoutMs: r.int('DOCUMENT_CHECK_TIMEOUT_MS', 5000, 500, 8000),
    documentCheckerIdleMs: r.int('DOCUMENT_CHECKER_IDLE_SECONDS', 10, 1, 3600) * 1000,
    documentCheckerMaxRssMb: r.int('DOCUMENT_CHECKER_MAX_RSS_MB', 256, 64, 4096),
    documentCheckers: readDocumentCheckers(r),
    defaultJwt: r.str('JWT_OPENID_CONFIG_URL', '') !== '',
    outbound: readOutboundPolicy(r),
    tenancy: readTenancyPolicy(r),
    apimSku: readApimSku(r),
    ...operatorServiceId(r),
    logLevel: r.oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const),
  };
  // The webhook answers within the apiserver's timeout (≤ 10 s); a fetch must leave room for the rest.
  if (config.largeBodiesMaxBytes < config.maxBodyBytes) {
    r.errors.push(`WEBHOOK_LARGE_BODIES_MAX_BYTES=${config.largeBodiesMaxBytes} is smaller than WEBHOOK_MAX_BODY_BYTES=${config.maxBodyBytes}: an AdmissionReview of the largest accepted size could never be received; make it at least ${config.maxBodyBytes}`);
  }
  if (config.specFetch.timeoutMs > 5000) {
    r.errors.push(`SPEC_FETCH_TIMEOUT_MS=${config.specFetch.timeoutMs} is too long for admission: keep it at or below 5000 so the webhook answers within its 10 s timeout`);
  }
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, config };
}

// Webhook-only settings below readWebhookConfig: the section above it is what the executor reads too
// (test/executor/manifests-and-docs.test.ts checks that each of those is documented for the executor).
/** The automatic document checker pool size stops here: beyond it memory, not CPUs, is what bounds the pool. */
export const AUTO_DOCUMENT_CHECKERS_MAX = 4;

/**
 * DOCUMENT_CHECKERS: how many document checker processes the webhook may run at once. Empty or 0 = one per CPU the
 * webhook may use (the cgroup quota counts), at most 4. More members than CPUs only queue on the CPU instead of in the
 * pool, and each can hold up to DOCUMENT_CHECKER_MAX_RSS_MB, hence the bound.
 */
export function readDocumentCheckers(r: EnvReader): number {
  const raw = r.str('DOCUMENT_CHECKERS', '');
  if (raw === '') return 0;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 0 && n <= 16) return n;
  r.errors.push(`DOCUMENT_CHECKERS=${JSON.stringify(raw)} is invalid: must be a whole number from 1 to 16 (checker processes at most), or empty or 0 for one per usable CPU up to ${AUTO_DOCUMENT_CHECKERS_MAX}`);
  return 0;
}

export { EnvReader };
