// An OpenAPI 3 or Swagger 2 document as APIM imports it: API properties from `info` and servers/host, one operation
// per path and method with APIM's naming, parameters and representations modelled the way APIM shows them, and the
// service-level tags the document names. Pure: the caller applies the result to the service.
//
// Behaviours taken from APIM's import documentation and observed imports:
// - required query parameters become part of the URL template (`/x?a={a}`) unless translateRequiredQueryParameters
//   is "query"; path and template parameters are required;
// - GET, HEAD and OPTIONS lose any request body;
// - OAS3: the first https server, else the first http server, else none; relative server URLs resolve against the
//   link the document was fetched from; protocols default to https;
// - Swagger 2: scheme (https preferred) + host + basePath; protocols from `schemes`;
// - two operations with the same method and URL template fail the import ("duplicate signature operations").
import { validationMessage } from './arm-errors.ts';
import type { DocumentKind } from './import-document.ts';
import { generatedDisplayName, generatedOperationName, normalizeOperationName, OperationNamer } from './operation-names.ts';
import type {
  ApiSchemas,
  Json,
  JsonObject,
  OperationProperties,
  OperationSchemas,
  ParameterContract,
  RepresentationContract,
  RequestContract,
  ResponseContract,
} from './service-model.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ImportedOperation {
  name: string;
  properties: OperationProperties;
  tags: string[];
  /** Method and URL template with parameter names erased: what APIM compares for duplicates. */
  signature: string;
}

export interface ImportedTag {
  id: string;
  displayName: string;
}

export interface ImportedApi {
  displayName: string | undefined;
  description: string | null;
  serviceUrl: string | null;
  protocols: string[];
  operations: ImportedOperation[];
  tags: ImportedTag[];
  /** The document's schemas, for the gateway's validation policies (operations keyed as ApiEntity.operations). */
  schemas: ApiSchemas;
}

export interface ImportOptions {
  /** The URL a link import fetched the document from (resolves relative server URLs). */
  sourceUrl?: string;
  translateRequiredQueryParameters?: 'template' | 'query';
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Follows local `$ref`s (`#/components/...`); external references are not followed, as in APIM. */
class RefResolver {
  readonly #doc: Obj;
  constructor(doc: Obj) {
    this.#doc = doc;
  }

  resolve(v: unknown, depth = 0): Obj | undefined {
    if (!isObj(v)) return undefined;
    const ref = v['$ref'];
    if (typeof ref !== 'string') return v;
    if (depth > 20 || !ref.startsWith('#/')) return undefined;
    let cur: unknown = this.#doc;
    for (const raw of ref.slice(2).split('/')) {
      const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObj(cur)) return undefined;
      cur = cur[part];
    }
    return this.resolve(cur, depth + 1);
  }
}

function refName(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  const ref = v['$ref'];
  if (typeof ref !== 'string') return undefined;
  const i = ref.lastIndexOf('/');
  return i >= 0 ? ref.slice(i + 1) : undefined;
}

function truncate(v: string | undefined, max: number): string | undefined {
  return v === undefined ? undefined : v.length > max ? v.slice(0, max) : v;
}

