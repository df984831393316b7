// validate-content (https://learn.microsoft.com/azure/api-management/validate-content-policy), as core/policy-xml.ts
// renders it: `unspecified-content-type-action`, `max-size` with `size-exceeded-action`, and one
// `<content validate-as="json" action="…"/>` without `type` ("If empty, it applies to every content type specified
// in the API schema"). In the inbound section it checks the request, in the outbound section the response:
// - size: "Maximum length of the body … in bytes, checked against the Content-Length header" (the body's own length
//   when the header is absent) → "Request's body is {size} bytes long and it exceeds the limit of {maxSize} bytes.";
// - content type: one the operation's request (or this status's response) does not list → "Unspecified content type
//   {messageContentType} is not allowed." (media types compare without parameters: a document declaring
//   `application/json;charset=utf-8`, as TM Forum's do, accepts `application/json`; unverified);
// - body: parsed as JSON and checked against the schema the document gives that content type → "Body of the request
//   does not conform to the definition {definitionName}, which is associated with the content type
//   {messageContentType}." and the validator's reason.
// A request without a body (no bytes) is not checked for content type or schema (unverified: the page does not say;
// APIM validating "the body" implies there must be one). The API's schema missing altogether is the "API's schema
// does not exist" case (internal error to the client).
import type { XmlElement } from '../../xml-document.ts';
import type { Json } from '../../service-model.ts';
import { NotModelled } from '../gateway-errors.ts';
import type { Action } from '../policy-elements.ts';
import { action, constant, integer, onlyAttributes, onlyChildren, placeOf } from '../policy-elements.ts';
import type { BackendResponse, InboundStep, OutboundStep, StepResult } from '../policy-step.ts';
import type { RequestState } from '../request-state.ts';
import { definitionName, validatorFor } from '../schema-validation.ts';
import { INTERNAL_VALIDATION_MESSAGE, mediaType, onProblem } from '../validation-errors.ts';

interface ContentRules {
  unspecified: Action;
  maxSize: number;
  sizeExceeded: Action;
  /** The action of `<content validate-as="json">`; undefined without one (size and type checks only). */
  json: Action | undefined;
}

function rules(el: XmlElement, scope: string): ContentRules {
  onlyAttributes(el, ['unspecified-content-type-action', 'max-size', 'size-exceeded-action'], scope);
  const maxSize = integer(el, 'max-size', scope);
  if (maxSize === undefined) throw new NotModelled(`${placeOf(el, scope)} without max-size`);
  let json: Action | undefined;
  for (const c of onlyChildren(el, ['content'], scope)) {
    onlyAttributes(c, ['validate-as', 'action'], scope);
    const as = constant(c, 'validate-as', scope);
    if (as !== 'json') throw new NotModelled(`validate-as '${String(as)}' in ${placeOf(el, scope)} (only json is modelled)`);
    json = action(c, 'action', scope);
  }
  return { unspecified: action(el, 'unspecified-content-type-action', scope), maxSize, sizeExceeded: action(el, 'size-exceeded-action', scope), json };
}

/** A document's schemas by media type (its own spelling normalised), worked out once per imported schema map. */
const byMediaType = new WeakMap<Record<string, Json>, Map<string, Json>>();

function schemaFor(map: Record<string, Json> | undefined, contentType: string): Json {
  if (!map) return null;
  let types = byMediaType.get(map);
  if (!types) {
    types = new Map();
    for (const [k, v] of Object.entries(map)) if (!types.has(mediaType(k))) types.set(mediaType(k), v);
    byMediaType.set(map, types);
  }
  return types.get(contentType) ?? null;
}

/** The media types an operation's request or response declares (normalised), worked out once per representation list. */
const declaredTypes = new WeakMap<object, string[]>();

function mediaTypesOf(representations: { contentType: string }[]): string[] {
  let types = declaredTypes.get(representations);
  if (!types) {
    types = representations.map((x) => mediaType(x.contentType));
    declaredTypes.set(representations, types);
  }
  return types;
}

function check(
  r: ContentRules,
  state: RequestState,
  section: 'inbound' | 'outbound',
  body: Buffer,
  declaredLength: number | undefined,
  contentType: string,
  declaredTypes: string[],
  schemas: Record<string, Json> | undefined,
  fallbackName: string,
): StepResult {
  const who = section === 'inbound' ? 'Request' : 'Response';
  const size = declaredLength ?? body.length;
  if (size > r.maxSize) {
    const reply = onProblem(r.sizeExceeded, section, `${who}'s body is ${size} bytes long and it exceeds the limit of ${r.maxSize} bytes.`);
    if (reply) return reply;
  }
  if (body.length === 0) return undefined;
  if (!declaredTypes.includes(contentType)) {
    const reply = onProblem(r.unspecified, section, `Unspecified content type ${contentType} is not allowed.`);
    if (reply) return reply;
    return undefined;
  }
  if (r.json === undefined || r.json === 'ignore') return undefined;
  if (!state.schemas) return onProblem(r.json, section, INTERNAL_VALIDATION_MESSAGE);
  const schema = schemaFor(schemas, contentType);
  if (schema === null) return undefined;
  const definition = definitionName(schema, fallbackName);
  const prefix = `Body of the ${who.toLowerCase()} does not conform to the definition ${definition}, which is associated with the content type ${contentType}.`;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return onProblem(r.json, section, `${prefix} ${(err as Error).message}`);
  }
  const result = validatorFor(state.schemas, schema)(value);
  if (result.schemaProblem) return onProblem(r.json, section, INTERNAL_VALIDATION_MESSAGE);
  return result.valid ? undefined : onProblem(r.json, section, `${prefix} ${result.message}`);
}

const NONE: { contentType: string }[] = [];

export function compileValidateContentRequest(el: XmlElement, scope: string): InboundStep {
  const r = rules(el, scope);
  return {
    name: 'validate-content',
    // The body is read whole so the forwarded request is the validated one; max-size bounds nothing here because
    // APIM, too, must read the body to check it (the emulator's own body limit still applies).
    readsBody: { maxBytes: Number.MAX_SAFE_INTEGER },
    run(state) {
      const length = state.headers['content-length'] !== undefined ? Number(state.headers['content-length']) : undefined;
      const declared = mediaTypesOf(state.operation.properties.request?.representations ?? NONE);
      const opSchemas = state.schemas?.operations[state.operationKey];
      return check(r, state, 'inbound', state.body ?? Buffer.alloc(0), length, mediaType(state.headers['content-type']), declared, opSchemas?.request, `${state.operation.name}Request`);
    },
  };
}

export function compileValidateContentResponse(el: XmlElement, scope: string): OutboundStep {
  const r = rules(el, scope);
  return {
    name: 'validate-content',
    readsBody: true,
    run(state, response: BackendResponse) {
      const declared = state.operation.properties.responses.find((x) => x.statusCode === response.status);
      const types = mediaTypesOf(declared?.representations ?? NONE);
      const length = response.headers['content-length'] !== undefined ? Number(response.headers['content-length']) : undefined;
      const opSchemas = state.schemas?.operations[state.operationKey];
      return check(r, state, 'outbound', response.body ?? Buffer.alloc(0), length, mediaType(response.headers['content-type']), types, opSchemas?.responses[String(response.status)]?.content, `${state.operation.name}Response`);
    },
  };
}
