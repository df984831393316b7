// The executor's configuration, from environment variables (the exposedapi-apim-config ConfigMap, plus what the Job
// template and workload identity inject). Pure: the same EnvReader as the webhook, so a value both read (specification
// fetching, REMOTE_SPEC_CHECK, JWT_OPENID_CONFIG_URL) means the same thing to both. Every variable is documented in
// docs/executor.md; a bad value names the variable, the value and what is valid.
import type { JwtSettings } from './exposedapi-model.ts';
import { VALIDATE_CONTENT_MAX_SIZE } from './policy-xml.ts';
import { APIM_RESOURCE_ID, isHttpUrl } from './http-tokens.ts';
import { EnvReader, readOutboundPolicy, readSpecFetchOptions, readTenancyPolicy, type ConfigResult } from './operator-config.ts';
import type { TenancyPolicy } from './tenancy-policy.ts';
import { serviceIdOf, TARGET_NAME, TARGET_NAME_MAX } from './apim-target.ts';
import type { RemoteSpecMode } from './rules/specification.ts';
import type { SpecFetchOptions } from './spec-fetch.ts';
import type { OutboundPolicy } from './outbound-url.ts';
import { DEFAULT_VERSION_HEADER_NAME, DEFAULT_VERSION_QUERY_NAME, VERSIONING_SCHEMES, type VersioningConfig } from './api-versioning.ts';

export const ROUTE_MODES = ['ingress', 'istio', 'gateway-api'] as const;
export type RouteMode = (typeof ROUTE_MODES)[number];

/** How a document reaches APIM: sent inline, or by URL for APIM to fetch itself (link formats, no 4 MB limit). */
export const SPEC_IMPORT_MODES = ['auto', 'inline', 'link'] as const;
export type SpecImportMode = (typeof SPEC_IMPORT_MODES)[number];

export const DEFAULT_AUTHENTICATIONS = ['none', 'jwt'] as const;

/** APIM_DRIFT_MODE: what a verify run does about an API that drifted (docs/drift.md). */
export const DRIFT_MODES = ['report', 'repair'] as const;
export type DriftMode = (typeof DRIFT_MODES)[number];

export const PUBLIC_ARM_ENDPOINT = 'https://management.azure.com';
export const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** A day: the usual meaning of a quota, and far above APIM's minimum renewal period of 300 s. */
export const DEFAULT_QUOTA_RENEWAL_PERIOD_SECONDS = 86_400;

