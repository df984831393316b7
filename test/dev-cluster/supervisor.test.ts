// The supervisor's lifecycle: SIGINT and the death of its parent both tear everything down (every process it started,
// pods included, and the run directory), and a failed start-up is reported with the fix.
import t, { type Test } from 'tap';
import { CoreV1Api } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launchSupervisor } from '../../dev-cluster/control-plane/supervisor-process.ts';
import { isAlive, stateDir, supervisorLogFor, type ControlPlaneState } from '../../dev-cluster/control-plane/state-file.ts';
import { controlPlaneClient } from '../../dev-cluster/control-plane/control-plane-client.ts';
import { waitFor } from '../control-plane/wait-for.ts';

const freshStateFile = (): string => join(stateDir(), `supervisor-test-${process.pid}-${randomBytes(3).toString('hex')}.json`);

/** Starts a long-running pod so teardown has a pod process to end too; returns its PID. */
async function startSleeperPod(state: ControlPlaneState): Promise<number> {
  const core = controlPlaneClient(state).kubeConfig().makeApiClient(CoreV1Api);
  await waitFor('the default ServiceAccount', () => core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }));
  await core.createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name: 'sleeper' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sleep', '300'] }] } },
  });
  return waitFor('the sleeper to run', async () => {
    const id = (await core.readNamespacedPod({ name: 'sleeper', namespace: 'default' })).status?.containerStatuses?.[0]?.containerID;
    return id ? Number(id.replace('local://', '')) : undefined;
  });
}

async function assertAllGone(t: Test, state: ControlPlaneState, stateFile: string, podPid: number): Promise<void> {
  await waitFor('the supervisor to exit', () => (isAlive(state.supervisorPid) ? undefined : true), { timeoutMs: 30_000 });
  for (const [name, pid] of Object.entries({ ...state.pids, pod: podPid })) t.notOk(isAlive(pid), `${name} (PID ${pid}) is gone`);
  t.notOk(existsSync(state.runDir), 'run directory removed');
  t.notOk(existsSync(stateFile), 'state file removed');
}

t.test('SIGINT to the supervisor stops every process it started and removes the run directory', async (t) => {
  const stateFile = freshStateFile();
  t.teardown(() => rm(supervisorLogFor(stateFile), { force: true }));
  const { state } = await launchSupervisor({ stateFile, parentPid: process.pid });
  t.ok(existsSync(state.runDir) && existsSync(stateFile));
  for (const pid of Object.values(state.pids)) t.ok(isAlive(pid), `component PID ${pid} runs`);
  const podPid = await startSleeperPod(state);
  t.ok(isAlive(podPid), 'the pod process runs');
  const started = Date.now();
  process.kill(state.supervisorPid, 'SIGINT');
  await assertAllGone(t, state, stateFile, podPid);
  t.comment(`teardown took ${Date.now() - started} ms`);
});

t.test('the supervisor tears down by itself when the process that started it dies', async (t) => {
  const stateFile = freshStateFile();
  t.teardown(() => rm(supervisorLogFor(stateFile), { force: true }));
  const module = fileURLToPath(new URL('../../dev-cluster/control-plane/supervisor-process.ts', import.meta.url));
  // A stand-in for the tap runner: starts a supervisor that watches it, prints the state, then idles.
  const parent = spawn(process.execPath, ['--input-type=module', '-e', `
    const { launchSupervisor } = await import(${JSON.stringify(module)});
    const { state } = await launchSupervisor({ stateFile: ${JSON.stringify(stateFile)}, parentPid: process.pid });
    console.log(JSON.stringify(state));
    setInterval(() => {}, 60_000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { if (parent.exitCode === null) parent.kill('SIGKILL'); });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: parent.stdout }).once('line', resolve);
    parent.once('exit', (code) => reject(new Error(`the stand-in parent exited with ${code} before printing the state`)));
  });
  const state = JSON.parse(line) as ControlPlaneState;
  t.equal(state.parentPid, parent.pid, 'the supervisor watches its parent');
  const podPid = await startSleeperPod(state);
  parent.kill('SIGKILL');
  await assertAllGone(t, state, stateFile, podPid);
});

t.test('a start-up failure is reported with the component\'s own explanation', async (t) => {
  const stateFile = freshStateFile();
  t.teardown(() => rm(supervisorLogFor(stateFile), { force: true }));
  const saved = process.env['EXPOSEDAPI_APIM_BIN_DIR'];
  process.env['EXPOSEDAPI_APIM_BIN_DIR'] = '/nonexistent/exposedapi-apim-bin';
  t.teardown(() => {
    if (saved === undefined) delete process.env['EXPOSEDAPI_APIM_BIN_DIR'];
    else process.env['EXPOSEDAPI_APIM_BIN_DIR'] = saved;
  });
  await t.rejects(launchSupervisor({ stateFile, parentPid: process.pid }),
    /supervisor exited with 1 before it was ready[\s\S]*\/nonexistent\/exposedapi-apim-bin\/etcd is missing[\s\S]*unset EXPOSEDAPI_APIM_BIN_DIR/);
  t.notOk(existsSync(stateFile), 'no state file');
});
