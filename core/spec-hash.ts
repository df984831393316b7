// The spec hash identifies one accepted change. It covers the normalized spec (so v1beta3 and v1 spellings of the same
// API, or an omitted default and its explicit value, hash the same) and the reconcile-at annotation (so a user can
// force a new Job); it ignores status and the rest of metadata, because with the ODA CRD (no status subresource)
// every status write passes through UPDATE admission and must not look like a change.
//
// What it covers, exactly: canonicalJson({ spec: the model's ExposedApiSpec with each specification entry's `field`
// dropped, reconcileAt: the annotation or '' }), SHA-256, hex. Object keys are sorted and keys whose value is
// `undefined` are left out; arrays keep their order (products, tags, specification entries, requiredClaims in the
// object's key order, which the apiserver stores sorted). Not covered: apiVersion (model.version), metadata other than
// reconcile-at, status, and any field the model does not read.
//
// Defaults ARE hashed in their defaulted form: segment 'coreFunction', rateLimit.interval 'ps', the CORS lists, preflight
// enabled true and maxAge 1800, every boolean false, '' for unset strings (identifiers, limits, location, template),
// and spec.apim as { products: [], tags: [], backend: {} } when absent. That is why writing a default and omitting it
// are one change; it is also why changing any of these defaults changes the hash of every object that omits the field.
//
// Adding a field to the model without changing any existing hash: the field must normalise to `undefined` when the
// object does not set it (never to a default, an empty string, an empty list or an empty object: those are
// serialised), and apply its default where it is used. The stamp is compared on every admitted UPDATE and every Job is
// keyed by it, so a hash that moves for unchanged objects starts one Job per ExposedAPI at the next operator upgrade.
// test/core/spec-hash-golden.test.ts pins the hash of a corpus in every accepted shape (its literals are never
// regenerated) and test/dispatcher/upgrade-no-jobs.test.ts shows an upgrade over unchanged objects starts no Job.
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
