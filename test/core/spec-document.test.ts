import t from 'tap';
import YAML from 'yaml';
import { apimOperationName, operationCollisionKey } from '../../core/operation-names.ts';
import { DOCUMENT_EXPANDED_MAX_BYTES, documentProblems, DocumentCheckCache, importFormatOf, INLINE_DOCUMENT_MAX_BYTES, parseSpecDocument, type DocumentVerdict } from '../../core/spec-document.ts';
import { expandedJsonBytes, parseYamlBounded } from '../../core/yaml-expansion.ts';
import { openapi3, referenceText, swagger2, TMF620_V4, TMF620_V5, TMF671_V4, TMF672_V4 } from '../helpers/fixtures.ts';

t.test("APIM's operation name normalization", async (t) => {
  const table: [string, string][] = [
    ['listPets', 'listpets'],
    ['list_pets', 'list-pets'],
    ['List Pets!!', 'list-pets'],
    ['--retrieve.productOffering--', 'retrieve-productoffering'],
    ['a'.repeat(100), 'a'.repeat(76)],
    ['ÜberAPI', 'berapi'],
  ];
  for (const [id, name] of table) t.equal(apimOperationName(id), name, id);
  t.equal(operationCollisionKey('listPets'), operationCollisionKey('list_pets'), 'listPets and list_pets collide');
  t.not(operationCollisionKey('listPets'), operationCollisionKey('listPet'));
});

t.test('the real TM Forum documents pass, with their import formats', async (t) => {
  const expected: [string, string, number][] = [
    [TMF620_V4, 'swagger-json', 50],
    [TMF620_V5, 'openapi', 59],
    [TMF672_V4, 'swagger-json', 18],
    [TMF671_V4, 'swagger-json', 12],
  ];
  for (const [file, format, operations] of expected) {
    const { summary, problems } = await documentProblems(referenceText(file));
    t.same(problems, [], file);
    t.equal(summary && importFormatOf(summary), format, `${file} format`);
    t.equal(summary?.operations.length, operations, `${file} operations`);
  }
});

t.test('documents APIM cannot import cleanly are rejected with the operations named', async (t) => {
  const missing = swagger2([['get', '/productOffering'], ['post', '/productOffering'], ['get', '/catalog'], ['get', '/a'], ['get', '/b'], ['get', '/c'], ['get', '/d', 'getD']]);
  const r1 = await documentProblems(JSON.stringify(missing));
  t.match(r1.problems[0], 'has 6 operations without an operationId');
  t.match(r1.problems[0], 'GET /productOffering, POST /productOffering, GET /catalog, GET /a, GET /b and 1 more');

  const collide = openapi3([['get', '/pets', 'listPets'], ['get', '/animals/pets', 'list_pets'], ['post', '/pets', 'createPet']]);
  const r2 = await documentProblems(YAML.stringify(collide));
  t.match(r2.problems.join(' '), 'GET /pets ("listPets") vs GET /animals/pets ("list_pets")');

  const r3 = await documentProblems(JSON.stringify({ swagger: '2.0', info: { title: 'x' }, paths: {} }));
  t.match(r3.problems.join(' '), 'does not match the swagger-2.0 schema', 'schema violations (info.version missing)');

  const ext = openapi3([['get', '/a', 'getA']]);
  (ext.paths['/a'].get as any).responses['200'] = { $ref: 'https://elsewhere.example.com/responses.yaml#/ok' };
  const r4 = await documentProblems(JSON.stringify(ext));
  t.ok(r4.problems.length > 0, 'an external $ref is refused (APIM does not follow them)');

  const sameSignature = openapi3([['get', '/items/{id}', 'getItem'], ['get', '/Items/{itemId}', 'getItemAgain'], ['post', '/items/{id}', 'postItem']]);
  for (const p of Object.values<any>(sameSignature.paths)) for (const op of Object.values<any>(p)) op.parameters = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
  (sameSignature.paths['/Items/{itemId}'].get as any).parameters[0].name = 'itemId';
  const r6 = await documentProblems(JSON.stringify(sameSignature));
  t.match(r6.problems.join(' '), 'same method and URL template (case and parameter names do not count): GET /items/{id} and GET /Items/{itemId}', 'duplicate APIM signatures are refused before APIM does');
  t.notMatch(r6.problems.join(' '), 'POST', 'a different method is a different operation');

  const badParams = swagger2([['get', '/pets/{id}', 'getPet']]);
  const r5 = await documentProblems(JSON.stringify(badParams));
  t.match(r5.problems.join(' '), 'not a valid OpenAPI document', 'a path parameter without a declaration is a semantic error');
});

