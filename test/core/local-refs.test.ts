// core/local-refs.ts against swagger-parser, one hand-made document per rule: the verdict the product gives
// (documentProblems) must equal the one swagger-parser alone gives, and the local pass must settle the documents it
// claims to model (or it would be correct but no faster) and hand the others to swagger-parser.
import t from 'tap';
import { judgeLocally, refTokens } from '../../core/local-refs.ts';
import { documentProblems, parseSpecDocument } from '../../core/spec-document.ts';
import { referenceText, TMF620_V4, TMF620_V5, TMF671_V4, TMF672_V4 } from '../helpers/fixtures.ts';
import { referenceDocumentProblems } from '../helpers/reference-document-problems.ts';

type Obj = Record<string, any>;

/** A Swagger 2.0 document with one operation, GET `path`, whose parameters and responses the case fills in. */
function swagger(path: string, op: Obj, extra: Obj = {}): Obj {
  return { swagger: '2.0', info: { title: 'x', version: '1' }, paths: { [path]: { get: { operationId: 'op', responses: { '200': { description: 'ok' } }, ...op } } }, ...extra };
}

function openapi(components: Obj, responseSchema: Obj, version = '3.0.3'): Obj {
  return {
    openapi: version,
    info: { title: 'x', version: '1' },
    paths: { '/a': { get: { operationId: 'getA', responses: { '200': { description: 'ok', content: { 'application/json': { schema: responseSchema } } } } } } },
    components,
  };
}

/** `count` definitions, each holding the next in a property: a $ref chain the library crawls about three levels per link. */
function chain(count: number): Obj {
  const definitions: Obj = {};
  for (let i = 0; i < count; i++) definitions[`D${i}`] = { type: 'object', properties: i + 1 < count ? { next: { $ref: `#/definitions/D${i + 1}` } } : {} };
  return swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/D0' } } } }, { definitions });
}

/** `count` paths /p0 … with operations getP0 …; `broken` (if given) lacks the declaration of its path parameter. */
function manyPaths(count: number, broken?: number): Obj {
  const doc = swagger('/p0', {});
  doc.paths = {};
  for (let i = 0; i < count; i++) doc.paths[i === broken ? `/p${i}/{id}` : `/p${i}`] = { get: { operationId: `getP${i}`, responses: { '200': { description: 'ok' } } } };
  return doc;
}

