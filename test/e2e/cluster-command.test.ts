// `exposedapi-apim cluster up|down` as a person runs it: a child process, then the real kubectl with DIR/kubeconfig.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { isAlive as alive } from '../../dev-cluster/control-plane/state-file.ts';
import { exposedApi, REPO_DIR } from '../helpers/fixtures.ts';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(REPO_DIR, 'cli/main.ts'), ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });

t.test('cluster up, use it with kubectl, cluster down', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-cluster-'));
  let pids: number[] = [];
  t.teardown(() => {
    if (existsSync(join(dir, 'cluster.json'))) cli(['cluster', 'down', '--dir', dir]);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const up = cli(['cluster', 'up', '--dir', dir]);
  t.equal(up.status, 0, up.stderr);
  t.match(up.stdout, `export KUBECONFIG=${join(dir, 'kubeconfig')}`);
  const record = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'));
  const plane = JSON.parse(readFileSync(join(dir, 'control-plane.json'), 'utf8'));
  pids = [record.webhookPid, plane.supervisorPid, plane.pids.apiserver, plane.pids.etcd, plane.pids.controllerManager];
  t.ok(pids.every(alive), 'webhook, supervisor, apiserver, etcd and controller-manager are running');

  const kubectl = (args: string[], input?: string) => spawnSync(record.kubectl, args, { encoding: 'utf8', input, env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') }, timeout: 60_000 });
  const bad = kubectl(['apply', '-n', 'default', '-f', '-'], YAML.stringify(exposedApi({ metadata: { name: 'bad', namespace: undefined }, spec: { port: 0 } })));
  t.not(bad.status, 0);
  t.match(bad.stderr, 'The ExposedAPI "bad" is invalid: spec.port: Invalid value: 0', 'the registered webhook denies bad objects');
  const good = kubectl(['apply', '-n', 'default', '-f', '-'], YAML.stringify(exposedApi({ metadata: { name: 'good', namespace: undefined } })));
  t.equal(good.status, 0, good.stderr);
  const stored = JSON.parse(kubectl(['get', 'exposedapi', 'good', '-n', 'default', '-o', 'json']).stdout);
  t.match(stored.metadata.annotations[SPEC_HASH_ANNOTATION], /^[0-9a-f]{64}$/, 'and stamps good ones');
  const whoami = kubectl(['auth', 'can-i', 'list', 'exposedapis.oda.tmforum.org', '--all-namespaces', '--as', 'system:serviceaccount:exposedapi-apim:exposedapi-apim-webhook']);
  t.equal(whoami.stdout.trim(), 'yes', 'the webhook ServiceAccount has its RBAC');

  const again = cli(['cluster', 'up', '--dir', dir]);
  t.equal(again.status, 0, 'up twice is harmless');
  t.match(again.stderr, 'already running');

  const down = cli(['cluster', 'down', '--dir', dir]);
  t.equal(down.status, 0, down.stderr);
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  t.same(pids.filter(alive), [], 'every process it started is gone');
  t.notOk(existsSync(join(dir, 'cluster.json')));
  t.notOk(existsSync(plane.runDir), 'the run directory is removed');
  t.equal(cli(['cluster', 'down', '--dir', dir]).status, 1, 'down with nothing running says so');
});
