// The APIM management operations the executor makes, on one service, over arm-client.ts: each names its ARM
// permission (APIM_OPERATIONS, the source of the least-privilege role in docs/executor.md) and speaks the REST API's
// JSON (Microsoft.ApiManagement, api-version APIM_API_VERSION, the one @azure/arm-apimanagement 10 sends). Entities
// come back flattened the way the SDK returns them (`properties` lifted beside id, name and type; an API's own
// `properties.type` as `apiType`), so the code that compares them reads the SDK's field names.
import type { ArmClient, ArmResponse } from './arm-client.ts';

/** The REST API version of every call: the SDK's default, so the requests are the ones the emulator is proven on. */
export const APIM_API_VERSION = '2024-05-01';

/** An operation, its ARM permission (Microsoft.ApiManagement actions, for a custom role) and whether it writes. */
export interface ApimOperation {
  method: 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below the service's resource id. */
  path: string;
  action: string;
}

const SERVICE = 'Microsoft.ApiManagement/service';

/** Every request the executor sends to APIM; tests check the role in the docs against it. */
export const APIM_OPERATIONS = {
  readService: { method: 'GET', path: '', action: `${SERVICE}/read` },
  readApi: { method: 'GET', path: '/apis/{apiId}', action: `${SERVICE}/apis/read` },
  readApiEntityTag: { method: 'HEAD', path: '/apis/{apiId}', action: `${SERVICE}/apis/read` },
  listApis: { method: 'GET', path: '/apis', action: `${SERVICE}/apis/read` },
  importApi: { method: 'PUT', path: '/apis/{apiId}', action: `${SERVICE}/apis/write` },
  updateApi: { method: 'PATCH', path: '/apis/{apiId}', action: `${SERVICE}/apis/write` },
  deleteApi: { method: 'DELETE', path: '/apis/{apiId}', action: `${SERVICE}/apis/delete` },
  /** An import's or a delete's Location (the API's URL with asyncId). */
  pollApi: { method: 'GET', path: '/apis/{apiId}?asyncId=…', action: `${SERVICE}/apis/read` },
  /** An operation's Azure-AsyncOperation URL (unverified action name: no public source lists it; APIM's own docs
   * grant Microsoft.ApiManagement/service/* to roles that import). */
  pollOperation: { method: 'GET', path: '/tenant/operationResults/{asyncId}', action: `${SERVICE}/tenant/operationResults/read` },
  readApiPolicy: { method: 'GET', path: '/apis/{apiId}/policies/policy', action: `${SERVICE}/apis/policies/read` },
  writeApiPolicy: { method: 'PUT', path: '/apis/{apiId}/policies/policy', action: `${SERVICE}/apis/policies/write` },
  listApiProducts: { method: 'GET', path: '/apis/{apiId}/products', action: `${SERVICE}/apis/products/read` },
  readProduct: { method: 'GET', path: '/products/{productId}', action: `${SERVICE}/products/read` },
  createProduct: { method: 'PUT', path: '/products/{productId}', action: `${SERVICE}/products/write` },
  linkProductApi: { method: 'PUT', path: '/products/{productId}/apis/{apiId}', action: `${SERVICE}/products/apis/write` },
  unlinkProductApi: { method: 'DELETE', path: '/products/{productId}/apis/{apiId}', action: `${SERVICE}/products/apis/delete` },
  listApiTags: { method: 'GET', path: '/apis/{apiId}/tags', action: `${SERVICE}/apis/tags/read` },
  readTag: { method: 'GET', path: '/tags/{tagId}', action: `${SERVICE}/tags/read` },
  createTag: { method: 'PUT', path: '/tags/{tagId}', action: `${SERVICE}/tags/write` },
  tagApi: { method: 'PUT', path: '/apis/{apiId}/tags/{tagId}', action: `${SERVICE}/apis/tags/write` },
  untagApi: { method: 'DELETE', path: '/apis/{apiId}/tags/{tagId}', action: `${SERVICE}/apis/tags/delete` },
  readVersionSet: { method: 'GET', path: '/apiVersionSets/{versionSetId}', action: `${SERVICE}/apiVersionSets/read` },
  createVersionSet: { method: 'PUT', path: '/apiVersionSets/{versionSetId}', action: `${SERVICE}/apiVersionSets/write` },
  updateVersionSet: { method: 'PATCH', path: '/apiVersionSets/{versionSetId}', action: `${SERVICE}/apiVersionSets/write` },
  deleteVersionSet: { method: 'DELETE', path: '/apiVersionSets/{versionSetId}', action: `${SERVICE}/apiVersionSets/delete` },
  /** Revisions (APIM_REVISIONS, docs/revisions.md): `{apiId}` is then `<api>;rev=<n>`. */
  createApiRevision: { method: 'PUT', path: '/apis/{apiId}', action: `${SERVICE}/apis/write` },
  deleteApiRevision: { method: 'DELETE', path: '/apis/{apiId}', action: `${SERVICE}/apis/delete` },
  listApiRevisions: { method: 'GET', path: '/apis/{apiId}/revisions', action: `${SERVICE}/apis/revisions/read` },
  listApiOperations: { method: 'GET', path: '/apis/{apiId}/operations', action: `${SERVICE}/apis/operations/read` },
  createApiRelease: { method: 'PUT', path: '/apis/{apiId}/releases/{releaseId}', action: `${SERVICE}/apis/releases/write` },
  readOpenIdProvider: { method: 'GET', path: '/openidConnectProviders/{opid}', action: `${SERVICE}/openidConnectProviders/read` },
  // The verify run's bulk reads (docs/drift.md): every API's tags in one paged list, and each product's APIs, instead
  // of two reads per API. Actions as the Azure resource provider operations list names them.
  listApisByTags: { method: 'GET', path: '/apisByTags', action: `${SERVICE}/apisByTags/read` },
  listProducts: { method: 'GET', path: '/products', action: `${SERVICE}/products/read` },
  listProductApis: { method: 'GET', path: '/products/{productId}/apis', action: `${SERVICE}/products/apis/read` },
  createOpenIdProvider: { method: 'PUT', path: '/openidConnectProviders/{opid}', action: `${SERVICE}/openidConnectProviders/write` },
} as const satisfies Record<string, ApimOperation>;

