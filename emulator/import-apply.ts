// Applying an imported document to an API's operations the way APIM does on (re-)import: operations are matched by
// name; a match is updated in place, a new name creates an operation, and every unmatched operation is deleted at the
// end. Until then the unmatched ones still occupy their method and URL template, so an import that gives an existing
// signature a new name fails with "Operation with the same method and URL template already exists" (seen for real
// when operationIds change or names shift after a truncation collision).
import { detail, validationError } from './arm-errors.ts';
import type { ImportedOperation } from './import-openapi.ts';
import { signatureOf } from './import-openapi.ts';
import type { OperationEntity } from './service-model.ts';
import { key } from './service-model.ts';

export interface MergeResult {
  operations: Record<string, OperationEntity>;
  created: string[];
  updated: string[];
  deleted: string[];
}

export function mergeOperations(
  existing: Record<string, OperationEntity>,
  imported: ImportedOperation[],
  nextEtag: () => string,
): MergeResult {
  // The working set: existing operations (all of them, matched or not) plus those created so far.
  const working = new Map<string, OperationEntity>(Object.entries(existing));
  const signatures = new Map<string, string>(); // signature → operation key
  for (const [k, op] of working) signatures.set(signatureOf(op.properties.method, op.properties.urlTemplate), k);
  const touched = new Set<string>();
  const created: string[] = [];
  const updated: string[] = [];

  for (const op of imported) {
    const k = key(op.name);
    const holder = signatures.get(op.signature);
    if (holder !== undefined && holder !== k) {
      // The real failure (the import's poll, status Failed) carries the text in a detail aimed at urlTemplate, under
      // the generic headline (hedinbil/azure-apim-operator's docs quote the whole body; ../shared/guide/apim-contract.md).
      throw validationError([
        detail('urlTemplate', `Operation with the same method and URL template already exists: ${op.properties.method}, ${op.properties.urlTemplate}`),
      ]);
    }
    const current = working.get(k);
    if (current) {
      signatures.delete(signatureOf(current.properties.method, current.properties.urlTemplate));
      updated.push(current.name);
    } else {
      created.push(op.name);
    }
    const entity: OperationEntity = { name: current?.name ?? op.name, etag: nextEtag(), properties: op.properties, tags: op.tags };
    // An operation updated in place keeps its policy.
    if (current?.policy) entity.policy = current.policy;
    working.set(k, entity);
    signatures.set(op.signature, k);
    touched.add(k);
  }

  // Document order, so listing the API's operations reads like the document.
  const operations: Record<string, OperationEntity> = {};
  for (const op of imported) operations[key(op.name)] = working.get(key(op.name))!;
  const deleted: string[] = [];
  for (const [k, op] of working) if (!touched.has(k)) deleted.push(op.name);
  return { operations, created, updated, deleted };
}
