// executor/step-runner.ts without a cluster: step outcomes in, the conditions and fields written, the Events and the
// exit code (cli/execute-command.ts exitCodeFor) out. The apply and delete procedures' own failure reports too.
import t from 'tap';
import { exitCodeFor } from '../../cli/execute-command.ts';
import { EXIT_OK, EXIT_PERMANENT, EXIT_RETRIABLE, type ConditionType } from '../../core/exposedapi-status.ts';
import { UnsafeApimValueError } from '../../core/rules/apim-value-safety.ts';
import type { ApplyRun } from '../../executor/apply-run.ts';
import { APPLY } from '../../executor/execute-apply.ts';
import { deleteProcedure, type DeleteRun } from '../../executor/execute-delete.ts';
import type { StatusChange } from '../../executor/status-patch.ts';
import { permanent, retriable } from '../../executor/step-failure.ts';
import { done, failed, failureChange, type StepOutcome } from '../../executor/step-outcome.ts';
import { runSteps, type FailureReport, type Procedure, type Step } from '../../executor/step-runner.ts';

const HASH = 'h1';

function recorder(o: { failWrites?: number } = {}) {
  const writes: StatusChange[] = [];
  const events: string[] = [];
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  let failWrites = o.failWrites ?? 0;
  const log = {
    debug: () => undefined,
    info: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'info', msg, ...(fields ? { fields } : {}) }),
    warn: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }),
    error: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'error', msg, ...(fields ? { fields } : {}) }),
    child: () => log,
  };
  return {
    writes,
    events,
    logs,
    io: {
      events: { normal: (r: string) => void events.push(`Normal ${r}`), warning: (r: string) => void events.push(`Warning ${r}`), flush: async () => undefined },
      log,
      specHash: HASH,
      lastJob: 'job-1',
      write: async (change: StatusChange) => {
        if (failWrites-- > 0) throw new Error('apiserver said no');
        writes.push(change);
      },
    },
  };
}

/** Apply's reporting, on steps that return what the table says. */
function applyLike(steps: [ConditionType | undefined, () => Promise<StepOutcome>][]): Procedure<unknown> {
  return {
    steps: steps.map(([condition, run]): Step<unknown> => ({ ...(condition ? { condition } : {}), run })),
    failureCondition: 'Published',
    failure: (_s, f, condition): FailureReport => ({ conditions: failureChange(f, condition, HASH), message: f.message }),
  };
}

