// One emulated API Management service: its entities, ETag versions, long-running operations and the resource table.
// What every resource handler shares lives here; the handlers themselves live in resources/*, one file per family.
import type { ArmError } from './arm-errors.ts';
import { apiInProgress, entityNotFound, preconditionFailed } from './arm-errors.ts';
import type { ArmRequest, ArmResult } from './arm-request.ts';
import { evaluateIfMatch, formatEtag } from './etag.ts';
import type { ImportDuration } from './import-duration.ts';
import type { AsyncMode, LongRunningOperation } from './long-running.ts';
import { LongRunningOperations, pollingHeaders } from './long-running.ts';
import type { PolicyDocumentContext } from './policy-documents.ts';
import type { PolicyScope } from './policy-validation.ts';
import type { ApiEntity, JsonObject, ServiceData } from './service-model.ts';
import { emptyServiceData, key } from './service-model.ts';

export const API_VERSION = '2024-05-01';

export interface ServiceSettings {
  /** How long an import (and other long-running writes) stays in progress, in milliseconds. */
  importDelayMs: number;
  asyncMode: AsyncMode;
  /** The SKU decides which policies are offered (Consumption has no rate-limit/quota policies). */
  sku: string;
  /** Page size of collections when the client gives no `$top`. */
  pageSize: number;
  /**
   * The body of a policy GET when the client accepts both JSON and XML: 'json' (the ARM envelope with
   * properties.value) or 'xml' (the bare policy document, as azure-sdk-for-js #31566 and Azure/apiops-cli report).
   */
  policyBodyFormat: 'json' | 'xml';
  /** The largest validate-content max-size the service accepts: 4194304 today, 102400 on older service versions. */
  validateContentMaxSizeLimit: number;
  /**
   * How long an import stays in progress: a number of milliseconds (fixed) or 'realistic' (scaled by the document's
   * size, see import-duration.ts). Absent: `importDelayMs`, the fixed form older callers set.
   */
  importDurationMs?: ImportDuration;
  /**
   * For this long after an import completes, GETs of the API, its policy and its operations answer 404 "Api not
   * found." (hashicorp/terraform-provider-azurerm #23322, #28201: the API appears about a minute later). Default 0.
   */
  notFoundAfterImportMs: number;
  /**
   * Whether an import (PUT with format and value) applies the other properties of the same body (displayName,
   * description, subscriptionRequired, protocols, serviceUrl, authenticationSettings, …). True by default: the REST
   * spec's import examples (ApiManagementCreateApiUsingImportOverrideServiceUrl) and terraform's fix to send
   * service_url with the import (hashicorp/terraform-provider-azurerm PR #23011) show them applied; false models
   * what terraform's two-request import guards against ("If import is used, we need to send properties to Azure API
   * in two operations", api_management_api_resource.go). Either way a re-import resets what it does not carry.
   */
  importAppliesProperties: boolean;
  /**
   * A PATCH whose authenticationSettings clears `openid`/`oAuth2` with nulls only (no empty lists): 'ignore' keeps
   * the stored settings, 'refuse' answers 400, 'clear' clears them. unverified: no public source says which the
   * service does (../shared/guide/apim-contract.md "Clearing by nulls is unknown"); 'ignore', the silent one, is the
   * default so a client must send the form the service itself reports (empty lists) and check what it got.
   */
  authenticationSettingsNulls: 'ignore' | 'refuse' | 'clear';
  /**
   * An API `path` with a leading or trailing '/': 'refuse' (400, what the REST spec's description implies) or
   * 'trim' (stored without the slashes, as the portal does). unverified either way; see value-rules.ts.
   */
  apiPathSlashes: 'refuse' | 'trim';
  /**
   * Whether deleting the last API of a version set deletes the set too. True by default: "When deleting the last
   * API/version from a version set, the version set itself is being removed … regardless where the API is deleted
   * from (REST API, CLI, PowerShell, Azure Portal)" (MicrosoftDocs/azure-docs #81857, 2021), and terraform then meets
   * "ApiVersionSet not found" recreating an API (hashicorp/terraform-provider-azurerm #21498). False models a service
   * that keeps empty sets, so a client must remove them itself.
   */
  versionSetRemovedWithLastApi: boolean;
}

export interface ServiceIdentity {
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
}

export interface ApimServiceOptions extends ServiceIdentity, Partial<ServiceSettings> {
  /** Fetches a link import's document (http or https, loopback allowed). */
  fetchDocument: (url: string) => Promise<string>;
  data?: ServiceData;
  onChange?: () => void;
}

