// The effective policy of an operation: the documents of the scopes that exist, composed through `<base />`, with
// fragments included, compiled into the steps the gateway runs. "The base element … inherit[s] policies at the parent
// scopes" (https://learn.microsoft.com/azure/api-management/set-edit-policies): operation → API → product → global.
// A scope without a document behaves as `<base />` in every section; so does a section a document leaves out
// (unverified). The global scope without a document is the service's default, whose backend is `<forward-request />`
// (what a new service's global policy holds). Product-scope documents are not stored by the emulator, so that scope
// is always empty here. `include-fragment` inserts the fragment's policies where it stands
// (https://learn.microsoft.com/azure/api-management/include-fragment-policy).
//
// Compilation refuses, as not modelled, every element the gateway does not run — so a policy is never half-applied.
import type { ApimService } from '../apim-service.ts';
import type { PolicyEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import type { XmlElement } from '../xml-document.ts';
import { attribute, elementChildren, parseXml } from '../xml-document.ts';
import { NotModelled } from './gateway-errors.ts';
import type { GatewaySettings } from './gateway-settings.ts';
import type { OpenIdKeys } from './openid-keys.ts';
import { onlyAttributes, onlyChildren, placeOf } from './policy-elements.ts';
import type { CorsStep, InboundStep, OutboundStep } from './policy-step.ts';
import { compileCors } from './policies/cors.ts';
import { compileQuotaByKey } from './policies/quota-by-key.ts';
import { compileRateLimitByKey } from './policies/rate-limit-by-key.ts';
import { compileSetBackendService } from './policies/set-backend-service.ts';
import { compileValidateContentRequest, compileValidateContentResponse } from './policies/validate-content.ts';
import { compileValidateJwt } from './policies/validate-jwt.ts';
import { compileValidateParameters } from './policies/validate-parameters.ts';
import { compileValidateHeaders, compileValidateStatusCode } from './policies/validate-response.ts';
import type { QuotaCounters } from './quota-counters.ts';
import type { RateLimitCounters } from './rate-limit-counters.ts';

export interface CompiledPolicy {
  /** The inbound section's cors policies, in order (a preflight runs only these). */
  cors: CorsStep[];
  inbound: InboundStep[];
  outbound: OutboundStep[];
  readsRequestBody: boolean;
  readsResponseBody: boolean;
}

export interface PolicyRuntime {
  svc: ApimService;
  settings: GatewaySettings;
  rateLimits: RateLimitCounters;
  quotas: QuotaCounters;
  openIdKeys: OpenIdKeys;
}

type Section = 'inbound' | 'backend' | 'outbound' | 'on-error';
interface Scoped {
  el: XmlElement;
  scope: string;
}

const DEFAULT_GLOBAL = '<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>';
const parsedDocuments = new WeakMap<PolicyEntity, XmlElement>();

function rootOf(p: PolicyEntity): XmlElement {
  let root = parsedDocuments.get(p);
  if (!root) {
    root = parseXml(p.raw, { raw: p.format === 'rawxml' }).root;
    parsedDocuments.set(p, root);
  }
  return root;
}

const defaultGlobal = parseXml(DEFAULT_GLOBAL).root;

/**
 * The documents a compiled policy was built from, by identity: the emulator replaces a PolicyEntity on every write, so
 * the same objects mean the same policy (compiled-policies.ts reuses the compilation while they stay).
 */
export interface PolicyInputs {
  global: PolicyEntity | undefined;
  api: PolicyEntity | undefined;
  operation: PolicyEntity | undefined;
  /** Fragment id (key) → its document when compiled (undefined: it did not exist). */
  fragments: Map<string, PolicyEntity | undefined>;
}

/** The policies of one section through the scope chain, `<base />` and fragments resolved. */
function composeSection(svc: ApimService, chain: { scope: string; root: XmlElement | undefined }[], level: number, section: Section, fragments: PolicyInputs['fragments']): Scoped[] {
  if (level < 0) return [];
  const { scope, root } = chain[level]!;
  const sectionEl = root ? elementChildren(root).find((c) => c.name === section) : undefined;
  if (!sectionEl) return composeSection(svc, chain, level - 1, section, fragments);
  const out: Scoped[] = [];
  const expand = (parent: XmlElement, where: string, depth: number): void => {
    for (const el of elementChildren(parent)) {
      if (el.name === 'base') {
        onlyAttributes(el, [], where);
        if (where === 'fragment') throw new NotModelled(`'base' inside a policy fragment`);
        out.push(...composeSection(svc, chain, level - 1, section, fragments));
      } else if (el.name === 'include-fragment') {
        onlyAttributes(el, ['fragment-id'], where);
        onlyChildren(el, [], where);
        const id = attribute(el, 'fragment-id') ?? '';
        const fragment = svc.data.policyFragments[key(id)];
        fragments.set(key(id), fragment?.policy);
        if (!fragment) throw new NotModelled(`${placeOf(el, where)}: the fragment '${id}' no longer exists`);
        if (depth > 10) throw new NotModelled(`fragments included more than 10 deep (${placeOf(el, where)})`);
        expand(rootOf(fragment.policy), 'fragment', depth + 1);
      } else {
        out.push({ el, scope: where });
      }
    }
  };
  expand(sectionEl, scope, 0);
  return out;
}

/** The inputs a compilation starts from (fragments are added as the composition meets them). */
export function policyInputs(svc: ApimService, api: PolicyEntity | undefined, operation: PolicyEntity | undefined): PolicyInputs {
  return { global: svc.data.policy, api, operation, fragments: new Map() };
}

/** Compiles the effective policy of `inputs` (whose `fragments` it fills); throws NotModelled. */
export function compileEffectivePolicy(rt: PolicyRuntime, inputs: PolicyInputs): CompiledPolicy {
  const { svc } = rt;
  const { api, operation, fragments } = inputs;
  const chain = [
    { scope: 'global', root: inputs.global ? rootOf(inputs.global) : defaultGlobal },
    { scope: 'api', root: api ? rootOf(api) : undefined },
    { scope: 'operation', root: operation ? rootOf(operation) : undefined },
  ];
  const top = chain.length - 1;
  const compiled: CompiledPolicy = { cors: [], inbound: [], outbound: [], readsRequestBody: false, readsResponseBody: false };

  for (const { el, scope } of composeSection(svc, chain, top, 'inbound', fragments)) {
    let step: InboundStep;
    switch (el.name) {
      case 'cors': {
        const cors = compileCors(el, scope, rt.settings);
        compiled.cors.push(cors);
        step = cors;
        break;
      }
      case 'validate-jwt':
        step = compileValidateJwt(el, scope, rt.openIdKeys, rt.settings);
        break;
      case 'rate-limit-by-key':
        step = compileRateLimitByKey(el, scope, rt.rateLimits);
        break;
      case 'quota-by-key':
        step = compileQuotaByKey(el, scope, rt.quotas);
        break;
      case 'validate-content':
        step = compileValidateContentRequest(el, scope);
        break;
      case 'validate-parameters':
        step = compileValidateParameters(el, scope, rt.settings);
        break;
      case 'set-backend-service':
        step = compileSetBackendService(el, scope, svc);
        break;
      default:
        throw new NotModelled(`the policy ${placeOf(el, scope)} in inbound`);
    }
    compiled.inbound.push(step);
    if (step.readsBody) compiled.readsRequestBody = true;
  }

  const backend = composeSection(svc, chain, top, 'backend', fragments);
  if (backend.length !== 1 || backend[0]!.el.name !== 'forward-request') {
    const other = backend.find((b) => b.el.name !== 'forward-request');
    throw new NotModelled(other ? `the policy ${placeOf(other.el, other.scope)} in backend` : `a backend section that does not hold exactly one forward-request`);
  }
  onlyAttributes(backend[0]!.el, [], backend[0]!.scope);

  for (const { el, scope } of composeSection(svc, chain, top, 'outbound', fragments)) {
    let step: OutboundStep;
    switch (el.name) {
      case 'validate-content':
        step = compileValidateContentResponse(el, scope);
        break;
      case 'validate-headers':
        step = compileValidateHeaders(el, scope, rt.settings);
        break;
      case 'validate-status-code':
        step = compileValidateStatusCode(el, scope);
        break;
      default:
        throw new NotModelled(`the policy ${placeOf(el, scope)} in outbound`);
    }
    compiled.outbound.push(step);
    if (step.readsBody) compiled.readsResponseBody = true;
  }

  const onError = composeSection(svc, chain, top, 'on-error', fragments);
  if (onError.length > 0) throw new NotModelled(`the policy ${placeOf(onError[0]!.el, onError[0]!.scope)} in on-error`);
  return compiled;
}
