// What an error thrown by the Azure SDK means for the executor: APIM's code, target and message, and whether trying
// again can help. The SDK reports failures three ways (verified against the emulator and core-lro's source):
// - a RestError with statusCode and the body's code/message (requests, and Location-polled imports that failed);
// - a plain Error "The long-running operation has failed. <code>. <message>" (Azure-AsyncOperation polling);
// - identity errors (AuthenticationError, CredentialUnavailableError) before any request is sent.
import { retryAfterMs } from './retry-policy.ts';
import type { ApimErrorDetail } from './step-failure.ts';

export interface ClassifiedError {
  retriable: boolean;
  reason: string;
  detail: ApimErrorDetail;
  /** The server's Retry-After, when it sent one. */
  retryAfterMs?: number;
  notFound: boolean;
}

/** Codes of failed long-running operations that a later attempt can get past. */
const TRANSIENT_LRO_CODES = new Set(['InternalServerError', 'ServiceUnavailable', 'GatewayTimeout', 'RequestTimeout', 'TooManyRequests', 'PessimisticConcurrencyConflict', 'OperationTimedOut']);
const NETWORK_CODES = new Set(['REQUEST_SEND_ERROR', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

interface RestErrorLike extends Error {
  statusCode?: number;
  code?: string;
  response?: { bodyAsText?: string | null; headers?: { get(name: string): string | undefined } };
}

function bodyError(bodyAsText: string | null | undefined): { code?: string; message?: string; target?: string } {
  if (!bodyAsText) return {};
  try {
    const body = JSON.parse(bodyAsText) as { error?: { code?: string; message?: string; target?: string; details?: { code?: string; target?: string; message?: string }[] | null } };
    const e = body.error;
    if (!e) return {};
    const first = Array.isArray(e.details) ? e.details[0] : undefined;
    // APIM puts the useful part in details ("One or more fields contain incorrect values:" + the field's message).
    const message = first?.message && e.message && !e.message.includes(first.message) ? `${e.message.replace(/:?\s*$/, ':')} ${first.message}` : e.message;
    return { code: e.code, message, target: first?.target ?? e.target ?? undefined };
  } catch {
    return {};
  }
}

function classifyStatus(status: number, code: string | undefined, message: string): { retriable: boolean; reason: string } {
  if (status === 429) return { retriable: true, reason: 'Throttled' };
  if (status === 408 || status >= 500) return { retriable: true, reason: 'ApimUnavailable' };
  if (status === 409 && (code === 'PessimisticConcurrencyConflict' || /in progress/i.test(message))) return { retriable: true, reason: 'ApimBusy' };
  // Someone changed the entity between our read and write: read again and redo.
  if (status === 412) return { retriable: true, reason: 'ApimBusy' };
  // Missing role assignments take minutes to propagate; a later attempt may be allowed.
  if (status === 401 || status === 403) return { retriable: true, reason: 'ApimAccessDenied' };
  return { retriable: false, reason: 'ApimRejected' };
}

/** A failed attempt as the SDK's pipeline sees it (before its own retries), for the retry budget's record. */
export function classifyApimResponse(status: number, bodyAsText: string | undefined, header: (name: string) => string | undefined): ClassifiedError {
  return classifyApimError(Object.assign(new Error(bodyAsText ?? `HTTP ${status}`), { name: 'RestError', statusCode: status, response: { bodyAsText, headers: { get: header } } }));
}

/** What to do about APIM refusals whose cause is not obvious from APIM's own words. */
const HINTS: [RegExp, string][] = [
  [/Operation with the same method and URL template already exists/, 'an operationId changed for an operation APIM already has; keep operationIds stable, or delete that operation in APIM so the import can create it under its new name'],
  [/with the same Path .* unless it's a part of the same version set/, 'another APIM API uses this path; change spec.path or remove the other API'],
  [/Policy fragment with id '.*' could not be found/, 'spec.template names a policy fragment that does not exist in this APIM service; create it first'],
];

function withHint(message: string): string {
  const hint = HINTS.find(([re]) => re.test(message))?.[1];
  return hint ? `${message} (${hint})` : message;
}

export function classifyApimError(e: unknown, nowMs = Date.now()): ClassifiedError {
  const c = classifyRaw(e, nowMs);
  return c.retriable ? c : { ...c, detail: { ...c.detail, message: withHint(c.detail.message) } };
}

function classifyRaw(e: unknown, nowMs: number): ClassifiedError {
  const err = (e instanceof Error ? e : new Error(String(e))) as RestErrorLike;
  if (err.name === 'AbortError') {
    return { retriable: true, reason: 'RetryBudgetExhausted', detail: { message: 'cancelled: the retry budget ran out' }, notFound: false };
  }
  if (err.name === 'RestError') {
    const status = err.statusCode;
    const body = bodyError(err.response?.bodyAsText);
    const code = body.code ?? err.code;
    const message = body.message ?? err.message;
    const header = (name: string): string | undefined => err.response?.headers?.get(name) ?? undefined;
    const after = err.response?.headers ? retryAfterMs(header, nowMs) : undefined;
    if (status === undefined) {
      return { retriable: true, reason: 'ApimUnreachable', detail: { code, message: `APIM could not be reached: ${message}` }, notFound: false };
    }
    const { retriable, reason } = classifyStatus(status, code, message);
    return {
      retriable,
      reason,
      detail: { status, ...(code ? { code } : {}), ...(body.target ? { target: body.target } : {}), message },
      ...(after !== undefined ? { retryAfterMs: after } : {}),
      notFound: status === 404,
    };
  }
  const lro = /^The long-running operation has failed(?:\. ([^.\s]+)\. ([\s\S]*))?$/.exec(err.message);
  if (lro) {
    const code = lro[1];
    const message = lro[2] ?? 'APIM reported the operation as failed without details';
    const retriable = code !== undefined && TRANSIENT_LRO_CODES.has(code);
    return { retriable, reason: retriable ? 'ApimUnavailable' : 'ApimRejected', detail: { ...(code ? { code } : {}), message }, notFound: false };
  }
  if (err.name === 'AuthenticationError' || err.name === 'CredentialUnavailableError' || err.name === 'AggregateAuthenticationError') {
    return {
      retriable: true,
      reason: 'AzureAuthenticationFailed',
      detail: { message: `no Azure token for APIM (${err.name}): ${err.message.split('\n')[0]}; check the workload identity (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE) or AZURE_CLIENT_SECRET` },
      notFound: false,
    };
  }
  const sysCode = (err as { code?: string }).code;
  if (sysCode !== undefined && NETWORK_CODES.has(sysCode)) {
    return { retriable: true, reason: 'ApimUnreachable', detail: { code: sysCode, message: `APIM could not be reached: ${err.message}` }, notFound: false };
  }
  // Anything unexpected is retried: a run that stops half-way is repaired by the next one.
  return { retriable: true, reason: 'UnexpectedError', detail: { message: err.message }, notFound: false };
}

/**
 * A 404 within `windowMs` after an import ended is APIM still settling: "Api not found." for about a minute after a
 * large import, while polling and right after (hashicorp/terraform-provider-azurerm #23322, #28201). Retriable inside
 * the window; after it, the 404 stands, and its message says how long it was waited for. Pure.
 */
export function notFoundAfterImport(c: ClassifiedError, importsEndedAtMs: readonly number[], windowMs: number, nowMs = Date.now()): ClassifiedError {
  if (!c.notFound || importsEndedAtMs.length === 0 || windowMs <= 0) return c;
  const last = Math.max(...importsEndedAtMs);
  if (nowMs - last < windowMs) return { ...c, retriable: true, reason: 'ApiNotFoundAfterImport' };
  const seconds = Math.round(windowMs / 1000);
  return { ...c, detail: { ...c.detail, message: `${c.detail.message} (still 404 ${seconds} s after the import ended, IMPORT_NOT_FOUND_WINDOW_SECONDS)` } };
}
