// The verify run's judgement (executor/drift-compare.ts, drift-status.ts), table-driven: what counts as drift (exactly
// what the next apply would correct), what an API that is gone or no longer ours says, the Drifted condition each mode
// writes, and what an apply writes about it afterwards.
import t from 'tap';
import { renderMark, type OwnerIdentity } from '../../executor/api-mark.ts';
import type { ApiContract } from '../../executor/apim-operations.ts';
import { compareApi, describeDifferences, type StoredApiState, type WantedApiState } from '../../executor/drift-compare.ts';
import { applyDriftChange, driftAfterFailure, driftChanged, driftCondition } from '../../executor/drift-status.ts';
import { lastSegment } from '../../executor/drift-inventory.ts';
import { NO_AUTHENTICATION_SETTINGS, type DesiredApi } from '../../executor/desired-api.ts';
import type { Condition } from '../../core/exposedapi-status.ts';

const ME: OwnerIdentity = { cluster: 'default', namespace: 'team-a', name: 'pets', uid: 'u-1' };
const FP = 'cd'.repeat(32);
const H = 'ab'.repeat(32);
const POLICY = '<policies><inbound><base /><rate-limit-by-key calls="5" renewal-period="1" counter-key="team-a-pets:x" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';

const desired: DesiredApi = {
  apiId: 'team-a-pets',
  path: 'pets/v1',
  displayName: 'pets',
  serviceUrl: 'http://10.0.0.9/pets/v1',
  subscriptionRequired: false,
  subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' },
  mark: renderMark(ME, FP),
};
const storedApi: ApiContract = {
  name: 'team-a-pets',
  path: 'pets/v1',
  displayName: 'pets',
  serviceUrl: 'http://10.0.0.9/pets/v1',
  protocols: ['https'],
  subscriptionRequired: false,
  subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' },
  authenticationSettings: structuredClone(NO_AUTHENTICATION_SETTINGS) as never,
  apiRevisionDescription: renderMark(ME, FP),
};
const wanted: WantedApiState = { api: desired, policy: POLICY, products: ['starter'], tags: ['team-a', 'oda'], compareServiceUrl: true };
// APIM re-formats what it stores: the same policy, indented, with `<x></x>` and different tag case in links.
const stored: StoredApiState = { api: storedApi, policy: POLICY.replace(/></g, '>\n  <').replace('<base />', '<base></base>'), products: ['Starter'], tags: ['oda', 'team-a'] };

const cases: { name: string; stored?: Partial<StoredApiState>; wanted?: Partial<WantedApiState>; expect: string }[] = [
  { name: 'the same, as APIM formats it', expect: '' },
  { name: 'serviceUrl changed in the portal', stored: { api: { ...storedApi, serviceUrl: 'https://elsewhere.example.com' } }, expect: 'serviceUrl' },
  { name: 'serviceUrl not comparable (an Ingress without an address): not judged', stored: { api: { ...storedApi, serviceUrl: 'https://elsewhere.example.com' } }, wanted: { compareServiceUrl: false }, expect: '' },
  { name: 'displayName and subscription settings', stored: { api: { ...storedApi, displayName: 'Pets!', subscriptionRequired: true } }, expect: 'displayName, subscriptionRequired' },
  { name: 'a protocol added', stored: { api: { ...storedApi, protocols: ['https', 'http'] } }, expect: 'protocols' },
  { name: 'OAuth2 added by hand', stored: { api: { ...storedApi, authenticationSettings: { oAuth2: { authorizationServerId: 'x' } } as never } }, expect: 'authenticationSettings' },
  { name: 'the policy edited', stored: { policy: POLICY.replace('calls="5"', 'calls="5000"') }, expect: 'policy' },
  { name: 'the policy removed', stored: { policy: undefined }, expect: 'policy (none in APIM)' },
  { name: 'the policy not read (null): not judged', stored: { policy: null }, expect: '' },
  { name: 'a tag removed and another added', stored: { tags: ['oda', 'manual'] }, expect: 'tags (-team-a +manual)' },
  { name: 'removed from its product', stored: { products: [] }, expect: 'products (-starter)' },
  { name: 'the API deleted: nothing else compared', stored: { api: undefined, policy: null, tags: [] }, expect: "api (APIM has no API 'team-a-pets')" },
  { name: 'the mark removed: not ours to judge', stored: { api: { ...storedApi, apiRevisionDescription: 'edited in the portal', serviceUrl: 'x' } }, expect: "ownership (APIM API 'team-a-pets' no longer carries this ExposedAPI's ownership mark)" },
  { name: 'another ExposedAPI\'s mark', stored: { api: { ...storedApi, apiRevisionDescription: renderMark({ ...ME, name: 'other' }, FP) } }, expect: "ownership (APIM API 'team-a-pets' carries another ExposedAPI's mark instead of this ExposedAPI's ownership mark)" },
  { name: 'the document fingerprint in the mark is not compared (the document is not)', stored: { api: { ...storedApi, apiRevisionDescription: renderMark(ME, 'ef'.repeat(32)) } }, expect: '' },
];

