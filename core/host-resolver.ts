// Resolves a host name to every address the system resolver gives (A and AAAA), with a time budget: the executor
// checks each one before it points APIM at the name (core/rules/outbound-targets.ts). getaddrinfo cannot be
// cancelled, so a lookup that outlives the budget is abandoned, not stopped.
import { lookup } from 'node:dns/promises';
import type { HostResolution, HostResolver } from './rules/outbound-targets.ts';

export const HOST_RESOLVE_TIMEOUT_MS = 3000;

export function systemHostResolver(timeoutMs = HOST_RESOLVE_TIMEOUT_MS): HostResolver {
  return async (host: string): Promise<HostResolution> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HostResolution>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'unresolved', reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      timer.unref();
    });
    const answer = lookup(host, { all: true, verbatim: true }).then(
      (list): HostResolution => (list.length > 0 ? { kind: 'resolved', addresses: list.map((a) => a.address) } : { kind: 'unresolved', reason: 'no addresses' }),
      (e: NodeJS.ErrnoException): HostResolution => ({ kind: 'unresolved', reason: e.code ?? e.message }),
    );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}
