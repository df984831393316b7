// JSON Schema validation against an imported document's schemas (ApiSchemas), for validate-content,
// validate-parameters and validate-headers. OpenAPI 3.0 and Swagger 2.0 schemas are JSON Schema draft 4 with
// extensions (`nullable`, `x-nullable`, `type: file`), so they go through a draft-04 validator after `nullable` becomes
// a `null` type; OpenAPI 3.1 schemas are JSON Schema 2020-12. Local `$ref`s (`#/components/schemas/X`,
// `#/definitions/X`) resolve against the document's schema root, registered once per import.
//
// What is checked follows "What content is validated" (https://learn.microsoft.com/azure/api-management/validate-content-policy):
// required properties, additionalProperties when the schema sets it, property types, and formats and constraints
// (pattern, minimum, …). Formats the emulator does not know are not checked (as for any JSON Schema validator).
// The wording of a schema violation (APIM's "{valError.Message} Line: …, Position: …") is the validator's, unverified.
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import AjvDraft4Module from 'ajv-draft-04';
import type { ApiSchemas, Json } from '../service-model.ts';

type AjvInstance = { compile(schema: object): ValidateFunction; addSchema(schema: object, key: string): unknown };
type AjvConstructor = new (opts: object) => AjvInstance;

function constructorOf(mod: unknown): AjvConstructor {
  const m = mod as { default?: unknown };
  return (typeof m === 'function' ? m : m.default) as AjvConstructor;
}
const Ajv2020 = constructorOf(Ajv2020Module);
const AjvDraft4 = constructorOf(AjvDraft4Module);

const ROOT_ID = 'api-schemas';

const FORMATS: Record<string, RegExp | ((v: string) => boolean) | { type: 'number'; validate: (n: number) => boolean }> = {
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: (v) => /^[a-z][a-z0-9+.-]*:/i.test(v) && URL.canParse(v),
  int32: { type: 'number', validate: (n) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 },
  int64: { type: 'number', validate: (n) => Number.isInteger(n) },
  byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
};

/** Keywords whose value maps names to schemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies']);

function mapValues(map: unknown, f: (v: unknown) => unknown): unknown {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return map;
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, f(v)]));
}

/**
 * A document schema as the validator reads it: `nullable: true` (OpenAPI 3.0) / `x-nullable: true` (Swagger 2.0) as
 * a `null` type, `type: file` as no type, and instance data left out — `example`/`examples` and extensions hold
 * objects with `id` members (TM Forum's examples do) that a draft-04 validator would take for schema identifiers.
 */
function convert(v: unknown, nullable: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => convert(x, nullable));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k === 'example' || k === 'examples' || (k.startsWith('x-') && k !== 'x-nullable')) continue;
    if (k === 'enum' || k === 'const' || k === 'default') out[k] = val;
    else if (SCHEMA_MAPS.has(k)) out[k] = mapValues(val, (x) => convert(x, nullable));
    else out[k] = convert(val, nullable);
  }
  if (nullable) {
    const isNullable = out['nullable'] === true || out['x-nullable'] === true;
    if (isNullable && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
    if (isNullable && Array.isArray(out['enum'])) out['enum'] = [...(out['enum'] as unknown[]), null];
  }
  if (out['type'] === 'file') delete out['type'];
  return out;
}

/** The document's schema root (`{components: {schemas}}` or `{definitions}`), each named schema converted. */
function convertRoot(root: Record<string, unknown>, nullable: boolean): Record<string, unknown> {
  const components = root['components'] as { schemas?: unknown } | undefined;
  return {
    ...(components ? { components: { schemas: mapValues(components.schemas ?? {}, (x) => convert(x, nullable)) } } : {}),
    ...(root['definitions'] !== undefined ? { definitions: mapValues(root['definitions'], (x) => convert(x, nullable)) } : {}),
  };
}

/** Points a schema's local references at the registered root. */
function rebase(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rebase);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) out[k] = k === '$ref' && typeof val === 'string' && val.startsWith('#') ? `${ROOT_ID}${val}` : k === 'enum' || k === 'const' || k === 'default' ? val : rebase(val);
  return out;
}