t.test('parsing and classification', async (t) => {
  t.match(parseSpecDocument('{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{}}'), { ok: true, parsed: { kind: 'openapi-3.1', json: true } });
  t.match(parseSpecDocument('openapi: 3.0.1\ninfo: {title: x, version: "1"}\npaths: {}\n'), { ok: true, parsed: { kind: 'openapi-3.0', json: false } });
  const swaggerYaml = parseSpecDocument('swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\n');
  t.equal(swaggerYaml.ok && importFormatOf(swaggerYaml.parsed), 'swagger-json', 'Swagger 2.0 is always imported as JSON');
  t.match(parseSpecDocument('openapi: 4.0.0\n'), { ok: false, problem: /supported are Swagger 2.0, OpenAPI 3.0.x and 3.1.x/ });
  t.match(parseSpecDocument('{"broken": '), { ok: false, problem: /parseable JSON/ });
  t.match(parseSpecDocument('just words'), { ok: false, problem: /nor an OpenAPI document/ });
  const big = JSON.stringify({ swagger: '2.0', info: { title: 'x', version: '1' }, paths: {}, 'x-pad': 'a'.repeat(INLINE_DOCUMENT_MAX_BYTES) });
  t.match(parseSpecDocument(big), { ok: false, problem: /4 MB/ });
  const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n');
  const started = Date.now();
  const r = parseSpecDocument(bomb);
  t.notOk(r.ok, 'a YAML alias bomb is refused');
  t.ok(Date.now() - started < 5000, 'and quickly');
});

t.test('results are cached by content', async (t) => {
  const cache = new DocumentCheckCache(2);
  const a = JSON.stringify(swagger2([['get', '/a', 'getA']]));
  const b = JSON.stringify(swagger2([['get', '/b']]));
  t.same((await cache.check(a)).problems, []);
  t.equal((await cache.check(b)).problems.length, 1);
  await cache.check(a);
  t.equal(cache.hits, 1);
  t.equal(cache.misses, 2);
});

t.test('a checker that could not judge a document is never cached as its verdict', async (t) => {
  const answers: DocumentVerdict[] = [
    { problems: ['could not be checked within 5000 ms (DOCUMENT_CHECK_TIMEOUT_MS); simplify the document or reference a smaller one'], transient: true },
    { problems: ['could not be checked: checking it exhausted the document checker (SIGABRT); a document this demanding cannot be imported reliably'], transient: true },
    { problems: [] },
  ];
  let calls = 0;
  const cache = new DocumentCheckCache(4, async () => answers[calls++]!);
  const doc = JSON.stringify(swagger2());
  t.same(await cache.check(doc), answers[0], 'a timeout is reported, as transient');
  t.same(await cache.check(doc), answers[1], 'and checked again next time: a crash is reported, as transient');
  t.same(await cache.check(doc), { problems: [] }, 'the real verdict once the checker manages');
  t.same(await cache.check(doc), { problems: [] }, 'which is cached');
  t.equal(calls, 3);
  t.same([cache.misses, cache.hits], [3, 1]);
});

/** A Swagger 2.0 YAML document with one large anchored definition, referenced `references` times (issue 9's attack). */
function aliasAmplified(anchorBytes: number, references: number): string {
  const lines = ['swagger: "2.0"', 'info: {title: amplified, version: "1"}', 'paths:', '  /a:', '    get:', '      operationId: getA', '      responses:', '        "200":', '          description: ok', 'definitions:', '  Big: &big', '    type: object', '    properties:'];
  for (let i = 0, size = 0; size < anchorBytes; i++) {
    const line = `      field${i}: {type: string, description: "${'d'.repeat(80)}"}`;
    lines.push(line);
    size += line.length + 1;
  }
  for (let i = 0; i < references; i++) lines.push(`  Copy${i}: *big`);
  return `${lines.join('\n')}\n`;
}

