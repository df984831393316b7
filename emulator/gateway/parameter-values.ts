// From the text of a path, query or header parameter to the JSON value its schema describes, before the schema
// check: integers, numbers and booleans are parsed; arrays are split (Swagger's collectionFormat — csv by default,
// ssv, tsv, pipes — and OpenAPI's form style, where repeated parameters and commas both separate items); anything else
// stays a string. A value that cannot be parsed is APIM's "cannot be parsed according to the definition" case.
import type { ApiSchemas, Json } from '../service-model.ts';
import { resolveTop } from './schema-validation.ts';

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

function typeOf(schema: Record<string, unknown> | undefined): string | undefined {
  const t = schema?.['type'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  return undefined;
}

function scalar(text: string, type: string | undefined): Parsed {
  switch (type) {
    case 'integer':
      return /^[+-]?\d+$/.test(text.trim()) ? { ok: true, value: Number(text) } : { ok: false, message: `Could not convert '${text}' to integer.` };
    case 'number':
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim()) ? { ok: true, value: Number(text) } : { ok: false, message: `Could not convert '${text}' to number.` };
    case 'boolean':
      if (/^true$/i.test(text.trim())) return { ok: true, value: true };
      if (/^false$/i.test(text.trim())) return { ok: true, value: false };
      return { ok: false, message: `Could not convert '${text}' to boolean.` };
    default:
      return { ok: true, value: text };
  }
}

const SEPARATORS: Record<string, string> = { csv: ',', ssv: ' ', tsv: '\t', pipes: '|' };

/** Parses the values a request carries for one parameter; `multiple` is set when more than one was sent. */
export function parseParameter(schemas: ApiSchemas | undefined, schema: Json, values: string[]): Parsed & { array: boolean } {
  const top = schemas ? resolveTop(schemas, schema) : (schema as Record<string, unknown> | undefined);
  const type = typeOf(top);
  if (type !== 'array') {
    const p = scalar(values[0] ?? '', type);
    return { ...p, array: false };
  }
  const sep = SEPARATORS[String(top?.['collectionFormat'] ?? 'csv')] ?? ',';
  const itemSchema = top?.['items'] as Json;
  const itemType = typeOf(schemas ? resolveTop(schemas, itemSchema) : (itemSchema as Record<string, unknown> | undefined));
  const items: unknown[] = [];
  for (const v of values) {
    for (const part of v.split(sep)) {
      const p = scalar(part, itemType);
      if (!p.ok) return { ...p, array: true };
      items.push(p.value);
    }
  }
  return { ok: true, value: items, array: true };
}
