import t from 'tap';
import { admittedChange, setCondition, stalledFor, type Condition } from '../../core/exposedapi-status.ts';

t.test('conditions keep their transition time until the status changes', async (t) => {
  const t0 = new Date('2026-11-21T10:00:00Z');
  const t1 = new Date('2026-11-21T10:05:00Z');
  const a = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Applying', message: 'job x' }, t0);
  t.same(a, [{ type: 'Ready', status: 'False', reason: 'Applying', message: 'job x', lastTransitionTime: t0.toISOString() }]);
  const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'ImportFailed', message: 'APIM said no' }, t1);
  t.equal(b[0]!.lastTransitionTime, t0.toISOString(), 'same status: time kept, reason and message updated');
  t.equal(b[0]!.reason, 'ImportFailed');
  const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Applied', message: '' }, t1);
  t.equal(c[0]!.lastTransitionTime, t1.toISOString(), 'status change moves the time');
  const d = setCondition(c, { type: 'Imported', status: 'True', reason: 'Imported', message: '' }, t1);
  t.same(d.map((x) => x.type), ['Ready', 'Imported'], 'other types appended, order stable');
  t.equal(a.length, 1, 'inputs are not mutated');
});

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const at = '2026-11-21T09:00:00.000Z';
const cond = (type: Condition['type'], status: Condition['status'], reason: string, specHash = H1, message = reason): Condition => ({ type, status, reason, message, lastTransitionTime: at, specHash });

t.test('a change is admitted: Ready Unknown / Pending for its hash; a Stalled of the earlier change turns False', async (t) => {
  const now = new Date('2026-11-21T10:00:00Z');
  const fresh = admittedChange(undefined, H2, now);
  t.same(fresh, [{ type: 'Ready', status: 'Unknown', reason: 'Pending', message: 'change admitted (spec hash 22222222…); waiting for the dispatcher to run its Job', specHash: H2, lastTransitionTime: now.toISOString() }]);
  t.notOk(fresh.some((c) => c.type === 'Stalled'), 'no Stalled on an object that never had one');

  const failed = [cond('Imported', 'False', 'ImportRejected'), cond('Ready', 'False', 'JobFailed'), cond('Stalled', 'True', 'JobFailed')];
  const next = admittedChange(failed, H2, now);
  t.same(next.map((c) => `${c.type}=${c.status}/${c.reason}/${c.specHash === H2 ? 'H2' : 'H1'}`), ['Imported=False/ImportRejected/H1', 'Ready=Unknown/Pending/H2', 'Stalled=False/Pending/H2'],
    'the executor\'s words about the earlier change stay; the verdicts now describe the new one');
  t.notOk(JSON.stringify(next).includes('observedGeneration'), 'never an observedGeneration (every status write bumps metadata.generation)');
});

t.test('Stalled follows Ready: True for a failure that waits for someone, False once it passed, absent otherwise', async (t) => {
  const rows: { name: string; conditions: Condition[]; hash?: string; expect: string | undefined }[] = [
    { name: 'the Job failed for good', conditions: [cond('Ready', 'False', 'JobFailed')], expect: 'True/JobFailed' },
    { name: 'a lost path claim', conditions: [cond('Ready', 'False', 'PathConflict')], expect: 'True/PathConflict' },
    { name: 'a lost apiId claim', conditions: [cond('Ready', 'False', 'ApiIdConflict')], expect: 'True/ApiIdConflict' },
    { name: 'a retry is scheduled: in progress, not stalled', conditions: [cond('Ready', 'False', 'RetryScheduled')], expect: undefined },
    { name: 'a step fails while its Job retries', conditions: [cond('Ready', 'False', 'Throttled')], expect: undefined },
    { name: 'a failure of an earlier change, no Stalled yet', conditions: [cond('Ready', 'False', 'JobFailed')], hash: H2, expect: undefined },
    { name: 'stalled, then published', conditions: [cond('Ready', 'True', 'Published'), cond('Stalled', 'True', 'JobFailed')], expect: 'False/Published' },
    { name: 'stalled, the conflict resolved', conditions: [cond('Ready', 'Unknown', 'ConflictResolved'), cond('Stalled', 'True', 'PathConflict')], expect: 'False/ConflictResolved' },
    { name: 'no longer stalled: nothing more to write', conditions: [cond('Ready', 'True', 'Published'), cond('Stalled', 'False', 'Published')], expect: undefined },
    { name: 'still stalled', conditions: [cond('Ready', 'False', 'JobFailed'), cond('Stalled', 'True', 'JobFailed')], expect: 'True/JobFailed' },
  ];
  for (const row of rows) {
    const s = stalledFor(row.conditions, row.hash ?? H1);
    t.equal(s ? `${s.status}/${s.reason}` : undefined, row.expect, row.name);
    if (s?.status === 'True') t.equal(s.message, row.conditions.find((c) => c.type === 'Ready')!.message, `${row.name}: Ready's words, so kstatus's Failed message says why`);
  }
});
