// bench:e2e's closing table (test/bench/e2e-table.ts): the nodes side by side, the ratio real / process per row, a
// dash where a node has no figure, and rows only for the phases that ran.
import t from 'tap';
import type { E2eFigures } from './e2e-run.ts';
import { comparisonRows, comparisonTable } from './e2e-table.ts';
import { stepDurations } from './job-timeline.ts';

const memory = (rssMb: number) => ({ rssMb, pssMb: rssMb / 2, runtimeMb: rssMb / 2, podsMb: rssMb / 2, processes: 3, byCommand: { node: { count: 3, mb: rssMb } } });
function figures(node: E2eFigures['node'], scale: number, patch: Partial<E2eFigures> = {}): E2eFigures {
  const cost = { cpuS: [0.3 * scale], rssMb: [65], missing: 0 };
  return {
    node, sandboxUpS: 20 * scale, roundTrip: [10, 20], dispatchSingle: [5], applyToUrl: [2000 * scale, 2200 * scale], singleCost: cost,
    singleSteps: stepDurations([{ jobSeen: 0, podSeen: 10, bound: 20, running: 200, firstLog: 20 + 700 * scale, done: 1500 * scale, complete: 2000 * scale }]),
    paced: [], nodeIdle: memory(300 * scale), nodePeak: memory(600 * scale), loadAverage: 2, ...patch,
  };
}

t.test('two nodes: both columns, the ratio of the second to the first, the target', async (t) => {
  const table = comparisonTable(['process', 'real'], comparisonRows([figures('process', 1), figures('real', 1.5)]));
  const line = (label: string) => table.split('\n').find((l) => l.startsWith(label)) ?? '';
  t.match(table.split('\n')[0], /process\s+real\s+real \/ process\s+target$/);
  t.match(line('apply → status.apiStatus.url one at a time, p50'), /2000 ms\s+3000 ms\s+1\.50×\s+≤ 3000 ms$/);
  t.match(line('one at a time: bound → executor\'s first log line, p50'), /700 ms\s+1050 ms\s+1\.50×$/);
  t.match(line('node memory, peak (summed RSS)'), /600 MB\s+900 MB\s+1\.50×$/);
  t.notOk(line('burst'), 'no burst rows when no node ran one');
  t.notOk(line('node: kubepods memory cgroup'), 'no cgroup row without a real node\'s cgroup');
});

t.test('a phase one node skipped shows a dash and no ratio; one node, no ratio column', async (t) => {
  const burst = {
    n: 50, ready: 50, createdS: 2, elapsedS: 60, floorS: 0, bucketWrites: 100, writes: 100, maxJobs: 8, cap: '9', dispatch: [1],
    cost: { cpuS: [0.4], rssMb: [66], missing: 0 }, steps: stepDurations([]), leader: { name: 'w', beforeMb: 100, peakMb: 120, afterMb: 110 },
  };
  const rows = comparisonRows([figures('process', 1), figures('real', 1, { burst, nodePeak: { ...memory(900), cgroupMb: 250 } })]);
  const table = comparisonTable(['process', 'real'], rows);
  const line = (label: string) => table.split('\n').find((l) => l.startsWith(label)) ?? '';
  t.match(line('burst of 50: all Ready'), /\s–\s+60 s$/, 'a dash, and no ratio without both figures');
  t.match(line('burst of 50: elapsed / ARM floor'), /–\s+–\s+≤ 1\.5$/, 'within the bucket: no floor to divide by');
  t.match(line('node: kubepods memory cgroup, peak'), /–\s+250 MB$/);
  const one = comparisonTable(['process'], comparisonRows([figures('process', 1)]));
  t.match(one.split('\n')[0], /process\s+target$/);
  t.notMatch(one, /×/);
});
