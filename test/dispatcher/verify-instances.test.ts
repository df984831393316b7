// The verify Jobs per APIM instance (dispatcher/verify-instances.ts, docs/drift.md "Several instances"): the operator's
// own keep today's names and labels; a target's are named per (target, due time), labelled with the target, and run
// like its apply Jobs (ServiceAccount, environment, drift mode); each instance's rhythm and "still running" come from
// its own Jobs; a change of the targets starts, updates or stops only the schedules it concerns.
import t from 'tap';
import { readDispatcherConfig } from '../../core/dispatcher-config.ts';
import { TargetDirectory } from '../../core/target-selection.ts';
import { jobSummary } from '../../dispatcher/job-summary.ts';
import { jobTargetOf, TARGET_LABEL } from '../../dispatcher/job-manifest.ts';
import {
  buildVerifyJob, instanceFingerprint, OPERATOR_INSTANCE, scheduleChanges, verifyInstances, verifyJobName, verifySelector, verifyStep,
  VERIFY_SELECTOR, type VerifyInstance,
} from '../../dispatcher/verify-instances.ts';

const SUB = '00000000-0000-0000-0000-000000000001';
const target = (name: string, spec: Record<string, unknown> = {}) => ({
  metadata: { name },
  spec: { resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/${name.slice(0, 40)}`, ...spec },
});
const directory = new TargetDirectory();
directory.setTarget(target('weu', { identity: { serviceAccountName: 'executor-weu', clientId: '11111111-1111-1111-1111-111111111111' }, drift: { mode: 'repair' } }));
directory.setTarget(target('neu'));
// Unusable: a malformed id, and a second target on weu's instance (the first by name keeps it).
directory.setTarget({ metadata: { name: 'broken' }, spec: { resourceId: 'not-an-arm-id' } });
directory.setTarget({ metadata: { name: 'zz-weu-again' }, spec: { resourceId: target('weu').spec.resourceId } });
const instanceOf = (name: string): VerifyInstance => ({ target: name, job: jobTargetOf(directory.target(name)!) });
const parsed = readDispatcherConfig({}, { hostname: 'h', randomSuffix: 'r' });
if (!parsed.ok) throw new Error(parsed.errors.join('; '));
const template = parsed.config.job;
const DUE = Date.parse('2026-11-29T10:00:00Z');

t.test('which instances: the operator\'s own and every usable ApimTarget', async (t) => {
  const instances = verifyInstances(directory.targets().map((x) => ({ name: x.name, job: jobTargetOf(x) })));
  t.same(instances.map((i) => i.target).sort(), ['', 'neu', 'weu'], 'the invalid target and the second one on weu\'s instance have none');
  t.same(verifyInstances([]), [OPERATOR_INSTANCE], 'no ApimTargets: the operator\'s own instance, as before targets existed');
});

t.test('names: the operator\'s unchanged; a target\'s per (target, due time), within 63 characters', async (t) => {
  const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}`;
  const cases: [string, string, RegExp][] = [
    ['the operator\'s own instance: the name it always had', '', /^exposedapi-apim-verify-1795946400$/],
    ['a target', 'weu', /^exposedapi-apim-verify-[0-9a-f]{8}-1795946400$/],
    ['a 243-character target name', long, /^exposedapi-apim-verify-[0-9a-f]{8}-1795946400$/],
  ];
  for (const [what, name, shape] of cases) {
    const job = verifyJobName(DUE, name);
    t.match(job, shape, what);
    t.ok(job.length <= 63, `${what}: ${job.length} characters, a label value`);
    t.equal(verifyJobName(DUE + 999, name), job, `${what}: the same second, the same name (two leaders create one Job)`);
    t.not(verifyJobName(DUE + 1000, name), job, `${what}: another due time, another Job`);
  }
  t.not(verifyJobName(DUE, 'weu'), verifyJobName(DUE, 'neu'), 'two targets due at once: two Jobs');
});

t.test('selectors: each instance sees only its own verify Jobs', async (t) => {
  t.equal(verifySelector(''), `${VERIFY_SELECTOR},!${TARGET_LABEL}`, 'the operator\'s: verify Jobs without a target label (those of every version before targets)');
  t.equal(verifySelector('weu'), `${VERIFY_SELECTOR},${TARGET_LABEL}=weu`);
  t.match(verifySelector('x'.repeat(100)), new RegExp(`${TARGET_LABEL}=x{54}-[0-9a-f]{8}$`), 'a name too long for a label: the label value its Jobs carry');
});

t.test('manifests: the operator\'s as before; a target\'s like its apply Jobs', async (t) => {
  const own = buildVerifyJob(DUE, OPERATOR_INSTANCE, template, 'ops');
  t.same(own.metadata?.labels, { 'app.kubernetes.io/name': 'exposedapi-apim-executor', 'app.kubernetes.io/managed-by': 'exposedapi-apim-dispatcher', 'exposedapi-apim.io/action': 'verify' }, 'the labels it always had');
  t.equal(own.spec?.template.spec?.serviceAccountName, template.serviceAccountName);
  t.same(own.spec?.template.spec?.containers[0]?.env?.map((e) => e.name), ['JOB_NAME', 'OPERATOR_NAMESPACE'], 'the ConfigMap\'s instance');

  const weu = buildVerifyJob(DUE, instanceOf('weu'), template, 'ops');
  t.equal(weu.metadata?.name, verifyJobName(DUE, 'weu'));
  t.equal(weu.metadata?.labels?.[TARGET_LABEL], 'weu');
  t.equal(weu.metadata?.labels?.['exposedapi-apim.io/action'], 'verify');
  const pod = weu.spec?.template.spec;
  t.equal(pod?.serviceAccountName, 'executor-weu', 'the target\'s identity');
  t.equal(weu.spec?.template.metadata?.labels?.['azure.workload.identity/use'], 'true');
  t.same(pod?.containers[0]?.args, ['execute', 'verify']);
  const env = Object.fromEntries((pod?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
  t.match(env, { APIM_TARGET: 'weu', APIM_SERVICE_NAME: 'weu', APIM_SUBSCRIPTION_ID: SUB, APIM_DRIFT_MODE: 'repair', AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111' }, 'its instance, identity and drift mode');
  t.same(pod?.containers[0]?.envFrom, own.spec?.template.spec?.containers[0]?.envFrom, 'over the same ConfigMap');
  const neu = buildVerifyJob(DUE, instanceOf('neu'), template, 'ops');
  t.equal(neu.spec?.template.spec?.serviceAccountName, template.serviceAccountName, 'no identity of its own: the executor\'s');
  t.notOk(neu.spec?.template.spec?.containers[0]?.env?.some((e) => e.name === 'APIM_DRIFT_MODE'), 'no drift.mode: the ConfigMap\'s');
  t.equal(jobSummary(weu), undefined, 'the Job watch of changes ignores it');
});

t.test('what is due, per instance, from its own Jobs', async (t) => {
  const hour = 3_600_000;
  const since = 1_000_000;
  const weu = instanceOf('weu');
  const cases: { name: string; jobs: { createdMs: number; active: boolean }[]; now: number; want: ReturnType<typeof verifyStep> }[] = [
    { name: 'none yet: one interval after the schedule started', jobs: [], now: since + 10, want: { kind: 'wait', untilMs: since + hour } },
    { name: 'none yet, the interval passed', jobs: [], now: since + hour, want: { kind: 'create', dueMs: since + hour, name: verifyJobName(since + hour, 'weu') } },
    { name: 'one interval after the newest', jobs: [{ createdMs: 5_000_000, active: false }, { createdMs: 9_000_000, active: false }], now: 9_000_001, want: { kind: 'wait', untilMs: 9_000_000 + hour } },
    { name: 'due, the newest done', jobs: [{ createdMs: 9_000_000, active: false }], now: 9_000_000 + hour + 5, want: { kind: 'create', dueMs: 9_000_000 + hour, name: verifyJobName(9_000_000 + hour, 'weu') } },
    { name: 'due, its own previous one still running: it waits', jobs: [{ createdMs: 9_000_000, active: true }], now: 9_000_000 + hour, want: { kind: 'busy' } },
    { name: 'running, not due: waits for the due time', jobs: [{ createdMs: 9_000_000, active: true }], now: 9_000_001, want: { kind: 'wait', untilMs: 9_000_000 + hour } },
  ];
  for (const c of cases) t.same(verifyStep(weu, c.jobs, since, hour, c.now), c.want, c.name);
  t.same(verifyStep(OPERATOR_INSTANCE, [], since, hour, since + hour), { kind: 'create', dueMs: since + hour, name: verifyJobName(since + hour) }, 'the operator\'s own: the name it always had');
});

t.test('a change of the targets starts, updates or stops only the schedules it concerns', async (t) => {
  const weu = instanceOf('weu');
  const neu = instanceOf('neu');
  const running = new Map([['', instanceFingerprint(OPERATOR_INSTANCE)], ['weu', instanceFingerprint(weu)]]);
  const changedWeu: VerifyInstance = { ...weu, job: { ...weu.job!, env: weu.job!.env.map((e) => (e.name === 'APIM_DRIFT_MODE' ? { ...e, value: 'report' } : e)) } };
  const cases: { name: string; wanted: VerifyInstance[]; want: { start: string[]; update: string[]; stop: string[] } }[] = [
    { name: 'nothing changed', wanted: [OPERATOR_INSTANCE, weu], want: { start: [], update: [], stop: [] } },
    { name: 'a target added', wanted: [OPERATOR_INSTANCE, weu, neu], want: { start: ['neu'], update: [], stop: [] } },
    { name: 'a target\'s drift mode changed', wanted: [OPERATOR_INSTANCE, changedWeu], want: { start: [], update: ['weu'], stop: [] } },
    { name: 'a target deleted or unusable', wanted: [OPERATOR_INSTANCE], want: { start: [], update: [], stop: ['weu'] } },
    { name: 'first sync of a term', wanted: [OPERATOR_INSTANCE, weu], want: { start: ['', 'weu'], update: [], stop: [] } },
  ];
  for (const c of cases) {
    const from = c.name === 'first sync of a term' ? new Map<string, string>() : running;
    const got = scheduleChanges(from, c.wanted);
    t.same({ start: got.start.map((i) => i.target), update: got.update.map((i) => i.target), stop: got.stop }, c.want, c.name);
  }
});
