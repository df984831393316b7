// What the import PUT sends: the format, the value (the document, or its URL for APIM to fetch), and a fingerprint
// of both that is stored on the API (api-mark.ts), so an unchanged document is never imported twice. Pure.
//
// Format rules (APIM's): Swagger 2.0 is imported as JSON only, so a Swagger 2.0 YAML document is converted; OpenAPI 3
// goes as openapi+json or openapi (YAML). Inline content is limited to 4 MB; link formats have no limit but need APIM
// to reach the URL: SPEC_IMPORT_MODE=inline never links, link always links a URL-given document, auto links only when
// the document is too large to send.
import { createHash } from 'node:crypto';
import type { SpecImportMode } from '../core/executor-config.ts';
import { INLINE_DOCUMENT_MAX_BYTES, importFormatOf, parseSpecDocument, type DocumentKind } from '../core/spec-document.ts';
import { canonicalJson } from '../core/spec-hash.ts';
import { permanent, type StepFailure } from './step-failure.ts';

export type ApimImportFormat = 'swagger-json' | 'openapi+json' | 'openapi' | 'swagger-link-json' | 'openapi+json-link' | 'openapi-link';

/** Bumped when what an import sends changes for the same document, so every API is imported again once. */
const IMPORT_SCHEME = 1;

export interface ResolvedDocument {
  text: string;
  /** The URL it was fetched from; absent for inline documents and generated pass-through documents. */
  url?: string;
}

