// An OpenAPI document given inline or fetched: parsed (JSON or YAML), classified (Swagger 2.0, OpenAPI 3.0, 3.1) and
// checked the way APIM will need it: every operation has an operationId and the ids stay distinct after APIM's name
// normalization; the document is structurally valid (JSON schema) and semantically valid (swagger-parser).
import { createHash } from 'node:crypto';
import { isObject, type JsonObject } from './object-reader.ts';
import { flavourOf } from './openapi-flavour.ts';
import { capList, listOperations, operationCollisionKey, operationLabel, type DocumentOperation } from './operation-names.ts';
import { parseYamlBounded } from './yaml-expansion.ts';

/** APIM's limit on an inline import. */
export const INLINE_DOCUMENT_MAX_BYTES = 4 * 1024 * 1024;
/**
 * How large a YAML document may become once its aliases are written out, measured as JSON (core/yaml-expansion.ts):
 * twice APIM's inline limit, room for a JSON form larger than the YAML text and for ordinary anchor use, while one
 * anchor repeated hundreds of times is refused before anything expands it.
 */
export const DOCUMENT_EXPANDED_MAX_BYTES = 2 * INLINE_DOCUMENT_MAX_BYTES;

export type DocumentKind = 'swagger-2.0' | 'openapi-3.0' | 'openapi-3.1';
/** The APIM import format for the document as it will be sent (Swagger 2.0 is always sent as JSON). */
export type ImportFormat = 'swagger-json' | 'openapi+json' | 'openapi';

export interface ParsedDocument {
  kind: DocumentKind;
  /** True when the text was JSON (false: YAML). */
  json: boolean;
  doc: JsonObject;
  operations: DocumentOperation[];
  bytes: number;
}

export type ParseOutcome = { ok: true; parsed: ParsedDocument } | { ok: false; problem: string };

export function importFormatOf(parsed: Pick<ParsedDocument, 'kind' | 'json'>): ImportFormat {
  if (parsed.kind === 'swagger-2.0') return 'swagger-json';
  return parsed.json ? 'openapi+json' : 'openapi';
}

export function parseSpecDocument(text: string): ParseOutcome {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > INLINE_DOCUMENT_MAX_BYTES) {
    return { ok: false, problem: `is ${bytes} bytes; APIM imports at most ${INLINE_DOCUMENT_MAX_BYTES} bytes (4 MB) inline — host it and give its URL instead` };
  }
  const trimmed = text.trimStart();
  const json = trimmed.startsWith('{');
  let doc: unknown;
  try {
    if (json) doc = JSON.parse(text);
    else {
      const yaml = parseYamlBounded(text, DOCUMENT_EXPANDED_MAX_BYTES);
      if (!yaml.ok) return { ok: false, problem: expansionProblem(yaml, bytes) };
      doc = yaml.value;
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return {
      ok: false,
      problem: `is neither an absolute http(s) URL nor a parseable ${json ? 'JSON' : 'YAML'} OpenAPI document (${msg})`,
    };
  }
  if (!isObject(doc)) {
    return { ok: false, problem: 'is neither an absolute http(s) URL nor an OpenAPI document (expected a JSON/YAML object with "swagger: 2.0" or "openapi: 3.x")' };
  }
  const flavour = flavourOf(doc);
  if (!flavour) {
    const v = doc['openapi'] ?? doc['swagger'];
    return {
      ok: false,
      problem: v === undefined
        ? 'is not an OpenAPI document: it has no "swagger: \\"2.0\\"" or "openapi: 3.x.y" field'
        : `declares OpenAPI version ${JSON.stringify(v)}; supported are Swagger 2.0, OpenAPI 3.0.x and 3.1.x`,
    };
  }
  const kind: DocumentKind = flavour === 'v2' ? 'swagger-2.0' : flavour === 'v3' ? 'openapi-3.0' : 'openapi-3.1';
  return { ok: true, parsed: { kind, json, doc, operations: listOperations(doc), bytes } };
}

function expansionProblem(refused: Exclude<ReturnType<typeof parseYamlBounded>, { ok: true }>, bytes: number): string {
  const fix = 'write repeated parts once and point to them with $ref (#/definitions, #/components) instead of YAML anchors and aliases';
  if (refused.reason === 'circular') {
    return `is a YAML document that contains itself through an alias (${refused.aliases} alias${refused.aliases === 1 ? '' : 'es'}), which JSON and APIM cannot express; ${fix}`;
  }
  return `is a ${bytes}-byte YAML document whose ${refused.aliases} alias${refused.aliases === 1 ? '' : 'es'} expand it to more than ${DOCUMENT_EXPANDED_MAX_BYTES} bytes as JSON (the limit for a document with aliases, twice APIM's 4 MB inline limit); ${fix}`;
}