export class ApimService {
  readonly identity: ServiceIdentity;
  readonly settings: ServiceSettings;
  readonly lro = new LongRunningOperations();
  readonly fetchDocument: (url: string) => Promise<string>;
  data: ServiceData;
  /** API key → the import running on it; the API answers 409 to writes (and 404 if new) until it ends. */
  readonly importing = new Map<string, LongRunningOperation>();
  /** API key → until when (epoch ms) its GETs answer 404 after an import completed (notFoundAfterImportMs). */
  readonly #hiddenUntil = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  readonly #onChange: () => void;
  readonly #listeners = new Set<() => void>();
  /** The URL the service GET reports as `gatewayUrl` (the emulator's gateway once it listens). */
  gatewayUrl: string;

  constructor(opts: ApimServiceOptions) {
    this.identity = { subscriptionId: opts.subscriptionId, resourceGroup: opts.resourceGroup, serviceName: opts.serviceName };
    this.settings = {
      importDelayMs: opts.importDelayMs ?? 100,
      asyncMode: opts.asyncMode ?? 'location',
      sku: opts.sku ?? 'Developer',
      pageSize: opts.pageSize ?? 100,
      policyBodyFormat: opts.policyBodyFormat ?? 'json',
      validateContentMaxSizeLimit: opts.validateContentMaxSizeLimit ?? 4194304,
      notFoundAfterImportMs: opts.notFoundAfterImportMs ?? 0,
      importAppliesProperties: opts.importAppliesProperties ?? true,
      authenticationSettingsNulls: opts.authenticationSettingsNulls ?? 'ignore',
      apiPathSlashes: opts.apiPathSlashes ?? 'refuse',
      versionSetRemovedWithLastApi: opts.versionSetRemovedWithLastApi ?? true,
    };
    if (opts.importDurationMs !== undefined) this.settings.importDurationMs = opts.importDurationMs;
    this.fetchDocument = opts.fetchDocument;
    this.data = opts.data ?? emptyServiceData();
    this.#onChange = opts.onChange ?? (() => {});
    this.gatewayUrl = `https://${opts.serviceName}.azure-api.net`;
  }