export interface ImportPlan {
  format: ApimImportFormat;
  value: string;
  fingerprint: string;
  /** Size of the document as resolved (before any conversion). */
  documentBytes: number;
  link: boolean;
  /** Operations come from a generated wildcard document, not from a specification (docs/executor.md). */
  passThrough: boolean;
  /** Something worth telling the user, e.g. a conversion. */
  note?: string;
  /** Operations the document declares (method and path pairs); absent for a linked document (not parsed here). */
  operations?: number;
}

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Method and path pairs of a parsed OpenAPI or Swagger document: what APIM makes one operation each of. */
export function operationCount(doc: Record<string, unknown> | undefined): number | undefined {
  const paths = doc?.['paths'];
  if (!paths || typeof paths !== 'object') return undefined;
  let n = 0;
  for (const item of Object.values(paths as Record<string, unknown>)) {
    if (item && typeof item === 'object') n += Object.keys(item).filter((k) => OPERATION_METHODS.includes(k)).length;
  }
  return n;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Kind and syntax of a document too large to parse in the executor (above the inline limit it is only ever linked):
 * JSON starts with "{"; the version field is found by its key. A wrong guess makes APIM reject the import with its
 * own parsing error, so it cannot go unnoticed.
 */
export function sniffDocument(text: string): { kind: DocumentKind; json: boolean } | undefined {
  const json = text.trimStart().startsWith('{');
  if (json) {
    if (/"swagger"\s*:\s*"2\.0"/.test(text)) return { kind: 'swagger-2.0', json };
    const m = /"openapi"\s*:\s*"3\.([01])\./.exec(text);
    return m ? { kind: m[1] === '1' ? 'openapi-3.1' : 'openapi-3.0', json } : undefined;
  }
  if (/^swagger:\s*["']?2\.0/m.test(text)) return { kind: 'swagger-2.0', json };
  const m = /^openapi:\s*["']?3\.([01])\./m.exec(text);
  return m ? { kind: m[1] === '1' ? 'openapi-3.1' : 'openapi-3.0', json } : undefined;
}

function fingerprintOf(format: ApimImportFormat, documentHash: string, url: string | undefined): string {
  return sha256(canonicalJson({ scheme: IMPORT_SCHEME, format, documentHash, url: url ?? null }));
}

function counted(parsed: Record<string, unknown> | undefined): { operations?: number } {
  const n = operationCount(parsed);
  return n === undefined ? {} : { operations: n };
}

function linkFormat(kind: DocumentKind, json: boolean): ApimImportFormat {
  if (kind === 'swagger-2.0') return 'swagger-link-json';
  return json ? 'openapi+json-link' : 'openapi-link';
}

export function planImport(doc: ResolvedDocument, mode: SpecImportMode, passThrough = false): ImportPlan | StepFailure {
  const bytes = Buffer.byteLength(doc.text, 'utf8');
  const documentHash = sha256(doc.text);
  const tooLarge = bytes > INLINE_DOCUMENT_MAX_BYTES;
  const where = doc.url ? `the document at ${doc.url}` : 'the inline document';
  let problem: string | undefined;
  const kindOf = (): { kind: DocumentKind; json: boolean; parsed?: Record<string, unknown> } | undefined => {
    if (tooLarge) return sniffDocument(doc.text);
    // The webhook's parser, with its bounds: a YAML document whose aliases would expand it beyond
    // DOCUMENT_EXPANDED_MAX_BYTES is refused here too, before the conversion below could build it.
    const outcome = parseSpecDocument(doc.text);
    if (!outcome.ok) problem = outcome.problem;
    return outcome.ok ? { kind: outcome.parsed.kind, json: outcome.parsed.json, parsed: outcome.parsed.doc } : undefined;
  };
  const found = kindOf();
  if (!found) return permanent('InvalidSpecification', `${where} is not a Swagger 2.0 or OpenAPI 3.0/3.1 document APIM can import${problem ? `: it ${problem}` : ''}`);
  const wantLink = doc.url !== undefined && (mode === 'link' || (mode === 'auto' && tooLarge));
  const linkable = !(found.kind === 'swagger-2.0' && !found.json);
  if (wantLink && linkable) {
    const format = linkFormat(found.kind, found.json);
    return { format, value: doc.url!, fingerprint: fingerprintOf(format, documentHash, doc.url), documentBytes: bytes, link: true, passThrough };
  }
  if (tooLarge) {
    const fix = doc.url
      ? found.kind === 'swagger-2.0' && !found.json
        ? 'APIM links Swagger 2.0 only as JSON: publish the document as JSON'
        : 'set SPEC_IMPORT_MODE=auto or link so that APIM fetches it from its URL'
      : 'host it and give its URL (spec.specification.url) with SPEC_IMPORT_MODE=auto';
    return permanent('DocumentTooLarge', `${where} is ${bytes} bytes; APIM imports at most ${INLINE_DOCUMENT_MAX_BYTES} bytes (4 MB) inline: ${fix}`);
  }
  if (found.kind === 'swagger-2.0' && !found.json) {
    const format: ApimImportFormat = 'swagger-json';
    const value = JSON.stringify(found.parsed);
    // Within DOCUMENT_EXPANDED_MAX_BYTES, the JSON form can still exceed what APIM takes inline.
    if (Buffer.byteLength(value, 'utf8') > INLINE_DOCUMENT_MAX_BYTES) {
      return permanent('DocumentTooLarge', `${where} is ${Buffer.byteLength(value, 'utf8')} bytes as JSON (Swagger 2.0 YAML is converted: APIM imports Swagger 2.0 as JSON only); APIM imports at most ${INLINE_DOCUMENT_MAX_BYTES} bytes (4 MB) inline: publish it as JSON by URL with SPEC_IMPORT_MODE=auto or link, or shrink its YAML anchors' reuse`);
    }
    return {
      format,
      value,
      fingerprint: fingerprintOf(format, documentHash, undefined),
      documentBytes: bytes,
      link: false,
      passThrough,
      note: 'Swagger 2.0 YAML converted to JSON (APIM imports Swagger 2.0 as JSON only)',
      ...counted(found.parsed),
    };
  }
  const format = importFormatOf(found);
  return { format, value: doc.text, fingerprint: fingerprintOf(format, documentHash, undefined), documentBytes: bytes, link: false, passThrough, ...counted(found.parsed) };
}

/** Methods a pass-through API answers: scrapes are reads; MCP's Streamable HTTP transport uses GET, POST and DELETE. */
export const PASS_THROUGH_METHODS: Record<string, readonly string[]> = {
  prometheus: ['get'],
  openmetrics: ['get'],
  mcp: ['get', 'post', 'delete'],
};

/**
 * APIs without an OpenAPI document (prometheus, openmetrics, mcp) are published as a pass-through: one wildcard
 * operation `/*` per method, generated as a tiny OpenAPI document so creation and updates go through the same import
 * and fingerprint as documented APIs. Deterministic, so an unchanged API is never re-imported.
 */
export function passThroughDocument(apiType: string): string {
  const methods = PASS_THROUGH_METHODS[apiType] ?? ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
  const operations: Record<string, unknown> = {};
  for (const m of methods) {
    operations[m] = {
      operationId: `${m}-all`,
      summary: `${m.toUpperCase()} /* (passed through to the backend)`,
      responses: { default: { description: 'The backend\'s response' } },
    };
  }
  return JSON.stringify({
    openapi: '3.0.1',
    info: { title: `${apiType} API (pass-through)`, version: '1.0', description: `A ${apiType} API published by exposedapi-apim without an OpenAPI document: every path is passed through to the backend.` },
    paths: { '/*': operations },
  });
}
