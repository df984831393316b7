// No second full validation of an unchanged document: the mutating webhook's decision (in this process, with its
// real fetcher and checks) stamps the digest of the document it checked; the executor, run as a Job runs it against
// the APIM emulator and a real apiserver, resolves the document again and, on a match, only parses it for the import.
// A document changed at its URL after admission, or one admission recorded nothing for, gets the full checks and
// their error. A digest a tenant forges skips the checks of that tenant's own document only (APIM judges it on
// import), and never the bounds: a YAML alias bomb with a forged digest is still refused before it reaches APIM.
import t from 'tap';
import { documentDigest } from '../../core/document-digest.ts';
import { DOCUMENT_DIGEST_ANNOTATION } from '../../core/exposedapi-model.ts';
import { DocumentCheckCache } from '../../core/spec-document.ts';
import { SpecFetcher } from '../../core/spec-fetch.ts';
import { mutateDecision } from '../../webhook/mutate-decision.ts';
import { referenceText, swagger2, TMF620_V4 } from '../helpers/fixtures.ts';
import { armWrites, condition, executorBench, type RunResult } from './harness.ts';

type Obj = Record<string, any>;

const b = await executorBench(t);
const fetcher = new SpecFetcher({ allowPrivate: true, ca: b.specs.caPem });
const admission = { documents: new DocumentCheckCache(), fetch: (url: string) => fetcher.fetch(url), remoteMode: 'deny' as const };

function exposedApi(name: string, url: string): Obj {
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name, namespace: b.ns },
    spec: { name, apiType: 'openapi', implementation: `${name}-svc`, path: `/${name}/v1`, port: 8080, specification: { url } },
  };
}

/** What the mutating webhook leaves on a CREATE: the object with its patch applied (annotations only, here). */
async function admitted(obj: Obj): Promise<Obj> {
  const { response } = await mutateDecision({ uid: 'u', operation: 'CREATE', namespace: b.ns, name: obj['metadata'].name, object: obj }, { documents: admission });
  const ops = JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8') || '[]') as { path: string; value: any }[];
  const out = structuredClone(obj);
  const whole = ops.find((o) => o.path === '/metadata/annotations');
  out['metadata'].annotations = { ...whole?.value };
  return out;
}

const documentCheckLines = (r: RunResult) => r.logs.filter((l) => l['documentCheck'] !== undefined);
const fail = (r: RunResult) => `exit ${r.code}\n${r.stdout}${r.stderr}`;

t.test('TMF620 by URL, unchanged since admission: checked at admission, only parsed for the import', async (t) => {
  const text = referenceText(TMF620_V4);
  b.specs.put('tmf620.json', text);
  const obj = await admitted(exposedApi('catalog', b.specs.url('tmf620.json')));
  t.equal(obj['metadata'].annotations[DOCUMENT_DIGEST_ANNOTATION], documentDigest(text), 'admission stamped the digest of what it fetched');
  const { name, hash } = await b.put(obj);
  const skipped = await b.execute('apply', name, hash);
  t.equal(skipped.code, 0, fail(skipped));
  const validated = condition(await b.get(name), 'Validated');
  t.equal(validated?.['status'], 'True');
  t.match(validated?.['message'], `document checked at admission (sha256 ${documentDigest(text)})`, 'the condition says so');
  const [line] = documentCheckLines(skipped);
  t.match(line, { documentCheck: 'import-only', sha256: documentDigest(text) }, 'and the Job log');
  t.equal(b.emu.state().apis.find((a) => a.name === b.apiId(name))?.operations.length, 50, 'imported, every operation');

  // The same object without the digest (admitted before digests, or admission could not fetch it): full checks.
  const { [DOCUMENT_DIGEST_ANNOTATION]: _dropped, ...rest } = obj['metadata'].annotations;
  const unrecorded = { ...obj, metadata: { ...obj['metadata'], annotations: rest } };
  await b.cp.kubectl(['annotate', 'exposedapi.v1.oda.tmforum.org', name, '-n', b.ns, `${DOCUMENT_DIGEST_ANNOTATION}-`]);
  const again = await b.put(unrecorded);
  t.equal(again.hash, hash, 'the digest is not part of the spec hash');
  const full = await b.execute('apply', name, hash);
  t.equal(full.code, 0, fail(full));
  t.match(documentCheckLines(full)[0], { documentCheck: 'full', why: 'unrecorded' });
  t.match(condition(await b.get(name), 'Validated')?.['message'], 'document checked in full');
  const ms = (r: RunResult) => documentCheckLines(r)[0]?.['validationMs'];
  t.comment(`TMF620 by URL, the executor's validation (fetch included): ${ms(skipped)} ms checked at admission, ${ms(full)} ms checked in full`);
});

