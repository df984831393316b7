// One request on its way through the gateway: what the built-in steps found (API, operation, template parameters,
// subscription) and what the policies add (variables, the backend URL, headers for the response, the buffered body).
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiSchemas, OperationEntity } from '../service-model.ts';
import type { ExpressionContext } from './policy-expressions.ts';
import type { ApiRoute } from './gateway-view.ts';
import type { RequestUrl } from './request-url.ts';

export interface RequestState {
  method: string;
  /** The request target as the client sent it (path and query). */
  url: RequestUrl;
  headers: IncomingHttpHeaders;
  ipAddress: string;
  api: ApiRoute;
  operation: OperationEntity;
  /** The operation's key (as ApiEntity.operations and ApiSchemas.operations). */
  operationKey: string;
  schemas: ApiSchemas | undefined;
  /** Template parameters of the operation's URL template, decoded. */
  templateParams: Record<string, string>;
  /** The path below the API's path, with its leading slash (what is appended to the backend URL). */
  relativePath: string;
  subscription: { id: string } | null;
  variables: Map<string, unknown>;
  /** Headers every response carries from here on (CORS, rate-limit headers). */
  responseHeaders: Record<string, string>;
  /** The backend base URL: the API's serviceUrl unless set-backend-service changed it. */
  backendUrl: string | null;
  /** The request body when a policy needed to read it; undefined means it is still to be streamed. */
  body?: Buffer;
  /** Quota keys this request has already counted (a key is incremented once per request). */
  quotaKeys: Set<string>;
  expressions: ExpressionContext;
}

/** Header values as lists (Node joins repeated headers with ", " except set-cookie). */
export function headerValues(headers: IncomingHttpHeaders, name: string): string[] | undefined {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

/** The expression view of a request (created lazily by the pipeline, read by counter keys). */
export function expressionContext(state: Omit<RequestState, 'expressions'>): ExpressionContext {
  let query: Map<string, string[]> | undefined;
  return {
    ipAddress: state.ipAddress,
    get subscription() {
      return state.subscription;
    },
    header: (name) => headerValues(state.headers, name),
    query: (name) => {
      if (!query) {
        query = new Map();
        for (const [k, v] of state.url.searchParams) {
          const lower = k.toLowerCase();
          const list = query.get(lower) ?? [];
          list.push(v);
          query.set(lower, list);
        }
      }
      return query.get(name.toLowerCase());
    },
    variables: state.variables,
  };
}
