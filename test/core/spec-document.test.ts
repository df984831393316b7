import t from 'tap';
import YAML from 'yaml';
import { apimOperationName, operationCollisionKey } from '../../core/operation-names.ts';
import { documentProblems, DocumentCheckCache, importFormatOf, INLINE_DOCUMENT_MAX_BYTES, parseSpecDocument } from '../../core/spec-document.ts';
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
  t.match(r1.problems[0], '6 operations have no operationId');
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
