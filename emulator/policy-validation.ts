// The checks APIM makes when a policy document is saved: the `<policies>` skeleton with its four sections, where each
// policy may appear (section, scope, SKU), and the settings of the policies the executor emits. Every problem becomes
// one detail "Error in element 'x' on line L, column C: reason" with target 'x', as APIM reports them; line and column
// point at the element's name.
//
// Verified wordings (recorded in public issue threads): "Policy section is not allowed in the specified scope",
// "Policy is not allowed in this section", "Policy is not allowed in 'Consumption' sku", "Origin must be a valid URL
// consisting of scheme, host, and port only", "Policy fragment with id 'x' could not be found.", "The element
// 'set-header' cannot contain text. List of possible elements expected: 'value'.". The others follow the same style
// (unverified wording, same meaning). Which policies a tier offers comes from sku-tiers.ts; a v2 tier is refused in the
// same words as Consumption ("Policy is not allowed in 'StandardV2' sku": unverified for v2, no public record shows it).
import type { ArmErrorDetail } from './arm-errors.ts';
import { detail } from './arm-errors.ts';
import type { XmlDocument, XmlElement } from './xml-document.ts';
import { attribute, elementChildren } from './xml-document.ts';
import { offersPolicy } from './sku-tiers.ts';

export type PolicyScope = 'global' | 'product' | 'api' | 'operation' | 'fragment';
export type Section = 'inbound' | 'backend' | 'outbound' | 'on-error';

export const SECTIONS: readonly Section[] = ['inbound', 'backend', 'outbound', 'on-error'];

export interface PolicyContext {
  scope: PolicyScope;
  sku: string;
  /**
   * The largest validate-content max-size accepted: 4194304 (4 MB) today, 102400 (100 KB) in earlier versions of the
   * validate-content reference page (https://learn.microsoft.com/azure/api-management/validate-content-policy).
   */
  validateContentMaxSizeLimit: number;
  fragmentExists(id: string): boolean;
  backendExists(id: string): boolean;
}

const ALL: readonly Section[] = SECTIONS;
const IN: readonly Section[] = ['inbound'];

interface PolicyRule {
  sections: readonly Section[];
  /** Scopes where the policy may not be used. */
  notInScopes?: readonly PolicyScope[];
  /** Holds further policies (choose/when/otherwise, retry, …), validated in the same section. */
  container?: boolean;
  check?: (el: XmlElement, ctx: PolicyContext, report: Reporter) => void;
}

type Reporter = (el: XmlElement, reason: string) => void;

function isExpression(v: string): boolean {
  const t = v.trim();
  return t.startsWith('@') || /\{\{[^}]+\}\}/.test(t);
}

function requireAttributes(el: XmlElement, names: string[], report: Reporter): void {
  for (const n of names) {
    if (attribute(el, n) === undefined) report(el, `The required attribute '${n}' is missing.`);
  }
}

function integerAttribute(el: XmlElement, name: string, report: Reporter, range?: { min?: number; max?: number; reason?: string }): void {
  const v = attribute(el, name);
  if (v === undefined || isExpression(v)) return;
  if (!/^\s*-?\d+\s*$/.test(v)) {
    report(el, `The '${name}' attribute is invalid - The value '${v}' is invalid according to its datatype 'Int32'.`);
    return;
  }
  const n = Number(v);
  if (range && ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max))) {
    report(el, range.reason ?? `The '${name}' attribute is invalid - The value '${v}' is out of range.`);
  }
}

function enumAttribute(el: XmlElement, name: string, allowed: string[], report: Reporter): void {
  const v = attribute(el, name);
  if (v === undefined || isExpression(v)) return;
  if (!allowed.includes(v)) {
    report(el, `The '${name}' attribute is invalid - The value '${v}' is invalid according to its datatype. Allowed values: ${allowed.map((a) => `'${a}'`).join(', ')}.`);
  }
}

function allowedChildren(el: XmlElement, names: string[], report: Reporter): void {
  for (const c of elementChildren(el)) {
    if (!names.includes(c.name)) {
      report(c, `The element '${el.name}' has invalid child element '${c.name}'. List of possible elements expected: ${names.map((n) => `'${n}'`).join(', ')}.`);
    }
  }
}

function noText(el: XmlElement, expected: string[], report: Reporter): void {
  if (el.children.some((c) => c.type === 'text' && (c.cdata || c.value.trim() !== ''))) {
    const list = expected.length > 0 ? ` List of possible elements expected: ${expected.map((n) => `'${n}'`).join(', ')}.` : '';
    report(el, `The element '${el.name}' cannot contain text.${list}`);
  }
}