/** The Microsoft.ApiManagement actions a custom role must grant the executor's identity, sorted. */
export function requiredActions(): string[] {
  return [...new Set(Object.values(APIM_OPERATIONS).map((o) => o.action))].sort();
}

export interface SubscriptionKeyParameterNames {
  header?: string;
  query?: string;
}

export interface OpenIdAuthenticationSettings {
  openidProviderId?: string;
  bearerTokenSendingMethods?: string[];
}

export interface AuthenticationSettings {
  openid?: OpenIdAuthenticationSettings | null;
  oAuth2?: object | null;
  openidAuthenticationSettings?: OpenIdAuthenticationSettings[];
  oAuth2AuthenticationSettings?: object[];
}

/** The API's settings the executor writes (PATCH) and compares. */
export interface ApiSettings {
  path?: string;
  displayName?: string;
  serviceUrl?: string;
  protocols?: string[];
  subscriptionRequired?: boolean;
  subscriptionKeyParameterNames?: SubscriptionKeyParameterNames;
  authenticationSettings?: AuthenticationSettings;
  apiRevisionDescription?: string;
  /** The version set's resource id (null: leave the set); `apiVersion` is the version inside it ('' with null). */
  apiVersionSetId?: string | null;
  apiVersion?: string;
}

/** The import PUT: the settings and the document (`format`, `value`). */
export interface ApiImport extends ApiSettings {
  format: string;
  value: string;
  /** Sent as properties.translateRequiredQueryParameters (the SDK's name for it). */
  translateRequiredQueryParametersConduct?: 'query' | 'template';
}

/** An API as APIM returns it (flattened), with its ETag when the answer carried one. */
export interface ApiContract extends ApiSettings {
  id?: string;
  name?: string;
  apiType?: string;
  eTag?: string;
  /** Which revision this is (the plain id always answers with the current one). */
  apiRevision?: string;
  isCurrent?: boolean;
  /** The set named by apiVersionSetId, as the API's GET details it (REST ApiVersionSetContractDetails). */
  apiVersionSet?: { id?: string; versioningScheme?: string; versionQueryName?: string; versionHeaderName?: string } | null;
}

