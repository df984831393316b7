// The executor Job, built purely from a change and the template: deterministic DNS-1123 names within 63 characters,
// the label index, args, environment, identity, retry policy and the restricted security context.
import t from 'tap';
import { readDispatcherConfig } from '../../core/dispatcher-config.ts';
import { EXIT_PERMANENT, JOB_LABELS } from '../../core/exposedapi-status.ts';
import { buildJob, jobName, jobNamePrefix, labelValue, MAX_PREFIX, type Change } from '../../dispatcher/job-manifest.ts';
import { jobSummary } from '../../dispatcher/job-summary.ts';

const HASH = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const parsed = readDispatcherConfig({}, { hostname: 'h', randomSuffix: 'r' });
if (!parsed.ok) throw new Error(parsed.errors.join('; '));
const template = parsed.config.job;

const change = (o: Partial<Change> = {}): Change => ({ namespace: 'components', name: 'pc', uid: 'uid-1', specHash: HASH, action: 'apply', ...o });

t.test('names: <readable prefix>-<hash8>, -delete for deletes, DNS-1123, at most 63 characters', async (t) => {
  const h8 = /[0-9a-f]{8}/.source;
  const cases: { change: Change; name: RegExp }[] = [
    { change: change(), name: new RegExp(`^components-pc-${h8}$`) },
    { change: change({ action: 'delete' }), name: new RegExp(`^components-pc-${h8}-delete$`) },
    { change: change({ name: 'my.api.v1' }), name: new RegExp(`^components-my-api-v1-${h8}$`) },
    // The namespace is not repeated when the name starts with it (an ODA release named like its namespace).
    { change: change({ namespace: 'sandbox', name: 'sandbox-productcatalogmanagement-metrics' }), name: new RegExp(`^sandbox-productcatalogmanagement-metrics-${h8}$`) },
    // The ODA component operator's names are ~60 characters: whole words are kept from the end, where the API and
    // its version are, not cut from the beginning they all share.
    { change: change({ namespace: 'sandbox', name: 'sandbox-productcatalogmanagement-productcatalogmanagement-v4' }), name: new RegExp(`^productcatalogmanagement-v4-${h8}$`) },
    { change: change({ namespace: 'sandbox', name: 'sandbox-productcatalogmanagement-userrolesandpermissions-v4', action: 'delete' }), name: new RegExp(`^userrolesandpermissions-v4-${h8}-delete$`) },
    { change: change({ name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4' }), name: new RegExp(`^productcatalogmanagement-v4-${h8}$`) },
    { change: change({ namespace: 'n'.repeat(63), name: 'x'.repeat(253), action: 'delete' }), name: new RegExp(`^n{47}-${h8}-delete$`) },
    // Retries of an apply (JOB_RETRY_LIMIT ≤ 1000): -r<n> fits where -delete does.
    { change: change({ attempt: 1 }), name: new RegExp(`^components-pc-${h8}-r1$`) },
    { change: change({ namespace: 'n'.repeat(63), name: 'x'.repeat(253), attempt: 1000 }), name: new RegExp(`^n{47}-${h8}-r1000$`) },
    { change: change({ attempt: 0 }), name: new RegExp(`^components-pc-${h8}$`) },
    // A delete has one Job per change: no attempts (a blocked delete has its own ways out, docs/dispatcher.md).
    { change: change({ action: 'delete', attempt: 2 }), name: new RegExp(`^components-pc-${h8}-delete$`) },
  ];
  for (const c of cases) {
    const name = jobName(c.change);
    t.match(name, c.name, `${c.change.namespace}/${c.change.name}`);
    t.ok(name.length <= 63, `${name}: ≤ 63 characters (${name.length})`);
    t.match(name, DNS_1123_LABEL, `${name}: DNS-1123`);
  }
  t.equal(jobNamePrefix('a'.repeat(30), 'b'.repeat(30)), 'b'.repeat(30), 'the last whole word that fits');
  t.equal(jobNamePrefix('a'.repeat(60), 'b'.repeat(60)).length, MAX_PREFIX, 'one long word: its beginning, MAX_PREFIX characters');
  t.equal(jobName(change()), jobName(change({ uid: 'another' })), 'deterministic: the same change always has the same name');
  t.equal(jobName(change({ specHash: HASH.toUpperCase() })), jobName(change()), 'the spec hash is compared in lower case');
  // Unique per object and change, whatever the readable part leaves out.
  const names = [
    change(),
    change({ action: 'delete' }),
    change({ specHash: HASH.replace('a1', 'ff') }),
    change({ namespace: 'a', name: 'b-c' }),
    change({ namespace: 'a-b', name: 'c' }),
    change({ name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4' }),
    change({ namespace: 'other', name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4' }),
    change({ name: 'x-productcatalogmanagement-v4' }),
  ].map(jobName);
  t.equal(new Set(names).size, names.length, `distinct: ${names.join(', ')}`);
});

t.test('labels are the index; values that cannot be labels are shortened and kept whole in annotations', async (t) => {
  const job = buildJob(change({ name: 'pc' }), template, 'exposedapi-apim');
  t.same(job.metadata?.labels, {
    'app.kubernetes.io/name': 'exposedapi-apim-executor',
    'app.kubernetes.io/managed-by': 'exposedapi-apim-dispatcher',
    [JOB_LABELS.namespace]: 'components',
    [JOB_LABELS.name]: 'pc',
    [JOB_LABELS.specHash]: HASH.slice(0, 63),
    [JOB_LABELS.action]: 'apply',
  });
  t.same(job.metadata?.annotations, { 'exposedapi-apim.io/uid': 'uid-1', 'exposedapi-apim.io/spec-hash': HASH, 'exposedapi-apim.io/exposedapi': 'components/pc' });
  t.equal(job.metadata?.namespace, 'exposedapi-apim', 'Jobs live in the operator namespace');
  const long = 'a.'.repeat(60) + 'z';
  const value = labelValue(long);
  t.ok(value.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(value), `${value}: a valid label value`);
  t.equal(labelValue('ok-name'), 'ok-name');
  t.not(labelValue(long), labelValue(long + 'y'), 'shortened values stay distinct');
  t.same(jobSummary(job), { name: jobName(change({ name: 'pc' })), namespace: 'components', apiName: 'pc', apiUid: 'uid-1', specHash: HASH, action: 'apply', attempt: 0, deleting: false },
    'the watch side reads back the change a Job is for');
  const retry = buildJob(change({ attempt: 3 }), template, 'exposedapi-apim');
  t.equal(retry.metadata?.name, `${jobName(change())}-r3`, 'a retry: the first Job\'s name and -r<attempt>');
  t.equal(retry.metadata?.labels?.['exposedapi-apim.io/attempt'], '3', 'the attempt is a label (the Job is the retry chain\'s record)');
  t.equal(jobSummary(retry)?.attempt, 3, 'and reads back');
  t.notOk(job.metadata?.labels?.['exposedapi-apim.io/attempt'], 'a first Job has no attempt label: its name and labels are as before retries existed');
});

t.test('the pod: executor args, env, identity, retries, resources and the restricted security context', async (t) => {
  const job = buildJob(change({ action: 'delete' }), template, 'exposedapi-apim');
  const spec = job.spec!;
  const pod = spec.template.spec!;
  const c = pod.containers[0]!;
  t.same(c.args, ['execute', 'delete', '--namespace', 'components', '--name', 'pc', '--spec-hash', HASH]);
  t.equal(c.image, 'ghcr.io/exposedapi-apim/exposedapi-apim:0.1.0');
  t.notOk(c.command, 'the image entrypoint runs unless EXECUTOR_COMMAND is set');
  t.same(c.envFrom, [{ configMapRef: { name: 'exposedapi-apim-config' } }]);
  t.same(c.env?.find((e) => e.name === 'JOB_NAME'), { name: 'JOB_NAME', value: jobName(change({ action: 'delete' })) });
  t.equal(pod.serviceAccountName, 'exposedapi-apim-executor');
  t.equal(spec.template.metadata?.labels?.['azure.workload.identity/use'], 'true', 'workload identity');
  t.equal(spec.template.metadata?.labels?.[JOB_LABELS.name], 'pc', 'pods carry the index labels too');
  t.equal(pod.restartPolicy, 'Never');
  t.equal(spec.backoffLimit, 3);
  t.equal(spec.activeDeadlineSeconds, 600);
  t.equal(spec.ttlSecondsAfterFinished, 86400);
  t.same(spec.podFailurePolicy?.rules, [
    { action: 'FailJob', onExitCodes: { containerName: 'executor', operator: 'In', values: [EXIT_PERMANENT] } },
    { action: 'FailJob', onExitCodes: { containerName: 'executor', operator: 'In', values: [43] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
  ], 'exits 42 and 43 fail the Job at once; disruptions do not use up a retry');
  t.same(c.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } });
  t.same(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  t.same(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
  t.same(c.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }], 'a writable /tmp beside the read-only root');
});

t.test('template settings from the environment', async (t) => {
  const custom = readDispatcherConfig({
    EXECUTOR_IMAGE: 'registry.example.com/exposedapi-apim:9',
    EXECUTOR_COMMAND: '["node", "/opt/stand in.ts"]',
    EXECUTOR_IMAGE_PULL_POLICY: 'Always',
    EXECUTOR_SERVICE_ACCOUNT: 'apim-writer',
    EXECUTOR_CONFIGMAP: 'other-config',
    JOB_BACKOFF_LIMIT: '0',
    JOB_ACTIVE_DEADLINE_SECONDS: '60',
    JOB_TTL_SECONDS_AFTER_FINISHED: '30',
    JOB_RETRY_LIMIT: '0', // a TTL shorter than the retry backoff is refused while retries are on
    JOB_MEMORY_LIMIT: '1Gi',
  }, { hostname: 'h', randomSuffix: 'r' });
  if (!custom.ok) throw new Error(custom.errors.join('; '));
  const job = buildJob(change(), custom.config.job, 'ops');
  const c = job.spec!.template.spec!.containers[0]!;
  t.equal(c.image, 'registry.example.com/exposedapi-apim:9');
  t.same(c.command, ['node', '/opt/stand in.ts']);
  t.equal(c.imagePullPolicy, 'Always');
  t.equal(job.spec!.template.spec!.serviceAccountName, 'apim-writer');
  t.same(c.envFrom, [{ configMapRef: { name: 'other-config' } }]);
  t.equal(job.spec!.backoffLimit, 0);
  t.equal(job.spec!.activeDeadlineSeconds, 60);
  t.equal(job.spec!.ttlSecondsAfterFinished, 30);
  t.equal(c.resources?.limits?.['memory'], '1Gi');
});