const ACTIONS = ['ignore', 'prevent', 'detect'];

/** " (4 MB)" / " (100 KB)" for the two documented limits, nothing for other settings. */
function sizeLabel(bytes: number): string {
  if (bytes === 4194304) return ' (4 MB)';
  if (bytes === 102400) return ' (100 KB)';
  return '';
}

/** An origin is `*` or scheme://host[:port], nothing more (no path, not even a trailing slash). */
export function isValidOrigin(origin: string): boolean {
  if (origin === '*') return true;
  return /^[a-z][a-z0-9+.-]*:\/\/(\[[0-9a-f:.]+\]|[^/?#:@\s]+)(:\d{1,5})?$/i.test(origin);
}

const RULES: Record<string, PolicyRule> = {
  base: { sections: ALL },
  'validate-jwt': {
    sections: IN,
    check(el, _ctx, report) {
      const sources = ['header-name', 'query-parameter-name', 'token-value'].filter((a) => attribute(el, a) !== undefined);
      if (sources.length === 0) report(el, `One of the attributes 'header-name', 'query-parameter-name' or 'token-value' must be specified.`);
      if (sources.length > 1) report(el, `Only one of the attributes 'header-name', 'query-parameter-name' or 'token-value' may be specified.`);
      integerAttribute(el, 'failed-validation-httpcode', report, { min: 100, max: 599 });
      enumAttribute(el, 'require-expiration-time', ['true', 'false'], report);
      enumAttribute(el, 'require-signed-tokens', ['true', 'false'], report);
      allowedChildren(el, ['openid-config', 'issuer-signing-keys', 'decryption-keys', 'audiences', 'issuers', 'required-claims'], report);
      for (const c of elementChildren(el)) {
        if (c.name === 'openid-config') requireAttributes(c, ['url'], report);
        if (c.name === 'audiences') allowedChildren(c, ['audience'], report);
        if (c.name === 'issuers') allowedChildren(c, ['issuer'], report);
        if (c.name === 'required-claims') {
          allowedChildren(c, ['claim'], report);
          for (const claim of elementChildren(c)) {
            if (claim.name !== 'claim') continue;
            requireAttributes(claim, ['name'], report);
            enumAttribute(claim, 'match', ['all', 'any'], report);
            allowedChildren(claim, ['value'], report);
          }
        }
      }
    },
  },
  'rate-limit': {
    sections: IN,
    // "Policy scopes: product, API, operation" (https://learn.microsoft.com/azure/api-management/rate-limit-policy).
    notInScopes: ['global'],
    check(el, _ctx, report) {
      requireAttributes(el, ['calls', 'renewal-period'], report);
      integerAttribute(el, 'calls', report, { min: 1 });
      integerAttribute(el, 'renewal-period', report, { min: 1, max: 300, reason: `The 'renewal-period' attribute is invalid - the renewal period must be between 1 and 300 seconds, got '${attribute(el, 'renewal-period')}'.` });
      allowedChildren(el, ['api', 'operation'], report);
    },
  },
  'rate-limit-by-key': {
    sections: IN,
    check(el, _ctx, report) {
      requireAttributes(el, ['calls', 'renewal-period', 'counter-key'], report);
      integerAttribute(el, 'calls', report, { min: 1 });
      integerAttribute(el, 'renewal-period', report, { min: 1, max: 300, reason: `The 'renewal-period' attribute is invalid - the renewal period must be between 1 and 300 seconds, got '${attribute(el, 'renewal-period')}'.` });
      const key = attribute(el, 'counter-key');
      if (key !== undefined && key.trim() === '') report(el, `The 'counter-key' attribute must not be empty.`);
      allowedChildren(el, [], report);
    },
  },
  quota: {
    sections: IN,
    // "Policy scopes: product" (https://learn.microsoft.com/azure/api-management/quota-policy): not global, API or
    // operation. (A fragment is checked where it is included, not here.)
    notInScopes: ['global', 'api', 'operation'],
    check(el, _ctx, report) {
      quotaChecks(el, report);
      allowedChildren(el, ['api', 'operation'], report);
    },
  },
  'quota-by-key': {
    sections: IN,
    check(el, _ctx, report) {
      requireAttributes(el, ['counter-key'], report);
      quotaChecks(el, report);
      allowedChildren(el, [], report);
    },
  },
  cors: {
    sections: IN,
    check(el, _ctx, report) {
      enumAttribute(el, 'allow-credentials', ['true', 'false'], report);
      enumAttribute(el, 'terminate-unmatched-request', ['true', 'false'], report);
      allowedChildren(el, ['allowed-origins', 'allowed-methods', 'allowed-headers', 'expose-headers'], report);
      const origins = elementChildren(el).find((c) => c.name === 'allowed-origins');
      if (!origins) report(el, `The element 'cors' has incomplete content. List of possible elements expected: 'allowed-origins'.`);
      else {
        allowedChildren(origins, ['origin'], report);
        const list = elementChildren(origins).filter((c) => c.name === 'origin');
        if (list.length === 0) report(origins, `The element 'allowed-origins' has incomplete content. List of possible elements expected: 'origin'.`);
        for (const o of list) {
          const value = o.children.map((c) => (c.type === 'text' ? c.value : '')).join('').trim();
          if (!isExpression(value) && !isValidOrigin(value)) report(el, 'Origin must be a valid URL consisting of scheme, host, and port only');
        }
      }
      for (const c of elementChildren(el)) {
        if (c.name === 'allowed-methods') {
          integerAttribute(c, 'preflight-result-max-age', report, { min: 0 });
          allowedChildren(c, ['method'], report);
        }
        if (c.name === 'allowed-headers' || c.name === 'expose-headers') allowedChildren(c, ['header'], report);
      }
    },
  },
  'validate-content': {
    sections: ['inbound', 'outbound', 'on-error'],
    check(el, ctx, report) {
      requireAttributes(el, ['unspecified-content-type-action', 'max-size', 'size-exceeded-action'], report);
      enumAttribute(el, 'unspecified-content-type-action', ACTIONS, report);
      enumAttribute(el, 'size-exceeded-action', ACTIONS, report);
      // "Maximum allowed value: 4 MB" today, 102,400 bytes on earlier versions of the page: the limit is the setting
      // validateContentMaxSizeLimit. No public record shows APIM's refusal text; this wording is unverified.
      const limit = ctx.validateContentMaxSizeLimit;
      integerAttribute(el, 'max-size', report, { min: 0, max: limit, reason: `The 'max-size' attribute is invalid - the maximum is ${limit} bytes${sizeLabel(limit)}, got '${attribute(el, 'max-size')}'.` });
      allowedChildren(el, ['content-type-map', 'content'], report);
      for (const c of elementChildren(el)) {
        if (c.name !== 'content') continue;
        enumAttribute(c, 'validate-as', ['json', 'xml', 'soap'], report);
        enumAttribute(c, 'action', ACTIONS, report);
      }
    },
  },
  'validate-parameters': {
    sections: IN,
    check(el, _ctx, report) {
      requireAttributes(el, ['specified-parameter-action', 'unspecified-parameter-action'], report);
      enumAttribute(el, 'specified-parameter-action', ACTIONS, report);
      enumAttribute(el, 'unspecified-parameter-action', ACTIONS, report);
      allowedChildren(el, ['headers', 'query', 'path'], report);
      for (const group of elementChildren(el)) {
        enumAttribute(group, 'specified-parameter-action', ACTIONS, report);
        enumAttribute(group, 'unspecified-parameter-action', ACTIONS, report);
        allowedChildren(group, ['parameter'], report);
        for (const p of elementChildren(group)) {
          if (p.name !== 'parameter') continue;
          requireAttributes(p, ['name', 'action'], report);
          enumAttribute(p, 'action', ACTIONS, report);
        }
      }
    },
  },
  'validate-headers': {
    sections: ['outbound', 'on-error'],
    check(el, _ctx, report) {
      requireAttributes(el, ['specified-header-action', 'unspecified-header-action'], report);
      enumAttribute(el, 'specified-header-action', ACTIONS, report);
      enumAttribute(el, 'unspecified-header-action', ACTIONS, report);
      allowedChildren(el, ['header'], report);
      for (const h of elementChildren(el)) {
        if (h.name !== 'header') continue;
        requireAttributes(h, ['name', 'action'], report);
        enumAttribute(h, 'action', ACTIONS, report);
      }
    },
  },
  'validate-status-code': {
    sections: ['outbound', 'on-error'],
    check(el, _ctx, report) {
      requireAttributes(el, ['unspecified-status-code-action'], report);
      enumAttribute(el, 'unspecified-status-code-action', ACTIONS, report);
      allowedChildren(el, ['status-code'], report);
      for (const s of elementChildren(el)) {
        if (s.name !== 'status-code') continue;
        requireAttributes(s, ['code', 'action'], report);
        integerAttribute(s, 'code', report, { min: 100, max: 599 });
        enumAttribute(s, 'action', ACTIONS, report);
      }
    },
  },
  'include-fragment': {
    sections: ALL,
    check(el, ctx, report) {
      requireAttributes(el, ['fragment-id'], report);
      const id = attribute(el, 'fragment-id');
      if (id !== undefined && !ctx.fragmentExists(id)) report(el, `Policy fragment with id '${id}' could not be found.`);
    },
  },
  'set-backend-service': {
    sections: ['inbound', 'backend'],
    check(el, ctx, report) {
      const baseUrl = attribute(el, 'base-url');
      const backendId = attribute(el, 'backend-id');
      if (baseUrl === undefined && backendId === undefined) report(el, `One of the attributes 'base-url' or 'backend-id' must be specified.`);
      if (baseUrl !== undefined && backendId !== undefined) report(el, `Only one of the attributes 'base-url' or 'backend-id' may be specified.`);
      if (baseUrl !== undefined && !isExpression(baseUrl) && !/^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i.test(baseUrl)) {
        report(el, `The 'base-url' attribute is invalid - '${baseUrl}' is not an absolute URL.`);
      }
      if (backendId !== undefined && !isExpression(backendId) && !ctx.backendExists(backendId)) {
        report(el, `Backend with id '${backendId}' could not be found.`);
      }
    },
  },
  'set-header': {
    sections: ALL,
    check(el, _ctx, report) {
      requireAttributes(el, ['name'], report);
      enumAttribute(el, 'exists-action', ['override', 'skip', 'append', 'delete'], report);
      noText(el, ['value'], report);
      allowedChildren(el, ['value'], report);
    },
  },
  'set-query-parameter': {
    sections: ['inbound', 'backend'],
    check(el, _ctx, report) {
      requireAttributes(el, ['name'], report);
      enumAttribute(el, 'exists-action', ['override', 'skip', 'append', 'delete'], report);
      noText(el, ['value'], report);
      allowedChildren(el, ['value'], report);
    },
  },
  'forward-request': { sections: ['backend'] },
  choose: { sections: ALL, container: true },
  retry: { sections: ALL, container: true },
  wait: { sections: ALL, container: true },
  'limit-concurrency': { sections: ALL, container: true },
  'check-header': { sections: IN },
  'ip-filter': { sections: IN },
  'validate-azure-ad-token': { sections: IN },
  'validate-client-certificate': { sections: IN },
  'authentication-basic': { sections: IN },
  'authentication-certificate': { sections: IN },
  'authentication-managed-identity': { sections: IN },
  'get-authorization-context': { sections: IN },
  'cache-lookup': { sections: IN },
  'cache-store': { sections: ['outbound'] },
  'cache-lookup-value': { sections: ALL },
  'cache-store-value': { sections: ALL },
  'cache-remove-value': { sections: ALL },
  jsonp: { sections: ['outbound'] },
  'find-and-replace': { sections: ALL },
  'json-to-xml': { sections: ['inbound', 'outbound', 'on-error'] },
  'xml-to-json': { sections: ['inbound', 'outbound', 'on-error'] },
  'xsl-transform': { sections: ['inbound', 'outbound'] },
  'set-body': { sections: ['inbound', 'outbound', 'backend'] },
  'rewrite-uri': { sections: IN },
  'redirect-content-urls': { sections: ['inbound', 'outbound'] },
  'mock-response': { sections: ['inbound', 'outbound', 'on-error'] },
  'return-response': { sections: ALL },
  'send-request': { sections: ALL },
  'send-one-way-request': { sections: ALL },
  'set-method': { sections: ['inbound', 'on-error'] },
  'set-status': { sections: ALL },
  'set-variable': { sections: ALL },
  'log-to-eventhub': { sections: ALL },
  'emit-metric': { sections: ALL },
  trace: { sections: ALL },
  proxy: { sections: IN },
  'validate-graphql-request': { sections: IN },
  'validate-odata-request': { sections: IN },
};

/**
 * A renewal period in seconds: an integer, or (as the REST spec's own example stores) an ISO 8601 duration such as
 * `P3Y6M4DT12H30M5S`, surrounding whitespace allowed. Undefined when it is neither.
 */
export function periodSeconds(v: string): number | undefined {
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(t);
  if (!m || t === 'P' || t.endsWith('T')) return undefined;
  const [, y, mo, d, h, mi, sec] = m.map((x) => (x === undefined ? 0 : Number(x)));
  return y! * 365 * 86400 + mo! * 30 * 86400 + d! * 86400 + h! * 3600 + mi! * 60 + sec!;
}

function quotaChecks(el: XmlElement, report: Reporter): void {
  if (attribute(el, 'calls') === undefined && attribute(el, 'bandwidth') === undefined) {
    report(el, `At least one of the attributes 'calls' or 'bandwidth' must be specified.`);
  }
  requireAttributes(el, ['renewal-period'], report);
  integerAttribute(el, 'calls', report, { min: 1 });
  integerAttribute(el, 'bandwidth', report, { min: 1 });
  const period = attribute(el, 'renewal-period');
  if (period !== undefined && !isExpression(period)) {
    const seconds = periodSeconds(period);
    if (seconds === undefined) report(el, `The 'renewal-period' attribute is invalid - The value '${period}' is invalid according to its datatype 'Int32'.`);
    else if (seconds !== 0 && seconds < 300) {
      report(el, `The 'renewal-period' attribute is invalid - the renewal period must be 0 (never renews) or at least 300 seconds, got '${period}'.`);
    }
  }
}

function validatePolicies(parent: XmlElement, section: Section | undefined, ctx: PolicyContext, report: Reporter): void {
  for (const el of elementChildren(parent)) {
    const rule = RULES[el.name];
    if (!rule) {
      report(el, `The element '${parent.name}' has invalid child element '${el.name}'. '${el.name}' is not a known policy.`);
      continue;
    }
    if (section !== undefined && !rule.sections.includes(section)) {
      report(el, 'Policy is not allowed in this section');
      continue;
    }
    if (rule.notInScopes?.includes(ctx.scope)) {
      report(el, 'Policy is not allowed in the specified scope');
      continue;
    }
    if (!offersPolicy(ctx.sku, el.name)) {
      report(el, `Policy is not allowed in '${ctx.sku}' sku`);
      continue;
    }
    rule.check?.(el, ctx, report);
    if (rule.container) validateContainer(el, section, ctx, report);
  }
}

/** choose → when/otherwise → policies; retry/wait/limit-concurrency → policies. */
function validateContainer(el: XmlElement, section: Section | undefined, ctx: PolicyContext, report: Reporter): void {
  if (el.name !== 'choose') {
    validatePolicies(el, section, ctx, report);
    return;
  }
  allowedChildren(el, ['when', 'otherwise'], report);
  for (const branch of elementChildren(el)) {
    if (branch.name === 'when') requireAttributes(branch, ['condition'], report);
    if (branch.name === 'when' || branch.name === 'otherwise') validatePolicies(branch, section, ctx, report);
  }
}

/** Validates a policy document (`<policies>`) or, for the fragment scope, a `<fragment>`. */
export function validatePolicyDocument(doc: XmlDocument, ctx: PolicyContext): ArmErrorDetail[] {
  const details: ArmErrorDetail[] = [];
  const report: Reporter = (el, reason) => {
    details.push(detail(el.name, `Error in element '${el.name}' on line ${el.line}, column ${el.column}: ${reason}`));
  };
  const root = doc.root;
  if (ctx.scope === 'fragment') {
    if (root.name !== 'fragment') report(root, `The root element of a policy fragment must be 'fragment'.`);
    else validatePolicies(root, undefined, ctx, report);
    return details;
  }
  if (root.name !== 'policies') report(root, `The root element of a policy document must be 'policies'.`);
  noText(root, [...SECTIONS], report);
  const seen = new Set<string>();
  for (const el of elementChildren(root)) {
    if (!(SECTIONS as readonly string[]).includes(el.name)) {
      report(el, 'Policy section is not allowed in the specified scope');
      continue;
    }
    if (seen.has(el.name)) report(el, `Section '${el.name}' may appear only once.`);
    seen.add(el.name);
    noText(el, [], report);
    validatePolicies(el, el.name as Section, ctx, report);
  }
  return details;
}

/** `{{name}}` references to named values, which must exist when the policy is saved ("Property 'x' not found."). */
export function namedValueReferences(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\{\{\s*([^{}\s]+)\s*\}\}/g)) out.add(m[1]!);
  return [...out];
}
