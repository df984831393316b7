// What "the node" is when bench:e2e sums its memory (test/bench/node-memory.ts): runtime processes and, as pods,
// their descendants and the pod roots' trees, never the excluded control plane; read from this machine's /proc.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { memoryOf } from './process-memory.ts';
import { nodeProcesses, pssKb, readProcTable } from './node-memory.ts';

const p = (pid: number, ppid: number, rssKb = 1000) => ({ pid, ppid, comm: `c${pid}`, rssKb });
// 1 init; 10 supervisor (runtime) with 11 etcd (excluded) → 12 its child; 13 a Job → 14 its child;
// 20 containerd-shim (runtime, child of init) → 21 container; 30 webhook (a pod root) → 31; 40 unrelated.
const TABLE = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(13, 10), p(14, 13), p(20, 1), p(21, 20), p(30, 1), p(31, 30), p(40, 1)];
const pids = (ps: { pid: number }[]) => ps.map((x) => x.pid).sort((a, b) => a - b);

t.test('runtime processes alone; their descendants and the pod roots\' trees are the pods; excluded subtrees are out', async (t) => {
  const cases = [
    { members: { runtime: [10], pods: [30], excluded: [11] }, runtime: [10], pods: [13, 14, 30, 31] },
    { members: { runtime: [10, 20], pods: [], excluded: [11] }, runtime: [10, 20], pods: [13, 14, 21] },
    { members: { runtime: [10], pods: [], excluded: [] }, runtime: [10], pods: [11, 12, 13, 14] },
    { members: { runtime: [10], pods: [], excluded: [10] }, runtime: [], pods: [] },
    // A process listed twice (a pod root that is also a runtime's child) counts once; a gone PID is skipped.
    { members: { runtime: [10, 999], pods: [13], excluded: [11] }, runtime: [10], pods: [13, 14] },
  ];
  for (const c of cases) {
    const got = nodeProcesses(TABLE, c.members);
    t.same([pids(got.runtime), pids(got.pods)], [c.runtime, c.pods], JSON.stringify(c.members));
  }
});

t.test('/proc: this process with its parent and resident set, and a child of it counted as a pod', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const table = readProcTable();
  const self = table.find((x) => x.pid === process.pid);
  t.equal(self?.ppid, process.ppid, 'parent from /proc/<pid>/stat');
  t.equal(self?.comm, readFileSync('/proc/self/comm', 'utf8').trim(), 'the command name');
  const status = memoryOf(process.pid).rssMb * 1024;
  t.ok(self && Math.abs(self.rssKb - status) < Math.max(4096, status * 0.2), `RSS from stat (${self?.rssKb} KiB) agrees with VmRSS (${status.toFixed(0)} KiB)`);
  const pss = pssKb(process.pid);
  t.ok(pss > 0 && pss <= (self?.rssKb ?? 0) * 1.05, `PSS (${pss} KiB) is at most about the RSS: shared pages count in part`);
  t.equal(pssKb(2 ** 22 + 1), 0, 'a process that does not exist holds nothing');
  const { runtime, pods } = nodeProcesses(table, { runtime: [process.pid], pods: [], excluded: [] });
  t.same(pids(runtime), [process.pid]);
  t.ok(pods.some((x) => x.pid === child.pid), 'the child is a pod');
});