/** Problems with operationIds, each naming the operations concerned. */
export function operationIdProblems(operations: DocumentOperation[]): string[] {
  const problems: string[] = [];
  const missing = operations.filter((o) => o.operationId === undefined).map(operationLabel);
  if (missing.length > 0) {
    problems.push(
      `has ${missing.length} operation${missing.length === 1 ? '' : 's'} without an operationId (APIM would name ${missing.length === 1 ? 'it' : 'them'} from method and path, and rename ${missing.length === 1 ? 'it' : 'them'} whenever the path changes): ${capList(missing)}; give every operation a unique operationId`,
    );
  }
  const empty = operations.filter((o) => o.operationId !== undefined && operationCollisionKey(o.operationId) === '');
  if (empty.length > 0) {
    problems.push(`has operationIds with no letters or digits, which cannot name an APIM operation: ${capList(empty.map((o) => `${operationLabel(o)} (${JSON.stringify(o.operationId)})`))}`);
  }
  const byKey = new Map<string, DocumentOperation[]>();
  for (const o of operations) {
    if (o.operationId === undefined) continue;
    const key = operationCollisionKey(o.operationId);
    if (key === '') continue;
    const list = byKey.get(key) ?? [];
    list.push(o);
    byKey.set(key, list);
  }
  const collisions = [...byKey.values()].filter((l) => l.length > 1);
  if (collisions.length > 0) {
    const described = collisions.map((l) => l.map((o) => `${operationLabel(o)} (${JSON.stringify(o.operationId)})`).join(' vs '));
    problems.push(
      `has ${collisions.length} group${collisions.length === 1 ? '' : 's'} of operationIds that collide after APIM's name normalization (lower-case, separators dropped): ${capList(described, 3)}; make them differ in letters or digits`,
    );
  }
  return problems;
}

/** `$ref` values that point outside the document, which APIM's import does not follow. */
export function externalRefs(doc: unknown, max = 5): string[] {
  const found: string[] = [];
  const stack: unknown[] = [doc];
  while (stack.length > 0 && found.length < max) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const v of node) if (v !== null && typeof v === 'object') stack.push(v);
    } else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) found.push(v);
        else if (v !== null && typeof v === 'object') stack.push(v);
      }
    }
  }
  return found;
}

/**
 * APIM identifies an operation by method and URL template, case-insensitively and ignoring parameter names, and
 * refuses an import with two of the same ("Importing API has duplicate signature operations").
 */
export function signatureProblems(operations: DocumentOperation[]): string[] {
  const bySignature = new Map<string, DocumentOperation[]>();
  for (const o of operations) {
    const key = `${o.method.toUpperCase()} ${o.path.toLowerCase().replace(/\{[^}]*\}/g, '{}')}`;
    const list = bySignature.get(key) ?? [];
    list.push(o);
    bySignature.set(key, list);
  }
  const duplicates = [...bySignature.values()].filter((l) => l.length > 1);
  if (duplicates.length === 0) return [];
  const described = duplicates.map((l) => l.map(operationLabel).join(' and '));
  return [`has operations APIM cannot import, with the same method and URL template (case and parameter names do not count): ${capList(described, 3)}; merge them or make the paths differ`];
}

/**
 * Semantic checks (every internal $ref resolves; for Swagger 2.0 duplicate parameters, path parameter mismatches, …);
 * never fetches. core/local-refs.ts settles most documents in one pass over each object; whatever it is not sure of,
 * swagger-parser judges and words (on a fresh parse when the local pass has dereferenced `doc` in place). Either way
 * `doc` is consumed.
 */
async function semanticProblems(doc: JsonObject, text: string): Promise<string[]> {
  const { judgeLocally } = await import('./local-refs.ts');
  const local = judgeLocally(doc);
  if (local.pass) return [];
  if (!local.dereferenced) return swaggerParserProblems(doc);
  const fresh = parseSpecDocument(text);
  return swaggerParserProblems(fresh.ok ? fresh.parsed.doc : doc);
}

/**
 * swagger-parser's verdict (it dereferences `doc` in place: a copy would cost a tenth of the time on large documents):
 * what semanticProblems falls back to, and the reference the differential corpus test holds it to.
 */
export async function swaggerParserProblems(doc: JsonObject): Promise<string[]> {
  const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
  try {
    await SwaggerParser.validate(doc as never, {
      resolve: { external: false },
      dereference: { circular: 'ignore' },
      validate: { schema: false, spec: true },
    } as never);
    return [];
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/Error resolving \$ref|Missing \$ref pointer|external/i.test(msg)) {
      return [`has a $ref that does not resolve inside the document (APIM does not follow external references): ${msg.split('\n')[0]}`];
    }
    return [`is not a valid OpenAPI document: ${msg.split('\n').slice(0, 3).join(' ')}`];
  }
}

/** What documentProblems reports about a document it could parse (not the document: it is consumed by the checks). */
export type DocumentSummary = Omit<ParsedDocument, 'doc'>;

