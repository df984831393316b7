// The document digest: what admission records (admittedDocumentDigest) and what the executor decides from it
// (decideDocumentCheck, AdmissionCheckedDocuments). Table-driven; the checks run for real unless a row needs a
// checker that fails in a way a real document cannot (transient, never answering).
import t from 'tap';
import { createHash } from 'node:crypto';
import { admittedDocumentDigest, AdmissionCheckedDocuments, decideDocumentCheck, describeDocumentCheck, documentDigest, type DigestContext } from '../../core/document-digest.ts';
import { readExposedApi } from '../../core/exposedapi-model.ts';
import { DocumentCheckCache, type DocumentChecker, type DocumentVerdict } from '../../core/spec-document.ts';
import type { FetchOutcome } from '../../core/spec-fetch.ts';
import { exposedApi, openapi3, swagger2 } from '../helpers/fixtures.ts';

const good = JSON.stringify(swagger2());
const goodDigest = createHash('sha256').update(Buffer.from(good, 'utf8')).digest('hex');
// APIM would import it (naming the operation from method and path), admission refuses it: no operationId.
const noOperationId = JSON.stringify(swagger2([['get', '/pets']]));

t.test('the digest is SHA-256 over the UTF-8 bytes, in lower-case hex', async (t) => {
  const table: [string, string][] = [
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    // "é" is two bytes in UTF-8 (c3 a9): hashing UTF-16 code units or Latin-1 would give another digest.
    ['é', createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest('hex')],
  ];
  for (const [text, digest] of table) t.equal(documentDigest(text), digest, JSON.stringify(text));
});

t.test('decision: a matching digest skips the full checks; absent, malformed or another digest does not', async (t) => {
  const table: { name: string; recorded: string | undefined; text: string; want: ReturnType<typeof decideDocumentCheck> }[] = [
    { name: 'match', recorded: goodDigest, text: good, want: { check: 'import-only', digest: goodDigest } },
    { name: 'absent (admission could not check it)', recorded: undefined, text: good, want: { check: 'full', digest: goodDigest, reason: 'unrecorded' } },
    { name: 'another document (changed at its URL)', recorded: goodDigest, text: noOperationId, want: { check: 'full', digest: documentDigest(noOperationId), reason: 'changed', recorded: goodDigest } },
    { name: 'one byte more (a trailing newline)', recorded: goodDigest, text: `${good}\n`, want: { check: 'full', digest: documentDigest(`${good}\n`), reason: 'changed', recorded: goodDigest } },
    { name: 'upper-case hex is not what the webhook writes', recorded: goodDigest.toUpperCase(), text: good, want: { check: 'full', digest: goodDigest, reason: 'malformed', recorded: goodDigest.toUpperCase() } },
    { name: 'prefixed', recorded: `sha256:${goodDigest}`, text: good, want: { check: 'full', digest: goodDigest, reason: 'malformed', recorded: `sha256:${goodDigest}` } },
    { name: 'truncated', recorded: goodDigest.slice(0, 63), text: good, want: { check: 'full', digest: goodDigest, reason: 'malformed', recorded: goodDigest.slice(0, 63) } },
    { name: 'with a newline', recorded: `${goodDigest}\n`, text: good, want: { check: 'full', digest: goodDigest, reason: 'malformed', recorded: `${goodDigest}\n` } },
    { name: 'empty', recorded: '', text: good, want: { check: 'full', digest: goodDigest, reason: 'malformed', recorded: '' } },
  ];
  for (const c of table) t.same(decideDocumentCheck(c.recorded, c.text), c.want, c.name);
});

t.test('the description names the digests a person compares', async (t) => {
  t.match(describeDocumentCheck(decideDocumentCheck(goodDigest, good)), `document checked at admission (sha256 ${goodDigest})`);
  t.match(describeDocumentCheck(decideDocumentCheck(goodDigest, noOperationId)), `changed since admission checked sha256 ${goodDigest}`);
  t.match(describeDocumentCheck(decideDocumentCheck(undefined, good)), 'admission recorded no digest');
  t.match(describeDocumentCheck(decideDocumentCheck('nope', good)), 'the recorded digest "nope" is not a SHA-256 in hex');
});

/** A full checker that counts what it is asked. */
function countingChecker(): DocumentChecker & { asked: string[] } {
  const inner = new DocumentCheckCache();
  const asked: string[] = [];
  return { asked, check: (text) => (asked.push(text), inner.check(text)) };
}