t.test('a document changed at its URL after admission gets the full checks and their error', async (t) => {
  const before = JSON.stringify(swagger2([['get', '/pets', 'listPets']]));
  const after = JSON.stringify(swagger2([['get', '/pets', 'listPets'], ['get', '/owners']])); // no operationId
  b.specs.put('pets.json', before);
  const obj = await admitted(exposedApi('pets', b.specs.url('pets.json')));
  t.equal(obj['metadata'].annotations[DOCUMENT_DIGEST_ANNOTATION], documentDigest(before));
  const { name, hash } = await b.put(obj);
  b.specs.put('pets.json', after);
  b.emu.requests.reset();
  const r = await b.execute('apply', name, hash);
  t.not(r.code, 0, 'the run fails');
  const validated = condition(await b.get(name), 'Validated');
  t.same([validated?.['status'], validated?.['reason']], ['False', 'Invalid']);
  t.match(validated?.['message'], /the document at this URL has 1 operation without an operationId .*GET \/owners/, 'the full checks\' error');
  t.match(documentCheckLines(r)[0], { documentCheck: 'full', why: 'changed', sha256: documentDigest(after) });
  t.same(armWrites(b.emu), {}, 'nothing written to APIM');
});

t.test("a forged digest skips the checks of the tenant's own document only; APIM judges it", async (t) => {
  const text = JSON.stringify(swagger2([['get', '/pets', 'listPets'], ['get', '/owners']])); // APIM imports it, we refuse it
  b.specs.put('forged.json', text);
  const obj = await admitted(exposedApi('forged', b.specs.url('forged.json')));
  t.equal(obj['metadata'].annotations[DOCUMENT_DIGEST_ANNOTATION], undefined, 'admission records nothing for a document with problems');
  // Tenants may write annotations: updates of annotations alone never reach the webhook.
  obj['metadata'].annotations[DOCUMENT_DIGEST_ANNOTATION] = documentDigest(text);
  const { name, hash } = await b.put(obj);
  const r = await b.execute('apply', name, hash);
  t.equal(r.code, 0, fail(r));
  t.match(documentCheckLines(r)[0], { documentCheck: 'import-only' });
  const api = b.emu.state().apis.find((a) => a.name === b.apiId(name));
  t.same(api?.operations.map((o) => o.name).sort(), ['get-owners', 'listpets'], "APIM named the operation without an id from method and path: only this API's business");
});

t.test('a forged digest never skips the bounds: a YAML alias bomb is refused before it reaches APIM', async (t) => {
  const letter = (i: number) => String.fromCharCode(97 + i);
  const bomb = 'swagger: "2.0"\ninfo: {title: bomb, version: "1"}\npaths: {}\n' +
    `x-a: &a ["${'x'.repeat(64)}","x","x","x","x","x","x","x","x"]\n` +
    Array.from({ length: 12 }, (_, i) => `x-${letter(i + 1)}: &${letter(i + 1)} [*${letter(i)},*${letter(i)},*${letter(i)},*${letter(i)}]`).join('\n') + '\n';
  b.specs.put('bomb.yaml', bomb);
  const obj = exposedApi('bomb', b.specs.url('bomb.yaml'));
  obj['metadata'].annotations = { [DOCUMENT_DIGEST_ANNOTATION]: documentDigest(bomb) };
  const { name, hash } = await b.put(obj);
  b.emu.requests.reset();
  const r = await b.execute('apply', name, hash);
  t.not(r.code, 0, 'the run fails');
  t.match(documentCheckLines(r)[0], { documentCheck: 'import-only' }, 'the document checks were skipped');
  const imported = condition(await b.get(name), 'Imported');
  t.same([imported?.['status'], imported?.['reason']], ['False', 'InvalidSpecification']);
  // The YAML parser's alias budget, or DOCUMENT_EXPANDED_MAX_BYTES (whichever trips first): the parse's bounds.
  t.match(imported?.['message'], /alias/i, 'the parse\'s bound refused it');
  t.same(armWrites(b.emu), {}, 'nothing written to APIM');
});
