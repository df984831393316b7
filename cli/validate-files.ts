// Offline validation of manifests with exactly the webhook's rules, plus the path and apiId claims among the given
// files (the cluster-wide rule is the webhook's; in CI the files are all we know): the earlier file keeps a claim.
import { renderFieldError, type FieldError } from '../core/field-error.ts';
import { ODA_GROUP } from '../core/exposedapi-model.ts';
import { isObject } from '../core/object-reader.ts';
import { effectiveApiId } from '../core/api-id.ts';
import { ClaimTable } from '../core/rules/claims.ts';
import { validateExposedApi, type ValidationContext } from '../core/validate-exposedapi.ts';
import type { ManifestDocument, ManifestProblem } from './manifest-documents.ts';

export interface ObjectReport {
  file: string;
  index: number;
  name: string;
  namespace: string;
  errors: FieldError[];
  warnings: string[];
}

export interface ValidateReport {
  objects: ObjectReport[];
  skipped: number;
  problems: ManifestProblem[];
  valid: boolean;
}

export function isExposedApi(obj: unknown): obj is Record<string, unknown> {
  return isObject(obj) && obj['kind'] === 'ExposedAPI' && typeof obj['apiVersion'] === 'string' && obj['apiVersion'].startsWith(`${ODA_GROUP}/`);
}

export async function validateDocuments(documents: ManifestDocument[], problems: ManifestProblem[], ctx: ValidationContext): Promise<ValidateReport> {
  const exposed = documents.filter((d) => isExposedApi(d.object));
  const claims = new ClaimTable();
  // Namespace-less manifests are applied to one namespace by kubectl -n / kustomize; treat them as one.
  const refOf = (o: Record<string, unknown>) => {
    const meta = isObject(o['metadata']) ? o['metadata'] : {};
    return { namespace: typeof meta['namespace'] === 'string' ? meta['namespace'] : '', name: typeof meta['name'] === 'string' ? meta['name'] : '' };
  };
  exposed.forEach((d, rank) => {
    const o = d.object as Record<string, unknown>;
    const spec = isObject(o['spec']) ? o['spec'] : {};
    const apim = isObject(spec['apim']) ? spec['apim'] : {};
    const ref = refOf(o);
    const path = typeof spec['path'] === 'string' ? spec['path'] : '';
    claims.set({ ...ref, path, apiId: effectiveApiId(ref.namespace, ref.name, apim['apiId']), apiIdDerived: typeof apim['apiId'] !== 'string', createdMs: rank });
  });
  const objects: ObjectReport[] = [];
  for (const d of exposed) {
    const o = d.object as Record<string, unknown>;
    const result = await validateExposedApi(o, { ...ctx, claims });
    const ref = refOf(o);
    objects.push({ file: d.file, index: d.index, name: ref.name, namespace: ref.namespace, errors: result.errors, warnings: result.warnings });
  }
  return {
    objects,
    skipped: documents.length - exposed.length,
    problems,
    valid: problems.length === 0 && objects.every((o) => o.errors.length === 0),
  };
}

/** kubectl's rendering of an Invalid status with causes. */
export function renderReport(report: ValidateReport): { stdout: string; stderr: string } {
  const err: string[] = [];
  const out: string[] = [];
  for (const p of report.problems) err.push(`error: ${p.file}: ${p.message}`);
  for (const o of report.objects) {
    for (const w of o.warnings) err.push(`Warning: ${o.file}: ExposedAPI "${o.name}": ${w}`);
    if (o.errors.length === 0) {
      out.push(`${o.file}: exposedapi.${ODA_GROUP}/${o.name || '<unnamed>'} valid`);
      continue;
    }
    err.push(`${o.file}: The ExposedAPI "${o.name || '<unnamed>'}" is invalid: `);
    for (const e of o.errors) err.push(`* ${renderFieldError(e)}`);
  }
  const invalid = report.objects.filter((o) => o.errors.length > 0).length;
  out.push(`${report.objects.length} ExposedAPI${report.objects.length === 1 ? '' : 's'} checked, ${invalid} invalid${report.skipped > 0 ? `, ${report.skipped} other object${report.skipped === 1 ? '' : 's'} skipped` : ''}`);
  return { stdout: out.join('\n') + '\n', stderr: err.length > 0 ? err.join('\n') + '\n' : '' };
}
