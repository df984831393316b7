// Optimistic concurrency: every entity read carries an ETag, every write makes a new one, and a write conditioned on
// an old one is refused.
import type { Check } from '../check.ts';
import { differs, pass } from '../check.ts';
import type { ArmResponse } from '../arm-target.ts';
import { describeError } from '../long-running.ts';
import type { ConformanceContext } from '../run-context.ts';
import { requireBaseApi } from './base-api.ts';

const QUOTED = /^(W\/)?"[^"]+"$/;
const SPEC = 'https://learn.microsoft.com/rest/api/apimanagement/apis/update (If-Match required; ETag header on GET)';

interface EtagScenario {
  first: ArmResponse;
  update: ArmResponse;
  stale: ArmResponse;
}

/** GET, PATCH with the current tag, PATCH again with the tag that is now stale. */
function etagScenario(ctx: ConformanceContext): Promise<EtagScenario> {
  return ctx.memo('etag', async () => {
    const { apiId } = await requireBaseApi(ctx);
    const first = await ctx.read(`/apis/${apiId}`);
    const tag = first.headers['etag'] ?? '"none"';
    const body = { properties: { description: `${ctx.prefix} etag check` } };
    const update = await ctx.write('PATCH', `/apis/${apiId}`, { body, headers: { 'if-match': tag } });
    const stale = await ctx.write('PATCH', `/apis/${apiId}`, { body, headers: { 'if-match': tag } });
    return { first, update, stale };
  });
}

export const etagChecks: Check[] = [
  {
    id: 'etag.get-header',
    expected: 'A GET of an API carries a quoted ETag header',
    source: SPEC,
    async run(ctx) {
      const { first } = await etagScenario(ctx);
      const tag = first.headers['etag'];
      const observed = `${first.status}, ETag ${tag ?? 'absent'}`;
      return first.status === 200 && tag !== undefined && QUOTED.test(tag) ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'etag.new-on-write',
    expected: 'A PATCH with If-Match of the current ETag succeeds (200) and answers a new ETag',
    source: SPEC,
    async run(ctx) {
      const { first, update } = await etagScenario(ctx);
      const before = first.headers['etag'];
      const after = update.headers['etag'];
      const observed = `${update.status}${update.status >= 400 ? ` ${describeError(update)}` : ''}, ETag ${before} → ${after ?? 'absent'}`;
      return update.status === 200 && after !== undefined && after !== before ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'etag.if-match-stale',
    expected: 'A PATCH with If-Match of an outdated ETag is refused with 412 Precondition Failed',
    source: `${SPEC}; RFC 9110 §13.1.1`,
    async run(ctx) {
      const { stale } = await etagScenario(ctx);
      const observed = `${stale.status} ${stale.status >= 400 ? describeError(stale) : ''}`.trim();
      return stale.status === 412 ? pass(observed) : differs(observed);
    },
  },
];
