// The tenancy policy's field errors (core/tenancy-policy.ts): what the platform team allows a namespace to publish,
// checked at admission and again by the executor, so an ExposedAPI admitted before the policy changed cannot publish
// what the policy now forbids. Pure.
import { forbidden, type FieldError } from '../field-error.ts';
import type { ExposedApi } from '../exposedapi-model.ts';
import { globMatch, hostAllowedBy, underPrefix, type NamespaceRule } from '../tenancy-policy.ts';

const POLICY = 'the operator\'s tenancy policy (TENANCY_POLICY)';

function listed(values: readonly string[]): string {
  return values.length === 0 ? 'none' : values.map((v) => JSON.stringify(v)).join(', ');
}

/**
 * `apiId` is the API id the ExposedAPI will use (spec.apim.apiId, else the one derived from namespace and name), so a
 * policy on id prefixes also holds for derived ids.
 */
export function checkTenancy(api: ExposedApi, rule: NamespaceRule | undefined, apiId: string): FieldError[] {
  if (!rule) return [];
  const errors: FieldError[] = [];
  const ns = api.namespace;
  const spec = api.spec;
  const where = `namespace "${ns}" (${POLICY}, rule ${rule.index})`;

  if (rule.pathPrefixes && spec.path !== '' && !rule.pathPrefixes.some((p) => underPrefix(spec.path, p))) {
    errors.push(forbidden('spec.path', `${where} may publish only under ${listed(rule.pathPrefixes)}; choose a path there`, spec.path));
  }
  if (rule.apiIdPrefix !== undefined && !apiId.toLowerCase().startsWith(rule.apiIdPrefix.toLowerCase())) {
    const field = spec.apim.apiId !== undefined ? 'spec.apim.apiId' : 'metadata.name';
    const fix = spec.apim.apiId !== undefined ? 'use an id with that prefix' : `set spec.apim.apiId to an id starting with "${rule.apiIdPrefix}" (the derived id "${apiId}" does not)`;
    errors.push(forbidden(field, `${where} may use APIM API ids starting with "${rule.apiIdPrefix}" only; ${fix}`, apiId));
  }
  const ids = (field: string, values: string[], allowed: string[] | undefined, what: string): void => {
    if (!allowed) return;
    values.forEach((v, i) => {
      if (!allowed.some((p) => globMatch(p, v, { caseInsensitive: true }))) {
        errors.push(forbidden(`${field}[${i}]`, `${where} may link ${what} ${listed(allowed)} only`, v));
      }
    });
  };
  ids('spec.apim.products', spec.apim.products, rule.products, 'products');
  ids('spec.apim.tags', spec.apim.tags, rule.tags, 'tags');

  const backend = spec.apim.backend;
  if (rule.backendHosts && backend.mode === 'url' && backend.url) {
    let host: string | undefined;
    try {
      host = new URL(backend.url).hostname;
    } catch {
      host = undefined; // reported by the URL rule
    }
    if (host !== undefined && !hostAllowedBy(host, rule.backendHosts)) {
      errors.push(forbidden('spec.apim.backend.url', `${where} may send traffic to hosts ${listed(rule.backendHosts)} only; use backend mode "ingress" or an allowed host`, backend.url));
    }
  }
  const jwt = spec.apim.jwt;
  if (rule.jwtIssuers && jwt) {
    if (jwt.issuers.length === 0) {
      errors.push(forbidden('spec.apim.authentication.jwt.issuers', `${where} must name the accepted token issuers, from ${listed(rule.jwtIssuers)}`, []));
    }
    jwt.issuers.forEach((issuer, i) => {
      if (!rule.jwtIssuers!.some((p) => globMatch(p, issuer))) {
        errors.push(forbidden(`spec.apim.authentication.jwt.issuers[${i}]`, `${where} may trust issuers ${listed(rule.jwtIssuers!)} only`, issuer));
      }
    });
  }
  return errors;
}
