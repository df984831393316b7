// tap `after` script: stops the run's control plane (started by global-up.ts for this tap runner) and waits until it
// is torn down. A plane named by EXPOSEDAPI_APIM_CONTROL_PLANE_STATE belongs to whoever started it and is left alone.
import { rm } from 'node:fs/promises';
import { stopSupervisor } from '../../dev-cluster/control-plane/supervisor-process.ts';
import { readLiveState, stateFileForRun, supervisorLogFor } from '../../dev-cluster/control-plane/state-file.ts';

const stateFile = stateFileForRun(process.ppid);
const state = await readLiveState(stateFile);
if (state) {
  try {
    await stopSupervisor(state);
    // The supervisor log only matters when something went wrong.
    await rm(supervisorLogFor(stateFile), { force: true });
  } catch (err) {
    process.stderr.write(`# control plane teardown: ${(err as Error).message}; see ${supervisorLogFor(stateFile)}\n`);
    process.exitCode = 1;
  }
}