export interface SchemaCheck {
  valid: boolean;
  /** The first problem, as "<path> <message>". */
  message?: string;
  /**
   * The schema itself could not be compiled (a reference to nothing, a keyword the validator refuses): APIM's "API's
   * schema does not exist or it could not be resolved", which clients see as an internal error.
   */
  schemaProblem?: boolean;
}

interface Compiled {
  ajv: AjvInstance;
  byText: Map<string, ValidateFunction>;
  /** The same validators by the schema object itself: the request path looks them up without serialising. */
  byObject: WeakMap<object, (value: unknown) => SchemaCheck>;
}

const compiled = new WeakMap<ApiSchemas, Compiled>();

function compilerFor(schemas: ApiSchemas): Compiled {
  let c = compiled.get(schemas);
  if (!c) {
    const opts = { strict: false, allErrors: false, logger: false, validateFormats: true, formats: FORMATS };
    const ajv = schemas.dialect === 'openapi-3.1' ? new Ajv2020(opts) : new AjvDraft4(opts);
    const root = convertRoot(schemas.root, schemas.dialect !== 'openapi-3.1');
    ajv.addSchema({ ...root, [schemas.dialect === 'openapi-3.1' ? '$id' : 'id']: ROOT_ID }, ROOT_ID);
    c = { ajv, byText: new Map(), byObject: new WeakMap() };
    compiled.set(schemas, c);
  }
  return c;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  return `${where} ${e.message ?? 'is invalid'}`;
}

const VALID: SchemaCheck = { valid: true };

/**
 * The validator of one schema of the document (compiled once per imported document and schema). Schemas are looked
 * up by identity first (the document's own objects, the same on every request), by their text otherwise (a schema
 * made up for a parameter the document gives no schema).
 */
export function validatorFor(schemas: ApiSchemas, schema: Json): (value: unknown) => SchemaCheck {
  const c = compilerFor(schemas);
  const byObject = schema !== null && typeof schema === 'object' ? c.byObject.get(schema) : undefined;
  if (byObject) return byObject;
  const check = compileValidator(c, schemas, schema);
  if (schema !== null && typeof schema === 'object') c.byObject.set(schema, check);
  return check;
}

function compileValidator(c: Compiled, schemas: ApiSchemas, schema: Json): (value: unknown) => SchemaCheck {
  const text = JSON.stringify(schema);
  let fn = c.byText.get(text);
  if (!fn) {
    const prepared = rebase(convert(schema, schemas.dialect !== 'openapi-3.1')) as object;
    try {
      fn = c.ajv.compile(typeof prepared === 'object' && prepared !== null ? prepared : {});
    } catch (err) {
      const message = `the API's schema could not be resolved: ${(err as Error).message}`;
      fn = Object.assign(() => false, { errors: [], schemaProblem: message }) as unknown as ValidateFunction;
    }
    c.byText.set(text, fn);
  }
  const validate = fn;
  const problem = (validate as unknown as { schemaProblem?: string }).schemaProblem;
  if (problem !== undefined) return () => ({ valid: false, message: problem, schemaProblem: true });
  return (value) => (validate(value) ? VALID : { valid: false, message: describe(validate.errors![0]!) });
}

/** The name APIM gives the definition behind a schema: the referenced type's name, else the inline schema's. */
export function definitionName(schema: Json, fallback: string): string {
  const ref = schema !== null && typeof schema === 'object' && !Array.isArray(schema) ? schema['$ref'] : undefined;
  return typeof ref === 'string' ? ref.slice(ref.lastIndexOf('/') + 1) : fallback;
}

/** Follows a top-level local `$ref` to the schema it names (for reading a parameter's type before coercion). */
export function resolveTop(schemas: ApiSchemas, schema: Json, depth = 0): Record<string, unknown> | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  if (!ref.startsWith('#/') || depth > 20) return undefined;
  let cur: unknown = schemas.root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return resolveTop(schemas, cur as Json, depth + 1);
}
