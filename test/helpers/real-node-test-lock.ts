// One real-node test file at a time on a machine. The node itself already waits for the machine's node lock
// (dev-cluster/node/node-lock.ts), but real-node.test.ts checks that stopping its node leaves the machine clean (lock
// file, KUBE-* chains, kubepods cgroups, kernel settings): a second test file's node, waiting for the lock, would start
// the moment the first one stops and make those checks fail. So each file holds this lock for its whole run.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../dev-cluster/control-plane/state-file.ts';

const TEST_LOCK = join(tmpdir(), 'exposedapi-apim-real-node-tests.lock');

/** Waits (bounded) until no other live test process holds the lock, takes it, and releases it at teardown. */
export async function holdRealNodeTestLock(t: { teardown(fn: () => unknown): void }, timeoutMs = 40 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(TEST_LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      t.teardown(() => rmSync(TEST_LOCK, { force: true }));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(TEST_LOCK, 'utf8'));
    } catch {
      continue; // released between the two calls
    }
    // A dead owner's lock (a killed run) is taken over.
    if (!Number.isInteger(owner) || !isAlive(owner)) {
      rmSync(TEST_LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another real-node test (PID ${owner}) has held ${TEST_LOCK} for longer than ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
