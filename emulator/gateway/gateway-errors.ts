// The answers the gateway gives on its own (never the backend's): APIM's `{ "statusCode": N, "message": "…" }` body
// with application/json, as clients see them from a real gateway. Sources, per answer:
// - 404 "Resource not found" when no API or operation matches (LastError reason OperationNotFound, "Unable to match
//   incoming request to an operation.": https://learn.microsoft.com/azure/api-management/api-management-error-handling-policies;
//   the body as clients receive it: Power Platform's APIM-fronted endpoints and other APIM users quote
//   `{ "statusCode": 404, "message": "Resource not found" }` verbatim).
// - 401 missing / invalid subscription key: the troubleshooting article "Unauthorized errors (401) while invoking
//   APIs" (KB 4464930) quotes both bodies. The error-handling page's LastError message ends "…requests to this API."
//   where the client body says "…requests to an API."; the body is what a client sees, so its wording is used.
// - 500 "Internal server error" with an activityId for failures inside the gateway (an expression that throws, an
//   unreachable backend): the body a forward-request timeout produced on a real service (JanneMattila,
//   "Azure API Management and Functions" notes: `{ "statusCode": 500, "message": "Internal server error",
//   "activityId": "…" }`). Which status a BackendConnectionFailure gets is unverified (500 assumed, as for timeouts).
// - 500 for what the emulator does not model: not an APIM answer. Its message says what is missing, so a test that
//   meets it knows the gateway did not silently ignore a policy.
import { randomUUID } from 'node:crypto';

export interface GatewayReply {
  status: number;
  headers: Record<string, string>;
  /** The body as sent (empty for preflights and empty 200s). */
  body: string;
}

/** APIM's error body: the same spacing as the service's own (`{ "statusCode": 404, "message": "…" }`). */
export function errorBody(statusCode: number, message: string, extra: Record<string, string> = {}): string {
  const fields = [`"statusCode": ${statusCode}`, `"message": ${JSON.stringify(message)}`, ...Object.entries(extra).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)];
  return `{ ${fields.join(', ')} }`;
}

export function errorReply(status: number, message: string, headers: Record<string, string> = {}): GatewayReply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: errorBody(status, message) };
}

export function resourceNotFound(): GatewayReply {
  return errorReply(404, 'Resource not found');
}

export function missingSubscriptionKey(): GatewayReply {
  return errorReply(401, 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.');
}

export function invalidSubscriptionKey(): GatewayReply {
  return errorReply(401, 'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.');
}

export function internalServerError(): GatewayReply {
  return { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' }, body: errorBody(500, 'Internal server error', { activityId: randomUUID() }) };
}

/** An expression or policy the gateway cannot run: what it is, where it is, and that it is the emulator's limit. */
export class NotModelled extends Error {
  constructor(what: string) {
    super(`The APIM emulator's gateway does not model ${what}. Only the policies and expressions core/policy-xml.ts renders are executed (emulator/README.md, "Gateway").`);
    this.name = 'NotModelled';
  }
}

export function notModelledReply(err: NotModelled): GatewayReply {
  return errorReply(500, err.message);
}

/** A policy expression that threw at run time (a null subscription, a missing variable): APIM answers 500. */
export class ExpressionFailure extends Error {
  constructor(message: string) {
    super(`Expression evaluation failed. ${message}`);
    this.name = 'ExpressionFailure';
  }
}
