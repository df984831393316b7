// `execute release`: the ExposedAPI moved to another APIM instance (docs/apim-targets.md) and this Job runs with the
// environment and identity of the instance it left (APIM_TARGET, '' = the operator's own): every API there that carries
// this ExposedAPI's ownership mark goes, exactly as in a delete (execute-delete.ts apisDeleted), and the instance leaves
// status.apim.formerTargets. The route, the finalizer and the API on the new instance are not touched.
import { hasStatusSubresource, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import { apisDeleted } from './execute-delete.ts';
import { eventRecorder } from './events.ts';
import type { RunContext } from './run-context.ts';
import { writeStatus } from './status-patch.ts';
import { done, type StepOutcome } from './step-outcome.ts';
import { runSteps, type Procedure, type RunResult } from './step-runner.ts';
import { recordedFormerTargets, releaseGate } from './target-move.ts';
import type { EventRecorder } from './events.ts';
import type { StatusChange } from './status-patch.ts';

interface ReleaseRun {
  ctx: RunContext;
  ref: ExposedApiRef;
  obj: ExposedApiObject;
  events: EventRecorder;
  write(change: StatusChange): Promise<void>;
}

function here(ctx: RunContext): { target: string; resourceId: string } {
  return { target: ctx.config.apim.target?.name ?? '', resourceId: ctx.config.apim.resourceId };
}

async function released(s: ReleaseRun): Promise<StepOutcome> {
  const { target, resourceId } = here(s.ctx);
  const left = recordedFormerTargets(s.obj.status?.apim).filter((e) => e.target !== target);
  const recorded = s.obj.status?.apim;
  // Only formerTargets changes; the rest of status.apim (where the API is now) is written back as it was.
  await s.write({ conditions: [], ...(recorded ? { apim: { ...recorded, formerTargets: left.length > 0 ? left : null } } : {}) });
  s.events.normal('ReleasedFromTarget', `the API was removed from ${target === '' ? 'the operator\'s own instance' : `ApimTarget "${target}"`} (${resourceId}) after the move`);
  return done();
}

export const RELEASE: Procedure<ReleaseRun> = {
  steps: [{ run: (s) => apisDeleted(s) }, { run: released }],
  // Failures are the Job's (its log, and the dispatcher's Event): the API is published and Ready on the new instance.
  failureCondition: 'CleanedUp',
  failure: (_s, failure) => ({ message: failure.message, conditions: [] }),
};

/** Removes the API from the instance this Job is configured for, when status lists it as a former target. */
export async function executeRelease(ctx: RunContext, ref: ExposedApiRef, obj: ExposedApiObject): Promise<RunResult> {
  const { kube, log, config } = ctx;
  const gate = releaseGate(obj.status?.apim, here(ctx));
  if (!gate.proceed) {
    log.info(gate.message);
    return { kind: 'done' };
  }
  ctx.warmUpApim();
  const events = eventRecorder(kube, obj, log, ctx.instance);
  let current = obj;
  const write = async (change: StatusChange): Promise<void> => {
    const statusSubresource = await hasStatusSubresource(kube).catch(() => false);
    current = (await writeStatus({ kube, ref, statusSubresource }, change, current)) ?? current;
  };
  return runSteps(RELEASE, { ctx, ref, obj, events, write }, {
    events,
    log,
    specHash: ctx.specHash,
    ...(config.jobName ? { lastJob: config.jobName } : {}),
    write,
  });
}
