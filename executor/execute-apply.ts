// `execute apply`: make APIM, the cluster route and the ExposedAPI's status match the spec the Job was spawned for.
// The steps, in order, each a condition: Validated (the webhook's rules, the document resolved), RouteReady (the route
// APIM calls), Imported (the API and its document), PoliciesApplied (policy, products, tags), then Ready. Every step
// reads before it writes, so a run repeats safely: a second run with nothing changed writes nothing to APIM, and a
// run killed at any point is completed by the next.
import { apiIdOf } from '../core/api-id.ts';
import { readExposedApi } from '../core/exposedapi-model.ts';
import { checkApiId } from '../core/rules/apim-extension.ts';
import { pendingRecord } from './apply-ownership.ts';
import { parentComponentUpdated, ready } from './apply-ready.ts';
import type { ApplyRun } from './apply-run.ts';
import { identified, imported, jwtFor, policiesApplied, routeReady } from './apply-steps.ts';
import { validated } from './apply-validated.ts';
import { readApi } from './apim-sync.ts';
import { readServiceTier, tierChecked } from './service-tier.ts';
import { eventRecorder } from './events.ts';
import { hasStatusSubresource, type ExposedApiObject, type ExposedApiRef } from './exposedapi-object.ts';
import type { RunContext } from './run-context.ts';
import { writeStatus, type ConditionChange, type StatusChange } from './status-patch.ts';
import { applyDriftChange, driftAfterFailure, driftedOf } from './drift-status.ts';
import { errorMessage } from '../core/kube/errors.ts';
import { done, failureChange } from './step-outcome.ts';
import { servingAfterFailure } from './serving.ts';
import { runSteps, type Procedure, type RunResult } from './step-runner.ts';

export const APPLY: Procedure<ApplyRun> = {
  steps: [
    { condition: 'Validated', run: validated },
    // Before anything is written: a policy the service's tier lacks fails here, naming the field.
    { run: (s) => tierChecked(s, jwtFor(s.model!, s.ctx)) },
    { condition: 'RouteReady', run: routeReady },
    { run: identified },
    { condition: 'Imported', run: imported },
    { condition: 'PoliciesApplied', run: policiesApplied },
    // Written with Published's status (the runner writes conditions with a step's status fields); a failure of
    // Published itself turns it back (serving.ts).
    { condition: 'Serving', run: async (s) => done('CurrentSpec', `APIM serves this change (spec hash ${s.ctx.specHash.slice(0, 12)}…${s.revision ? `, revision ${s.revision.current}` : ''})`) },
    { condition: 'Published', run: ready },
    { run: parentComponentUpdated },
  ],
  failureCondition: 'Published',
  failure: (s, failure, condition) => ({
    conditions: [...failureChange(failure, condition, s.ctx.specHash), ...servingAfterFailure(s, condition), ...repairFailed(s, failure.message)],
    message: failure.message,
    // An import may have created the API before the run failed: recorded, so a later rename removes it.
    ...(s.importStarted ? { status: { apim: pendingRecord(s.obj, s.ctx.config.apim.serviceName, s.importStarted) } } : {}),
  }),
};

/** Applies the change; `obj` is the ExposedAPI as read for the gate (change-gate.ts). */
export async function executeApply(ctx: RunContext, ref: ExposedApiRef, obj: ExposedApiObject): Promise<RunResult> {
  const { kube, log, config } = ctx;
  ctx.warmUpApim();
  // The stored API is read while the spec is validated (a read is harmless even if validation then fails).
  const early = apiIdOf({ ...readExposedApi(obj).model, namespace: obj.metadata.namespace, name: obj.metadata.name });
  const storedEarly = checkApiId('apiId', early).length === 0 ? ctx.apim().then((apim) => readApi(apim, early)) : undefined;
  storedEarly?.catch(() => undefined);
  const events = eventRecorder(kube, obj, log, ctx.instance);
  const statusSubresource = hasStatusSubresource(kube).catch(() => false);
  const serviceTier = ctx.apim().then(readServiceTier);
  serviceTier.catch(() => undefined);
  const run: ApplyRun = { ctx, ref, obj, current: obj, events, storedEarly, serviceTier };
  const write = async (change: StatusChange): Promise<void> => {
    run.current = await writeStatus({ kube, ref, statusSubresource: await statusSubresource }, change, run.current);
  };
  // Steps write mid-step too: the record of a running import (import-status.ts).
  run.write = write;
  const result = await runSteps(APPLY, run, {
    events,
    log,
    specHash: ctx.specHash,
    ...(config.jobName ? { lastJob: config.jobName } : {}),
    write,
  });
  // Drift the verify run reported is gone once the spec is applied (docs/drift.md); the dispatcher then asks for no repair.
  const cleared = result.kind === 'done' ? applyDriftChange((run.current ?? obj).status?.conditions, ctx.specHash) : undefined;
  if (cleared) await write(cleared).catch((e: unknown) => log.warn('could not record that APIM matches the spec again (Drifted)', { error: errorMessage(e) }));
  return result;
}

/** A failed repair says so on Drifted, so the dispatcher asks for no other repair before the next verify run. */
function repairFailed(s: ApplyRun, message: string): ConditionChange[] {
  const next = driftAfterFailure(driftedOf((s.current ?? s.obj).status?.conditions), s.ctx.specHash, message);
  return next ? [next] : [];
}
