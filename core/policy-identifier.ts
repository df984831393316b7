// The identifier grammar of rateLimit.identifier and quota.identifier: what a counter is keyed by. ODA leaves the
// vocabulary to the gateway; these are the forms APIM can express as a rate-limit-by-key / quota-by-key counter key.
import { SAFE_NAME } from './http-tokens.ts';

export type PolicyIdentifier =
  | { kind: 'ip' }
  | { kind: 'subscription' }
  | { kind: 'header'; name: string }
  | { kind: 'query'; name: string }
  | { kind: 'claim'; name: string }
  /**
   * A bare name that is none of the above: one counter, shared by every caller of the API, under that name. Still
   * one per API (the renderer scopes every key by the apiId): a counter shared across APIs would let one tenant spend
   * another's budget, and the ODA example's "test-identifier" is in every copy of that example.
   */
  | { kind: 'shared'; name: string };

export const IDENTIFIER_FORMS = ['IP', 'subscription', 'header:<name>', 'query:<name>', 'claim:<name>', '<counter name>'] as const;

export type IdentifierParse = { ok: true; identifier: PolicyIdentifier } | { ok: false; detail: string };

const SHARED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/** Empty means the default, IP: the one key every API has without extra configuration. */
export function parsePolicyIdentifier(raw: string): IdentifierParse {
  const s = raw.trim();
  if (s === '' || s.toLowerCase() === 'ip') return { ok: true, identifier: { kind: 'ip' } };
  if (s.toLowerCase() === 'subscription') return { ok: true, identifier: { kind: 'subscription' } };
  const m = /^(header|query|claim):(.*)$/i.exec(s);
  if (m) {
    const kind = m[1]!.toLowerCase() as 'header' | 'query' | 'claim';
    const name = m[2]!.trim();
    if (!SAFE_NAME.test(name)) {
      return {
        ok: false,
        detail: `the ${kind} name after "${kind}:" must be a ${kind === 'claim' ? 'claim' : 'header/parameter'} name token (letters, digits, - _ .), e.g. ${kind}:${kind === 'claim' ? 'sub' : 'x-client-id'}`,
      };
    }
    return { ok: true, identifier: { kind, name } };
  }
  if (SHARED_NAME.test(s)) return { ok: true, identifier: { kind: 'shared', name: s } };
  return {
    ok: false,
    detail: `APIM can key a counter by ${IDENTIFIER_FORMS.join(', ')}; "${s}" is none of these`,
  };
}
