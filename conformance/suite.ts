// Every check, in the order a run performs them: the base API's import first (most checks look at it), the
// scenarios with their own APIs after.
import type { Check } from './check.ts';
import { apiRuleChecks } from './checks/api-rules.ts';
import { etagChecks } from './checks/etags.ts';
import { importConflictChecks } from './checks/import-conflict.ts';
import { importFailureChecks } from './checks/import-failures.ts';
import { importLroChecks } from './checks/import-lro.ts';
import { importPropertyChecks } from './checks/import-properties.ts';
import { linkChecks } from './checks/links.ts';
import { policyChecks } from './checks/policies.ts';
import { revisionChecks } from './checks/revisions.ts';

export const ALL_CHECKS: readonly Check[] = [
  ...importLroChecks,
  ...apiRuleChecks,
  ...etagChecks,
  ...linkChecks,
  ...policyChecks,
  ...revisionChecks,
  ...importConflictChecks,
  ...importFailureChecks,
  ...importPropertyChecks,
];

/**
 * The checks named by `only` (ids, or an area such as `policy` for every `policy.*` check), in suite order; every
 * name that selects nothing is returned as an error naming the valid ids.
 */
export function selectChecks(only: readonly string[], checks: readonly Check[] = ALL_CHECKS): { checks: Check[]; errors: string[] } {
  if (only.length === 0) return { checks: [...checks], errors: [] };
  const matches = (c: Check, name: string): boolean => c.id === name || c.id.startsWith(`${name}.`);
  const errors = only
    .filter((name) => !checks.some((c) => matches(c, name)))
    .map((name) => `--only ${name}: no such check or area; valid: ${checks.map((c) => c.id).join(', ')}`);
  return { checks: checks.filter((c) => only.some((name) => matches(c, name))), errors };
}