t.test('YAML alias expansion is bounded by expanded size, not alias count', async (t) => {
  // The attack of issue 9: a 1.9 MB Swagger YAML whose one anchor, referenced 250 times, expands to ~477 MB of JSON.
  const attack = aliasAmplified(1_900_000, 250);
  t.ok(attack.length > 1_900_000 && attack.length < INLINE_DOCUMENT_MAX_BYTES, 'under the 4 MB inline limit as text');
  const heapBefore = process.memoryUsage().heapUsed;
  const r = parseSpecDocument(attack); // seconds: the yaml parser itself is slow on 20,000 lines; the bound costs ~0.1 s
  t.notOk(r.ok, 'refused');
  t.match(!r.ok && r.problem, new RegExp(`YAML document whose 250 aliases expand it to more than ${DOCUMENT_EXPANDED_MAX_BYTES} bytes as JSON .*\\$ref .*instead of YAML anchors`), 'the bound and the fix are named');
  t.ok(process.memoryUsage().heapUsed - heapBefore < 200 * 1048576, 'without building the 477 MB expansion');
  const verdict = await documentProblems(aliasAmplified(100_000, 120));
  t.match(verdict.problems, [/expand it to more than/], 'documentProblems reports it as the one problem (the field error of spec.specification)');

  const cases: { name: string; text: string; ok: boolean }[] = [
    { name: 'no aliases at all', text: 'swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\n', ok: true },
    { name: 'ordinary anchor reuse (a shared response, a few times)', text: aliasAmplified(2_000, 20), ok: true },
    { name: 'a mid-sized anchor referenced often, still within the bound', text: aliasAmplified(100_000, 60), ok: true },
    { name: 'a small document amplified past the bound', text: aliasAmplified(100_000, 120), ok: false },
  ];
  for (const c of cases) t.equal(parseSpecDocument(c.text).ok, c.ok, c.name);

  const circular = parseSpecDocument('swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\ndefinitions: &d\n  Self: *d\n');
  t.match(circular, { ok: false, problem: /contains itself through an alias/ }, 'a document that contains itself is refused (JSON cannot express it)');
});

t.test('expandedJsonBytes measures what JSON.stringify would write, counting shared objects each time', async (t) => {
  const shared = { a: 'x'.repeat(100), n: [1, 2.5, true, null] };
  const values: unknown[] = [{}, [], 'text', 42, { k: 'v' }, [shared, shared, shared], { one: shared, two: { again: shared } }];
  for (const v of values) t.equal(expandedJsonBytes(v, 1e9), JSON.stringify(v).length, JSON.stringify(v).slice(0, 60));
  t.ok(expandedJsonBytes([shared, shared, shared], 50)! > 50, 'stops past the limit, reporting more than it');
  const loop: Record<string, unknown> = {};
  loop['self'] = loop;
  t.equal(expandedJsonBytes(loop, 1e9), undefined, 'a structure that contains itself');
  t.same(parseYamlBounded('a: &x [1, 2]\nb: *x\n', 1000), { ok: true, value: { a: [1, 2], b: [1, 2] } });
  t.match(parseYamlBounded('a: &x [1, 2]\nb: *x\n', 10), { ok: false, reason: 'expansion', aliases: 1 });
});

t.test('every problem is a predicate of the document, so it reads after "the document at this URL" and "it"', async (t) => {
  const texts: Record<string, string> = {
    'no operationId': JSON.stringify(swagger2([['get', '/a'], ['get', '/b'], ['get', '/c']])),
    'id without letters': JSON.stringify(openapi3([['get', '/a', '--']])),
    'colliding ids': YAML.stringify(openapi3([['get', '/pets', 'listPets'], ['get', '/animals/pets', 'list_pets']])),
    'same signature': JSON.stringify(openapi3([['get', '/items', 'getItems'], ['get', '/ITEMS', 'getItemsAgain']])),
    'schema violation': JSON.stringify({ swagger: '2.0', info: { title: 'x' }, paths: {} }),
    'not a document': '{ not json',
    'too large': JSON.stringify({ openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: {}, pad: 'x'.repeat(INLINE_DOCUMENT_MAX_BYTES) }),
  };
  for (const [name, text] of Object.entries(texts)) {
    const { problems } = await documentProblems(text);
    t.ok(problems.length > 0, `${name}: refused`);
    for (const p of problems) t.match(p, /^(has|is|does) /, `${name}: "the document at this URL ${p.slice(0, 60)}…"`);
  }
  const { problems } = await documentProblems(texts['no operationId']!);
  t.match(problems[0], /^has 3 operations without an operationId \(APIM would name them/);
});