export interface ExecutorConfig {
  /**
   * CLUSTER_ID: this installation's name in the ownership mark on every APIM API it creates (executor/api-mark.ts).
   * Clusters that share one APIM service must use different ids, or they would treat each other's APIs of the same
   * namespace/name as their own.
   */
  clusterId: string;
  /** TENANCY_POLICY (core/tenancy-policy.ts), enforced again at apply time; it also says who may adopt APIs. */
  tenancy: TenancyPolicy;
  apim: {
    subscriptionId: string;
    resourceGroup: string;
    serviceName: string;
    /** Gateway base URL without a trailing slash; absent = read from the service (properties.gatewayUrl). */
    gatewayUrl?: string;
    armEndpoint: string;
    /** OAuth scope of ARM tokens; `${armEndpoint}/.default` unless set. */
    armScope: string;
    authorityHost: string;
    /** MSAL must not ask login.microsoftonline.com about any other authority (sovereign clouds, the emulator). */
    disableInstanceDiscovery: boolean;
    /** First delay between polls of a long-running import; grows ×1.5 up to 5 s. */
    pollIntervalMs: number;
    /**
     * IMPORT_NOT_FOUND_WINDOW_SECONDS: how long a 404 of an API right after its import (or while the import is polled)
     * is taken as APIM still settling and retried, before it counts as a real absence.
     */
    importNotFoundWindowMs: number;
    /** ARM_PACING_RESERVE_PERCENT: below this share of ARM's bucket left, the Job slows its requests (0 = off). */
    pacingReservePercent: number;
    /** The service's ARM id, from the three above: what status.apim.resourceId records. */
    resourceId: string;
    /**
     * APIM_TARGET / APIM_TARGET_SETTINGS: the ApimTarget the dispatcher runs this Job for and its applied-settings hash
     * (core/apim-target.ts targetJobEnv); absent = the operator's own instance.
     */
    target?: { name: string; settings: string };
  };
  route: {
    mode: RouteMode;
    /** IngressClass of the Ingress objects; absent = the cluster's default class. */
    ingressClass?: string;
    /** Host rule of the route, and the host APIM calls; absent = any host, APIM calls the load-balancer address. */
    host?: string;
    /** The URL APIM calls instead of the load-balancer address (required for istio and gateway-api). */
    baseUrl?: string;
    scheme: 'http' | 'https';
    /** `namespace/name` of the Istio Gateway or Gateway API Gateway. */
    gateway?: { namespace: string; name: string };
    waitMs: number;
  };
  defaults: {
    products: string[];
    tags: string[];
    authentication: (typeof DEFAULT_AUTHENTICATIONS)[number];
    /** The operator's JWT settings (JWT_OPENID_CONFIG_URL or JWT_TENANT_ID, JWT_AUDIENCES, JWT_ISSUERS). */
    jwt?: JwtSettings;
  };
  createMissingProducts: boolean;
  createMissingTags: boolean;
  /**
   * APIM_VERSIONING_SCHEME (Segment, Query, Header), APIM_VERSION_QUERY_NAME, APIM_VERSION_HEADER_NAME: how the
   * versions of one base path are told apart in the version set they form (core/api-versioning.ts,
   * docs/version-sets.md). Segment keeps every ODA path as the public URL.
   */
  versioning: VersioningConfig;
  specFetch: SpecFetchOptions;
  /** OUTBOUND_ALLOW_HTTP / OUTBOUND_ALLOW_PRIVATE, as in the webhook; backend and JWT host names are also resolved. */
  outbound: OutboundPolicy;
  remoteSpecCheck: RemoteSpecMode;
  specImportMode: SpecImportMode;
  /**
   * The webhook's notion of "the operator has default JWT settings" (JWT_OPENID_CONFIG_URL set), used for validation
   * so that both apply exactly the same rules.
   */
  validationDefaultJwt: boolean;
  quotaRenewalPeriodSeconds: number;
  /**
   * VALIDATE_CONTENT_MAX_SIZE: validate-content's max-size in bytes. APIM allows up to 4 MB today (the default);
   * services that still enforce the older 100 KB maximum refuse a larger value when the policy is saved.
   */
  validateContentMaxSize: number;
  retryBudgetMs: number;
  /**
   * APIM_REVISIONS (`off` | `on`) and APIM_REVISIONS_KEEP: whether a change is published as a new revision that is
   * checked before a release makes it current (an ExposedAPI's spec.apim.revisions overrides `enabled`), and how many
   * earlier revisions of the operator's own stay (docs/revisions.md).
   */
  revisions: { enabled: boolean; keep: number };
  developerUiBaseUrl?: string;
  jobName?: string;
  logLevel: string;
  /**
   * The verify run (`execute verify`, docs/drift.md): `report` only marks a drifted ExposedAPI (Drifted True, an
   * Event); `repair` also asks the dispatcher for an apply Job of its applied spec. WATCH_NAMESPACES (as the webhook
   * reads it; empty = all): where it lists ExposedAPIs, which is also where the executor's RBAC is bound.
   */
  drift: { mode: DriftMode; watchNamespaces: string[] };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function optionalUrl(r: EnvReader, name: string, opts: { httpsOnly?: boolean } = {}): string | undefined {
  const v = r.str(name, '');
  if (v === '') return undefined;
  if (!isHttpUrl(v, opts)) {
    r.errors.push(`${name}=${JSON.stringify(v)} is invalid: must be an absolute ${opts.httpsOnly ? 'https' : 'http(s)'} URL`);
    return undefined;
  }
  return trimSlash(v);
}

function required(r: EnvReader, name: string, what: string): string {
  const v = r.str(name, '');
  if (v === '') r.errors.push(`${name} is required: ${what}`);
  return v;
}

function idList(r: EnvReader, name: string, what: string): string[] {
  const list = r.list(name);
  for (const id of list) {
    if (id.length > 80 || !APIM_RESOURCE_ID.test(id)) {
      r.errors.push(`${name} contains ${JSON.stringify(id)}: must be APIM ${what} ids (letters, digits, "-", "_", ".", at most 80 characters), comma-separated`);
    }
  }
  return list;
}

function readDefaultJwt(r: EnvReader, authorityHost: string): JwtSettings | undefined {
  const url = optionalUrl(r, 'JWT_OPENID_CONFIG_URL', { httpsOnly: true });
  const tenant = r.str('JWT_TENANT_ID', '');
  if (tenant !== '' && !/^[A-Za-z0-9.-]{1,100}$/.test(tenant)) {
    r.errors.push(`JWT_TENANT_ID=${JSON.stringify(tenant)} is invalid: must be an Entra ID tenant id (a GUID) or domain`);
  }
  const openidConfigUrl = url ?? (tenant !== '' ? `${authorityHost}/${tenant}/v2.0/.well-known/openid-configuration` : undefined);
  if (openidConfigUrl === undefined) return undefined;
  return { openidConfigUrl, audiences: r.list('JWT_AUDIENCES'), issuers: r.list('JWT_ISSUERS'), requiredClaims: [] };
}

/** A query parameter or header name APIM stores on a version set (1–100 characters) and the gateway matches. */
function versionParameterName(r: EnvReader, name: string, fallback: string, what: string, pattern: RegExp): string {
  const v = r.str(name, fallback);
  if (v.length > 100 || !pattern.test(v)) r.errors.push(`${name}=${JSON.stringify(v)} is invalid: must be ${what} of 1-100 characters, e.g. ${fallback}`);
  return v;
}

function readVersioning(r: EnvReader): VersioningConfig {
  return {
    scheme: r.oneOf('APIM_VERSIONING_SCHEME', 'Segment', VERSIONING_SCHEMES),
    queryName: versionParameterName(r, 'APIM_VERSION_QUERY_NAME', DEFAULT_VERSION_QUERY_NAME, 'a query parameter name (letters, digits, "-", ".", "_", "~")', /^[A-Za-z0-9._~-]+$/),
    headerName: versionParameterName(r, 'APIM_VERSION_HEADER_NAME', DEFAULT_VERSION_HEADER_NAME, 'an HTTP header name (a token)', /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/),
  };
}

function readTarget(r: EnvReader): { name: string; settings: string } | undefined {
  const name = r.str('APIM_TARGET', '');
  if (name === '') return undefined;
  if (!TARGET_NAME.test(name) || name.length > TARGET_NAME_MAX) r.errors.push(`APIM_TARGET=${JSON.stringify(name)} is invalid: must be the name of an ApimTarget (set by the dispatcher)`);
  const settings = r.str('APIM_TARGET_SETTINGS', '');
  if (!/^[0-9a-f]{16}$/.test(settings)) r.errors.push(`APIM_TARGET_SETTINGS=${JSON.stringify(settings)} is invalid: must be 16 hex digits (set by the dispatcher with APIM_TARGET)`);
  return { name, settings };
}

function readGateway(r: EnvReader): { namespace: string; name: string } | undefined {
  const v = r.str('ROUTE_GATEWAY', '');
  if (v === '') return undefined;
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(v);
  if (!m) {
    r.errors.push(`ROUTE_GATEWAY=${JSON.stringify(v)} is invalid: must be <namespace>/<name> of the Istio Gateway or Gateway API Gateway, e.g. istio-ingress/internal`);
    return undefined;
  }
  return { namespace: m[1]!, name: m[3]! };
}

export function readExecutorConfig(env: Record<string, string | undefined> = process.env): ConfigResult<ExecutorConfig> {
  const r = new EnvReader(env);
  const subscriptionId = required(r, 'APIM_SUBSCRIPTION_ID', 'the Azure subscription id (a GUID) of the API Management service');
  if (subscriptionId !== '' && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(subscriptionId)) {
    r.errors.push(`APIM_SUBSCRIPTION_ID=${JSON.stringify(subscriptionId)} is invalid: must be a subscription GUID, e.g. 00000000-0000-0000-0000-000000000000`);
  }
  const resourceGroup = required(r, 'APIM_RESOURCE_GROUP', 'the resource group of the API Management service');
  const serviceName = required(r, 'APIM_SERVICE_NAME', 'the name of the API Management service');
  if (serviceName !== '' && !/^[a-zA-Z](?:[a-zA-Z0-9-]{0,48}[a-zA-Z0-9])?$/.test(serviceName)) {
    r.errors.push(`APIM_SERVICE_NAME=${JSON.stringify(serviceName)} is invalid: 1-50 letters, digits and "-", starting with a letter`);
  }
  const armEndpoint = optionalUrl(r, 'ARM_ENDPOINT', { httpsOnly: true }) ?? PUBLIC_ARM_ENDPOINT;
  const authorityHost = optionalUrl(r, 'AZURE_AUTHORITY_HOST', { httpsOnly: true }) ?? PUBLIC_AUTHORITY_HOST;
  const mode = r.oneOf('ROUTE_MODE', 'ingress', ROUTE_MODES);
  const gateway = readGateway(r);
  const baseUrl = optionalUrl(r, 'ROUTE_BASE_URL');
  const host = r.str('ROUTE_HOST', '') || undefined;
  if (host !== undefined && !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host)) {
    r.errors.push(`ROUTE_HOST=${JSON.stringify(host)} is invalid: must be a lower-case DNS name, e.g. apis.internal.example.com`);
  }
  if (mode !== 'ingress' && baseUrl === undefined) {
    r.errors.push(`ROUTE_BASE_URL is required with ROUTE_MODE=${mode}: the URL at which APIM reaches the gateway, e.g. http://10.0.0.10`);
  }
  if (mode !== 'ingress' && gateway === undefined) {
    r.errors.push(`ROUTE_GATEWAY is required with ROUTE_MODE=${mode}: <namespace>/<name> of the gateway the routes attach to`);
  }
  const ingressClass = r.str('INGRESS_CLASS', '') || undefined;
  if (ingressClass !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(ingressClass)) {
    r.errors.push(`INGRESS_CLASS=${JSON.stringify(ingressClass)} is invalid: must be an IngressClass name`);
  }
  const clusterId = r.str('CLUSTER_ID', 'default');
  if (!/^[a-z0-9](?:[a-z0-9.-]{0,38}[a-z0-9])?$/.test(clusterId)) {
    r.errors.push(`CLUSTER_ID=${JSON.stringify(clusterId)} is invalid: 1-40 lower-case letters, digits, "-" and ".", e.g. prod-westeurope-1`);
  }
  const config: ExecutorConfig = {
    clusterId,
    tenancy: readTenancyPolicy(r),
    apim: {
      subscriptionId,
      resourceGroup,
      serviceName,
      gatewayUrl: optionalUrl(r, 'APIM_GATEWAY_URL', { httpsOnly: false }),
      armEndpoint,
      armScope: r.str('ARM_SCOPE', `${armEndpoint}/.default`),
      authorityHost,
      disableInstanceDiscovery: authorityHost !== PUBLIC_AUTHORITY_HOST,
      pollIntervalMs: r.int('APIM_POLL_INTERVAL_MS', 200, 10, 60_000),
      // "Api not found." for about a minute after a large import (terraform-provider-azurerm #23322, #28201): twice that.
      importNotFoundWindowMs: r.int('IMPORT_NOT_FOUND_WINDOW_SECONDS', 120, 0, 3600) * 1000,
      pacingReservePercent: r.int('ARM_PACING_RESERVE_PERCENT', 20, 0, 90),
      resourceId: serviceIdOf({ subscriptionId: subscriptionId.toLowerCase(), resourceGroup, serviceName }),
      target: readTarget(r),
    },
    route: {
      mode,
      ingressClass,
      host,
      baseUrl,
      scheme: r.oneOf('ROUTE_BACKEND_SCHEME', 'http', ['http', 'https'] as const),
      gateway,
      waitMs: r.int('ROUTE_WAIT_SECONDS', 60, 0, 3600) * 1000,
    },
    defaults: {
      products: idList(r, 'DEFAULT_PRODUCTS', 'product'),
      tags: idList(r, 'DEFAULT_TAGS', 'tag'),
      authentication: r.oneOf('DEFAULT_AUTHENTICATION', 'none', DEFAULT_AUTHENTICATIONS),
      jwt: readDefaultJwt(r, authorityHost),
    },
    createMissingProducts: r.bool('CREATE_MISSING_PRODUCTS', false),
    createMissingTags: r.bool('CREATE_MISSING_TAGS', true),
    versioning: readVersioning(r),
    specFetch: readSpecFetchOptions(r),
    outbound: readOutboundPolicy(r),
    remoteSpecCheck: r.oneOf('REMOTE_SPEC_CHECK', 'deny', ['deny', 'warn', 'off'] as const),
    specImportMode: r.oneOf('SPEC_IMPORT_MODE', 'auto', SPEC_IMPORT_MODES),
    validationDefaultJwt: r.str('JWT_OPENID_CONFIG_URL', '') !== '',
    quotaRenewalPeriodSeconds: r.int('QUOTA_RENEWAL_PERIOD_SECONDS', DEFAULT_QUOTA_RENEWAL_PERIOD_SECONDS, 300, 2_147_483_647),
    validateContentMaxSize: r.int('VALIDATE_CONTENT_MAX_SIZE', VALIDATE_CONTENT_MAX_SIZE, 1, VALIDATE_CONTENT_MAX_SIZE),
    retryBudgetMs: r.int('RETRY_BUDGET_SECONDS', 300, 1, 86_400) * 1000,
    revisions: {
      enabled: r.oneOf('APIM_REVISIONS', 'off', ['off', 'on'] as const) === 'on',
      // APIM keeps revisions without a documented limit; 100 bounds what one run lists and deletes.
      keep: r.int('APIM_REVISIONS_KEEP', 3, 0, 100),
    },
    developerUiBaseUrl: optionalUrl(r, 'DEVELOPER_UI_BASE_URL'),
    jobName: r.str('JOB_NAME', '') || undefined,
    logLevel: r.oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const),
    drift: { mode: r.oneOf('APIM_DRIFT_MODE', 'report', DRIFT_MODES), watchNamespaces: r.list('WATCH_NAMESPACES') },
  };
  if (config.defaults.authentication === 'jwt' && config.defaults.jwt === undefined) {
    r.errors.push('DEFAULT_AUTHENTICATION=jwt needs JWT_OPENID_CONFIG_URL or JWT_TENANT_ID (the token issuer every API then requires)');
  }
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, config };
}
