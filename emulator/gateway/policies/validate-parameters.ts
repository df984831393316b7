// validate-parameters (https://learn.microsoft.com/azure/api-management/validate-parameters-policy) as
// core/policy-xml.ts renders it: `specified-parameter-action` / `unspecified-parameter-action` on the element and on
// `headers` and `query` children ("When provided in a headers, query, or path element, the value overrides …").
// Path parameters are the operation's template parameters; query parameters are the operation's declared ones plus
// those its URL template carries; headers are the operation's declared headers (names without case).
// - a parameter the operation declares: its value is parsed and checked against its schema → "The value of the
//   {query parameter / path parameter / header} {name} does not conform to the definition." / "… couldn't be parsed
//   according to the definition."; more than one value for a parameter that is no array → "Request cannot contain
//   multiple values for the {kind} {name}.";
// - one it does not declare → "Unspecified {query parameter / header} {name} is not allowed.";
// - a required one that is missing → "Required {kind} {name} is missing." (unverified: the page's error table has no
//   such entry; refusing is the stricter reading). Which headers are exempt is the setting unvalidatedRequestHeaders.
import type { XmlElement } from '../../xml-document.ts';
import type { Json, ParameterContract } from '../../service-model.ts';
import type { GatewaySettings } from '../gateway-settings.ts';
import type { Action } from '../policy-elements.ts';
import { action, onlyAttributes, onlyChildren } from '../policy-elements.ts';
import { parseParameter } from '../parameter-values.ts';
import type { InboundStep, StepResult } from '../policy-step.ts';
import type { RequestState } from '../request-state.ts';
import { headerValues } from '../request-state.ts';
import { validatorFor } from '../schema-validation.ts';
import { INTERNAL_VALIDATION_MESSAGE, onProblem } from '../validation-errors.ts';

type Kind = 'path' | 'query' | 'header';
const KIND_WORDS: Record<Kind, string> = { path: 'path parameter', query: 'query parameter', header: 'header' };

interface GroupActions {
  specified: Action;
  unspecified: Action;
}

/** A parameter's schema: the document's, else one made from the contract's type and values. */
function schemaOf(state: RequestState, kind: Kind, p: ParameterContract): Json {
  const key = `${kind}:${kind === 'header' ? p.name.toLowerCase() : p.name}`;
  const fromDocument = state.schemas?.operations[state.operationKey]?.parameters[key];
  if (fromDocument !== undefined) return fromDocument;
  return { type: p.type, ...(p.values.length > 0 ? { enum: p.values } : {}) };
}

function checkValue(state: RequestState, kind: Kind, p: ParameterContract, values: string[], act: Action): StepResult {
  const what = `${KIND_WORDS[kind]} ${p.name}`;
  if (!state.schemas) return onProblem(act, 'inbound', INTERNAL_VALIDATION_MESSAGE);
  const schema = schemaOf(state, kind, p);
  const parsed = parseParameter(state.schemas, schema, values);
  if (!parsed.array && values.length > 1) return onProblem(act, 'inbound', `Request cannot contain multiple values for the ${what}.`);
  if (!parsed.ok) return onProblem(act, 'inbound', `The value of the ${what} couldn't be parsed according to the definition. ${parsed.message}`);
  const result = validatorFor(state.schemas, schema)(parsed.value);
  if (result.schemaProblem) return onProblem(act, 'inbound', INTERNAL_VALIDATION_MESSAGE);
  return result.valid ? undefined : onProblem(act, 'inbound', `The value of the ${what} does not conform to the definition. ${result.message}`);
}

export function compileValidateParameters(el: XmlElement, scope: string, settings: GatewaySettings): InboundStep {
  onlyAttributes(el, ['specified-parameter-action', 'unspecified-parameter-action'], scope);
  const top: GroupActions = { specified: action(el, 'specified-parameter-action', scope), unspecified: action(el, 'unspecified-parameter-action', scope) };
  const groups: Record<Kind, GroupActions> = { path: { ...top }, query: { ...top }, header: { ...top } };
  for (const c of onlyChildren(el, ['headers', 'query', 'path'], scope)) {
    onlyAttributes(c, c.name === 'path' ? ['specified-parameter-action'] : ['specified-parameter-action', 'unspecified-parameter-action'], scope);
    onlyChildren(c, [], scope);
    const kind: Kind = c.name === 'headers' ? 'header' : (c.name as Kind);
    groups[kind] = { specified: action(c, 'specified-parameter-action', scope, top.specified), unspecified: action(c, 'unspecified-parameter-action', scope, top.unspecified) };
  }

  return {
    name: 'validate-parameters',
    run(state) {
      const op = state.operation.properties;
      const templateQuery = new Set((op.urlTemplate.split('?')[1] ?? '').split('&').map((p) => p.split('=')[0]!).filter((n) => n !== ''));
      const pathParams = op.templateParameters.filter((p) => !templateQuery.has(p.name));
      const queryParams = [...op.templateParameters.filter((p) => templateQuery.has(p.name)), ...(op.request?.queryParameters ?? [])];
      const headerParams = op.request?.headers ?? [];

      if (groups.path.specified !== 'ignore') {
        for (const p of pathParams) {
          const v = state.templateParams[p.name];
          if (v === undefined) continue;
          const r = checkValue(state, 'path', p, [v], groups.path.specified);
          if (r) return r;
        }
      }

      const query = new Map<string, string[]>();
      if (state.url.search !== '') for (const [k, v] of state.url.searchParams) query.set(k, [...(query.get(k) ?? []), v]);
      for (const [name, values] of query) {
        const p = queryParams.find((q) => q.name === name);
        const r = p ? (groups.query.specified !== 'ignore' ? checkValue(state, 'query', p, values, groups.query.specified) : undefined) : onProblem(groups.query.unspecified, 'inbound', `Unspecified query parameter ${name} is not allowed.`);
        if (r) return r;
      }
      for (const p of queryParams) {
        if (p.required && !query.has(p.name)) {
          const r = onProblem(groups.query.specified, 'inbound', `Required query parameter ${p.name} is missing.`);
          if (r) return r;
        }
      }

      if (groups.header.unspecified === 'prevent') {
        for (const name of Object.keys(state.headers)) {
          if (settings.unvalidatedRequestHeaders.includes(name) || headerParams.some((h) => h.name.toLowerCase() === name)) continue;
          return onProblem('prevent', 'inbound', `Unspecified header ${name} is not allowed.`);
        }
      }
      if (groups.header.specified !== 'ignore') {
        for (const p of headerParams) {
          const values = headerValues(state.headers, p.name);
          if (values === undefined || settings.unvalidatedRequestHeaders.includes(p.name.toLowerCase())) continue;
          const r = checkValue(state, 'header', p, values, groups.header.specified);
          if (r) return r;
        }
      }
      for (const p of headerParams) {
        if (p.required && state.headers[p.name.toLowerCase()] === undefined) {
          const r = onProblem(groups.header.specified, 'inbound', `Required header ${p.name} is missing.`);
          if (r) return r;
        }
      }
      return undefined;
    },
  };
}