const idParam = { name: 'id', in: 'path', required: true, type: 'string' };
const recursive = { Node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/definitions/Node' } } } } };

interface Case {
  name: string;
  doc: Obj;
  /** true: settled by the local pass; false: handed to swagger-parser. */
  local: boolean;
  /** What the semantic problem (the last one) says, or null for no problem at all. */
  problem: RegExp | null;
}

const cases: Case[] = [
  { name: 'plain $refs to definitions', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Pet' } } } }, { definitions: { Pet: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } }), local: true, problem: null },
  { name: 'an unresolved pointer', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Missing' } } } }, { definitions: {} }), local: false, problem: /^has a \$ref that does not resolve inside the document .*Missing \$ref pointer "#\/definitions\/Missing"/ },
  { name: 'an unresolved pointer in OpenAPI 3', doc: openapi({ schemas: { A: { type: 'object' } } }, { $ref: '#/components/schemas/B' }), local: false, problem: /^has a \$ref that does not resolve inside the document/ },
  { name: 'a pointer into a definition', doc: openapi({ schemas: { A: { type: 'object', properties: { b: { type: 'string' } } } } }, { $ref: '#/components/schemas/A/properties/b' }), local: true, problem: null },
  { name: 'escaped pointer tokens (~1 for "/", ~0 for "~")', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/a~1b~0c' } } } }, { definitions: { 'a/b~c': { type: 'object' } } }), local: true, problem: null },
  { name: '~01 is "~1", not "/"', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/a~01' } } } }, { definitions: { 'a~1': { type: 'object' } } }), local: true, problem: null },
  { name: 'a percent-encoded pointer', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Foo%20Bar' } } } }, { definitions: { 'Foo Bar': { type: 'object' } } }), local: true, problem: null },
  { name: 'a pointer with a literal space', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Foo Bar' } } } }, { definitions: { 'Foo Bar': { type: 'object' } } }), local: true, problem: null },
  { name: 'a pointer decoded twice by the library (%2520)', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Foo%2520Bar' } } } }, { definitions: { 'Foo Bar': { type: 'object' }, 'Foo%20Bar': { type: 'object' } } }), local: false, problem: null },
  { name: 'a malformed percent escape', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Foo%zz' } } } }, { definitions: { 'Foo%zz': { type: 'object' } } }), local: false, problem: /^is not a valid OpenAPI document: URI malformed/ },
  { name: 'a circular definition', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Node' } } } }, { definitions: recursive }), local: true, problem: null },
  {
    // With circular: 'ignore' the library leaves a $ref'd parameter whose schema reaches a cycle in place, and its spec
    // validator then reads the bare {$ref} as a parameter without a type: a valid document refused, today and here alike.
    name: 'a $ref\'d body parameter whose schema is circular',
    doc: swagger('/a', { parameters: [{ $ref: '#/parameters/Body' }] }, { parameters: { Body: { name: 'body', in: 'body', schema: { $ref: '#/definitions/Node' } } }, definitions: recursive }),
    local: false,
    problem: /^is not a valid OpenAPI document: Validation failed\. \/paths\/a\/get\/parameters\/undefined has an invalid type \(undefined\)/,
  },
  { name: 'duplicate parameters via $ref', doc: swagger('/a/{id}', { parameters: [{ $ref: '#/parameters/Id' }, { $ref: '#/parameters/IdAgain' }] }, { parameters: { Id: idParam, IdAgain: idParam } }), local: false, problem: /^is not a valid OpenAPI document: .*Found multiple path parameters named "id"/ },
  { name: 'a $ref\'d path parameter', doc: swagger('/a/{id}', { parameters: [{ $ref: '#/parameters/Id' }] }, { parameters: { Id: idParam } }), local: true, problem: null },
  { name: 'a path parameter mismatch via a $ref\'d parameter', doc: swagger('/a/{petId}', { parameters: [{ $ref: '#/parameters/Id' }] }, { parameters: { Id: idParam } }), local: false, problem: /has a path parameter named "id", but there is no corresponding \{id\} in the path string/ },
  {
    name: 'a required property missing in a $ref\'d allOf parent',
    doc: swagger('/a', {}, { definitions: { A: { type: 'object', required: ['x'], allOf: [{ $ref: '#/definitions/B' }] }, B: { type: 'object', properties: { y: { type: 'string' } } } } }),
    local: false,
    problem: /Property 'x' listed as required but does not exist in '\/definitions\/A'/,
  },
  { name: 'a required property found in a $ref\'d allOf parent', doc: swagger('/a', {}, { definitions: { A: { type: 'object', required: ['y'], allOf: [{ $ref: '#/definitions/B' }] }, B: { type: 'object', properties: { y: { type: 'string' } } } } }), local: true, problem: null },
  {
    name: 'a required property in a circular allOf parent (left as a $ref by the library, so not found)',
    doc: swagger('/a', {}, { definitions: { A: { type: 'object', required: ['y'], allOf: [{ $ref: '#/definitions/B' }] }, B: { type: 'object', properties: { y: { type: 'string' }, a: { $ref: '#/definitions/A' } } } } }),
    local: false,
    problem: /Property 'y' listed as required but does not exist in '\/definitions\/A'/,
  },
  { name: 'an extended $ref with a description (TM Forum style)', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { description: 'the pet', $ref: '#/definitions/Pet' } } } }, { definitions: { Pet: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } }), local: true, problem: null },
  { name: 'an extended $ref to a circular definition', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { description: 'a tree', $ref: '#/definitions/Node' } } } }, { definitions: recursive }), local: true, problem: null },
  { name: 'an extended $ref whose siblings the spec checks read', doc: swagger('/a', { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Pet', required: ['name'] } } } }, { definitions: { Pet: { type: 'object', properties: { id: { type: 'string' } } } } }), local: false, problem: null },
  { name: 'an extended $ref in OpenAPI 3', doc: openapi({ schemas: { A: { type: 'object' } } }, { $ref: '#/components/schemas/A', nullable: true }), local: true, problem: null },
  { name: 'a $ref to a $ref', doc: openapi({ schemas: { A: { $ref: '#/components/schemas/B' }, B: { type: 'object' } } }, { $ref: '#/components/schemas/A' }), local: false, problem: null },
  { name: 'a $ref chain of 100 definitions', doc: chain(100), local: true, problem: null },
  { name: 'a $ref chain deeper than the library crawls', doc: chain(400), local: false, problem: /^is not a valid OpenAPI document: Maximum dereference depth \(500\) exceeded/ },
  { name: 'operationIds spread over many parts of the spec checks', doc: manyPaths(1000), local: true, problem: null },
  { name: 'a path parameter error in a later part', doc: manyPaths(1000, 777), local: false, problem: /get is missing path parameter\(s\) for \{id\}/ },
  {
    name: 'the same operationId twice (far apart)',
    doc: (() => {
      const d = manyPaths(1000);
      d.paths['/p999'].get.operationId = 'getP1';
      return d;
    })(),
    local: false,
    problem: /^is not a valid OpenAPI document: Validation failed\. Duplicate operation id 'getP1'/,
  },
  { name: 'an OpenAPI version swagger-parser does not support', doc: openapi({}, { type: 'object' }, '3.0.9'), local: false, problem: /^is not a valid OpenAPI document: Unsupported OpenAPI version: 3\.0\.9/ },
  { name: 'OpenAPI 3.1 with a nested $id (references may be scoped by it)', doc: openapi({ schemas: { A: { $id: 'https://example.com/a', type: 'object' } } }, { $ref: '#/components/schemas/A' }, '3.1.0'), local: false, problem: null },
];

t.test('each rule: the same verdict as swagger-parser, settled locally where modelled', async (t) => {
  for (const c of cases) {
    const text = JSON.stringify(c.doc);
    const parsed = parseSpecDocument(text);
    t.ok(parsed.ok, `${c.name}: parses`);
    if (!parsed.ok) continue;
    const local = judgeLocally(parsed.parsed.doc);
    t.equal(local.pass, c.local, `${c.name}: ${c.local ? 'settled locally' : `handed to swagger-parser (${local.pass ? '' : local.unsure})`}`);
    const reference = await referenceDocumentProblems(text);
    t.ok(reference.semantic, `${c.name}: reaches the semantic checks`);
    const { problems } = await documentProblems(text);
    t.same(problems, reference.problems, `${c.name}: the problems swagger-parser gives`);
    if (c.problem === null) t.same(problems, [], `${c.name}: no problem`);
    else t.match(problems.at(-1), c.problem, `${c.name}: ${c.problem}`);
  }
});

t.test('the real TM Forum documents are settled locally', async (t) => {
  for (const file of [TMF620_V4, TMF620_V5, TMF672_V4, TMF671_V4]) {
    const parsed = parseSpecDocument(referenceText(file));
    t.match(parsed.ok && judgeLocally(parsed.parsed.doc), { pass: true }, file);
  }
});

t.test('pointer tokens as json-schema-ref-parser reads them', async (t) => {
  const table: [string, string[] | undefined][] = [
    ['#/definitions/Pet', ['definitions', 'Pet']],
    ['#/paths/~1pets~1{id}/get', ['paths', '/pets/{id}', 'get']],
    ['#/definitions/a~01', ['definitions', 'a~1']],
    ['#/definitions/Foo%20Bar', ['definitions', 'Foo Bar']],
    ['#/definitions/caf%C3%A9', ['definitions', 'café']],
    ['#/definitions/', ['definitions', '']],
    ['#/definitions/Foo%2520Bar', undefined], // decoded twice by the library
    ['#/definitions/Foo%zz', undefined], // URIError in the library
    ['#/definitions/a\tb', undefined], // URL parsing drops the tab
    ['#/definitions/a\\b', undefined], // the library turns it into a "/"
    ['#/definitions/a ', undefined], // trailing white space is appended again
    ['#', undefined],
    ['#definitions', undefined],
  ];
  for (const [ref, tokens] of table) t.same(refTokens(ref), tokens, JSON.stringify(ref));
});

t.test('a working directory that is not a plain path leaves the judgement to swagger-parser', async (t) => {
  const parsed = parseSpecDocument(JSON.stringify(chain(3)));
  t.match(parsed.ok && judgeLocally(parsed.parsed.doc, '/srv/a#b/'), { pass: false, unsure: /working directory/ });
});