t.test('what counts as drift', async (t) => {
  for (const c of cases) {
    const d = compareApi({ ...stored, ...c.stored }, { ...wanted, ...c.wanted }, ME);
    t.equal(describeDifferences(d), c.expect, c.name);
  }
});

t.test('the Drifted condition per mode, and when it is written', async (t) => {
  const diff = [{ field: 'serviceUrl' }, { field: 'tags', detail: '-team-a' }];
  const report = driftCondition(diff, H, 'report', 'exposedapi-apim-verify-1');
  t.same([report.status, report.reason], ['True', 'DriftDetected']);
  t.equal(report.message, `APIM differs from spec hash ${H.slice(0, 8)}… in serviceUrl, tags (-team-a); the next apply restores it (APIM_DRIFT_MODE=report: none is started)`);
  t.notMatch(report.message, 'verify-1', 'report mode: the same drift reads the same every run (no rewrite, no new Event)');
  const repair = driftCondition(diff, H, 'repair', 'exposedapi-apim-verify-1');
  t.same([repair.status, repair.reason, repair.specHash], ['True', 'RepairRequested', H]);
  t.match(repair.message, 'found by exposedapi-apim-verify-1', 'repair mode: each run that finds drift asks anew');
  t.not(driftCondition(diff, H, 'repair', 'exposedapi-apim-verify-2').message, repair.message);
  const notOurs = driftCondition([{ field: 'ownership', detail: 'x' }], H, 'repair', 'v');
  t.same([notOurs.status, notOurs.reason], ['True', 'DriftDetected'], 'an API no longer ours: reported, never a repair (the apply would refuse it)');
  const none = driftCondition([], H, 'repair', 'x');
  t.same([none.status, none.reason], ['False', 'InSync']);
  const asWritten = (c: typeof none): Condition => ({ ...c, lastTransitionTime: '2026-11-29T00:00:00Z' });
  t.notOk(driftChanged(asWritten(none), driftCondition([], H, 'report', 'y')), 'in sync again: nothing to write');
  t.ok(driftChanged(undefined, none), 'first verdict: written');
  t.ok(driftChanged(asWritten(none), report));
});

t.test('after an apply: Drifted False once it had said True; a failed repair stops further requests', async (t) => {
  const drifted = { ...driftCondition([{ field: 'policy' }], H, 'repair', 'v'), lastTransitionTime: 'x' } as Condition;
  t.same(applyDriftChange([drifted], H)?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Drifted=False/Applied']);
  t.equal(applyDriftChange([{ ...drifted, status: 'False', reason: 'InSync' }], H), undefined, 'in sync: no write');
  t.equal(applyDriftChange([], H), undefined, 'never verified: the apply adds no Drifted');
  const failed = driftAfterFailure(drifted, H, 'policy refused');
  t.same([failed?.status, failed?.reason], ['True', 'RepairFailed']);
  t.match(failed?.message, 'policy refused');
  t.equal(driftAfterFailure({ ...drifted, reason: 'DriftDetected' }, H, 'x'), undefined, 'report mode: a failed apply leaves the report alone');
});

t.test('ids in bulk answers: the last segment, whatever the prefix', async (t) => {
  t.equal(lastSegment('/apis/echo-api'), 'echo-api');
  t.equal(lastSegment('/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/svc/tags/team-a'), 'team-a');
  t.equal(lastSegment(undefined), undefined);
});

t.test('which ExposedAPIs a verify run compares (status and annotations are hints: a forgery only hides its own drift)', async (t) => {
  const { notVerifiable } = await import('../../executor/execute-verify.ts');
  const obj = (o: { annotations?: Record<string, string>; deletionTimestamp?: string; status?: Record<string, unknown> } = {}) => ({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'pets', namespace: 'team-a', uid: 'u', resourceVersion: '1', annotations: o.annotations ?? { 'exposedapi-apim.io/spec-hash': H }, ...(o.deletionTimestamp ? { deletionTimestamp: o.deletionTimestamp } : {}) },
    status: (o.status ?? { appliedSpecHash: H, apim: { apiId: 'team-a-pets', serviceName: 'apim-1' }, conditions: [] }) as never,
  });
  const cases: [string, ReturnType<typeof obj>, RegExp | undefined][] = [
    ['applied to this service', obj(), undefined],
    ['being deleted', obj({ deletionTimestamp: '2026-11-29T00:00:00Z' }), /being deleted/],
    ['never admitted', obj({ annotations: {} }), /no spec hash/],
    ['a change pending', obj({ status: { appliedSpecHash: 'ef'.repeat(32), apim: { serviceName: 'apim-1' } } }), /not applied yet/],
    ['a Job running', obj({ status: { appliedSpecHash: H, apim: { serviceName: 'apim-1' }, conditions: [{ type: 'Progressing', status: 'True' }] } }), /Job is running/],
    ['another APIM service', obj({ status: { appliedSpecHash: H, apim: { serviceName: 'apim-2' } } }), /apim-2/],
  ];
  for (const [what, o, why] of cases) {
    const got = notVerifiable(o, 'apim-1');
    if (why) t.match(got, why, what);
    else t.equal(got, undefined, what);
  }
});