  /** Calls `listener` after every change to the service's entities (the gateway rebuilds its routes then). */
  onChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The ARM id of a resource below the service (`/apis/x` → `/subscriptions/…/service/svc/apis/x`). */
  resourceId(path = ''): string {
    const { subscriptionId, resourceGroup, serviceName } = this.identity;
    return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ApiManagement/service/${serviceName}${path}`;
  }

  contract(type: string, path: string, name: string, properties: unknown): JsonObject {
    return { id: this.resourceId(path), type: `Microsoft.ApiManagement/service/${type}`, name, properties } as JsonObject;
  }

  nextEtag(): string {
    this.data.version += 1;
    return formatEtag(this.data.version);
  }

  changed(): void {
    this.#onChange();
    for (const l of this.#listeners) l();
  }

  /** If-Match on a write: `*` needs an existing entity, a tag must be current; absent means unconditional. */
  checkIfMatch(req: ArmRequest, currentEtag: string | undefined): void {
    if (evaluateIfMatch(req.headers['if-match'], currentEtag) === 'mismatch') throw preconditionFailed();
  }

  /**
   * An API by id. `x;rev=N` names revision N, which is the entity `x` itself while N is the current revision: the plain
   * id always names the current revision, and a release re-keys the two (release-resources.ts; apiops #97 shows
   * `myApi` carrying apiRevision 2 and `myApi;rev=1` after revision 2 was made current).
   */
  api(apiId: string): ApiEntity | undefined {
    const direct = this.data.apis[key(apiId)];
    if (direct) return direct;
    const m = /^(.*);rev=(\d+)$/.exec(apiId);
    if (!m) return undefined;
    const current = this.data.apis[key(m[1]!)];
    return current && String(current.properties['apiRevision'] ?? '1') === m[2] ? current : undefined;
  }

  requireApi(apiId: string): ApiEntity {
    const api = this.api(apiId);
    if (!api) throw entityNotFound('Api');
    return api;
  }

  assertNotImporting(apiId: string): void {
    const op = this.importing.get(key(apiId));
    if (op && op.status === 'InProgress') throw apiInProgress();
  }

  policyContext(scope: PolicyScope): PolicyDocumentContext {
    return {
      scope,
      sku: this.settings.sku,
      validateContentMaxSizeLimit: this.settings.validateContentMaxSizeLimit,
      fragmentExists: (id) => this.data.policyFragments[key(id)] !== undefined,
      backendExists: (id) => this.data.backends[key(id)] !== undefined,
      namedValueExists: (name) =>
        Object.values(this.data.namedValues).some((nv) => String(nv.properties['displayName'] ?? '').toLowerCase() === name.toLowerCase()),
    };
  }

  /** The imports still running (GET /_emulator/imports): what a test or an operator can see of them. */
  importsRunning(): { apiId: string; operationId: string; startTime: string; expectedEndTime: string | null; documentBytes: number | null }[] {
    return [...this.importing.entries()].map(([apiKey, op]) => ({
      apiId: this.data.apis[apiKey]?.name ?? op.resourcePath.replace(/^\/apis\//, ''),
      operationId: op.id,
      startTime: op.startTime,
      expectedEndTime: op.expectedEndTime ?? null,
      documentBytes: op.documentBytes ?? null,
    }));
  }

  /** Starts the 404 window of notFoundAfterImportMs for an API whose import just completed. */
  hideAfterImport(apiId: string): void {
    const ms = this.settings.notFoundAfterImportMs;
    if (ms <= 0) return;
    const now = Date.now();
    for (const [k, until] of this.#hiddenUntil) if (until <= now) this.#hiddenUntil.delete(k);
    this.#hiddenUntil.set(key(apiId), now + ms);
  }

  /**
   * The 404 a read below `apis/{apiId}` answers inside an API's window after its import (the API itself, its
   * policy, operations, tags, and the import's own Location poll: go-azure-sdk #740 and terraform-provider-azurerm
   * #23322 show the 404 arriving on the poll of that URL, "Api not found.", the API appearing later).
   * `segments` are the path segments below the service.
   */
  notFoundAfterImport(method: string, segments: string[]): ArmError | undefined {
    if (this.#hiddenUntil.size === 0 || (method !== 'GET' && method !== 'HEAD')) return undefined;
    if (segments[0]?.toLowerCase() !== 'apis' || segments[1] === undefined) return undefined;
    const k = key(segments[1]);
    const until = this.#hiddenUntil.get(k);
    if (until === undefined) return undefined;
    if (Date.now() >= until) {
      this.#hiddenUntil.delete(k);
      return undefined;
    }
    return entityNotFound('Api');
  }

  /** Runs work after a delay on a timer the service can cancel when it stops; nothing once it has stopped. */
  later(delayMs: number, work: () => void | Promise<void>): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      void work();
    }, delayMs);
    this.#timers.add(t);
  }

  /**
   * The first answer to a long-running write. Location mode: 202, no body, Location (as recorded for real imports).
   * Azure-AsyncOperation mode: 201/200 with the entity marked InProgress, Location and Azure-AsyncOperation.
   */
  accepted(req: ArmRequest, op: LongRunningOperation, inProgressBody?: JsonObject, extraQuery = ''): ArmResult {
    const serviceUrl = req.serviceUrl;
    const headers = pollingHeaders(this.settings.asyncMode, op, serviceUrl, API_VERSION, extraQuery);
    if (this.settings.asyncMode === 'location' || inProgressBody === undefined) return { status: 202, headers };
    return { status: op.code === 204 ? 202 : op.code, headers, body: inProgressBody };
  }

  /**
   * A poll of the resource URL carrying `asyncId`: 202 while running (Location repeated), the error when it failed,
   * and asyncCode with the resource (rendered by the caller) when it succeeded. Undefined when not a poll.
   */
  pollByLocation(req: ArmRequest, render: () => ArmResult): ArmResult | undefined {
    const asyncId = req.query.get('asyncId');
    if (asyncId === null) return undefined;
    const op = this.lro.get(asyncId);
    if (!op) return { status: 404, body: { error: { code: 'ResourceNotFound', message: `Operation '${asyncId}' not found.`, details: null } } };
    if (op.status === 'InProgress') {
      return { status: 202, headers: { location: `${req.serviceUrl}${op.resourcePath}?${req.query.toString()}` } };
    }
    if (op.status === 'Failed') return errorResult(op.error!);
    if (op.code === 204) return { status: 204 };
    const result = render();
    return { ...result, status: result.status === 200 ? op.code : result.status };
  }

  /** `…/tenant/operationResults/{id}`: the Azure-AsyncOperation status document. */
  operationResult(asyncId: string): ArmResult {
    const op = this.lro.get(asyncId);
    if (!op) throw entityNotFound('Operation');
    const body: JsonObject = {
      id: this.resourceId(`/tenant/operationResults/${op.id}`),
      name: op.id,
      status: op.status,
      startTime: op.startTime,
    };
    if (op.endTime) body['endTime'] = op.endTime;
    if (op.error) body['error'] = op.error.body().error as unknown as JsonObject;
    return { status: 200, body };
  }

  reset(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.importing.clear();
    this.#hiddenUntil.clear();
    this.lro.clear();
    this.data = emptyServiceData();
    this.changed();
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

export function errorResult(err: ArmError): ArmResult {
  return { status: err.status, body: err.body(), headers: err.headers };
}