const ok = (reason: string) => async () => done(reason, `${reason} message`);
const quiet = async () => done();
const published = async () => done('Published', 'published at https://gw/x', { appliedSpecHash: HASH, implementation: { ready: true } });
const summary = (w: StatusChange) => w.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`);

const CASES: { name: string; steps: [ConditionType | undefined, () => Promise<StepOutcome>][]; conditions: string[][]; exit: number; events: string[] }[] = [
  {
    name: 'every step done: one write when Published establishes its fields, exit 0',
    steps: [['Validated', ok('Valid')], ['RouteReady', ok('IngressReady')], [undefined, quiet], ['Imported', ok('Imported')], ['PoliciesApplied', ok('UpToDate')], ['Published', published], [undefined, quiet]],
    conditions: [['Validated=True/Valid', 'RouteReady=True/IngressReady', 'Imported=True/Imported', 'PoliciesApplied=True/UpToDate', 'Published=True/Published']],
    exit: EXIT_OK,
    events: ['Normal Valid', 'Normal IngressReady', 'Normal Imported', 'Normal UpToDate', 'Normal Published'],
  },
  {
    name: 'a retriable failure of a step: its condition False, the earlier ones True, exit 1',
    steps: [['Validated', ok('Valid')], ['Imported', async () => failed({ retriable: true, reason: 'Throttled', message: 'slow down', retryAfterMs: 5000 })], ['Published', published]],
    conditions: [['Validated=True/Valid', 'Imported=False/Throttled']],
    exit: EXIT_RETRIABLE,
    events: ['Normal Valid', 'Warning Throttled'],
  },
  {
    name: 'a permanent failure thrown below a step (StepFailure) is that step\'s, exit 42',
    steps: [['Validated', ok('Valid')], ['PoliciesApplied', async () => { throw permanent('ApimRejected', 'the policy is refused'); }]],
    conditions: [['Validated=True/Valid', 'PoliciesApplied=False/ApimRejected']],
    exit: EXIT_PERMANENT,
    events: ['Normal Valid', 'Warning ApimRejected'],
  },
  {
    name: 'a step without a condition fails on the last step\'s condition',
    steps: [['RouteReady', ok('IngressReady')], [undefined, async () => { throw retriable('ApimUnavailable', 'no session'); }], ['Imported', ok('Imported')]],
    conditions: [['RouteReady=True/IngressReady', 'Published=False/ApimUnavailable']],
    exit: EXIT_RETRIABLE,
    events: ['Normal IngressReady', 'Warning ApimUnavailable'],
  },
  {
    name: 'an unexpected error is retriable',
    steps: [['Validated', async () => { throw new TypeError('boom'); }]],
    conditions: [['Validated=False/UnexpectedError']],
    exit: EXIT_RETRIABLE,
    events: ['Warning UnexpectedError'],
  },
  {
    name: 'an unsafe value refused by a renderer fails the step for good',
    steps: [['PoliciesApplied', async () => { throw new UnsafeApimValueError('spec.x', '{{secret}}', 'named value'); }]],
    conditions: [['PoliciesApplied=False/UnsafeValue']],
    exit: EXIT_PERMANENT,
    events: ['Warning UnsafeValue'],
  },
  {
    name: 'a failure may name the condition it belongs to',
    steps: [['Imported', async () => failed({ retriable: false, reason: 'Invalid', message: 'x', condition: 'Validated' })]],
    conditions: [['Validated=False/Invalid']],
    exit: EXIT_PERMANENT,
    events: ['Warning Invalid'],
  },
  {
    name: 'a step after the status write fails: the written conditions stay, Published turns False',
    steps: [['Published', published], [undefined, async () => { throw new Error('Component kept changing'); }]],
    conditions: [['Published=True/Published'], ['Published=True/Published', 'Published=False/UnexpectedError']],
    exit: EXIT_RETRIABLE,
    events: ['Normal Published', 'Warning UnexpectedError'],
  },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const r = recorder();
    const result = await runSteps(applyLike(c.steps), undefined, r.io);
    t.same(r.writes.map(summary), c.conditions);
    t.equal(exitCodeFor(result), c.exit);
    t.same(r.events, c.events);
    t.ok(r.writes.every((w) => w.lastJob === 'job-1' && w.conditions.every((x) => x.specHash === HASH)), 'every write names the Job and the spec hash');
  });
}

t.test('what a step establishes is written with the conditions so far; Retry-After reaches the result', async (t) => {
  const r = recorder();
  await runSteps(applyLike([['Validated', ok('Valid')], ['Published', published]]), undefined, r.io);
  t.match(r.writes[0], { appliedSpecHash: HASH, implementation: { ready: true }, lastJob: 'job-1' });
  t.same(r.logs.map((l) => [l.level, l.msg, l.fields?.['condition']]), [['info', 'Valid message', 'Validated'], ['info', 'published at https://gw/x', 'Published']]);
  const failedRun = await runSteps(applyLike([['Imported', async () => failed({ retriable: true, reason: 'Throttled', message: 'm', retryAfterMs: 7000 })]]), undefined, recorder().io);
  t.match(failedRun, { kind: 'failed', retriable: true, retryAfterMs: 7000 });
});

t.test('the status write failing is a failure of the step that asked for it; the failure write is still tried', async (t) => {
  const r = recorder({ failWrites: 1 });
  const result = await runSteps(applyLike([['Validated', ok('Valid')], ['Published', published], [undefined, quiet]]), undefined, r.io);
  t.equal(exitCodeFor(result), EXIT_RETRIABLE);
  t.same(r.writes.map(summary), [['Validated=True/Valid', 'Published=True/Published', 'Published=False/UnexpectedError']]);
  const unwritable = recorder({ failWrites: 9 });
  const stillFailed = await runSteps(applyLike([['Imported', async () => failed({ retriable: false, reason: 'ApimRejected', message: 'no' })]]), undefined, unwritable.io);
  t.equal(exitCodeFor(stillFailed), EXIT_PERMANENT, 'a status that cannot be written does not change the verdict');
  const waits = await runSteps(applyLike([['Validated', async () => failed({ retriable: true, waitsForImplementation: true, reason: 'ImplementationNotReady', message: 'no ready pod' })]]), undefined, recorder().io);
  t.equal(exitCodeFor(waits), 43, 'no ready pod to read a served document from: exit 43 (FailJob; the dispatcher waits for the pods)');
  t.ok(unwritable.logs.some((l) => l.msg === 'could not write the failure to the ExposedAPI status'));
});

t.test('apply: a failure after the import began records the id as pending', async (t) => {
  const run = { ctx: { specHash: HASH, config: { apim: { serviceName: 'svc' } } }, obj: { status: { apim: { apiId: 'live', serviceName: 'svc' } } }, importStarted: 'renamed' } as unknown as ApplyRun;
  const report = APPLY.failure(run, failed({ retriable: true, reason: 'Throttled', message: 'm' }), 'Imported');
  t.same(report.status, { apim: { apiId: 'live', serviceName: 'svc', pendingApiIds: ['renamed'] } });
  t.same(report.conditions.map((c) => c.type), ['Imported', 'Serving'], 'Ready is the dispatcher\'s; Serving says what APIM serves meanwhile (executor/serving.ts)');
  t.equal(APPLY.failure({ ...run, importStarted: undefined } as ApplyRun, failed({ retriable: true, reason: 'X', message: 'm' }), 'Validated').status, undefined, 'nothing pending before the import');
  t.same(APPLY.steps.map((s) => s.condition ?? '-'), ['Validated', '-', 'RouteReady', '-', 'Imported', 'PoliciesApplied', 'Serving', 'Published', '-']);
});

t.test('delete: nothing written when every step is done; a failure is CleanedUp False with the escape hatch', async (t) => {
  const run = { ctx: { specHash: HASH }, ref: { namespace: 'ns', name: 'pc' } } as unknown as DeleteRun;
  const quietDelete = (outcome: () => Promise<StepOutcome>): Procedure<DeleteRun> => ({ ...deleteProcedure(true), steps: [{ run: quiet }, { run: outcome }] });
  const clean = recorder();
  t.equal(exitCodeFor(await runSteps(quietDelete(quiet), run, clean.io)), EXIT_OK);
  t.same(clean.writes, []);
  const blocked = recorder();
  const result = await runSteps(quietDelete(async () => { throw permanent('ApimRejected', 'APIM refused'); }), run, blocked.io);
  t.equal(exitCodeFor(result), EXIT_PERMANENT);
  t.same(blocked.writes.map(summary), [['CleanedUp=False/ApimRejected']]);
  t.equal(blocked.writes[0]!.conditions[0]!.message, 'APIM refused. To delete the ExposedAPI without touching APIM: kubectl annotate exposedapi pc -n ns exposedapi-apim.io/detach-on-delete=true');
  t.same(blocked.events, ['Warning ApimRejected']);
  t.same(deleteProcedure(false).steps.map((s) => s.run.name), ['apisDeleted', 'routeDeleted', 'finalizerRemoved']);
  t.same(deleteProcedure(true).steps.map((s) => s.run.name), ['detached', 'routeDeleted', 'finalizerRemoved']);
});
