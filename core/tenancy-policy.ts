// The tenancy policy: what the platform team allows each namespace to publish. It is the operator's configuration
// (TENANCY_POLICY in the ConfigMap), never the tenant's: per namespace, the path prefixes it may publish under, the
// prefix its APIM API ids must carry, the products and tags it may link, the backend hosts APIM may call for it, the
// JWT issuers it may trust, and whether it may adopt APIM APIs the operator did not create. The webhook, the offline
// `validate` command and the executor read the same policy through this module. Pure.
//
//   rules:                                  # the first rule whose namespaces match applies; none = unrestricted
//     - namespaces: ["team-a", "shop-*"]    # names; "*" matches any run of characters
//       pathPrefixes: ["/{namespace}"]      # "{namespace}" is replaced by the ExposedAPI's namespace
//       apiIdPrefix: "{namespace}-"
//       products: ["{namespace}-*", "public"]
//       tags: ["*"]
//       backendHosts: ["*.{namespace}.svc.example.com"]
//       jwtIssuers: ["https://login.microsoftonline.com/<tenant>/v2.0"]
//       allowAdoption: false
//       targets: ["shared-*", "{namespace}"] # the ApimTargets (core/apim-target.ts) its ExposedAPIs may publish into
//
// An absent list means "no restriction"; an empty list means "none allowed". With no policy at all the operator
// behaves as an ODA Canvas expects: component paths such as /<release>-<component>/tmf-api/... keep working, and the
// cross-namespace rules that need no configuration (path and apiId claims, ownership in APIM) still hold.
import YAML from 'yaml';
import { isObject } from './object-reader.ts';

export interface TenancyRule {
  namespaces: string[];
  pathPrefixes?: string[];
  apiIdPrefix?: string;
  products?: string[];
  tags?: string[];
  backendHosts?: string[];
  jwtIssuers?: string[];
  /** Names (globs) of the ApimTargets the namespace may publish into; the operator's own instance is always allowed. */
  targets?: string[];
  allowAdoption: boolean;
}

export interface TenancyPolicy {
  rules: TenancyRule[];
}

/** A rule with "{namespace}" filled in, for one namespace; `index` says which rule of the policy it is. */
export type NamespaceRule = Omit<TenancyRule, 'namespaces'> & { index: number };

export const NO_POLICY: TenancyPolicy = { rules: [] };

const RULE_KEYS = ['namespaces', 'pathPrefixes', 'apiIdPrefix', 'products', 'tags', 'backendHosts', 'jwtIssuers', 'targets', 'allowAdoption'] as const;
const LIST_KEYS = ['pathPrefixes', 'products', 'tags', 'backendHosts', 'jwtIssuers', 'targets'] as const;

/** "*" matches any run of characters; everything else literally. */
export function globMatch(pattern: string, value: string, opts: { caseInsensitive?: boolean } = {}): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, opts.caseInsensitive ? 'i' : '').test(value);
}

/** Parses TENANCY_POLICY (YAML or JSON). Every problem is reported with where it is and what is valid. */
export function parseTenancyPolicy(text: string): { ok: true; policy: TenancyPolicy } | { ok: false; errors: string[] } {
  if (text.trim() === '') return { ok: true, policy: NO_POLICY };
  let doc: unknown;
  try {
    doc = YAML.parse(text, { maxAliasCount: 10 });
  } catch (e) {
    return { ok: false, errors: [`TENANCY_POLICY is not valid YAML or JSON: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`] };
  }
  const errors: string[] = [];
  if (!isObject(doc) || !Array.isArray(doc['rules'])) {
    return { ok: false, errors: ['TENANCY_POLICY must be an object with a list "rules", e.g. {rules: [{namespaces: ["team-a"], pathPrefixes: ["/team-a"]}]}'] };
  }
  for (const key of Object.keys(doc)) if (key !== 'rules') errors.push(`TENANCY_POLICY.${key} is not a known key; the policy has one key, "rules"`);
  const rules: TenancyRule[] = [];
  doc['rules'].forEach((raw: unknown, i: number) => {
    const at = `TENANCY_POLICY.rules[${i}]`;
    if (!isObject(raw)) {
      errors.push(`${at} must be an object with "namespaces" and the restrictions that apply to them`);
      return;
    }
    for (const key of Object.keys(raw)) {
      if (!(RULE_KEYS as readonly string[]).includes(key)) errors.push(`${at}.${key} is not a known key; use one of ${RULE_KEYS.join(', ')}`);
    }
    const strings = (key: string): string[] | undefined => {
      const v = raw[key];
      if (v === undefined || v === null) return undefined;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.trim() !== '')) return (v as string[]).map((x) => x.trim());
      errors.push(`${at}.${key} must be a list of non-empty strings`);
      return undefined;
    };
    const namespaces = strings('namespaces');
    if (!namespaces || namespaces.length === 0) errors.push(`${at}.namespaces must list the namespaces (or patterns such as "team-*") the rule applies to`);
    const rule: TenancyRule = { namespaces: namespaces ?? [], allowAdoption: false };
    for (const key of LIST_KEYS) {
      const list = strings(key);
      if (list) rule[key] = list;
    }
    for (const [j, p] of (rule.pathPrefixes ?? []).entries()) {
      if (!p.startsWith('/') || (p.length > 1 && p.endsWith('/'))) errors.push(`${at}.pathPrefixes[${j}] = ${JSON.stringify(p)} must start with "/" and not end with "/", e.g. "/{namespace}"`);
    }
    const prefix = raw['apiIdPrefix'];
    if (prefix !== undefined) {
      if (typeof prefix === 'string' && prefix !== '') rule.apiIdPrefix = prefix;
      else errors.push(`${at}.apiIdPrefix must be a non-empty string, e.g. "{namespace}-"`);
    }
    const adoption = raw['allowAdoption'];
    if (adoption !== undefined) {
      if (typeof adoption === 'boolean') rule.allowAdoption = adoption;
      else errors.push(`${at}.allowAdoption must be true or false`);
    }
    rules.push(rule);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: { rules } };
}

/** The rule that applies to a namespace, with "{namespace}" filled in; undefined = unrestricted. */
export function ruleFor(policy: TenancyPolicy, namespace: string): NamespaceRule | undefined {
  const index = policy.rules.findIndex((r) => r.namespaces.some((p) => globMatch(p, namespace)));
  if (index < 0) return undefined;
  const { namespaces: _matched, ...rule } = policy.rules[index]!;
  const fill = (s: string): string => s.split('{namespace}').join(namespace);
  const out: NamespaceRule = { index, allowAdoption: rule.allowAdoption };
  for (const key of LIST_KEYS) if (rule[key]) out[key] = rule[key]!.map(fill);
  if (rule.apiIdPrefix !== undefined) out.apiIdPrefix = fill(rule.apiIdPrefix);
  return out;
}

/** Whether `path` is `prefix` or lies under it, segment by segment (APIM paths compare case-insensitively). */
export function underPrefix(path: string, prefix: string): boolean {
  const p = path.toLowerCase();
  const q = prefix.toLowerCase();
  return q === '/' || p === q || p.startsWith(`${q}/`);
}

/** A host allowed by patterns: exact, or "*.example.com" for its subdomains (not example.com itself). */
export function hostAllowedBy(host: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globMatch(p, host, { caseInsensitive: true }));
}
