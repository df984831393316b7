// documentProblems as it was before core/local-refs.ts: swagger-parser judges every document that reaches the semantic
// checks. The differential tests (test/core/openapi-corpus.test.ts, test/core/local-refs.test.ts) hold the product to it.
import { schemaViolations } from '../../core/openapi-schema.ts';
import { capList } from '../../core/operation-names.ts';
import { externalRefs, operationIdProblems, parseSpecDocument, signatureProblems, swaggerParserProblems } from '../../core/spec-document.ts';

/** The problems, and whether the document reached the semantic checks (where the two paths differ in method). */
export async function referenceDocumentProblems(text: string): Promise<{ problems: string[]; semantic: boolean }> {
  const outcome = parseSpecDocument(text);
  if (!outcome.ok) return { problems: [outcome.problem], semantic: false };
  const { doc, kind, operations } = outcome.parsed;
  const problems = [...operationIdProblems(operations), ...signatureProblems(operations)];
  const external = externalRefs(doc);
  const violations = external.length > 0 ? [] : schemaViolations(doc);
  if (external.length > 0) problems.push(`has $ref values outside the document (APIM does not follow external references; bundle the document first): ${capList(external.map((r) => JSON.stringify(r)), 3)}`);
  else if (violations.length > 0) problems.push(`does not match the ${kind} schema: ${violations.join('; ')}`);
  else problems.push(...(await swaggerParserProblems(doc)));
  return { problems, semantic: external.length === 0 && violations.length === 0 };
}
