// The pure decisions of a run with revisions (executor/revision-plan.ts): whether an ExposedAPI uses revisions,
// revision ids, which revision a change goes into, which earlier revisions go, the release's id and notes; the Serving
// condition after a failed apply (executor/serving.ts) and the Component entry's ready (componentEntryReady).
import t from 'tap';
import { renderMark, type OwnerIdentity } from '../../executor/api-mark.ts';
import type { ApiRevisionContract } from '../../executor/apim-operations.ts';
import { releaseIdFor, releaseNotesFor, revisionFor, revisionId, revisionsEnabled, revisionsOf, revisionsToPrune, type RevisionInfo } from '../../executor/revision-plan.ts';
import { probeTarget } from '../../executor/revision-check.ts';
import { servingAfterFailure } from '../../executor/serving.ts';
import { componentEntryReady } from '../../core/exposedapi-status.ts';
import { operationCount } from '../../executor/import-plan.ts';

const WHO: OwnerIdentity = { cluster: 'default', namespace: 'team-a', name: 'pc', uid: 'u-1' };
const OTHER: OwnerIdentity = { ...WHO, name: 'other' };
const F1 = '1'.repeat(64);
const F2 = '2'.repeat(64);
const F3 = '3'.repeat(64);

const rev = (n: number, current: boolean, description: string | null): ApiRevisionContract => ({ apiId: `/apis/pc;rev=${n}`, apiRevision: String(n), isCurrent: current, description });

t.test('revisionsEnabled: the ExposedAPI overrides APIM_REVISIONS either way', async (t) => {
  const cases: [boolean | undefined, boolean, boolean][] = [
    [undefined, false, false],
    [undefined, true, true],
    [true, false, true],
    [false, true, false],
  ];
  for (const [spec, env, want] of cases) {
    const model = { spec: { apim: spec === undefined ? {} : { revisions: spec } } } as Parameters<typeof revisionsEnabled>[0];
    t.equal(revisionsEnabled(model, { revisions: { enabled: env, keep: 3 } }), want, `spec ${spec}, APIM_REVISIONS ${env ? 'on' : 'off'}`);
  }
});

t.test('revisionsOf reads numbers, the current one and our mark; revisionId names one', async (t) => {
  const list = [rev(2, false, renderMark(WHO, F2)), rev(1, true, renderMark(WHO, F1)), rev(3, false, 'made in the portal'), rev(4, false, renderMark(OTHER, F3)), { apiRevision: 'x' }];
  t.same(revisionsOf(list, WHO), [
    { number: 1, current: true, ours: true, fingerprint: F1 },
    { number: 2, current: false, ours: true, fingerprint: F2 },
    { number: 3, current: false, ours: false },
    { number: 4, current: false, ours: false, fingerprint: F3 },
  ]);
  t.equal(revisionId('components-pc', 7), 'components-pc;rev=7');
});

t.test('revisionFor: a new number above all, or the revision an earlier run of the same change left', async (t) => {
  const r = (number: number, current: boolean, ours: boolean, fingerprint?: string): RevisionInfo => ({ number, current, ours, ...(fingerprint ? { fingerprint } : {}) });
  const cases: { name: string; revs: RevisionInfo[]; fp: string; want: { number: number; reuse: boolean } }[] = [
    { name: 'only the first revision', revs: [r(1, true, true, F1)], fp: F2, want: { number: 2, reuse: false } },
    { name: 'numbers are not reused: above a portal revision', revs: [r(1, true, true, F1), r(5, false, false)], fp: F2, want: { number: 6, reuse: false } },
    { name: 'a failed revision of this document is checked again', revs: [r(1, true, true, F1), r(2, false, true, F2)], fp: F2, want: { number: 2, reuse: true } },
    { name: 'the newest of several', revs: [r(1, true, true, F1), r(2, false, true, F2), r(4, false, true, F2)], fp: F2, want: { number: 4, reuse: true } },
    { name: 'another document: a new revision', revs: [r(1, true, true, F1), r(2, false, true, F2)], fp: F3, want: { number: 3, reuse: false } },
    { name: 'not reused when it is not ours', revs: [r(1, true, true, F1), r(2, false, false, F2)], fp: F2, want: { number: 3, reuse: false } },
    { name: 'the current one is never "reused"', revs: [r(3, true, true, F2)], fp: F2, want: { number: 4, reuse: false } },
    { name: 'an empty list (APIM numbers from 1)', revs: [], fp: F2, want: { number: 2, reuse: false } },
  ];
  for (const c of cases) t.same(revisionFor(c.revs, c.fp), c.want, c.name);
});

t.test('revisionsToPrune keeps the newest KEEP non-current revisions of ours, never the current one or others\'', async (t) => {
  const r = (number: number, current = false, ours = true): RevisionInfo => ({ number, current, ours });
  const cases: { name: string; revs: RevisionInfo[]; keep: number; want: number[] }[] = [
    { name: 'fewer than keep', revs: [r(1), r(2, true)], keep: 3, want: [] },
    { name: 'exactly keep', revs: [r(1), r(2), r(3), r(4, true)], keep: 3, want: [] },
    { name: 'the oldest go', revs: [r(1), r(2), r(3), r(4), r(5), r(6, true)], keep: 3, want: [1, 2] },
    { name: 'keep 0: every old one', revs: [r(1), r(2), r(3, true)], keep: 0, want: [1, 2] },
    { name: 'portal revisions neither go nor count', revs: [r(1), r(2, false, false), r(3), r(4, false, false), r(5, true)], keep: 1, want: [1] },
    { name: 'a current revision with a lower number than old ones (a rollback) stays', revs: [r(1, true), r(2), r(3), r(4)], keep: 1, want: [2, 3] },
  ];
  for (const c of cases) t.same(revisionsToPrune(c.revs, c.keep), c.want, c.name);
});

