// spec.apim.backend.url and spec.apim.authentication.jwt.openidConfigUrl: the URLs a tenant makes APIM call. The URL
// itself is judged at admission (core/outbound-url.ts); host names are resolved only where a resolver is given (the
// executor, just before it writes the API and the OpenID Connect provider), so admission stays fast and offline.
import { isIP } from 'node:net';
import type { FieldError } from '../field-error.ts';
import type { ExposedApi } from '../exposedapi-model.ts';
import { checkOutboundUrl, checkResolvedAddresses, STRICT_OUTBOUND_POLICY, type OutboundPolicy } from '../outbound-url.ts';

/** A host name's addresses, or why there are none. */
export type HostResolution = { kind: 'resolved'; addresses: string[] } | { kind: 'unresolved'; reason: string };
export type HostResolver = (host: string) => Promise<HostResolution>;

interface OutboundTarget {
  field: string;
  url: string;
  httpsOnly: boolean;
}

function targets(api: ExposedApi): OutboundTarget[] {
  const out: OutboundTarget[] = [];
  const a = api.spec.apim;
  if (a.jwt && a.jwt.openidConfigUrl !== '') out.push({ field: 'spec.apim.authentication.jwt.openidConfigUrl', url: a.jwt.openidConfigUrl, httpsOnly: true });
  if (a.backend.mode === 'url' && a.backend.url) out.push({ field: 'spec.apim.backend.url', url: a.backend.url, httpsOnly: false });
  return out;
}

export function checkOutboundTargets(api: ExposedApi, policy: OutboundPolicy = STRICT_OUTBOUND_POLICY): FieldError[] {
  return targets(api).flatMap((t) => checkOutboundUrl(t.field, t.url, policy, { httpsOnly: t.httpsOnly }));
}

export interface ResolutionResult {
  errors: FieldError[];
  warnings: string[];
}

/**
 * Resolves the host names of the URLs that passed checkOutboundTargets and checks every address. A name the resolver
 * cannot resolve is allowed with a warning: APIM resolves names with its own DNS, which may see names the cluster does
 * not (and a transient DNS failure must not fail a publish for good); a host allowlist (policy.allowedHosts) is the
 * way to pin such names down.
 */
export async function resolveOutboundTargets(api: ExposedApi, policy: OutboundPolicy, resolve: HostResolver): Promise<ResolutionResult> {
  const out: ResolutionResult = { errors: [], warnings: [] };
  const pending = targets(api).filter((t) => checkOutboundUrl(t.field, t.url, policy, { httpsOnly: t.httpsOnly }).length === 0);
  await Promise.all(
    pending.map(async (t) => {
      let host: string;
      try {
        host = new URL(t.url).hostname;
      } catch {
        return;
      }
      // An address literal was judged already; only names have answers to check (internal names too, when private
      // addresses are allowed: they may still lead to a metadata address).
      if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) return;
      const r = await resolve(host);
      if (r.kind === 'unresolved') {
        out.warnings.push(`${t.field}: ${host} could not be resolved from the cluster (${r.reason}), so its addresses were not checked; APIM resolves it itself`);
        return;
      }
      out.errors.push(...checkResolvedAddresses(t.field, t.url, r.addresses, policy));
    }),
  );
  return out;
}
