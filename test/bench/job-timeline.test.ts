// Where a Job's time goes (test/bench/job-timeline.ts): the moments the watches delivered each Job and pod change,
// and the executor's own log times, make the steps bench:e2e compares between the nodes.
import t from 'tap';
import { jobLog } from '../../executor/job-log.ts';
import { executorLogTimes, JobTimeline, stepDurations } from './job-timeline.ts';

const job = (name: string, complete = false) => ({ metadata: { name }, status: complete ? { conditions: [{ type: 'Complete', status: 'True' }] } : {} });
const pod = (name: string, jobName: string, patch: { nodeName?: string; state?: Record<string, unknown> } = {}) => ({
  metadata: { name, labels: { 'job-name': jobName } },
  spec: patch.nodeName ? { nodeName: patch.nodeName } : {},
  status: patch.state ? { containerStatuses: [{ state: patch.state }] } : {},
});

t.test('each step at the first event that shows it; later events change nothing', async (t) => {
  const tl = new JobTimeline();
  tl.onJob(job('j1'), 1000);
  tl.onPod(pod('j1-a', 'j1'), 1010);
  tl.onPod(pod('j1-a', 'j1', { nodeName: 'localhost' }), 1030);
  tl.onPod(pod('j1-a', 'j1', { nodeName: 'localhost', state: { waiting: { reason: 'ContainerCreating' } } }), 1100);
  tl.onPod(pod('j1-a', 'j1', { nodeName: 'localhost', state: { running: {} } }), 1500);
  tl.onPod(pod('j1-a', 'j1', { nodeName: 'localhost', state: { terminated: { exitCode: 0 } } }), 2500);
  tl.onJob(job('j1'), 2000);
  tl.onJob(job('j1', true), 3000);
  tl.onJob(job('j1', true), 3300);
  const times = tl.times('j1', { firstLog: 1700, done: 2400 });
  t.same(times, { jobSeen: 1000, podSeen: 1010, bound: 1030, running: 1500, firstLog: 1700, done: 2400, complete: 3000 });
  t.same(stepDurations([times]), {
    jobToPod: [10], podToBound: [20], boundToFirstLog: [670], podStart: [690], boundToRunning: [470], work: [700], doneToComplete: [600], total: [2000],
  });
});

t.test('a container first reported terminated counts as started then; a retried Job is timed by its first pod', async (t) => {
  const tl = new JobTimeline();
  tl.onJob(job('j2'), 0);
  tl.onPod(pod('j2-late', 'j2', { nodeName: 'n' }), 900);
  tl.onPod(pod('j2-first', 'j2', { nodeName: 'n', state: { terminated: { exitCode: 1 } } }), 400);
  t.equal(tl.firstPodOf('j2'), 'j2-first');
  t.same(tl.times('j2'), { jobSeen: 0, podSeen: 400, bound: 400, running: 400 });
  t.equal(tl.firstPodOf('other'), undefined);
  tl.onPod({ metadata: { name: 'webhook-0', labels: {} } }, 5);
  t.same(tl.times('webhook-0'), {}, 'a pod of no Job is not traced');
});

t.test('a step missing either end is left out of that step only', async (t) => {
  const d = stepDurations([{ jobSeen: 0, podSeen: 5, complete: 50 }, { jobSeen: 10, podSeen: 12, bound: 13 }]);
  t.same(d.jobToPod, [5, 2]);
  t.same(d.podToBound, [1]);
  t.same(d.total, [50]);
  t.same(d.work, []);
});

t.test('the executor log: its first line\'s time, and the done line\'s time and cost', async (t) => {
  const lines: string[] = [];
  const log = jobLog('info', { namespace: 'sandbox', name: 'a' }, (l) => lines.push(l));
  log.info('starting');
  log.info('imported');
  log.info('done', { exitCode: 0 });
  const text = lines.join('') + '{"time": "cut sho';
  const first = JSON.parse(lines[0]!) as { time: string };
  const done = JSON.parse(lines[2]!) as { time: string; resourceUsage: { userCPUTime: number; systemCPUTime: number; maxRSS: number } };
  t.same(executorLogTimes(text), {
    firstLog: Date.parse(first.time), done: Date.parse(done.time),
    cpuS: (done.resourceUsage.userCPUTime + done.resourceUsage.systemCPUTime) / 1e6, rssMb: done.resourceUsage.maxRSS / 1024,
  });
  t.same(executorLogTimes('not json\n'), {}, 'a log without JSON lines states nothing');
  t.same(executorLogTimes(lines[0]!), { firstLog: Date.parse(first.time) }, 'a process killed before its done line has no cost');
});
