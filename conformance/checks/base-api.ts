// The API most checks look at, imported once per run: the import's own answers are what the LRO checks judge.
import { baseDocument } from '../documents.ts';
import type { ArmResponse } from '../arm-target.ts';
import type { LroOutcome } from '../long-running.ts';
import { outcomeError } from '../long-running.ts';
import type { ConformanceContext } from '../run-context.ts';

export interface BaseApi {
  apiId: string;
  path: string;
  accepted: ArmResponse;
  outcome: LroOutcome;
  /** True when the import ended with the API in place; checks that need the API report an error otherwise. */
  ready: boolean;
}

export function baseApi(ctx: ConformanceContext): Promise<BaseApi> {
  return ctx.memo('base-api', async () => {
    const apiId = ctx.id('base');
    const path = ctx.path('base');
    const { accepted, outcome } = await ctx.importApi(apiId, { path, format: 'openapi+json', value: baseDocument(), protocols: ['https'] });
    const ready = outcomeError(outcome) === undefined && (await ctx.readAfterImport(`/apis/${apiId}`)).status === 200;
    return { apiId, path, accepted, outcome, ready };
  });
}

/** The base API, or an exception that makes the calling check an error (its premise is missing, not different). */
export async function requireBaseApi(ctx: ConformanceContext): Promise<BaseApi> {
  const base = await baseApi(ctx);
  if (!base.ready) throw new Error(`the base API ${base.apiId} could not be imported (${base.outcome.final.status}), see import.lro-final`);
  return base;
}