function scalarString(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

interface RawParameter {
  name: string;
  in: string;
  required: boolean;
  description?: string;
  schema?: Obj;
  /** Swagger 2 keeps type/enum/default on the parameter itself. */
  inline: Obj;
}

function parameterContract(p: RawParameter, refs: RefResolver, required: boolean): ParameterContract {
  const schema = p.schema ? refs.resolve(p.schema) : undefined;
  const src = schema ?? p.inline;
  const type = str(src['type']) ?? (p.schema && refName(p.schema) ? 'object' : 'string');
  const enumValues = Array.isArray(src['enum']) ? src['enum'].map((e) => scalarString(e) ?? '') : [];
  const c: ParameterContract = { name: p.name, type, required, values: enumValues };
  const description = str(p.description);
  if (description !== undefined) c.description = description;
  const def = scalarString(src['default']);
  if (def !== undefined) c.defaultValue = def;
  const typeName = p.schema ? refName(p.schema) : undefined;
  if (typeName !== undefined) c.typeName = typeName;
  return c;
}

function collectParameters(pathItem: Obj, op: Obj, refs: RefResolver): RawParameter[] {
  const byKey = new Map<string, RawParameter>();
  for (const list of [pathItem['parameters'], op['parameters']]) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const p = refs.resolve(entry);
      if (!p) continue;
      const name = str(p['name']);
      const where = str(p['in']);
      if (name === undefined || where === undefined) continue;
      const raw: RawParameter = { name, in: where, required: p['required'] === true || where === 'path', inline: p };
      const description = str(p['description']);
      if (description !== undefined) raw.description = description;
      if (isObj(p['schema'])) raw.schema = p['schema'] as Obj;
      // Operation-level parameters override path-level ones with the same name and location.
      byKey.set(`${where}:${name}`, raw);
    }
  }
  return [...byKey.values()];
}

function representations(content: unknown, refs: RefResolver): RepresentationContract[] {
  if (!isObj(content)) return [];
  const out: RepresentationContract[] = [];
  for (const [contentType, media] of Object.entries(content)) {
    const r: RepresentationContract = { contentType };
    const m = refs.resolve(media);
    const typeName = m ? refName(m['schema']) : undefined;
    if (typeName !== undefined) r.typeName = typeName;
    out.push(r);
  }
  return out;
}

function responseHeaders(headers: unknown, refs: RefResolver): ParameterContract[] {
  if (!isObj(headers)) return [];
  const out: ParameterContract[] = [];
  for (const [name, raw] of Object.entries(headers)) {
    const h = refs.resolve(raw) ?? {};
    const rp: RawParameter = { name, in: 'header', required: false, inline: h };
    const description = str(h['description']);
    if (description !== undefined) rp.description = description;
    if (isObj(h['schema'])) rp.schema = h['schema'] as Obj;
    out.push(parameterContract(rp, refs, h['required'] === true));
  }
  return out;
}

interface DocContext {
  kind: DocumentKind;
  refs: RefResolver;
  consumes: string[];
  produces: string[];
  translateQuery: boolean;
}

function mediaTypes(v: unknown, fallback: string[]): string[] {
  return Array.isArray(v) && v.length > 0 ? v.filter((x): x is string => typeof x === 'string') : fallback;
}

/** The JSON Schema keywords a Swagger 2 parameter or header carries on itself rather than under `schema`. */
const INLINE_SCHEMA_KEYS = [
  'type', 'format', 'items', 'enum', 'default', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength',
  'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'multipleOf', 'collectionFormat',
];

function inlineSchema(p: Obj): Json {
  const out: JsonObject = {};
  for (const k of INLINE_SCHEMA_KEYS) if (p[k] !== undefined) out[k] = p[k] as Json;
  return out;
}

/** A schema as the document wrote it (local `$ref`s kept; the gateway resolves them against ApiSchemas.root). */
function schemaOf(v: unknown): Json {
  return isObj(v) ? (v as JsonObject) : null;
}

function contentSchemas(content: unknown, refs: RefResolver): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (!isObj(content)) return out;
  for (const [contentType, media] of Object.entries(content)) out[contentType] = schemaOf(refs.resolve(media)?.['schema']);
  return out;
}

function headerSchemas(headers: unknown, refs: RefResolver, kind: DocumentKind): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (!isObj(headers)) return out;
  for (const [name, raw] of Object.entries(headers)) {
    const h = refs.resolve(raw) ?? {};
    out[name.toLowerCase()] = kind === 'openapi' ? schemaOf(h['schema']) : inlineSchema(h);
  }
  return out;
}

