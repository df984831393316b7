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