export interface NamedContract {
  id?: string;
  name?: string;
  [more: string]: unknown;
}

/** An item of `apis/{apiId}/revisions` (ApiRevisionContract: a flat object, not an ARM resource). */
export interface ApiRevisionContract {
  apiId?: string;
  apiRevision?: string;
  isCurrent?: boolean;
  isOnline?: boolean;
  description?: string | null;
  privateUrl?: string | null;
}

export interface ServiceContract {
  name?: string;
  sku?: { name?: string; capacity?: number };
  gatewayUrl?: string;
  [more: string]: unknown;
}

/** An API version set as the executor writes it (apimapiversionsets.json). */
export interface VersionSetProperties {
  displayName: string;
  versioningScheme: 'Segment' | 'Query' | 'Header';
  versionQueryName?: string;
  versionHeaderName?: string;
  /** The ownership mark (version-set-mark.ts). */
  description: string;
}

export interface VersionSetContract extends Partial<VersionSetProperties> {
  id?: string;
  name?: string;
  eTag?: string;
}

export interface OpenIdProviderContract {
  displayName: string;
  description?: string;
  metadataEndpoint: string;
  clientId: string;
}

export interface ServiceCoordinates {
  armEndpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
}

/** `properties` lifted beside id, name and type, as the SDK's deserialization returns entities. */
export function flatten(body: unknown): NamedContract {
  if (!body || typeof body !== 'object') return {};
  const { properties, ...top } = body as { properties?: Record<string, unknown> } & Record<string, unknown>;
  if (!properties || typeof properties !== 'object') return { ...top };
  const { type: apiType, ...rest } = properties;
  return { ...rest, ...(apiType !== undefined ? { apiType } : {}), ...top };
}

function parsed(r: ArmResponse): unknown {
  if (!r.bodyAsText) return undefined;
  try {
    return JSON.parse(r.bodyAsText);
  } catch {
    throw Object.assign(r.error(), { message: `APIM answered ${r.status} with a body that is not JSON: ${r.bodyAsText.slice(0, 200)}` });
  }
}

const enc = encodeURIComponent;

/** The operations on one APIM service. Every method throws APIM's error (ArmRestError) for an answer ≥ 400. */
export class ApimOperations {
  readonly apiVersion = APIM_API_VERSION;
  /** The service's URL: ARM endpoint + resource id. */
  readonly serviceUrl: string;
  readonly arm: ArmClient;

  constructor(arm: ArmClient, s: ServiceCoordinates) {
    this.arm = arm;
    this.serviceUrl = `${s.armEndpoint.replace(/\/+$/, '')}/subscriptions/${enc(s.subscriptionId)}/resourceGroups/${enc(s.resourceGroup)}/providers/Microsoft.ApiManagement/service/${enc(s.serviceName)}`;
  }

  url(path: string, query: Record<string, string> = {}): string {
    // api-version first, as the SDK orders its query (emulator faults and logs match on it).
    const q = new URLSearchParams({ 'api-version': this.apiVersion, ...query });
    // Spaces (in a $filter) as %20, as the SDK sends them: `+` means a space only in form encoding.
    return `${this.serviceUrl}${path}?${q.toString().replace(/\+/g, '%20')}`;
  }

