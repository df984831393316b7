// The spec hash identifies one accepted change. It covers the normalized spec (so v1beta3 and v1 spellings of the same
// API, or an omitted default and its explicit value, hash the same) and the reconcile-at annotation (so a user can
// force a new Job); it ignores status and the rest of metadata, because with the ODA CRD (no status subresource)
// every status write passes through UPDATE admission and must not look like a change.
import { createHash } from 'node:crypto';
import { RECONCILE_AT_ANNOTATION, type ExposedApi } from './exposedapi-model.ts';

/** JSON with object keys sorted, so equal values always serialize identically. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function specHash(api: ExposedApi): string {
  const spec = {
    ...api.spec,
    // Where a document was written (spec.specification vs spec.specification[0]) is not part of the change.
    specification: api.spec.specification.map(({ field: _field, ...rest }) => rest),
  };
  const input = canonicalJson({ spec, reconcileAt: api.annotations[RECONCILE_AT_ANNOTATION] ?? '' });
  return createHash('sha256').update(input).digest('hex');
}
