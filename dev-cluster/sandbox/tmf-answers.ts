// What the sandbox's sample backend answers to API calls: TM Forum resources, made from the documents it serves, so
// a call through the gateway returns data of the API's own shape (and passes response validation). A request path
// ending in one of a document's paths (`…/catalog`, `…/catalog/{id}`; the longest match wins) is answered with that
// operation's success response: a list of one resource for a collection GET, the resource for a GET or PATCH by id,
// the created resource (201) for a POST, nothing (204) for a DELETE. A resource carries id, href, @type, a name when
// its type has one, and a placeholder for every property its schema requires (recursively). Pure: the server in
// sample-backend.ts only transports.

type Schema = Record<string, unknown>;

interface Route {
  segments: string[];
  /** Method → success status and the schema of its body (undefined: no body). */
  methods: Map<string, { status: number; schema: Schema | undefined }>;
}

export interface TmfAnswer {
  status: number;
  body: unknown;
}

export interface TmfAnswers {
  answer(method: string, path: string, requestBody: string): TmfAnswer | undefined;
}

function refName(ref: unknown): string | undefined {
  return typeof ref === 'string' && ref.startsWith('#/definitions/') ? ref.slice('#/definitions/'.length) : undefined;
}

/** Swagger 2.0 documents (the TM Forum v4 APIs the examples use); other documents answer nothing. */
export function tmfAnswers(documents: string[]): TmfAnswers {
  const routes: { route: Route; definitions: Record<string, Schema> }[] = [];
  for (const text of documents) {
    let doc: Schema;
    try {
      doc = JSON.parse(text) as Schema;
    } catch {
      continue;
    }
    const definitions = (doc['definitions'] ?? {}) as Record<string, Schema>;
    for (const [path, ops] of Object.entries((doc['paths'] ?? {}) as Record<string, Record<string, Schema>>)) {
      const methods: Route['methods'] = new Map();
      for (const [method, op] of Object.entries(ops)) {
        const responses = (op['responses'] ?? {}) as Record<string, Schema>;
        const success = Object.keys(responses).filter((c) => /^2\d\d$/.test(c)).sort()[0];
        if (success) methods.set(method.toUpperCase(), { status: Number(success), schema: responses[success]!['schema'] as Schema | undefined });
      }
      routes.push({ route: { segments: path.split('/').filter((s) => s !== ''), methods }, definitions });
    }
  }
  routes.sort((a, b) => b.route.segments.length - a.route.segments.length);

  return {
    answer(method, path, requestBody) {
      const segments = path.split('?')[0]!.split('/').filter((s) => s !== '');
      for (const { route, definitions } of routes) {
        const op = route.methods.get(method.toUpperCase());
        if (!op || segments.length < route.segments.length) continue;
        const tail = segments.slice(segments.length - route.segments.length);
        if (!route.segments.every((s, i) => (s.startsWith('{') ? tail[i] !== '' : s === tail[i]))) continue;
        const idAt = route.segments.findIndex((s) => s.startsWith('{'));
        const id = idAt >= 0 ? decodeURIComponent(tail[idAt]!) : '1';
        const collection = `/${segments.slice(0, segments.length - route.segments.length + (idAt >= 0 ? idAt : route.segments.length)).join('/')}`;
        const make = (type: string): Schema => resource(definitions, type, id, `${collection}/${encodeURIComponent(id)}`, method === 'POST' ? requestBody : undefined);
        const schema = op.schema;
        if (!schema) return { status: op.status, body: undefined };
        const items = schema['type'] === 'array' ? refName((schema['items'] as Schema | undefined)?.['$ref']) : undefined;
        if (items) return { status: op.status, body: [make(items)] };
        const single = refName(schema['$ref']);
        return { status: op.status, body: single ? make(single) : {} };
      }
      return undefined;
    },
  };
}

function resource(definitions: Record<string, Schema>, type: string, id: string, href: string, posted: string | undefined): Schema {
  const schema = definitions[type] ?? {};
  const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
  let fromRequest: Schema = {};
  if (posted) {
    try {
      const v = JSON.parse(posted) as unknown;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) fromRequest = v as Schema;
    } catch {
      // A body that is no JSON object adds nothing.
    }
  }
  return {
    ...placeholder(definitions, schema, 0),
    ...('name' in properties ? { name: `${type} ${id}` } : {}),
    ...fromRequest,
    id,
    href,
    '@type': type,
  };
}

/** A value for a schema: its required properties filled, strings 'sample', numbers 0, dates now. */
function placeholder(definitions: Record<string, Schema>, schema: Schema, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
  for (const name of (schema['required'] ?? []) as string[]) out[name] = value(definitions, properties[name] ?? {}, depth + 1);
  return out;
}

function value(definitions: Record<string, Schema>, schema: Schema, depth: number): unknown {
  const ref = refName(schema['$ref']);
  if (ref) return depth > 5 ? {} : placeholder(definitions, definitions[ref] ?? {}, depth);
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  switch (schema['type']) {
    case 'array':
      return [];
    case 'object':
      return placeholder(definitions, schema, depth);
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    default:
      return schema['format'] === 'date-time' ? new Date(0).toISOString() : 'sample';
  }
}
