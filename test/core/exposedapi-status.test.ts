import t from 'tap';
import { setCondition } from '../../core/exposedapi-status.ts';

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
