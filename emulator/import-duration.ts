// How long an import stays in progress. Real imports are slow and grow with the document, which is what a client's
// polling cadence and retry budget must survive; a fixed short delay hides exactly those bugs. Data points:
// - a 2,969-byte OpenAPI document (the recorded session in ../shared/reference/apim/recorded/OpenApiTest.json, 2020):
//   PUT at 21:37:43, the first poll at 21:38:13 already answered 201, so it took at most 30 s;
// - "large specs (500+ paths) exceed the existing 60-second provisioning state timeout" (Azure/apiops-cli PR #112);
// - 132 operations, or a 1.7 MB Swagger document, take over 2 minutes (stephaneey/azure-apim-extension #126);
// - 340–670 KB documents (10k–20k lines) take more than 7.5 minutes on a Developer SKU (Azure/apiops-cli #251).
// The 'realistic' model is a straight line through them: a fixed 15 s plus 1.35 s per 1,000 bytes of document text,
// so 3 KB → 19 s (≤ 30 s), TMF620 v4 (349 KB) → about 8 min (> 7.5 min), 670 KB → 15.5 min. unverified: the shape
// of the curve between the points, and the cap of 30 minutes for the largest (4 MB inline or bigger linked)
// documents, where no public measurement exists.

export type ImportDuration = number | 'realistic';

export const REALISTIC_BASE_MS = 15_000;
export const REALISTIC_MS_PER_KB = 1_350;
export const REALISTIC_CAP_MS = 30 * 60 * 1000;

/** The realistic duration of importing a document of this many bytes. */
export function realisticImportDurationMs(bytes: number): number {
  return Math.min(REALISTIC_CAP_MS, Math.round(REALISTIC_BASE_MS + (Math.max(0, bytes) / 1000) * REALISTIC_MS_PER_KB));
}

/**
 * The duration of one import: `importDurationMs` when set (a number is fixed, 'realistic' follows the document's
 * size), otherwise the service's `importDelayMs` (the fixed form existing callers use).
 */
export function importDurationMs(setting: ImportDuration | undefined, importDelayMs: number, documentBytes: number): number {
  if (setting === undefined) return importDelayMs;
  if (setting === 'realistic') return realisticImportDurationMs(documentBytes);
  return setting;
}

/** Checks a value given for `importDurationMs` (admin API, CLI); undefined when valid, else what is wrong. */
export function importDurationProblem(value: unknown): string | undefined {
  if (value === 'realistic') return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return undefined;
  return `'importDurationMs' must be a non-negative number of milliseconds or 'realistic' (scaled by document size); got ${JSON.stringify(value)}`;
}
