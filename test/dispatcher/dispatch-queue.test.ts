// Ordering and pacing, table-driven: one active Job per ExposedAPI (a newer change replaces a waiting one), the global
// cap, namespaces taking turns, delayed retries.
import t from 'tap';
import { DispatchQueue } from '../../dispatcher/dispatch-queue.ts';
import type { Change } from '../../dispatcher/job-manifest.ts';

const change = (ref: string, hash = 'h1', action: Change['action'] = 'apply'): Change => {
  const [namespace, name] = ref.split('/') as [string, string];
  return { namespace, name, uid: `uid-${name}`, specHash: hash, action };
};
const jobOf = (c: Change) => `${c.namespace}-${c.name}-${c.specHash}${c.action === 'delete' ? '-delete' : ''}`;
const refs = (cs: Change[]) => cs.map((c) => `${c.namespace}/${c.name}@${c.specHash}`);

type Step =
  | { want: string; hash?: string; notBefore?: number }
  | { cancel: string }
  | { active: string; job: string }
  | { done: string }
  | { take: string[]; at?: number };

const table: { name: string; max: number; steps: Step[] }[] = [
  {
    name: 'one Job per object: a change waits while its object\'s Job runs, and only the newest runs after',
    max: 10,
    steps: [
      { want: 'a/x', hash: 'h1' },
      { take: ['a/x@h1'] },
      { want: 'a/x', hash: 'h2' },
      { want: 'a/x', hash: 'h3' },
      { take: [] },
      { done: 'a-x-h1' },
      { take: ['a/x@h3'] },
    ],
  },
  {
    name: 'a Job seen running (e.g. started by the previous leader) blocks its object too',
    max: 10,
    steps: [
      { active: 'a/x', job: 'a-x-old' },
      { want: 'a/x', hash: 'h2' },
      { want: 'a/y' },
      { take: ['a/y@h1'] },
      { done: 'a-x-old' },
      { take: ['a/x@h2'] },
    ],
  },
  {
    name: 'the global cap counts every running Job, and frees a place as each ends',
    max: 2,
    steps: [
      { want: 'a/1' }, { want: 'a/2' }, { want: 'a/3' }, { want: 'a/4' },
      { take: ['a/1@h1', 'a/2@h1'] },
      { take: [] },
      { done: 'a-1-h1' },
      { take: ['a/3@h1'] },
      { done: 'a-2-h1' }, { done: 'a-3-h1' },
      { take: ['a/4@h1'] },
    ],
  },
  {
    name: 'namespaces take turns: a burst in one cannot starve a single change in another',
    max: 3,
    steps: [
      { want: 'burst/1' }, { want: 'burst/2' }, { want: 'burst/3' }, { want: 'burst/4' }, { want: 'burst/5' },
      { want: 'team/only' },
      { want: 'third/a' }, { want: 'third/b' },
      { take: ['burst/1@h1', 'team/only@h1', 'third/a@h1'] },
      { done: 'burst-1-h1' }, { done: 'team-only-h1' }, { done: 'third-a-h1' },
      { take: ['burst/2@h1', 'third/b@h1', 'burst/3@h1'] },
    ],
  },
  {
    name: 'a namespace that joins waits for its turn after those already waiting',
    max: 1,
    steps: [
      { want: 'a/1' }, { want: 'a/2' }, { want: 'b/1' }, { want: 'b/2' },
      { take: ['a/1@h1'] }, { done: 'a-1-h1' },
      { want: 'c/1' },
      { take: ['b/1@h1'] }, { done: 'b-1-h1' },
      { take: ['a/2@h1'] }, { done: 'a-2-h1' },
      { take: ['c/1@h1'] }, { done: 'c-1-h1' },
      { take: ['b/2@h1'] },
    ],
  },
  {
    name: 'a replaced change keeps its place in line; a cancelled one leaves it',
    max: 1,
    steps: [
      { want: 'a/1' }, { want: 'a/2' }, { want: 'a/3' },
      { want: 'a/1', hash: 'h9' },
      { cancel: 'a/2' },
      { take: ['a/1@h9'] }, { done: 'a-1-h9' },
      { take: ['a/3@h1'] },
    ],
  },
  {
    name: 'a delayed retry waits for its time without holding others back',
    max: 5,
    steps: [
      { want: 'a/1', notBefore: 1000 }, { want: 'a/2' },
      { take: ['a/2@h1'], at: 0 },
      { take: [], at: 999 },
      { take: ['a/1@h1'], at: 1000 },
    ],
  },
];

for (const row of table) {
  t.test(row.name, async (t) => {
    const q = new DispatchQueue(row.max);
    for (const [i, step] of row.steps.entries()) {
      if ('want' in step) q.want(change(step.want, step.hash), step.notBefore);
      else if ('cancel' in step) q.cancel(step.cancel);
      else if ('active' in step) q.markActive(step.active, step.job);
      else if ('done' in step) q.markInactive(step.done);
      else t.same(refs(q.take(step.at ?? 0, jobOf)), step.take, `step ${i + 1}: take`);
      t.ok(q.activeCount <= row.max, `step ${i + 1}: at most ${row.max} active`);
    }
  });
}

t.test('depth, active count and the next due time', async (t) => {
  const q = new DispatchQueue(1);
  q.want(change('a/1'));
  q.want(change('a/2'), 500);
  q.want(change('b/1'));
  t.equal(q.depth, 3);
  t.equal(q.nextDueMs(0), 500);
  t.same(refs(q.take(0, jobOf)), ['a/1@h1']);
  t.equal(q.depth, 2);
  t.equal(q.activeCount, 1);
  t.ok(q.isActive('a/1'));
  t.same(q.waitingFor('b/1'), change('b/1'));
  q.markInactive('unknown-job');
  t.equal(q.activeCount, 1, 'an unknown Job ending changes nothing');
});
