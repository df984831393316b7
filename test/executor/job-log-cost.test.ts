// The Job log's last line ('done') says what the process cost (executor/job-log.ts): bench:e2e reads CPU seconds and
// peak RSS per change from it. Other lines stay as they were.
import t from 'tap';
import { jobLog } from '../../executor/job-log.ts';

t.test('the done line carries user and system CPU and peak RSS; other lines do not', async (t) => {
  const lines: Record<string, any>[] = [];
  const log = jobLog('info', { namespace: 'ns', name: 'a' }, (l) => lines.push(JSON.parse(l)));
  log.info('imported', { operations: 3 });
  // Burn a little CPU so the figures are not all zero on a coarse clock.
  let x = 0;
  for (let i = 0; i < 2_000_000; i++) x += Math.sqrt(i);
  log.child({ job: 'j' }).info('done', { exitCode: x > 0 ? 0 : 1 });
  t.equal(lines.length, 2);
  t.equal(lines[0]!['resourceUsage'], undefined, 'an ordinary line has no cost');
  const cost = lines[1]!['resourceUsage'];
  t.same(Object.keys(cost).sort(), ['maxRSS', 'systemCPUTime', 'userCPUTime']);
  t.ok(cost.userCPUTime + cost.systemCPUTime > 0, `CPU µs (${cost.userCPUTime} + ${cost.systemCPUTime})`);
  t.ok(cost.maxRSS > 10 * 1024, `peak RSS in KiB (${cost.maxRSS}): a Node process is more than 10 MB`);
  t.equal(lines[1]!['exitCode'], 0, 'the line keeps its own fields');
});
