// The response-side validation policies core/policy-xml.ts renders in outbound, next to validate-content:
// - validate-headers (https://learn.microsoft.com/azure/api-management/validate-headers-policy):
//   `specified-header-action` for the headers the operation's response for this status declares (value checked
//   against its schema), `unspecified-header-action` for the others; `header` children are not modelled.
// - validate-status-code (https://learn.microsoft.com/azure/api-management/validate-status-code-policy):
//   `unspecified-status-code-action` for a status the operation does not declare ("Response status code {code} is
//   not allowed."); `status-code` children are not modelled. The import keeps only three-digit codes (no `default`,
//   no `2XX`), as APIM's model has no others.
// Both answer 502 with the internal-error message when they prevent (validation-errors.ts).
import type { XmlElement } from '../../xml-document.ts';
import type { GatewaySettings } from '../gateway-settings.ts';
import { action, onlyAttributes, onlyChildren } from '../policy-elements.ts';
import { parseParameter } from '../parameter-values.ts';
import type { OutboundStep } from '../policy-step.ts';
import { headerValues } from '../request-state.ts';
import { validatorFor } from '../schema-validation.ts';
import { INTERNAL_VALIDATION_MESSAGE, onProblem } from '../validation-errors.ts';

/** Headers every HTTP response carries that no document declares; never "unspecified" (unverified). */
const TRANSPORT_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);

export function compileValidateHeaders(el: XmlElement, scope: string, _settings: GatewaySettings): OutboundStep {
  onlyAttributes(el, ['specified-header-action', 'unspecified-header-action'], scope);
  onlyChildren(el, [], scope);
  const specified = action(el, 'specified-header-action', scope);
  const unspecified = action(el, 'unspecified-header-action', scope);
  return {
    name: 'validate-headers',
    run(state, response) {
      const declared = state.operation.properties.responses.find((r) => r.statusCode === response.status)?.headers ?? [];
      const schemas = state.schemas?.operations[state.operationKey]?.responses[String(response.status)]?.headers ?? {};
      for (const name of Object.keys(response.headers)) {
        const p = declared.find((h) => h.name.toLowerCase() === name);
        if (!p) {
          if (TRANSPORT_HEADERS.has(name)) continue;
          const r = onProblem(unspecified, 'outbound', `Unspecified header ${name} is not allowed.`);
          if (r) return r;
          continue;
        }
        if (specified === 'ignore') continue;
        if (!state.schemas) return onProblem(specified, 'outbound', INTERNAL_VALIDATION_MESSAGE);
        const schema = schemas[name] ?? { type: p.type };
        const values = headerValues(response.headers, name) ?? [];
        const parsed = parseParameter(state.schemas, schema, values);
        if (!parsed.ok || (!parsed.array && values.length > 1) || !validatorFor(state.schemas, schema)(parsed.value).valid) {
          const r = onProblem(specified, 'outbound', INTERNAL_VALIDATION_MESSAGE);
          if (r) return r;
        }
      }
      return undefined;
    },
  };
}

export function compileValidateStatusCode(el: XmlElement, scope: string): OutboundStep {
  onlyAttributes(el, ['unspecified-status-code-action'], scope);
  onlyChildren(el, [], scope);
  const unspecified = action(el, 'unspecified-status-code-action', scope);
  return {
    name: 'validate-status-code',
    run(state, response) {
      if (state.operation.properties.responses.some((r) => r.statusCode === response.status)) return undefined;
      return onProblem(unspecified, 'outbound', `Response status code ${response.status} is not allowed.`);
    },
  };
}