function operationSchemas(upper: string, op: Obj, params: RawParameter[], ctx: DocContext): OperationSchemas {
  const parameters: Record<string, Json> = {};
  let bodyParam: RawParameter | undefined;
  for (const p of params) {
    if (p.in === 'body') bodyParam = p;
    if (p.in !== 'path' && p.in !== 'query' && p.in !== 'header') continue;
    parameters[`${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`] = p.schema ? (p.schema as JsonObject) : inlineSchema(p.inline);
  }
  let request: Record<string, Json> = {};
  if (!BODYLESS.has(upper)) {
    if (ctx.kind === 'openapi') request = contentSchemas(ctx.refs.resolve(op['requestBody'])?.['content'], ctx.refs);
    else if (bodyParam) for (const t of mediaTypes(op['consumes'], ctx.consumes)) request[t] = schemaOf(bodyParam.schema);
  }
  const responses: OperationSchemas['responses'] = {};
  const rawResponses = isObj(op['responses']) ? op['responses'] : {};
  for (const [code, raw] of Object.entries(rawResponses)) {
    if (!/^\d{3}$/.test(code)) continue;
    const r = ctx.refs.resolve(raw) ?? {};
    const content: Record<string, Json> = {};
    if (ctx.kind === 'openapi') Object.assign(content, contentSchemas(r['content'], ctx.refs));
    else if (r['schema'] !== undefined) for (const t of mediaTypes(op['produces'], ctx.produces)) content[t] = schemaOf(r['schema']);
    responses[code] = { content, headers: headerSchemas(r['headers'], ctx.refs, ctx.kind) };
  }
  return { parameters, request, responses };
}

function buildOperation(method: string, path: string, pathItem: Obj, op: Obj, ctx: DocContext): Omit<ImportedOperation, 'name'> & { operationId?: string; schemas: OperationSchemas } {
  const upper = method.toUpperCase();
  const params = collectParameters(pathItem, op, ctx.refs);
  const templateParameters: ParameterContract[] = [];
  const queryParameters: ParameterContract[] = [];
  const headers: ParameterContract[] = [];
  const templateQuery: string[] = [];
  let bodyParam: RawParameter | undefined;
  const formParams: RawParameter[] = [];
  for (const p of params) {
    switch (p.in) {
      case 'path':
        templateParameters.push(parameterContract(p, ctx.refs, true));
        break;
      case 'query':
        if (p.required && ctx.translateQuery) {
          templateQuery.push(p.name);
          templateParameters.push(parameterContract(p, ctx.refs, true));
        } else {
          queryParameters.push(parameterContract(p, ctx.refs, p.required));
        }
        break;
      case 'header':
        headers.push(parameterContract(p, ctx.refs, p.required));
        break;
      case 'body':
        bodyParam = p;
        break;
      case 'formData':
        formParams.push(p);
        break;
      default:
        break; // cookie parameters are not modelled by APIM
    }
  }
  const urlTemplate = templateQuery.length > 0 ? `${path}?${templateQuery.map((q) => `${q}={${q}}`).join('&')}` : path;

  const request: RequestContract = { queryParameters, headers, representations: [] };
  if (!BODYLESS.has(upper)) {
    if (ctx.kind === 'openapi') {
      const body = ctx.refs.resolve(op['requestBody']);
      if (body) {
        const description = str(body['description']);
        if (description !== undefined) request.description = description;
        request.representations = representations(body['content'], ctx.refs);
      }
    } else if (bodyParam) {
      const typeName = bodyParam.schema ? refName(bodyParam.schema) : undefined;
      if (bodyParam.description !== undefined) request.description = bodyParam.description;
      request.representations = mediaTypes(op['consumes'], ctx.consumes).map((contentType) =>
        typeName !== undefined ? { contentType, typeName } : { contentType },
      );
    } else if (formParams.length > 0) {
      const types = mediaTypes(op['consumes'], ['application/x-www-form-urlencoded']);
      request.representations = types.map((contentType) => ({
        contentType,
        formParameters: formParams.map((p) => parameterContract(p, ctx.refs, p.required)),
      }));
    }
  }

  const responses: ResponseContract[] = [];
  const rawResponses = isObj(op['responses']) ? op['responses'] : {};
  for (const [code, raw] of Object.entries(rawResponses)) {
    // `default` and range codes (`2XX`) have no single status code in APIM's model and are left out.
    if (!/^\d{3}$/.test(code)) continue;
    const r = ctx.refs.resolve(raw) ?? {};
    const response: ResponseContract = { statusCode: Number(code), representations: [], headers: responseHeaders(r['headers'], ctx.refs) };
    const description = str(r['description']);
    if (description !== undefined) response.description = description;
    if (ctx.kind === 'openapi') {
      response.representations = representations(r['content'], ctx.refs);
    } else if (r['schema'] !== undefined) {
      const typeName = refName(r['schema']);
      response.representations = mediaTypes(op['produces'], ctx.produces).map((contentType) =>
        typeName !== undefined ? { contentType, typeName } : { contentType },
      );
    }
    responses.push(response);
  }

  const operationId = str(op['operationId']);
  const summary = truncate(str(op['summary']), 300);
  const properties: OperationProperties = {
    displayName: summary ?? (operationId !== undefined ? truncate(operationId, 300)! : generatedDisplayName(upper, urlTemplate)),
    method: upper,
    urlTemplate,
    templateParameters,
    responses,
  };
  const description = truncate(str(op['description']), 1000);
  if (description !== undefined) properties.description = description;
  if (request.description !== undefined || queryParameters.length > 0 || headers.length > 0 || request.representations.length > 0) {
    properties.request = request;
  }
  const tags = Array.isArray(op['tags']) ? op['tags'].filter((t): t is string => typeof t === 'string' && t !== '') : [];
  const result: Omit<ImportedOperation, 'name'> & { operationId?: string; schemas: OperationSchemas } = {
    properties,
    tags,
    signature: signatureOf(upper, urlTemplate),
    schemas: operationSchemas(upper, op, params, ctx),
  };
  if (operationId !== undefined) result.operationId = operationId;
  return result;
}

