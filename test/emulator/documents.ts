// Documents the import tests send: the OpenAPI 3 petstore of the recorded real session, a Swagger 2 petstore shaped
// like the one the REST spec's examples import, and a local HTTP server for the link formats.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readReference } from './harness.ts';
import type { Teardown } from './harness.ts';

export interface RecordedEntry {
  RequestUri: string;
  RequestMethod: string;
  RequestBody: string;
  ResponseHeaders: Record<string, string[]>;
  ResponseBody: string;
  StatusCode: number;
}

export async function recordedSession(): Promise<RecordedEntry[]> {
  return (JSON.parse(await readReference('apim/recorded/OpenApiTest.json')) as { Entries: RecordedEntry[] }).Entries;
}

/** The OpenAPI 3 YAML petstore the recorded session imported (inline, format "openapi"). */
export async function recordedPetstoreYaml(): Promise<string> {
  const entries = await recordedSession();
  const put = entries.find((e) => e.RequestMethod === 'PUT' && /\/apis\/[^/?]+\?/.test(e.RequestUri))!;
  return (JSON.parse(put.RequestBody) as { properties: { value: string } }).properties.value;
}

export function swaggerPetstore(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    swagger: '2.0',
    info: {
      title: 'Swagger Petstore',
      version: '1.0.0',
      description:
        'This is a sample server Petstore server.  You can find out more about Swagger at [http://swagger.io](http://swagger.io) or on [irc.freenode.net, #swagger](http://swagger.io/irc/).  For this sample, you can use the api key `special-key` to test the authorization filters.',
    },
    host: 'petstore.swagger.io',
    basePath: '/v2',
    schemes: ['http'],
    tags: [{ name: 'pet' }, { name: 'store' }],
    paths: {
      '/pet': {
        post: { tags: ['pet'], summary: 'Add a new pet to the store', operationId: 'addPet', consumes: ['application/json', 'application/xml'], parameters: [{ in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/Pet' } }], responses: { '405': { description: 'Invalid input' } } },
        put: { tags: ['pet'], summary: 'Update an existing pet', operationId: 'updatePet', parameters: [{ in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/Pet' } }], responses: { '400': { description: 'Invalid ID supplied' } } },
      },
      '/pet/findByStatus': {
        get: { tags: ['pet'], summary: 'Finds Pets by status', operationId: 'findPetsByStatus', produces: ['application/json'], parameters: [{ name: 'status', in: 'query', required: true, type: 'array', items: { type: 'string' } }], responses: { '200': { description: 'successful operation', schema: { type: 'array', items: { $ref: '#/definitions/Pet' } } } } },
      },
      '/pet/{petId}': {
        get: { tags: ['pet'], summary: 'Find pet by ID', operationId: 'getPetById', parameters: [{ name: 'petId', in: 'path', required: true, type: 'integer', format: 'int64' }], responses: { '200': { description: 'successful operation', schema: { $ref: '#/definitions/Pet' } } } },
        delete: { tags: ['pet'], summary: 'Deletes a pet', operationId: 'deletePet', parameters: [{ name: 'api_key', in: 'header', required: false, type: 'string' }, { name: 'petId', in: 'path', required: true, type: 'integer' }], responses: { '404': { description: 'Pet not found' } } },
      },
      '/store/inventory': {
        get: { tags: ['store'], summary: 'Returns pet inventories by status', operationId: 'getInventory', responses: { '200': { description: 'successful operation', schema: { type: 'object' } } } },
      },
    },
    definitions: { Pet: { type: 'object', required: ['name'], properties: { id: { type: 'integer' }, name: { type: 'string' } } } },
    ...overrides,
  };
}

export interface DocumentServer {
  base: string;
  /** Paths requested so far. */
  hits: string[];
}

/** Serves documents by path on loopback (plain http, as a link import may use); anything else is 404. */
export async function serveDocuments(t: Teardown, docs: Record<string, string>): Promise<DocumentServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const doc = docs[req.url ?? ''];
    if (doc === undefined) res.writeHead(404).end('not found');
    else res.writeHead(200, { 'content-type': req.url?.endsWith('.json') ? 'application/json' : 'application/yaml' }).end(doc);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}