/**
 * All document problems, each a predicate of the document ("has …", "is …", "does not …"), so that it reads after the
 * field's value ("spec.specification: Invalid value: …: has 3 operations without an operationId …"), after "the
 * document at this URL" and after the executor's "it".
 * Callers that need the document itself parse it with parseSpecDocument.
 */
export async function documentProblems(text: string): Promise<{ summary?: DocumentSummary; problems: string[] }> {
  const outcome = parseSpecDocument(text);
  if (!outcome.ok) return { problems: [outcome.problem] };
  const { parsed } = outcome;
  const problems = [...operationIdProblems(parsed.operations), ...signatureProblems(parsed.operations)];
  const external = externalRefs(parsed.doc);
  // The validators load on the first check (their own bundle chunks): an executor run whose document admission
  // already checked (core/document-digest.ts) only parses it, and never loads them.
  const { schemaViolations } = await import('./openapi-schema.ts');
  const violations = schemaViolations(parsed.doc);
  if (external.length > 0) {
    problems.push(`has $ref values outside the document (APIM does not follow external references; bundle the document first): ${capList(external.map((r) => JSON.stringify(r)), 3)}`);
  } else if (violations.length > 0) {
    problems.push(`does not match the ${parsed.kind} schema: ${violations.join('; ')}`);
  } else {
    // Last use of parsed.doc as written: it may be dereferenced in place. Callers get the operations list, kind and size.
    problems.push(...(await semanticProblems(parsed.doc, text)));
  }
  const { doc: _consumed, ...summary } = parsed;
  return { summary, problems };
}

/**
 * A judgement of a document. `transient`: the problems say the document could not be checked this time (the checker
 * timed out, crashed, was shutting down), not what is wrong with it — such an answer is never cached as its verdict,
 * so a document that failed under load (or under someone else's pathological document) is checked again next time.
 */
export interface DocumentVerdict {
  problems: string[];
  transient?: boolean;
}

/** Anything that can judge a document: in-process here, or in a separate process (the webhook's checker). */
export interface DocumentChecker {
  check(text: string): Promise<DocumentVerdict>;
}

/** Texts up to this size are cache keys themselves (no hashing on a hit); longer ones are keyed by SHA-256. */
const IDENTITY_KEY_MAX_CHARS = 512 * 1024;
/** At most this many characters of document text are held as keys, so the cache stays small in memory. */
const IDENTITY_KEY_BUDGET_CHARS = 4 * 1024 * 1024;

/**
 * Document checks cost tens of milliseconds for a large document, and the same text arrives again and again
 * (mutate then validate, dry-run then apply, every re-apply, a fetched URL). Verdicts are kept by content.
 */
export class DocumentCheckCache implements DocumentChecker {
  // Only the verdict is kept: a parsed document can be many times its text in memory.
  private readonly entries = new Map<string, { problems: string[] }>();
  private readonly max: number;
  private identityChars = 0;
  private readonly inner: (text: string) => Promise<DocumentVerdict>;
  // Checks running now, by text: N identical concurrent misses (mutate and validate of one apply, a burst of the same
  // manifest) share one check instead of occupying N checker processes. Holds only texts already in flight.
  private readonly inFlight = new Map<string, Promise<DocumentVerdict>>();
  hits = 0;
  misses = 0;
  /** Checks answered by joining an identical check already running. */
  joined = 0;

  constructor(max = 32, inner: (text: string) => Promise<DocumentVerdict> = documentProblems) {
    this.max = max;
    this.inner = inner;
  }

  async check(text: string): Promise<DocumentVerdict> {
    // Map lookups by a long string are cheap: V8 hashes long strings by length, and the same string object (a
    // fetched document) compares by pointer; an equal copy compares by memcmp, far cheaper than hashing.
    const cached = this.entries.get(text) ?? (text.length > IDENTITY_KEY_MAX_CHARS || this.identityChars > 0 ? this.entries.get(this.hashKey(text)) : undefined);
    if (cached) {
      this.hits++;
      return cached;
    }
    const running = this.inFlight.get(text);
    if (running) {
      this.joined++;
      return running;
    }
    this.misses++;
    const miss = this.checkMiss(text);
    this.inFlight.set(text, miss);
    return miss.finally(() => this.inFlight.delete(text));
  }

  private async checkMiss(text: string): Promise<DocumentVerdict> {
    const verdict = await this.inner(text);
    if (verdict.transient) return { problems: verdict.problems, transient: true };
    const result = { problems: verdict.problems };
    const identity = text.length <= IDENTITY_KEY_MAX_CHARS && this.identityChars + text.length <= IDENTITY_KEY_BUDGET_CHARS;
    const key = identity ? text : this.hashKey(text);
    if (identity) this.identityChars += text.length;
    this.entries.set(key, result);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      if (!oldest.startsWith('sha256:') || oldest.length !== 71) this.identityChars -= oldest.length;
    }
    return result;
  }

  private hashKey(text: string): string {
    return `sha256:${createHash('sha256').update(text).digest('hex')}`;
  }
}
