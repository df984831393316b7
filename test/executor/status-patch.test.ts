// The executor's status writer writes only the executor's fields (docs/status.md): its step conditions, apiStatus,
// appliedSpecHash and the APIM ids; what callers still name with the dispatcher's words becomes the executor's own.
import t from 'tap';
import { executorConditions, nextStatus, type ConditionChange } from '../../executor/status-patch.ts';

const H = 'a'.repeat(64);
const now = new Date('2026-11-29T10:00:00Z');
const c = (type: ConditionChange['type'], status: ConditionChange['status'], reason: string, message = reason): ConditionChange => ({ type, status, reason, message, specHash: H });

t.test('the last apply step is Published, never Ready', async (t) => {
  t.same(executorConditions([c('Validated', 'True', 'Valid'), c('Ready', 'True', 'Published', 'published at https://gw/x')]),
    [c('Validated', 'True', 'Valid'), c('Published', 'True', 'Published', 'published at https://gw/x')]);
});

t.test('a failure: the failing step\'s condition alone; a Ready that repeats it is dropped', async (t) => {
  t.same(executorConditions([c('Validated', 'True', 'Valid'), c('Imported', 'False', 'Throttled', '429'), c('Ready', 'False', 'Throttled', '429')]),
    [c('Validated', 'True', 'Valid'), c('Imported', 'False', 'Throttled', '429')]);
  t.same(executorConditions([c('Ready', 'False', 'ApimUnavailable', 'gateway URL: 503')]), [c('Published', 'False', 'ApimUnavailable', 'gateway URL: 503')], 'the last step failed');
});

t.test('a failed delete is CleanedUp False; Progressing and Stalled are never the executor\'s', async (t) => {
  t.same(executorConditions([c('DeleteBlocked', 'True', 'ApimUnavailable', '503; kubectl annotate …'), c('Progressing', 'True', 'Deleting')]),
    [c('CleanedUp', 'False', 'ApimUnavailable', '503; kubectl annotate …')]);
  t.same(executorConditions([c('Imported', 'False', 'ImportRejected', 'APIM said no'), c('Stalled', 'True', 'ImportRejected', 'APIM said no')]),
    [c('Imported', 'False', 'ImportRejected', 'APIM said no')], 'Stalled is the dispatcher\'s (it follows Ready)');
});

t.test('implementation and lastJob in a change are not written; the dispatcher\'s conditions are kept as they are', async (t) => {
  const progressing = { ...c('Progressing', 'True', 'Applying', 'job-1'), lastTransitionTime: '2026-11-29T09:00:00.000Z' };
  const out = nextStatus({ conditions: [progressing], lastJob: 'job-1', implementation: { ready: true } },
    { conditions: [c('Ready', 'True', 'Published')], implementation: { ready: false }, lastJob: 'job-2', appliedSpecHash: H }, now);
  t.same(Object.keys(out).sort(), ['appliedSpecHash', 'conditions']);
  t.same(out.conditions!.map((x) => `${x.type}=${x.status}`), ['Progressing=True', 'Published=True']);
  t.equal(out.conditions![0]!.lastTransitionTime, progressing.lastTransitionTime);
});
