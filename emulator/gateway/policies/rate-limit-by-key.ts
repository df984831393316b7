// rate-limit-by-key (https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy): `calls` per sliding
// `renewal-period` seconds (at most 300) for each value of `counter-key`, one counter per value across every API and
// scope (rate-limit-counters.ts). Over the limit: "429 Too Many Requests" with Retry-After (or the header named by
// retry-after-header-name); remaining-calls-header-name / total-calls-header-name add those headers when configured.
// The body as clients receive it: `{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 57 seconds." }`
// (Microsoft Partner Center's API documentation quotes it with `Retry-After: 57`; NuGet.org's rate-limit page the same).
import type { XmlElement } from '../../xml-document.ts';
import { errorReply } from '../gateway-errors.ts';
import { constant, counterSettings, onlyAttributes, onlyChildren } from '../policy-elements.ts';
import type { InboundStep } from '../policy-step.ts';
import type { RateLimitCounters } from '../rate-limit-counters.ts';

export function compileRateLimitByKey(el: XmlElement, scope: string, counters: RateLimitCounters): InboundStep {
  onlyAttributes(el, ['calls', 'renewal-period', 'counter-key', 'retry-after-header-name', 'remaining-calls-header-name', 'total-calls-header-name'], scope);
  onlyChildren(el, [], scope);
  const { calls, period, key } = counterSettings(el, scope);
  const retryHeader = constant(el, 'retry-after-header-name', scope) ?? 'Retry-After';
  const remainingHeader = constant(el, 'remaining-calls-header-name', scope);
  const totalHeader = constant(el, 'total-calls-header-name', scope);
  return {
    name: 'rate-limit-by-key',
    run(state) {
      const decision = counters.take(key(state.expressions), calls, period);
      if (remainingHeader) state.responseHeaders[remainingHeader.toLowerCase()] = String(decision.remaining);
      if (totalHeader) state.responseHeaders[totalHeader.toLowerCase()] = String(calls);
      if (decision.allowed) return undefined;
      return errorReply(429, `Rate limit is exceeded. Try again in ${decision.retryAfterSeconds} seconds.`, {
        ...state.responseHeaders,
        [retryHeader.toLowerCase()]: String(decision.retryAfterSeconds),
      });
    },
  };
}
