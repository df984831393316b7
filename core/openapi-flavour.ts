// Which OpenAPI a document declares. Its own file so that parsing a document (spec-document.ts, on every executor
// run) does not load the schema validator (openapi-schema.ts: ajv and the official schemas).
export type OasFlavour = 'v2' | 'v3' | 'v31';

export function flavourOf(doc: Record<string, unknown>): OasFlavour | undefined {
  if (doc['swagger'] === '2.0') return 'v2';
  const v = doc['openapi'];
  if (typeof v === 'string' && /^3\.0\.\d+/.test(v)) return 'v3';
  if (typeof v === 'string' && /^3\.1\.\d+/.test(v)) return 'v31';
  return undefined;
}
