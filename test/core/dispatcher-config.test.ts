// The dispatcher's configuration: defaults, in-cluster detection, and every bad value named with its fix.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { DEFAULT_EXECUTOR_IMAGE, readDispatcherConfig } from '../../core/dispatcher-config.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';

const context = { hostname: 'webhook-7d9f', randomSuffix: 'abc123' };

t.test('defaults', async (t) => {
  const r = readDispatcherConfig({}, context);
  if (!r.ok) throw new Error(r.errors.join('; '));
  t.equal(r.config.enabled, false, 'off outside a cluster (npm start, tests)');
  t.equal(r.config.operatorNamespace, 'exposedapi-apim');
  t.equal(r.config.identity, 'webhook-7d9f_abc123');
  t.equal(r.config.maxActiveJobs, 10);
  t.same(r.config.lease, { name: 'exposedapi-apim-dispatcher', durationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 });
  t.equal(r.config.readinessSync, true);
  t.equal(r.config.job.command, undefined);
  t.equal(r.config.job.imagePullPolicy, undefined);
  t.equal(r.config.job.image, DEFAULT_EXECUTOR_IMAGE);
});

t.test('the default EXECUTOR_IMAGE is the chart\'s image at its appVersion, the version npm run image tags', async (t) => {
  const chart = YAML.parse(readFileSync(join(REPO_DIR, 'charts/exposedapi-apim/Chart.yaml'), 'utf8')) as { appVersion: string };
  const values = YAML.parse(readFileSync(join(REPO_DIR, 'charts/exposedapi-apim/values.yaml'), 'utf8')) as { image: { repository: string; tag: string; digest: string } };
  const pkg = JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string };
  t.same([values.image.tag, values.image.digest], ['', ''], 'the chart\'s default image is repository:appVersion');
  t.equal(DEFAULT_EXECUTOR_IMAGE, `${values.image.repository}:${chart.appVersion}`);
  t.equal(chart.appVersion, pkg.version, 'appVersion is the version the image build tags (package.json)');
});

t.test('in a cluster: on by default, the namespace from the ServiceAccount, the identity from POD_NAME', async (t) => {
  const r = readDispatcherConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1', POD_NAME: 'webhook-0' }, { ...context, serviceAccountNamespace: 'apim-system' });
  if (!r.ok) throw new Error(r.errors.join('; '));
  t.equal(r.config.enabled, true);
  t.equal(r.config.operatorNamespace, 'apim-system');
  t.equal(r.config.identity, 'webhook-0');
  const off = readDispatcherConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1', DISPATCHER_ENABLED: 'false', OPERATOR_NAMESPACE: 'ops' }, context);
  t.same(off.ok && [off.config.enabled, off.config.operatorNamespace], [false, 'ops']);
  const cmd = readDispatcherConfig({ EXECUTOR_COMMAND: 'node  /srv/x.ts' }, context);
  t.same(cmd.ok && cmd.config.job.command, ['node', '/srv/x.ts'], 'space-separated form');
});

t.test('bad values stop the process with the variable, the value and what is valid', async (t) => {
  const r = readDispatcherConfig({
    DISPATCH_MAX_ACTIVE_JOBS: '0',
    OPERATOR_NAMESPACE: 'Ops_NS',
    JOB_MEMORY_LIMIT: '512MB',
    EXECUTOR_COMMAND: '["node", 3]',
    EXECUTOR_IMAGE_PULL_POLICY: 'Sometimes',
    LEASE_DURATION_SECONDS: '5',
    LEASE_RENEW_DEADLINE_SECONDS: '5',
    DISPATCHER_ENABLED: 'maybe',
  }, context);
  t.equal(r.ok, false);
  const errors = r.ok ? [] : r.errors;
  for (const expected of [
    'DISPATCH_MAX_ACTIVE_JOBS="0" is invalid: must be a whole number from 1 to 1000',
    'OPERATOR_NAMESPACE="Ops_NS" is invalid: must be a DNS-1123 label',
    'JOB_MEMORY_LIMIT="512MB" is invalid: must be a Kubernetes quantity such as 100m, 1, 128Mi or 1Gi',
    'EXECUTOR_COMMAND="[\\"node\\", 3]" is invalid: must be a JSON array of non-empty strings',
    'EXECUTOR_IMAGE_PULL_POLICY="Sometimes" is invalid: must be one of Always, IfNotPresent, Never',
    'LEASE_RENEW_DEADLINE_SECONDS=5 must be less than LEASE_DURATION_SECONDS=5',
    'DISPATCHER_ENABLED="maybe" is invalid: must be true or false',
  ]) {
    t.ok(errors.some((e) => e.startsWith(expected)), expected);
  }
  t.equal(errors.length, 7, errors.join('\n'));
});
