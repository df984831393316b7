// One real node per machine at a time. Its kube-proxy writes the machine's iptables, its kubelet owns the `kubepods`
// cgroups and the Service range is the same in every dev control plane: two nodes would undo each other. The lock is a
// file naming the owner's PID and what it created, so a run that finds the owner dead (killed before its clean-up) can
// clean up after it: bridge, iptables rules, mounts, shims, the kernel settings kubelet changed.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAlive } from '../control-plane/state-file.ts';

export const LOCK_PATH = process.env['EXPOSEDAPI_APIM_NODE_LOCK'] ?? '/run/exposedapi-apim-real-node.json';

export interface NodeLockRecord {
  pid: number;
  startedAt: string;
  bridge?: string;
  nodeDir?: string;
  containerdSocket?: string;
  /** The values kubelet found before it changed them (see kernel-tunables.ts). */
  sysctls?: Record<string, string>;
}

export interface NodeLock {
  record: NodeLockRecord;
  /** Rewrites the record (call after each thing created, so a dead owner's leftovers are all known). */
  update: (patch: Partial<NodeLockRecord>) => void;
  release: () => void;
}

function read(): NodeLockRecord | undefined {
  try {
    return JSON.parse(readFileSync(LOCK_PATH, 'utf8')) as NodeLockRecord;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock, waiting (bounded) while another live run holds it; a dead owner's record is handed to
 * `cleanLeftovers` and then removed. Creation is exclusive (O_EXCL), so two runs never both succeed.
 */
export async function acquireNodeLock(options: {
  timeoutMs: number;
  log: (line: string) => void;
  cleanLeftovers: (stale: NodeLockRecord) => Promise<void>;
  signal?: AbortSignal;
}): Promise<NodeLock> {
  const deadline = Date.now() + options.timeoutMs;
  let waitingFor: number | undefined;
  for (;;) {
    if (options.signal?.aborted) throw new Error('real node start-up aborted while waiting for the node lock');
    const record: NodeLockRecord = { pid: process.pid, startedAt: new Date().toISOString() };
    try {
      writeFileSync(LOCK_PATH, JSON.stringify(record), { flag: 'wx' });
      const lock: NodeLock = {
        record,
        update: (patch) => {
          Object.assign(record, patch);
          writeFileSync(LOCK_PATH, JSON.stringify(record));
        },
        release: () => {
          if (read()?.pid === process.pid) rmSync(LOCK_PATH, { force: true });
        },
      };
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = read();
    if (owner && !isAlive(owner.pid)) {
      options.log(`real node: the previous node (PID ${owner.pid}, started ${owner.startedAt}) died without cleaning up; cleaning up after it`);
      await options.cleanLeftovers(owner);
      if (read()?.pid === owner.pid) rmSync(LOCK_PATH, { force: true });
      continue;
    }
    if (owner && waitingFor !== owner.pid) {
      waitingFor = owner.pid;
      options.log(`real node: waiting for the real node of PID ${owner.pid} (started ${owner.startedAt}) to stop: one node per machine (${LOCK_PATH})`);
    }
    if (Date.now() > deadline) {
      throw new Error(`another real node (PID ${owner?.pid}) has held ${LOCK_PATH} for longer than ${options.timeoutMs} ms; ` +
        'stop it (its supervisor or sandbox), or use the node agent');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
