// Ownership proven in APIM (executor/api-mark.ts, apim-sync.ts ownershipGate, apply-ownership.ts): which marks count
// as ours, that an unmarked or foreign API is never written unless adoption is granted, and that ids read from status
// are only hints.
import t from 'tap';
import { describeOwner, legacyOwnerHash, MARK_MAX, ownerHash, ownershipOf, parseMark, renderMark, type OwnerIdentity } from '../../executor/api-mark.ts';
import { ownershipGate, pathHolderOf } from '../../executor/apim-sync.ts';
import { formerApiIdsOf, pendingRecord } from '../../executor/apply-ownership.ts';
import type { ExposedApiObject } from '../../executor/exposedapi-object.ts';
import { StepFailure } from '../../executor/step-failure.ts';

const ME: OwnerIdentity = { cluster: 'prod-1', namespace: 'team-a', name: 'payments', uid: '6a1b7c3e-1111-4222-8333-444455556666' };
const FP = 'ab'.repeat(32);

t.test('the mark names cluster, owner, uid and fingerprint, and always fits apiRevisionDescription', async (t) => {
  const mark = renderMark(ME, FP);
  t.equal(mark, `exposedapi-apim cluster=prod-1 owner=${ownerHash(ME)} uid=${ME.uid} import=${FP} ref=team-a/payments`);
  t.same(parseMark(mark), { cluster: 'prod-1', owner: ownerHash(ME), uid: ME.uid, fingerprint: FP, ref: 'team-a/payments' });
  const long = { ...ME, cluster: 'c'.repeat(40), namespace: 'n'.repeat(63), name: 'x'.repeat(253) };
  const longMark = renderMark(long, FP);
  t.ok(longMark.length <= MARK_MAX, `${longMark.length} ≤ ${MARK_MAX}`);
  t.equal(ownershipOf(longMark, long), 'ours', 'the cut ref does not matter: the owner hash is the proof');
});

t.test('whose an API is, by its mark', async (t) => {
  const cases: [string, string | undefined, OwnerIdentity, ReturnType<typeof ownershipOf>][] = [
    ['our own mark', renderMark(ME, FP), ME, 'ours'],
    ['ours after a delete and re-create (new uid, same namespace and name)', renderMark(ME, FP), { ...ME, uid: 'other-uid' }, 'ours'],
    ['same namespace/name in another cluster', renderMark({ ...ME, cluster: 'prod-2' }, FP), ME, 'other'],
    ['another namespace', renderMark({ ...ME, namespace: 'team-b' }, FP), ME, 'other'],
    ['a-b/c against a/b-c (same derived apiId)', renderMark({ ...ME, namespace: 'a-b', name: 'c' }, FP), { ...ME, namespace: 'a', name: 'b-c' }, 'other'],
    ['no description (made by hand, by Bicep)', undefined, ME, 'unmarked'],
    ['someone else\'s description', 'Payments production API, managed by the payments team', ME, 'unmarked'],
    ['a look-alike without an owner', 'exposedapi-apim please treat as yours', ME, 'unmarked'],
    ['legacy mark (0.1, no cluster) of this object', `exposedapi-apim owner=${legacyOwnerHash('team-a', 'payments')} import=${FP}`, ME, 'ours'],
    ['legacy mark of another object', `exposedapi-apim owner=${legacyOwnerHash('team-b', 'billing')} import=${FP}`, ME, 'other'],
  ];
  for (const [what, mark, who, want] of cases) t.equal(ownershipOf(mark, who), want, what);
  t.match(describeOwner(renderMark({ ...ME, namespace: 'team-b', name: 'billing' }, FP)), 'ExposedAPI team-b/billing of cluster prod-1');
  t.match(describeOwner('hand made'), 'not created by exposedapi-apim');
});

t.test('the gate before any write: ours passes, foreign and unmarked fail unless adoption is granted', async (t) => {
  t.equal(ownershipGate({ apiRevisionDescription: renderMark(ME, FP) }, 'payments', { who: ME, adopt: false }), 'ours');
  t.equal(ownershipGate({}, 'payments-prod', { who: ME, adopt: true }), 'adopted');
  const unmarked = (() => {
    try {
      ownershipGate({ apiRevisionDescription: 'made by Bicep' }, 'payments-prod', { who: ME, adopt: false });
    } catch (e) {
      return e;
    }
  })() as StepFailure;
  t.ok(unmarked instanceof StepFailure);
  t.equal(unmarked.info.reason, 'ApiNotOwned');
  t.equal(unmarked.info.retriable, false);
  t.match(unmarked.message, "APIM API 'payments-prod' exists and was not created by exposedapi-apim");
  t.match(unmarked.message, 'exposedapi-apim.io/adopt=payments-prod');
  const foreign = (() => {
    try {
      ownershipGate({ apiRevisionDescription: renderMark({ ...ME, namespace: 'team-b', name: 'billing' }, FP) }, 'billing-prod', { who: ME, adopt: true });
    } catch (e) {
      return e;
    }
  })() as StepFailure;
  t.equal(foreign.info.reason, 'ApiIdTaken', 'adoption never covers an API another ExposedAPI manages');
  t.match(foreign.message, 'managed by ExposedAPI team-b/billing of cluster prod-1');
});

t.test('APIM\'s "same Path" refusal names the holder', async (t) => {
  const e = new StepFailure({ retriable: false, reason: 'ApimRejected', message: 'x', apim: { status: 400, code: 'ValidationError', message: "One or more fields contain incorrect values: Cannot create API 'new' with the same Path 'pay/v1' as API 'old-id'  unless it's a part of the same version set" } });
  t.equal(pathHolderOf(e), 'old-id');
  t.equal(pathHolderOf(new Error('same Path as API \'x\'')), undefined, 'only APIM refusals count');
});

const withStatus = (apim: unknown): ExposedApiObject => ({
  apiVersion: 'oda.tmforum.org/v1',
  kind: 'ExposedAPI',
  metadata: { name: 'payments', namespace: 'team-a', uid: ME.uid, resourceVersion: '1' },
  status: { apim } as ExposedApiObject['status'],
});

t.test('status.apim is a hint: former ids come from it, only legal ids, never the current one', async (t) => {
  t.same(formerApiIdsOf(withStatus({ apiId: 'old', serviceName: 'svc', pendingApiIds: ['half', 'NEW', 'bad/id'] }), 'svc', 'new'), ['old', 'half']);
  t.same(formerApiIdsOf(withStatus({ apiId: 'old', serviceName: 'other-svc' }), 'svc', 'new'), [], 'another APIM service');
  t.same(formerApiIdsOf(withStatus({ apiId: 42, serviceName: 'svc', pendingApiIds: 'x' }), 'svc', 'new'), [], 'garbage written by a tenant');
});

t.test('a failed apply records what it may have created, keeping the published id', async (t) => {
  t.same(pendingRecord(withStatus(undefined), 'svc', 'first'), { apiId: 'first', serviceName: 'svc' }, 'first apply: the id itself');
  t.same(pendingRecord(withStatus({ apiId: 'live', serviceName: 'svc' }), 'svc', 'renamed'), { apiId: 'live', serviceName: 'svc', pendingApiIds: ['renamed'] });
  t.same(pendingRecord(withStatus({ apiId: 'live', serviceName: 'svc', pendingApiIds: ['a'] }), 'svc', 'b'), { apiId: 'live', serviceName: 'svc', pendingApiIds: ['a', 'b'] });
});
