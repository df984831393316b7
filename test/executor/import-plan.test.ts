// executor/import-plan.ts: the import format APIM needs for each document, links when configured or needed, Swagger
// 2.0 YAML converted to JSON, a fingerprint that moves with the document, and the pass-through document.
import t from 'tap';
import YAML from 'yaml';
import { passThroughDocument, planImport, sniffDocument, type ImportPlan } from '../../executor/import-plan.ts';
import { StepFailure } from '../../executor/step-failure.ts';
import { parseSpecDocument } from '../../core/spec-document.ts';
import { openapi3, referenceText, swagger2, TMF620_V4, TMF620_V5 } from '../helpers/fixtures.ts';

function plan(...args: Parameters<typeof planImport>): ImportPlan {
  const p = planImport(...args);
  if (p instanceof StepFailure) throw p;
  return p;
}

const swaggerJson = JSON.stringify(swagger2([['get', '/pets', 'listPets']]));
const openapiJson = JSON.stringify(openapi3());
const openapiYaml = YAML.stringify(openapi3());
const swaggerYaml = YAML.stringify(swagger2([['get', '/pets', 'listPets']]));

t.test('inline formats', async (t) => {
  t.equal(plan({ text: swaggerJson }, 'auto').format, 'swagger-json');
  t.equal(plan({ text: openapiJson }, 'auto').format, 'openapi+json');
  t.equal(plan({ text: openapiYaml }, 'auto').format, 'openapi');
  const tmf620v5 = plan({ text: referenceText(TMF620_V5) }, 'inline');
  t.equal(tmf620v5.format, 'openapi', 'TMF620 v5 (OpenAPI 3 YAML) goes as openapi');
  t.equal(tmf620v5.value, referenceText(TMF620_V5), 'sent as written');
  t.equal(plan({ text: referenceText(TMF620_V4) }, 'inline').format, 'swagger-json');
});

t.test('Swagger 2.0 YAML is converted to JSON', async (t) => {
  const p = plan({ text: swaggerYaml }, 'auto');
  t.equal(p.format, 'swagger-json');
  t.same(JSON.parse(p.value), YAML.parse(swaggerYaml));
  t.match(p.note, /converted to JSON/);
  const linked = plan({ text: swaggerYaml, url: 'https://specs.example.com/pets.yaml' }, 'link');
  t.equal(linked.format, 'swagger-json', 'APIM cannot link Swagger 2.0 YAML: sent inline, converted');
  t.equal(linked.link, false);
});

t.test('link formats: always with SPEC_IMPORT_MODE=link, only for large documents with auto, never with inline', async (t) => {
  const url = 'https://specs.example.com/doc';
  const l = plan({ text: swaggerJson, url }, 'link');
  t.same([l.format, l.value, l.link], ['swagger-link-json', url, true]);
  t.equal(plan({ text: openapiJson, url }, 'link').format, 'openapi+json-link');
  t.equal(plan({ text: openapiYaml, url }, 'link').format, 'openapi-link');
  t.equal(plan({ text: openapiJson, url }, 'auto').link, false, 'small documents stay inline with auto');
  t.equal(plan({ text: openapiJson }, 'link').link, false, 'an inline document has no URL to link');
  const big = JSON.stringify({ ...openapi3(), 'x-padding': 'x'.repeat(4.5 * 1024 * 1024) });
  const auto = plan({ text: big, url }, 'auto');
  t.same([auto.format, auto.link], ['openapi+json-link', true], 'above 4 MB auto links');
  const inline = planImport({ text: big, url }, 'inline');
  t.ok(inline instanceof StepFailure && !inline.info.retriable, 'above 4 MB inline is a permanent failure …');
  t.match((inline as StepFailure).message, /APIM imports at most 4194304 bytes \(4 MB\) inline: set SPEC_IMPORT_MODE=auto or link/, '… that says how to fix it');
  const noUrl = planImport({ text: big }, 'auto');
  t.match((noUrl as StepFailure).message, /host it and give its URL/);
});

