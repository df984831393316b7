// tap `before` script: starts the run's one control plane (see supervisor.ts) and returns once it is ready, so every
// test file of the run shares it. The supervisor watches the tap runner (our parent) and tears down if tap dies
// without running `after`. A live plane named by EXPOSEDAPI_APIM_CONTROL_PLANE_STATE is used instead of starting one.
import { launchSupervisor } from '../../dev-cluster/control-plane/supervisor-process.ts';
import { readLiveState, stateFileForRun, STATE_ENV } from '../../dev-cluster/control-plane/state-file.ts';

const explicit = process.env[STATE_ENV];
if (explicit && (await readLiveState(explicit))) {
  process.stderr.write(`# control plane: using the running one described by ${STATE_ENV}=${explicit}\n`);
} else {
  if (explicit) process.stderr.write(`# control plane: ${STATE_ENV}=${explicit} names no running plane; starting one for this run\n`);
  const started = Date.now();
  try {
    const { state } = await launchSupervisor({ stateFile: stateFileForRun(process.ppid), parentPid: process.ppid });
    process.stderr.write(`# control plane ready in ${Date.now() - started} ms (${state.server}, kubeconfig ${state.kubeconfigPath})\n`);
  } catch (err) {
    process.stderr.write(`# control plane failed to start: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