/** `GET /x/{id}` and `GET /x/{other}` are the same operation to APIM's router; case does not matter either. */
export function signatureOf(method: string, urlTemplate: string): string {
  return `${method.toUpperCase()} ${urlTemplate.toLowerCase().replace(/\{[^}]*\}/g, '{}')}`;
}

function substituteVariables(url: string, variables: unknown): string {
  if (!isObj(variables)) return url;
  return url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const v = variables[name];
    return isObj(v) && typeof v['default'] === 'string' ? v['default'] : whole;
  });
}

function serverUrlOas3(doc: Obj, sourceUrl: string | undefined): string | null {
  const servers = Array.isArray(doc['servers']) ? doc['servers'].filter(isObj) : [];
  const urls: string[] = [];
  for (const s of servers) {
    const raw = str(s['url']);
    if (raw === undefined) continue;
    let url = substituteVariables(raw, s['variables']);
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
      if (sourceUrl === undefined) continue;
      try {
        url = new URL(url, sourceUrl).toString();
      } catch {
        continue;
      }
    }
    urls.push(url);
  }
  return urls.find((u) => /^https:/i.test(u)) ?? urls.find((u) => /^http:/i.test(u)) ?? null;
}

function serviceUrlSwagger(doc: Obj, sourceUrl: string | undefined): string | null {
  const schemes = Array.isArray(doc['schemes']) ? doc['schemes'].filter((s): s is string => typeof s === 'string') : [];
  let host = str(doc['host']);
  let scheme = schemes.includes('https') ? 'https' : schemes[0];
  if (sourceUrl !== undefined) {
    const src = new URL(sourceUrl);
    host ??= src.host;
    scheme ??= src.protocol.replace(':', '');
  }
  if (host === undefined) return null;
  const basePath = str(doc['basePath']) ?? '';
  return `${scheme ?? 'http'}://${host}${basePath === '/' ? '' : basePath}`;
}