t.test("the executor's checker: the recorded document is not checked; any other is, with the real problems", async (t) => {
  const recordedForBad = documentDigest(noOperationId);
  const table: { name: string; recorded: string | undefined; text: string; fullChecks: number; problems: RegExp | undefined }[] = [
    { name: 'unchanged valid document', recorded: goodDigest, text: good, fullChecks: 0, problems: undefined },
    // A forged digest (tenants can write annotations) skips the checks of the tenant's own document; APIM judges it.
    { name: 'forged digest of an invalid document', recorded: recordedForBad, text: noOperationId, fullChecks: 0, problems: undefined },
    { name: 'changed document', recorded: goodDigest, text: noOperationId, fullChecks: 1, problems: /without an operationId/ },
    { name: 'unrecorded', recorded: undefined, text: noOperationId, fullChecks: 1, problems: /without an operationId/ },
    { name: 'malformed', recorded: 'x', text: noOperationId, fullChecks: 1, problems: /without an operationId/ },
    { name: 'unrecorded valid document', recorded: undefined, text: good, fullChecks: 1, problems: undefined },
  ];
  for (const c of table) {
    const full = countingChecker();
    const documents = new AdmissionCheckedDocuments(c.recorded, full);
    const verdict = await documents.check(c.text);
    t.equal(full.asked.length, c.fullChecks, `${c.name}: full checks`);
    if (c.problems) t.match(verdict.problems.join('\n'), c.problems, `${c.name}: problems`);
    else t.same(verdict.problems, [], `${c.name}: no problems`);
    t.equal(documents.decisions.length, 1, `${c.name}: one decision recorded`);
    t.equal(documents.decisions[0]!.check, c.fullChecks === 0 ? 'import-only' : 'full', `${c.name}: decision`);
  }
});

t.test('admission records a digest only for a document it checked and found valid', async (t) => {
  const url = 'https://specs.example.com/pets.json';
  const served: Record<string, FetchOutcome> = {
    'https://specs.example.com/pets.json': { kind: 'ok', text: good, fromCache: false },
    'https://specs.example.com/bad.json': { kind: 'ok', text: noOperationId, fromCache: false },
    'https://specs.example.com/down.json': { kind: 'unreachable', reason: 'connect ECONNREFUSED' },
    'https://specs.example.com/private.json': { kind: 'refused', reason: 'resolves to a private address' },
  };
  const inline = JSON.stringify(openapi3());
  const transient: DocumentChecker = { check: async (): Promise<DocumentVerdict> => ({ problems: ['could not be checked: the checker timed out'], transient: true }) };
  const table: { name: string; spec: Record<string, unknown>; ctx?: Partial<DigestContext>; want: string | undefined; fetched: number }[] = [
    { name: 'URL, valid document', spec: { specification: { url } }, want: goodDigest, fetched: 1 },
    { name: 'URL, document with problems (REMOTE_SPEC_CHECK=warn admits it)', spec: { specification: { url: 'https://specs.example.com/bad.json' } }, ctx: { remoteMode: 'warn' }, want: undefined, fetched: 1 },
    { name: 'URL, unreachable', spec: { specification: { url: 'https://specs.example.com/down.json' } }, want: undefined, fetched: 1 },
    { name: 'URL, refused', spec: { specification: { url: 'https://specs.example.com/private.json' } }, ctx: { remoteMode: 'warn' }, want: undefined, fetched: 1 },
    { name: 'URL, REMOTE_SPEC_CHECK=off', spec: { specification: { url } }, ctx: { remoteMode: 'off' }, want: undefined, fetched: 0 },
    { name: 'URL, no fetcher (offline)', spec: { specification: { url } }, ctx: { fetch: undefined }, want: undefined, fetched: 0 },
    { name: 'not an http(s) URL is not fetched', spec: { specification: { url: 'ftp://specs.example.com/pets.json' } }, want: undefined, fetched: 0 },
    { name: 'inline, valid', spec: { specification: inline }, want: documentDigest(inline), fetched: 0 },
    { name: 'inline, with problems', spec: { specification: noOperationId }, want: undefined, fetched: 0 },
    { name: 'inline, checker answered transiently', spec: { specification: inline }, ctx: { documents: transient }, want: undefined, fetched: 0 },
    { name: 'two URLs: the first is the one imported', spec: { specification: [url, 'https://specs.example.com/bad.json'] }, want: goodDigest, fetched: 1 },
    { name: 'prometheus: no document', spec: { apiType: 'prometheus', specification: undefined }, want: undefined, fetched: 0 },
    { name: 'openapi without a document', spec: { specification: undefined }, want: undefined, fetched: 0 },
    { name: 'served by the implementation: read by the Job from its pods, never at admission', spec: { specification: { url: 'http://ctk-prodcatapi.components.svc:8080/v3/api-docs' } }, want: undefined, fetched: 0 },
  ];
  for (const c of table) {
    const fetched: string[] = [];
    const ctx: DigestContext = {
      documents: new DocumentCheckCache(),
      fetch: async (u) => (fetched.push(u), served[u] ?? { kind: 'unreachable', reason: 'not served' }),
      remoteMode: 'deny',
      ...c.ctx,
    };
    const model = readExposedApi(exposedApi({ spec: c.spec })).model;
    t.equal(await admittedDocumentDigest(model, ctx, 10_000), c.want, c.name);
    t.equal(fetched.length, c.fetched, `${c.name}: fetches`);
  }
});

t.test('a check that does not answer within the budget records nothing (and does not hold the mutation)', async (t) => {
  const never: DocumentChecker = { check: () => new Promise<DocumentVerdict>(() => undefined) };
  const model = readExposedApi(exposedApi({ spec: { specification: good } })).model;
  const started = performance.now();
  t.equal(await admittedDocumentDigest(model, { documents: never, remoteMode: 'deny' }, 50), undefined);
  t.ok(performance.now() - started < 5000, 'answered after the budget, not after the check');
});