  /** One request; answers ≥ 400 are thrown. */
  async send(method: ApimOperation['method'], url: string, o: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ArmResponse> {
    const r = await this.arm.send({ method, url, ...(o.body !== undefined ? { body: o.body } : {}), ...(o.headers ? { headers: o.headers } : {}) });
    if (r.status >= 400) throw r.error();
    return r;
  }

  private async read<T>(path: string): Promise<T> {
    const r = await this.send('GET', this.url(path));
    const entity = flatten(parsed(r));
    const eTag = r.header('etag');
    return (eTag !== undefined ? { ...entity, eTag } : entity) as T;
  }

  private async put(path: string, properties: Record<string, unknown> | undefined, headers?: Record<string, string>): Promise<ArmResponse> {
    return this.send('PUT', this.url(path), { ...(properties ? { body: { properties } } : {}), ...(headers ? { headers } : {}) });
  }

  /** Every item of a paged list (`value`, `nextLink`: ARM's paging, followed on the ARM endpoint only). */
  private async list(path: string, query: Record<string, string> = {}, shape: (item: unknown) => NamedContract = flatten): Promise<NamedContract[]> {
    const out: NamedContract[] = [];
    let next: string | undefined = this.url(path, query);
    while (next) {
      const page = parsed(await this.send('GET', next)) as { value?: unknown[]; nextLink?: string | null } | undefined;
      for (const item of page?.value ?? []) out.push(shape(item));
      next = page?.nextLink ?? undefined;
    }
    return out;
  }

  readService(): Promise<ServiceContract> {
    return this.read<ServiceContract>('');
  }

  readApi(apiId: string): Promise<ApiContract> {
    return this.read<ApiContract>(`/apis/${enc(apiId)}`);
  }

  async readApiEntityTag(apiId: string): Promise<string | undefined> {
    return (await this.send('HEAD', this.url(`/apis/${enc(apiId)}`))).header('etag');
  }

  listApis(): Promise<ApiContract[]> {
    return this.list('/apis');
  }

  /**
   * The APIs a `$filter` selects, each with its set detailed (expandApiVersionSet: "Include full ApiVersionSet
   * resource in response", REST Api_ListByService; the APIM developer portal lists APIs with it for the same reason).
   */
  listApisWhere(filter: string): Promise<ApiContract[]> {
    return this.list('/apis', { $filter: filter, expandApiVersionSet: 'true' });
  }

  /** The import PUT: answers 200/201 (done) or 202 with the operation to poll (Location, Azure-AsyncOperation). */
  importApi(apiId: string, body: ApiImport): Promise<ArmResponse> {
    const { translateRequiredQueryParametersConduct: translate, ...rest } = body;
    return this.put(`/apis/${enc(apiId)}`, { ...rest, ...(translate ? { translateRequiredQueryParameters: translate } : {}) });
  }

  async updateApi(apiId: string, ifMatch: string, settings: ApiSettings): Promise<void> {
    await this.send('PATCH', this.url(`/apis/${enc(apiId)}`), { body: { properties: settings }, headers: { 'if-match': ifMatch } });
  }

  /** The API with its revisions; answers 200/204 (done) or 202 with the operation to poll. */
  deleteApi(apiId: string): Promise<ArmResponse> {
    return this.send('DELETE', this.url(`/apis/${enc(apiId)}`, { deleteRevisions: 'true' }), { headers: { 'if-match': '*' } });
  }

  policyUrl(apiId: string): string {
    return this.url(`/apis/${enc(apiId)}/policies/policy`, { format: 'rawxml' });
  }

  async writeApiPolicy(apiId: string, policy: { format: 'xml' | 'rawxml'; value: string }): Promise<void> {
    await this.put(`/apis/${enc(apiId)}/policies/policy`, policy);
  }

  listApiProducts(apiId: string): Promise<NamedContract[]> {
    return this.list(`/apis/${enc(apiId)}/products`);
  }

  readProduct(productId: string): Promise<NamedContract> {
    return this.read(`/products/${enc(productId)}`);
  }

  async createProduct(productId: string, p: { displayName: string; description: string; subscriptionRequired: boolean; approvalRequired: boolean; state: 'published' | 'notPublished' }): Promise<void> {
    await this.put(`/products/${enc(productId)}`, p);
  }

  async linkProductApi(productId: string, apiId: string): Promise<void> {
    await this.put(`/products/${enc(productId)}/apis/${enc(apiId)}`, undefined);
  }

  async unlinkProductApi(productId: string, apiId: string): Promise<void> {
    await this.send('DELETE', this.url(`/products/${enc(productId)}/apis/${enc(apiId)}`));
  }

  listApiTags(apiId: string): Promise<NamedContract[]> {
    return this.list(`/apis/${enc(apiId)}/tags`);
  }

  readTag(tagId: string): Promise<NamedContract> {
    return this.read(`/tags/${enc(tagId)}`);
  }

  async createTag(tagId: string, t: { displayName: string }): Promise<void> {
    await this.put(`/tags/${enc(tagId)}`, t);
  }

  async tagApi(apiId: string, tagId: string): Promise<void> {
    await this.put(`/apis/${enc(apiId)}/tags/${enc(tagId)}`, undefined);
  }

  async untagApi(apiId: string, tagId: string): Promise<void> {
    await this.send('DELETE', this.url(`/apis/${enc(apiId)}/tags/${enc(tagId)}`));
  }

  readVersionSet(id: string): Promise<VersionSetContract> {
    return this.read<VersionSetContract>(`/apiVersionSets/${enc(id)}`);
  }

  async createVersionSet(id: string, p: VersionSetProperties): Promise<void> {
    await this.put(`/apiVersionSets/${enc(id)}`, { ...p });
  }

  async updateVersionSet(id: string, ifMatch: string, p: Partial<VersionSetProperties>): Promise<void> {
    await this.send('PATCH', this.url(`/apiVersionSets/${enc(id)}`), { body: { properties: p }, headers: { 'if-match': ifMatch } });
  }

  async deleteVersionSet(id: string, ifMatch: string): Promise<void> {
    await this.send('DELETE', this.url(`/apiVersionSets/${enc(id)}`), { headers: { 'if-match': ifMatch } });
  }

  /**
   * A new revision `<apiId>;rev=<n>` as a copy of `sourceApiId` (REST example ApiManagementCreateApiRevisionFromExistingApi);
   * answers 200/201, or 202 with the operation to poll.
   */
  createApiRevision(revisionId: string, body: ApiSettings & { sourceApiId: string; path: string }): Promise<ArmResponse> {
    return this.put(`/apis/${enc(revisionId)}`, { ...body });
  }

  /** One revision that is not current (no deleteRevisions: APIM refuses the current one then). */
  deleteApiRevision(revisionId: string): Promise<ArmResponse> {
    return this.send('DELETE', this.url(`/apis/${enc(revisionId)}`), { headers: { 'if-match': '*' } });
  }

  async listApiRevisions(apiId: string): Promise<ApiRevisionContract[]> {
    const out: ApiRevisionContract[] = [];
    let next: string | undefined = this.url(`/apis/${enc(apiId)}/revisions`);
    while (next) {
      const page = parsed(await this.send('GET', next)) as { value?: ApiRevisionContract[]; nextLink?: string | null } | undefined;
      out.push(...(page?.value ?? []));
      next = page?.nextLink ?? undefined;
    }
    return out;
  }

  listApiOperations(apiId: string): Promise<NamedContract[]> {
    return this.list(`/apis/${enc(apiId)}/operations`);
  }

  /** A release of revision `revisionApiId` (`/apis/<api>;rev=<n>`): APIM makes that revision current. */
  async createApiRelease(apiId: string, releaseId: string, body: { apiId: string; notes: string }): Promise<void> {
    await this.put(`/apis/${enc(apiId)}/releases/${enc(releaseId)}`, { ...body });
  }

  /**
   * Every (API, tag) link of the service's current APIs, as `{api: {id, name, …}, tag: {id, name}}` (REST
   * Api_ListByTags; `name` there is a display name, the id's last segment is the entity's name).
   */
  listApisByTags(): Promise<{ api?: { id?: string }; tag?: { id?: string } }[]> {
    return this.list('/apisByTags', {}, (item) => (item && typeof item === 'object' ? item : {}) as NamedContract) as Promise<{ api?: { id?: string }; tag?: { id?: string } }[]>;
  }

  listProducts(): Promise<NamedContract[]> {
    return this.list('/products');
  }

  listProductApis(productId: string): Promise<ApiContract[]> {
    return this.list(`/products/${enc(productId)}/apis`);
  }

  readOpenIdProvider(id: string): Promise<NamedContract & Partial<OpenIdProviderContract>> {
    return this.read(`/openidConnectProviders/${enc(id)}`);
  }

  async createOpenIdProvider(id: string, p: OpenIdProviderContract): Promise<void> {
    await this.put(`/openidConnectProviders/${enc(id)}`, { ...p });
  }
}
