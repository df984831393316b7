// The request and response of one ARM call as the resource handlers see them: HTTP parsing, authentication and
// routing have happened; handlers return data (status, body, headers) and never touch the socket.

export interface ArmRequest {
  method: string;
  /** Named path parameters, decoded (`apiId`, `tagId`, …). */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
  /** `https://host:port/subscriptions/…/service/{name}` as the client addressed it, for Location and nextLink URLs. */
  serviceUrl: string;
}

export interface ArmResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type ArmHandler = (req: ArmRequest) => ArmResult | Promise<ArmResult>;

export function ok(body: unknown, etag?: string, status = 200): ArmResult {
  return etag === undefined ? { status, body } : { status, body, headers: { etag } };
}

export function noContent(status = 204): ArmResult {
  return { status };
}

/** The `properties` object of a PUT/PATCH body (absent or not an object → undefined). */
export function bodyProperties(body: unknown): Record<string, unknown> | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const p = (body as Record<string, unknown>)['properties'];
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
}