t.test('large documents are classified without parsing them', async (t) => {
  t.same(sniffDocument(swaggerJson), { kind: 'swagger-2.0', json: true });
  t.same(sniffDocument(openapiJson), { kind: 'openapi-3.0', json: true });
  t.same(sniffDocument(JSON.stringify(openapi3(undefined, '3.1.0'))), { kind: 'openapi-3.1', json: true });
  t.same(sniffDocument(openapiYaml), { kind: 'openapi-3.0', json: false });
  t.same(sniffDocument(swaggerYaml), { kind: 'swagger-2.0', json: false });
  t.equal(sniffDocument('{"hello": "world"}'), undefined);
  t.ok(planImport({ text: '{"hello": "world"}' }, 'auto') instanceof StepFailure, 'not an OpenAPI document');
});

t.test('the fingerprint moves with the document, the format and the link, and only with them', async (t) => {
  const a = plan({ text: openapiJson }, 'auto').fingerprint;
  t.match(a, /^[0-9a-f]{64}$/);
  t.equal(plan({ text: openapiJson }, 'auto').fingerprint, a, 'deterministic');
  t.not(plan({ text: JSON.stringify(openapi3([['get', '/cats', 'listCats']])) }, 'auto').fingerprint, a, 'a changed document');
  t.not(plan({ text: openapiJson, url: 'https://a.example/x' }, 'link').fingerprint, a, 'inline vs link');
  t.not(plan({ text: openapiJson, url: 'https://a.example/x' }, 'link').fingerprint, plan({ text: openapiJson, url: 'https://b.example/x' }, 'link').fingerprint, 'another URL');
});

t.test('pass-through document: a wildcard operation per method, valid and stable', async (t) => {
  for (const [apiType, methods] of [['prometheus', ['get']], ['openmetrics', ['get']], ['mcp', ['get', 'post', 'delete']]] as const) {
    const text = passThroughDocument(apiType);
    t.equal(passThroughDocument(apiType), text, `${apiType}: deterministic`);
    const parsed = parseSpecDocument(text);
    t.ok(parsed.ok, `${apiType}: an OpenAPI document`);
    if (!parsed.ok) continue;
    t.same(parsed.parsed.operations.map((o) => `${o.method} ${o.path} ${o.operationId}`), methods.map((m) => `${m} /* ${m}-all`), `${apiType}: ${methods.join(', ')} on /*`);
    const p = plan({ text }, 'auto', true);
    t.same([p.format, p.passThrough], ['openapi+json', true]);
  }
});

t.test('Swagger 2.0 YAML is converted with the admission bound on alias expansion', async (t) => {
  // One anchored definition of ~100 kB referenced 120 times: 12 MB of JSON once converted (issue 9: 1.9 MB × 250
  // became a 477 MB body and the Job died of memory).
  const lines = ['swagger: "2.0"', 'info: {title: amplified, version: "1"}', 'paths: {}', 'definitions:', '  Big: &big', '    type: object', '    properties:'];
  for (let i = 0; i < 1100; i++) lines.push(`      field${i}: {type: string, description: "${'d'.repeat(60)}"}`);
  for (let i = 0; i < 120; i++) lines.push(`  Copy${i}: *big`);
  const amplified = `${lines.join('\n')}\n`;
  const refused = planImport({ text: amplified }, 'auto');
  t.ok(refused instanceof StepFailure, 'refused before the conversion builds it');
  t.match((refused as StepFailure).info, { retriable: false, reason: 'InvalidSpecification', message: /the inline document is not a Swagger 2\.0 or OpenAPI 3\.0\/3\.1 document APIM can import: it is a \d+-byte YAML document whose 120 aliases expand it to more than 8388608 bytes as JSON/ });

  // Within the bound but over APIM's inline limit once converted: refused with the size, not sent.
  const within = lines.slice(0, 7 + 1100).concat(Array.from({ length: 45 }, (_, i) => `  Copy${i}: *big`)).join('\n');
  const tooLarge = planImport({ text: within }, 'auto');
  t.match((tooLarge as StepFailure).info, { retriable: false, reason: 'DocumentTooLarge', message: /as JSON \(Swagger 2\.0 YAML is converted.*APIM imports at most 4194304 bytes/ });
});
