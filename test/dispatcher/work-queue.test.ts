// The per-object work queue: one worker per key at a time, no lost events, duplicates folded, failures retried.
import t from 'tap';
import { KeyedWorkQueue } from '../../dispatcher/work-queue.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

t.test('a key waiting twice runs once; a key added while it runs runs once more afterwards, never concurrently', async (t) => {
  const runs: string[] = [];
  let running = 0;
  let maxSameKey = 0;
  const inFlight = new Map<string, number>();
  const q = new KeyedWorkQueue({
    concurrency: 1, // so that b waits while a runs
    work: async (key) => {
      running++;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      maxSameKey = Math.max(maxSameKey, inFlight.get(key)!);
      runs.push(key);
      await tick(20);
      inFlight.set(key, inFlight.get(key)! - 1);
      running--;
    },
    onError: () => t.fail('no errors'),
  });
  q.add('a');
  q.add('b');
  q.add('b'); // folded: b is already waiting or running
  await tick(5);
  q.add('a'); // a runs now: once more afterwards
  q.add('a');
  await q.idle();
  t.same(runs, ['a', 'b', 'a'], 'b once; a again after its first run, behind b');
  t.equal(maxSameKey, 1, 'never two workers on one key');
  t.equal(running, 0);
  q.stop();
});

t.test('concurrency is bounded', async (t) => {
  let running = 0;
  let max = 0;
  const q = new KeyedWorkQueue({
    concurrency: 2,
    work: async () => {
      max = Math.max(max, ++running);
      await tick(10);
      running--;
    },
    onError: () => {},
  });
  for (let i = 0; i < 10; i++) q.add(`k${i}`);
  await q.idle();
  t.equal(max, 2);
  q.stop();
});

t.test('a failure is retried with backoff; success resets it; stop drops what waits', async (t) => {
  let attempts = 0;
  const retries: number[] = [];
  const q = new KeyedWorkQueue({
    concurrency: 1,
    work: async () => {
      if (++attempts < 3) throw new Error('apiserver busy');
    },
    onError: (_key, err, retryInMs) => retries.push(retryInMs),
    maxBackoffMs: 1000,
  });
  q.add('x');
  for (let i = 0; i < 100 && attempts < 3; i++) await tick(20);
  t.equal(attempts, 3, 'failed twice, then succeeded');
  t.same(retries, [200, 400], 'exponential backoff');
  q.add('y', 10_000);
  q.stop();
  t.equal(q.length, 0, 'nothing waits after stop');
});
