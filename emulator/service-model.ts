// The entities one emulated API Management service holds, in the shape of their 2024-05-01 contracts' `properties`.
// Plain JSON throughout, so the whole service can be returned by /_emulator/state and persisted as one file.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ParameterContract {
  name: string;
  description?: string;
  type: string;
  defaultValue?: string;
  required: boolean;
  values: string[];
  schemaId?: string;
  typeName?: string;
}

export interface RepresentationContract {
  contentType: string;
  schemaId?: string;
  typeName?: string;
  formParameters?: ParameterContract[];
  examples?: JsonObject;
}

export interface RequestContract {
  description?: string;
  queryParameters: ParameterContract[];
  headers: ParameterContract[];
  representations: RepresentationContract[];
}

export interface ResponseContract {
  statusCode: number;
  description?: string;
  representations: RepresentationContract[];
  headers: ParameterContract[];
}

export interface OperationProperties {
  displayName: string;
  method: string;
  urlTemplate: string;
  templateParameters: ParameterContract[];
  description?: string;
  request?: RequestContract;
  responses: ResponseContract[];
}

export interface OperationEntity {
  name: string;
  etag: string;
  properties: OperationProperties;
  /** Tag ids linked to the operation (from the document's operation tags). */
  tags: string[];
  /** The operation-level policy; it goes when a re-import deletes the operation. */
  policy?: PolicyEntity;
}

export interface PolicyEntity {
  etag: string;
  /** The document re-formatted the way APIM stores it (returned for format=xml). */
  xml: string;
  /** The value exactly as it was sent (returned for format=rawxml). */
  raw: string;
  format: 'xml' | 'rawxml';
}

/**
 * The JSON schemas of an imported document, kept for the gateway's validation policies (validate-content,
 * validate-parameters, validate-headers). APIM keeps them too: an import creates the API's schema entity
 * (`apis/{apiId}/schemas/{schemaId}`, "generated automatically when importing an API from an OpenAPI or WSDL
 * specification": https://learn.microsoft.com/azure/api-management/validate-content-policy) that the operations'
 * representations refer to. Not served on the management plane (the schemas resource is not modelled).
 */
export interface ApiSchemas {
  /** How schema keywords are read: OpenAPI 3.0 and Swagger 2.0 use `nullable`/`x-nullable`, 3.1 is JSON Schema 2020-12. */
  dialect: 'openapi-3.0' | 'openapi-3.1' | 'swagger-2.0';
  /** What the documents' local `$ref`s point into: `{components: {schemas}}` (OpenAPI) or `{definitions}` (Swagger). */
  root: JsonObject;
  /** By operation key (as ApiEntity.operations). */
  operations: Record<string, OperationSchemas>;
}

export interface OperationSchemas {
  /** `path:name`, `query:name`, `header:name` (header names lower-cased) → the parameter's schema. */
  parameters: Record<string, Json>;
  /** Request body: content type → schema (null: the document names the type without a schema). */
  request: Record<string, Json>;
  /** Responses by status code: body schemas by content type and header schemas by lower-cased name. */
  responses: Record<string, { content: Record<string, Json>; headers: Record<string, Json> }>;
}

export interface ApiEntity {
  /** The resource name as created (may carry `;rev=N`). */
  name: string;
  etag: string;
  properties: JsonObject;
  /** Operations by lower-cased name, in creation order. */
  operations: Record<string, OperationEntity>;
  policy?: PolicyEntity;
  /** Tag ids linked to the API (apis/{id}/tags/{tagId}). */
  tags: string[];
  /** The imported document's schemas (absent for APIs created without a document, and in older state files). */
  schemas?: ApiSchemas;
}

export interface SimpleEntity {
  name: string;
  etag: string;
  properties: JsonObject;
}

export interface ServiceData {
  /** Last version handed out; each write takes the next one for its ETag. */
  version: number;
  apis: Record<string, ApiEntity>;
  products: Record<string, SimpleEntity>;
  /** Product id (lower-case) → api ids (lower-case) linked to it. */
  productApis: Record<string, string[]>;
  tags: Record<string, SimpleEntity>;
  openidConnectProviders: Record<string, SimpleEntity>;
  backends: Record<string, SimpleEntity>;
  policyFragments: Record<string, SimpleEntity & { policy: PolicyEntity }>;
  namedValues: Record<string, SimpleEntity>;
  apiVersionSets: Record<string, SimpleEntity>;
  /** Loggers (Application Insights, Event Hub, Azure Monitor); optional so older state files still load. */
  loggers?: Record<string, SimpleEntity>;
  /** Subscriptions (keys for the gateway); optional so older state files still load. */
  subscriptions?: Record<string, SimpleEntity>;
  /**
   * API releases (apis/{apiId}/releases/{releaseId}), keyed `<api key>/<release key>`; optional so older state files
   * still load.
   */
  releases?: Record<string, SimpleEntity>;
  /** The service-level (global) policy. */
  policy?: PolicyEntity;
}

export function emptyServiceData(): ServiceData {
  return {
    version: Math.floor(Date.now() / 1000) * 1000,
    apis: {},
    products: {},
    productApis: {},
    tags: {},
    openidConnectProviders: {},
    backends: {},
    policyFragments: {},
    namedValues: {},
    apiVersionSets: {},
  };
}

/** ARM resource names are case-insensitive; entities are keyed by the lower-cased name and keep the original. */
export function key(name: string): string {
  return name.toLowerCase();
}
