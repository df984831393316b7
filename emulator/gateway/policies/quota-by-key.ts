// quota-by-key (https://learn.microsoft.com/azure/api-management/quota-by-key-policy): `calls` per fixed
// `renewal-period` (0 = never renews) for each value of `counter-key`, shared across every API and scope
// (quota-counters.ts). "When the quota is exceeded, the caller receives a 403 Forbidden response status code, and the
// response includes a Retry-After header whose value is the recommended retry interval in seconds." The message is
// the one of the error-handling page's QuotaExceeded ("Out of call volume quota. Quota will be replenished in
// xx:xx:xx."), with the time as .NET writes a TimeSpan, as APIM-fronted services return it ("…replenished in
// 07:01:20.", "…in 20.09:58:55."). A quota that never renews is refused without the replenish clause and without
// Retry-After (unverified). `bandwidth`, increment-condition and first-period-start are not modelled.
import type { XmlElement } from '../../xml-document.ts';
import { errorReply } from '../gateway-errors.ts';
import { counterSettings, onlyAttributes, onlyChildren } from '../policy-elements.ts';
import type { InboundStep } from '../policy-step.ts';
import type { QuotaCounters } from '../quota-counters.ts';
import { timeSpan } from '../quota-counters.ts';

export function compileQuotaByKey(el: XmlElement, scope: string, counters: QuotaCounters): InboundStep {
  onlyAttributes(el, ['calls', 'renewal-period', 'counter-key'], scope);
  onlyChildren(el, [], scope);
  const { calls, period, key } = counterSettings(el, scope);
  return {
    name: 'quota-by-key',
    run(state) {
      const decision = counters.take(key(state.expressions), calls, period, state.quotaKeys);
      if (decision.allowed) return undefined;
      if (decision.renewsInSeconds === null) return errorReply(403, 'Out of call volume quota.', state.responseHeaders);
      return errorReply(403, `Out of call volume quota. Quota will be replenished in ${timeSpan(decision.renewsInSeconds)}.`, {
        ...state.responseHeaders,
        'retry-after': String(decision.renewsInSeconds),
      });
    },
  };
}