t.test('release id and notes: deterministic, inside APIM\'s rules, naming the spec hash', async (t) => {
  const hash = 'ab'.repeat(32);
  const id = releaseIdFor(hash, 12);
  t.equal(id, `rev-12-${'ab'.repeat(8)}`);
  t.ok(id.length <= 80 && /^[^*#&+:<>?]+$/.test(id), 'a valid releaseId (1-80, ^[^*#&+:<>?]+$)');
  t.equal(releaseIdFor(hash, 12), id, 'the same change and revision give the same id');
  t.equal(releaseNotesFor(hash, WHO), `exposedapi-apim: ExposedAPI team-a/pc, spec-hash ${hash}`);
});

t.test('probeTarget: a GET without parameters, a wildcard called at its root, nothing else', async (t) => {
  const cases: [Record<string, unknown>[], string | undefined][] = [
    [[{ method: 'GET', urlTemplate: '/catalog' }], '/catalog'],
    [[{ method: 'POST', urlTemplate: '/catalog' }, { method: 'GET', urlTemplate: '/catalog/{id}' }, { method: 'GET', urlTemplate: '/health?x={x}' }], '/health'],
    [[{ method: 'GET', urlTemplate: '/*' }], '/'],
    [[{ method: 'GET', urlTemplate: '/items/{id}' }], undefined],
    [[], undefined],
  ];
  for (const [ops, want] of cases) t.equal(probeTarget(ops), want, JSON.stringify(ops));
});

t.test('operationCount: method and path pairs of the document', async (t) => {
  t.equal(operationCount({ paths: { '/a': { get: {}, post: {}, parameters: [] }, '/b': { delete: {}, 'x-ext': {} } } }), 3);
  t.equal(operationCount({ paths: {} }), 0);
  t.equal(operationCount({}), undefined);
  t.equal(operationCount(undefined), undefined);
});

t.test('Serving after a failed apply, and the Component entry it allows', async (t) => {
  const H = 'c'.repeat(64);
  const OLD = 'd'.repeat(64);
  const base = (o: { applied?: string; revisions?: boolean; revision?: string; released?: number; apiStatus?: boolean }) => ({
    ctx: { specHash: H, config: { revisions: { enabled: o.revisions ?? false, keep: 3 } } },
    obj: { status: { ...(o.applied ? { appliedSpecHash: o.applied } : {}), ...(o.revision ? { apim: { apiId: 'x', serviceName: 's', revision: o.revision } } : {}) } },
    model: { spec: { apim: {} } },
    ...(o.released ? { revision: { action: 'released', current: String(o.released), drift: [], pruned: [], released: { revision: o.released, previous: '1', releaseId: 'r', reused: false } } } : {}),
    ...(o.apiStatus ? { apiStatus: { name: 'x', url: 'u', path: '/p', port: 1, implementation: 'i' } } : {}),
  }) as unknown as Parameters<typeof servingAfterFailure>[0];
  const cases: { name: string; s: Parameters<typeof servingAfterFailure>[0]; condition: 'Validated' | 'Imported' | 'Published'; want: [string, string] | undefined; message?: RegExp }[] = [
    { name: 'revisions: the change failed its check', s: base({ applied: OLD, revisions: true, revision: '1' }), condition: 'Imported', want: ['True', 'PreviousRevision'], message: /revision 1\).*nothing current changed/ },
    { name: 'revisions: invalid spec', s: base({ applied: OLD, revisions: true }), condition: 'Validated', want: ['True', 'PreviousRevision'] },
    { name: 'revisions: a step after the release failed', s: base({ applied: OLD, revisions: true, released: 2 }), condition: 'Published', want: ['True', 'CurrentRevision'] },
    { name: 'no revisions: a failed import', s: base({ applied: OLD }), condition: 'Imported', want: ['False', 'ChangeNotApplied'], message: /possibly parts of this one.*spec\.apim\.revisions: true/ },
    { name: 'no revisions: nothing reached APIM', s: base({ applied: OLD }), condition: 'Validated', want: ['False', 'ChangeNotApplied'] },
    { name: 'never applied', s: base({}), condition: 'Imported', want: ['False', 'NotPublished'] },
    { name: 'this change was applied by an earlier run', s: base({ applied: H }), condition: 'Imported', want: ['True', 'CurrentSpec'] },
    { name: 'Published was written: no Serving change', s: base({ applied: OLD, apiStatus: true }), condition: 'Published', want: undefined },
  ];
  for (const c of cases) {
    const got = servingAfterFailure(c.s, c.condition);
    if (!c.want) {
      t.same(got, [], c.name);
      continue;
    }
    t.same(got.map((x) => [x.type, x.status, x.reason, x.specHash]), [['Serving', ...c.want, H]], c.name);
    if (c.message) t.match(got[0]!.message, c.message, `${c.name}: message`);
    t.equal(componentEntryReady(true, got), c.want[0] === 'True', `${c.name}: the Component entry is ${c.want[0] === 'True' ? '' : 'not '}ready`);
  }
  t.equal(componentEntryReady(true, []), true, 'no Serving condition (objects applied before it existed): the implementation decides');
  t.equal(componentEntryReady(false, [{ type: 'Serving', status: 'True' }]), false, 'an implementation without endpoints is never ready');
});
