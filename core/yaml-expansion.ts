// YAML aliases make a small text stand for a large document: `*shared` repeats the anchored node wherever it appears.
// In memory the parser shares one object (cheap), but everything downstream expands it again — the JSON that the
// executor sends to APIM for a Swagger 2.0 YAML document, swagger-parser's dereferencing, APIM's own import. A 1.9 MB
// Swagger YAML with one large anchor referenced 250 times became a 477 MB JSON body and the executor died of memory;
// the parser's alias *count* limit (maxAliasCount) let it through, because 250 aliases are few. So the bound is on the
// expanded size: what the document is once every alias is written out, measured as JSON, without building it.
import YAML from 'yaml';

export type BoundedYaml =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'expansion'; expandedBytes: number; aliases: number }
  | { ok: false; reason: 'circular'; aliases: number };

/**
 * The size of `value` as compact JSON, counting a shared object every time it is referenced (as JSON.stringify
 * would), without building the string. Each distinct object is measured once, so the cost is that of the document as
 * parsed, not as expanded. Stops counting once past `limit` (the figure returned is then only "more than limit").
 * Returns undefined for a structure that contains itself (JSON cannot express it).
 */
export function expandedJsonBytes(value: unknown, limit: number): number | undefined {
  const measured = new Map<object, number>();
  const inProgress = new Set<object>();
  let circular = false;
  const size = (v: unknown): number => {
    if (circular) return 0;
    if (v === null || v === undefined) return 4;
    switch (typeof v) {
      case 'string':
        return v.length + 2; // escapes not counted: a lower bound, which is what a limit needs
      case 'number':
      case 'bigint':
        return String(v).length;
      case 'boolean':
        return v ? 4 : 5;
      case 'object':
        break;
      default:
        return 0;
    }
    const obj = v as object;
    const known = measured.get(obj);
    if (known !== undefined) return known;
    if (inProgress.has(obj)) {
      circular = true;
      return 0;
    }
    inProgress.add(obj);
    let total = 1; // the brackets, less the comma the first item does not need
    if (Array.isArray(obj)) {
      for (const item of obj) {
        total += 1 + size(item);
        if (total > limit) break;
      }
    } else {
      for (const [k, item] of Object.entries(obj)) {
        total += 1 + k.length + 3 + size(item);
        if (total > limit) break;
      }
    }
    total = Math.max(total, 2);
    inProgress.delete(obj);
    measured.set(obj, total);
    return total;
  };
  const total = size(value);
  return circular ? undefined : total;
}

/**
 * YAML.parse, refusing a document whose aliases expand it beyond `maxExpandedBytes` of JSON. A document without
 * aliases is never measured (its expanded size is its parsed size). Throws what YAML.parse throws on a syntax error.
 */
export function parseYamlBounded(text: string, maxExpandedBytes: number): BoundedYaml {
  let aliases = 0;
  // maxAliasCount stays as the parser's own guard against exponential nesting ("billion laughs") while it resolves.
  const value: unknown = YAML.parse(text, { maxAliasCount: 1000, prettyErrors: false, onAnchor: (_value: unknown, count: number) => (aliases += count - 1) }); // count includes the anchor itself
  if (aliases === 0) return { ok: true, value };
  const expandedBytes = expandedJsonBytes(value, maxExpandedBytes);
  if (expandedBytes === undefined) return { ok: false, reason: 'circular', aliases };
  if (expandedBytes > maxExpandedBytes) return { ok: false, reason: 'expansion', expandedBytes, aliases };
  return { ok: true, value };
}
