// Identifier and value rules the real service enforces on its side (the SDK checks only some URL parameters before
// sending). Each rule returns every problem as an ARM error detail naming its field, so one 400 lists them all.
// Lengths and patterns come from the 2024-05-01 REST spec; the apiId limit is the newer 80 characters.
// unverified: APIM's exact wording for these rejections was not captured; the messages say what is wrong and what
// would be valid.
import type { ArmErrorDetail } from './arm-errors.ts';
import { detail } from './arm-errors.ts';

export const SERVICE_NAME_PATTERN = /^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
export const RESOURCE_ID_PATTERN = /^[^*#&+:<>?]+$/;
const FRAGMENT_ID_PATTERN = /(^[\w]+$)|(^[\w][\w-]+[\w]$)/;
const NAMED_VALUE_DISPLAY_NAME_PATTERN = /^[A-Za-z0-9-._]+$/;
const REVISION_SUFFIX = /;rev=(\d+)$/;

interface IdRule {
  min: number;
  max: number;
  pattern?: RegExp;
}

export const ID_RULES = {
  apiId: { min: 1, max: 80, pattern: RESOURCE_ID_PATTERN },
  productId: { min: 1, max: 256 },
  tagId: { min: 1, max: 80, pattern: RESOURCE_ID_PATTERN },
  backendId: { min: 1, max: 80 },
  opid: { min: 1, max: 256, pattern: RESOURCE_ID_PATTERN },
  namedValueId: { min: 1, max: 256, pattern: RESOURCE_ID_PATTERN },
  // apiVersionSets/{versionSetId}: minLength 1, maxLength 80, pattern ^[^*#&+:<>?]+$ (REST reference "Api Version Set -
  // Get", api-version 2024-05-01).
  versionSetId: { min: 1, max: 80, pattern: RESOURCE_ID_PATTERN },
  id: { min: 1, max: 80, pattern: FRAGMENT_ID_PATTERN },
  serviceName: { min: 1, max: 50, pattern: SERVICE_NAME_PATTERN },
  operationId: { min: 1, max: 80, pattern: RESOURCE_ID_PATTERN },
  sid: { min: 1, max: 256, pattern: RESOURCE_ID_PATTERN },
  // Api Release - Create Or Update (REST 2024-05-01): releaseId 1-80, ^[^*#&+:<>?]+$.
  releaseId: { min: 1, max: 80, pattern: RESOURCE_ID_PATTERN },
} satisfies Record<string, IdRule>;

export type IdKind = keyof typeof ID_RULES;

/** Checks a resource name from the URL. An apiId may carry a `;rev=N` revision suffix, which is not counted. */
export function checkId(kind: IdKind, value: string): ArmErrorDetail[] {
  const rule: IdRule = ID_RULES[kind];
  const name = kind === 'apiId' ? value.replace(REVISION_SUFFIX, '') : value;
  const out: ArmErrorDetail[] = [];
  if (name.length < rule.min || name.length > rule.max) {
    out.push(detail(kind, `'${kind}' must be ${rule.min} to ${rule.max} characters long; '${short(name)}' has ${name.length}.`));
  }
  if (rule.pattern && name.length > 0 && !rule.pattern.test(name)) {
    out.push(detail(kind, `'${kind}' '${short(name)}' does not match the pattern '${rule.pattern.source}'.`));
  }
  return out;
}

export function splitRevision(apiId: string): { base: string; revision: string | undefined } {
  const m = REVISION_SUFFIX.exec(apiId);
  return m ? { base: apiId.slice(0, m.index), revision: m[1] } : { base: apiId, revision: undefined };
}

function short(v: string): string {
  return v.length > 60 ? `${v.slice(0, 57)}...` : v;
}

export function checkLength(target: string, value: unknown, min: number, max: number): ArmErrorDetail[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string') return [detail(target, `'${target}' must be a string.`)];
  if (value.length < min || value.length > max) {
    return [detail(target, `'${target}' must be ${min} to ${max} characters long; the value has ${value.length}.`)];
  }
  return [];
}

export function checkRequired(target: string, value: unknown): ArmErrorDetail[] {
  return value === undefined || value === null || value === '' ? [detail(target, `'${target}' is required.`)] : [];
}

/**
 * The API's URL suffix: APIM stores it without slashes at either end (`a/b`, not `/a/b/`). Whether the service
 * refuses a leading '/' or trims it is unverified: the REST spec only describes the path as relative, the ODA
 * Canvas's Azure operator (tmforum-oda/oda-canvas apiOperatorAzureAPIM.py) passes ODA paths such as `/x` straight
 * through with the Python SDK, and Azure/azure-cli #29363 shows `az apim api import --path /ecommerce` accepted.
 * Refusing is the default (never more lenient than the service); ServiceSettings.apiPathSlashes 'trim' stores the
 * path without the slashes instead (the caller trims before this check).
 */
export function checkApiPath(value: unknown): ArmErrorDetail[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string') return [detail('path', `'path' must be a string.`)];
  const out: ArmErrorDetail[] = [];
  if (value.length > 400) out.push(detail('path', `'path' must be at most 400 characters long; the value has ${value.length}.`));
  if (value.startsWith('/') || value.endsWith('/')) {
    out.push(detail('path', `'path' '${short(value)}' must not start or end with '/'; use '${value.replace(/^\/+|\/+$/g, '')}'.`));
  }
  return out;
}

const SERVICE_URL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

export function checkAbsoluteUrl(target: string, value: unknown, max = 2000): ArmErrorDetail[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string') return [detail(target, `'${target}' must be a string.`)];
  const out: ArmErrorDetail[] = [];
  if (value.length > max) out.push(detail(target, `'${target}' must be at most ${max} characters long; the value has ${value.length}.`));
  let ok = false;
  try {
    const u = new URL(value);
    ok = SERVICE_URL_SCHEMES.has(u.protocol) && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) out.push(detail(target, `'${target}' '${short(value)}' is not an absolute http(s) or ws(s) URL.`));
  return out;
}

export function checkNamedValueDisplayName(value: unknown): ArmErrorDetail[] {
  const out = checkLength('displayName', value, 1, 256);
  if (out.length === 0 && typeof value === 'string' && !NAMED_VALUE_DISPLAY_NAME_PATTERN.test(value)) {
    out.push(detail('displayName', `'displayName' '${short(value)}' may contain only letters, digits, '-', '.' and '_'.`));
  }
  return out;
}

export function checkOneOf(target: string, value: unknown, allowed: readonly string[]): ArmErrorDetail[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string' || !allowed.includes(value)) {
    return [detail(target, `'${target}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got '${String(value)}'.`)];
  }
  return [];
}
