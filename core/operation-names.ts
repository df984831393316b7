// How APIM names the operations it imports, and the operations of an OpenAPI document as APIM sees them.
// Stable operation names matter: a re-import matches operations by name and deletes every unmatched one (with its
// operation-level policies), so missing or colliding operationIds churn the API on every change.
import type { JsonObject } from './object-reader.ts';
import { isObject } from './object-reader.ts';

export const APIM_OPERATION_NAME_MAX = 76;
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** APIM's normalization of an operationId: lower-case, runs of non-alphanumerics → "-", dashes trimmed, 76 chars. */
export function apimOperationName(operationId: string): string {
  return operationId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, APIM_OPERATION_NAME_MAX);
}

/**
 * The key under which two operationIds are treated as the same operation. Stricter than APIM's own name: ids that
 * differ only in separators or case (`listPets`, `list_pets`, `ListPets`) name the same operation to every reader of
 * the portal and to tools that change naming conventions, so they are rejected as a collision at admission.
 */
export function operationCollisionKey(operationId: string): string {
  return apimOperationName(operationId).replace(/-/g, '');
}

export interface DocumentOperation {
  method: string;
  path: string;
  operationId?: string;
}

/** `GET /productOffering`: how operations are named in messages. */
export function operationLabel(op: DocumentOperation): string {
  return `${op.method.toUpperCase()} ${op.path}`;
}

function resolveLocalRef(doc: JsonObject, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Every operation under `paths`, in document order (path items given by a local $ref are followed). */
export function listOperations(doc: JsonObject): DocumentOperation[] {
  const out: DocumentOperation[] = [];
  const paths = doc['paths'];
  if (!isObject(paths)) return out;
  for (const [path, rawItem] of Object.entries(paths)) {
    let item = rawItem;
    if (isObject(item) && typeof item['$ref'] === 'string') item = resolveLocalRef(doc, item['$ref']) ?? item;
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const id = op['operationId'];
      out.push({ method, path, operationId: typeof id === 'string' && id.trim() !== '' ? id : undefined });
    }
  }
  return out;
}

/** Formats a list of operations for a message, capped with a count of the rest. */
export function capList(items: string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
