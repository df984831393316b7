// What the service says about an API while its import runs: a new API is not there yet (404) and a second write is
// refused (409). Both only show while the import is still running; an import that ends before the next request
// cannot show them, which is "not observed", not a difference.
import type { Check, Observation } from '../check.ts';
import { differs, notObserved, pass } from '../check.ts';
import type { ArmResponse } from '../arm-target.ts';
import { plainDocument } from '../documents.ts';
import { describeError, isAccepted, stillRunning } from '../long-running.ts';
import type { ConformanceContext } from '../run-context.ts';

interface BusyScenario {
  accepted: ArmResponse;
  /** The import still ran before the GET … */
  runningBefore: boolean;
  get?: ArmResponse;
  second?: ArmResponse;
  /** … and after the second write. */
  runningAfter: boolean;
}

function busyScenario(ctx: ConformanceContext): Promise<BusyScenario> {
  return ctx.memo('busy', async () => {
    const apiId = ctx.id('busy');
    const path = `/apis/${apiId}`;
    const props = { path: ctx.path('busy'), format: 'openapi+json', value: plainDocument('Conformance busy API'), protocols: ['https'] };
    const accepted = await ctx.startImport(apiId, props);
    const scenario: BusyScenario = { accepted, runningBefore: false, runningAfter: false };
    if (!isAccepted(accepted)) return scenario;
    try {
      scenario.runningBefore = await stillRunning(ctx.target, accepted);
      if (!scenario.runningBefore) return scenario;
      scenario.get = await ctx.read(path);
      scenario.second = await ctx.write('PUT', path, { body: { properties: props } });
      scenario.runningAfter = await stillRunning(ctx.target, accepted);
      return scenario;
    } finally {
      // Leave nothing running behind: the first import, and the second if it was accepted after all.
      await ctx.follow(accepted, path).catch(() => undefined);
      if (scenario.second && isAccepted(scenario.second)) await ctx.follow(scenario.second, path).catch(() => undefined);
    }
  });
}

function notShown(s: BusyScenario): Observation | undefined {
  if (!isAccepted(s.accepted)) return notObserved(`the import answered ${s.accepted.status} at once${s.accepted.status >= 400 ? `: ${describeError(s.accepted)}` : ''}`);
  if (!s.runningBefore) return notObserved('the import had finished by the first poll');
  return undefined;
}

export const importConflictChecks: Check[] = [
  {
    id: 'import.conflict-while-importing',
    expected: 'A write to an API while its import runs is refused: 409 PessimisticConcurrencyConflict "Operation on the API is in progress"',
    source: 'https://github.com/Azure/apiops/issues/379, https://github.com/Azure/apiops-cli/issues/252',
    async run(ctx) {
      const s = await busyScenario(ctx);
      const early = notShown(s);
      if (early) return early;
      const second = s.second!;
      const observed = `second PUT: ${second.status} ${second.status >= 400 ? describeError(second) : ''}`.trim();
      if (second.status === 409) {
        return second.json?.error?.code === 'PessimisticConcurrencyConflict' && /in progress/i.test(second.json?.error?.message ?? '') ? pass(observed) : differs(observed);
      }
      return s.runningAfter ? differs(`${observed}, while the first import was still running`) : notObserved(`${observed}; the first import ended in between`);
    },
  },
  {
    id: 'import.new-api-hidden-while-importing',
    expected: 'A new API being imported is not there yet: GET answers 404 until the import ends',
    source: 'https://github.com/hashicorp/terraform-provider-azurerm/issues/23322 (404 around imports)',
    async run(ctx) {
      const s = await busyScenario(ctx);
      const early = notShown(s);
      if (early) return early;
      const get = s.get!;
      const observed = `GET during import: ${get.status}${get.status >= 400 ? ` ${describeError(get)}` : ''}`;
      if (get.status === 404) return pass(observed);
      return s.runningAfter ? differs(observed) : notObserved(`${observed}; the import may have ended in between`);
    },
  },
];