function protocolsSwagger(doc: Obj): string[] {
  const schemes = Array.isArray(doc['schemes']) ? doc['schemes'].filter((s): s is string => s === 'http' || s === 'https') : [];
  return schemes.length > 0 ? [...new Set(schemes)] : ['https'];
}

/** Tag resource ids derived from tag names (unverified: APIM's exact derivation; same rules as operation names). */
export function tagIdFor(name: string): string {
  const id = normalizeOperationName(name);
  return id === '' ? 'tag' : id;
}

export function importOpenApi(doc: Obj, kind: DocumentKind, options: ImportOptions = {}): ImportedApi {
  const refs = new RefResolver(doc);
  const ctx: DocContext = {
    kind,
    refs,
    consumes: mediaTypes(doc['consumes'], ['application/json']),
    produces: mediaTypes(doc['produces'], ['application/json']),
    translateQuery: options.translateRequiredQueryParameters !== 'query',
  };
  const info = isObj(doc['info']) ? doc['info'] : {};
  const namer = new OperationNamer();
  const operations: ImportedOperation[] = [];
  const schemaOperations: Record<string, OperationSchemas> = {};
  const bySignature = new Map<string, ImportedOperation[]>();
  const tagNames: string[] = [];
  if (Array.isArray(doc['tags'])) {
    for (const t of doc['tags']) if (isObj(t) && str(t['name']) !== undefined) tagNames.push(t['name'] as string);
  }

  const paths = isObj(doc['paths']) ? doc['paths'] : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = refs.resolve(rawItem);
    if (!item) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      const built = buildOperation(method, path, item, op, ctx);
      const base = built.operationId !== undefined ? normalizeOperationName(built.operationId) : generatedOperationName(method, built.properties.urlTemplate);
      let name: string;
      try {
        name = namer.assign(base === '' ? generatedOperationName(method, built.properties.urlTemplate) : base);
      } catch (err) {
        throw validationMessage(`Importing API has too many operations with the same name: ${(err as Error).message}`);
      }
      const imported: ImportedOperation = { name, properties: built.properties, tags: built.tags.map(tagIdFor), signature: built.signature };
      operations.push(imported);
      schemaOperations[name.toLowerCase()] = built.schemas;
      const same = bySignature.get(built.signature);
      if (same) same.push(imported);
      else bySignature.set(built.signature, [imported]);
      tagNames.push(...built.tags);
    }
  }

  for (const group of bySignature.values()) {
    if (group.length > 1) {
      const first = group[0]!.properties;
      throw validationMessage(`Importing API has duplicate signature operations: ${group.length} operations with signature '${first.method} ${first.urlTemplate}'`);
    }
  }

  const tags = new Map<string, ImportedTag>();
  for (const name of tagNames) {
    const id = tagIdFor(name);
    if (!tags.has(id)) tags.set(id, { id, displayName: name.slice(0, 160) });
  }

  return {
    displayName: truncate(str(info['title']), 300),
    description: str(info['description']) ?? null,
    serviceUrl: kind === 'openapi' ? serverUrlOas3(doc, options.sourceUrl) : serviceUrlSwagger(doc, options.sourceUrl),
    protocols: kind === 'openapi' ? ['https'] : protocolsSwagger(doc),
    operations,
    tags: [...tags.values()],
    schemas: {
      dialect: kind === 'swagger' ? 'swagger-2.0' : /^3\.1\./.test(String(doc['openapi'])) ? 'openapi-3.1' : 'openapi-3.0',
      root: kind === 'swagger' ? { definitions: schemaOf(doc['definitions']) ?? {} } : { components: { schemas: schemaOf(isObj(doc['components']) ? doc['components']['schemas'] : undefined) ?? {} } },
      operations: schemaOperations,
    },
  };
}
