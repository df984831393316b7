// kubelet sets six kernel settings for the whole machine when it starts (vm.overcommit_memory=1, kernel.panic=10,
// kernel.panic_on_oops=1, …: pkg/kubelet/cm setupKernelTunables); with protectKernelDefaults it refuses to start
// instead, and there is no third choice. A dev cluster must not leave the machine changed, so the node reads them before
// kubelet starts and writes them back after it stops (and a later run restores them from the lock record if this
// process was killed first).
import { readFileSync, writeFileSync } from 'node:fs';

export const KUBELET_TUNABLES = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

export function readTunables(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of KUBELET_TUNABLES) {
    try {
      values[key] = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
    } catch {
      // not on this kernel: nothing to restore
    }
  }
  return values;
}

/** Writes back each value that differs; returns the keys it could not restore, with the error. */
export function restoreTunables(saved: Record<string, string>): string[] {
  const failed: string[] = [];
  const now = readTunables();
  for (const [key, value] of Object.entries(saved)) {
    if (now[key] === value) continue;
    try {
      writeFileSync(`/proc/sys/${key}`, value);
    } catch (err) {
      failed.push(`${key}=${value} (${(err as Error).message})`);
    }
  }
  return failed;
}
