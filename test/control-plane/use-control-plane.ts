// What a test file uses: `const cp = await useControlPlane(t)`. Under `tap` it attaches to the run's shared plane
// (started by the `before` script, found through the runner's PID); a file run on its own (`node x.test.ts`) starts a
// private plane that stops when `t` ends. Tests isolate themselves by namespace (cp.newNamespace) and run components
// as their own ServiceAccount (cp.tokenFor / cp.kubeConfigFor), never as the admin that cp.kubeConfig() returns.
// The plane itself and its client live in dev-cluster/ (the local cluster and the sandbox run the same code).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { controlPlaneClient, type ControlPlaneClient, type Scope } from '../../dev-cluster/control-plane/control-plane-client.ts';
import { readLiveState, stateDir, stateFileForRun, supervisorLogFor, STATE_ENV } from '../../dev-cluster/control-plane/state-file.ts';
import { launchSupervisor, stopSupervisor } from '../../dev-cluster/control-plane/supervisor-process.ts';

/** The part of a tap Test this helper needs. */
export type TestLike = Scope;
export type TestControlPlane = ControlPlaneClient;

let shared: Promise<TestControlPlane> | undefined;

export function useControlPlane(t: TestLike): Promise<TestControlPlane> {
  shared ??= attach(t).catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/**
 * A control plane of this test file's own, even under tap: for tests that need cluster-scoped state the shared plane
 * cannot have (e.g. a different CRD of the same name). Torn down with `t`.
 */
export async function usePrivateControlPlane(t: TestLike): Promise<TestControlPlane> {
  const stateFile = join(stateDir(), `private-${process.pid}-${randomBytes(3).toString('hex')}.json`);
  const { state } = await launchSupervisor({ stateFile, parentPid: process.pid });
  t.teardown(async () => {
    await stopSupervisor(state);
    await rm(supervisorLogFor(stateFile), { force: true });
  });
  return controlPlaneClient(state);
}

async function attach(t: TestLike): Promise<TestControlPlane> {
  const explicit = process.env[STATE_ENV];
  const state = (explicit ? await readLiveState(explicit) : undefined) ?? (await readLiveState(stateFileForRun(process.ppid)));
  if (state) return controlPlaneClient(state);
  // Running alone: a private plane, torn down with `t` (and by the supervisor itself if this process dies).
  const stateFile = join(stateDir(), `file-${process.pid}-${randomBytes(3).toString('hex')}.json`);
  const { state: own } = await launchSupervisor({ stateFile, parentPid: process.pid });
  t.teardown(async () => {
    shared = undefined;
    await stopSupervisor(own);
    await rm(supervisorLogFor(stateFile), { force: true });
  });
  return controlPlaneClient(own);
}
