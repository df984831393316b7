// The dispatcher's summary of an ExposedAPI reads status that any tenant can write (the ODA CRD has no status
// subresource): only the operator's condition types are kept, one per type, with bounded fields — and the memory that
// forged status costs stays small.
import t, { type Test } from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ensureCondition } from '../../dispatcher/dispatch-plan.ts';
import { CONDITION_MESSAGE_MAX, dispatchSummary, OPERATOR_CONDITION_TYPES } from '../../dispatcher/exposedapi-summary.ts';

const H = 'a'.repeat(64);
const cond = (type: string, extra: Record<string, unknown> = {}) => ({ type, status: 'True', reason: 'R', message: `m-${type}`, lastTransitionTime: '2026-11-21T10:00:00Z', ...extra });
function object(conditions: unknown, status: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { namespace: 'team', name: 'pc', uid: 'u', resourceVersion: '1', annotations: { 'exposedapi-apim.io/spec-hash': H }, finalizers: ['exposedapi-apim.io/cleanup'] },
    spec: { implementation: 'svc' },
    status: { conditions, ...status },
  };
}

const rows: { name: string; conditions: unknown; types: string[]; check?: (t: Test, c: any[]) => void }[] = [
  { name: 'the operator\'s conditions are kept, in order', conditions: OPERATOR_CONDITION_TYPES.map((type) => cond(type)), types: [...OPERATOR_CONDITION_TYPES] },
  { name: 'unknown types are dropped', conditions: [cond('Ready'), cond('Hacked'), cond('ready'), cond('Available')], types: ['Ready'] },
  { name: 'one per type: the first, as conditionOf reads it', conditions: [cond('Ready', { message: 'first' }), cond('Ready', { message: 'second' })], types: ['Ready'], check: (t, c) => t.equal(c[0].message, 'first') },
  { name: 'a status outside True/False/Unknown is dropped', conditions: [cond('Ready', { status: 'Maybe' }), cond('Progressing')], types: ['Progressing'] },
  { name: 'not a list', conditions: { Ready: cond('Ready') }, types: [] },
  { name: 'junk entries', conditions: [null, 'Ready', 7, { type: 'Ready' }, cond('Imported')], types: ['Imported'] },
  {
    name: 'long fields are cut',
    conditions: [cond('Ready', { message: 'x'.repeat(1_000_000), reason: 'r'.repeat(10_000), specHash: 'h'.repeat(10_000) })],
    types: ['Ready'],
    check: (t, c) => {
      t.equal(c[0].message.length, CONDITION_MESSAGE_MAX);
      t.ok(c[0].message.endsWith('…'));
      t.ok(c[0].reason.length <= 256 && c[0].specHash.length <= 256);
    },
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const s = dispatchSummary(object(row.conditions));
    t.same(s.conditions.map((c) => c.type), row.types);
    row.check?.(t, s.conditions);
  });
}

t.test('forged lastJob and appliedSpecHash are bounded too', async (t) => {
  const s = dispatchSummary(object([], { lastJob: 'j'.repeat(100_000), appliedSpecHash: 'h'.repeat(100_000) }));
  t.ok(s.lastJob!.length <= 256 && s.appliedSpecHash!.length <= 256);
  t.equal(dispatchSummary(object([])).lastJob, undefined);
});

t.test('a long message the dispatcher writes is bounded, so it reads back equal (no rewrite loop)', async (t) => {
  const next = { type: 'Ready' as const, status: 'False' as const, reason: 'JobFailed', message: `Job ops/x failed; the executor reported ImportRejected: ${'e'.repeat(5000)}`, specHash: H };
  const now = new Date('2026-11-21T10:00:00Z');
  const written = ensureCondition([], next, now);
  t.ok(written[0]!.message.length <= CONDITION_MESSAGE_MAX, 'written bounded');
  const readBack = dispatchSummary(object(written)).conditions;
  t.equal(ensureCondition(readBack, next, now), readBack, 'the next plan finds nothing to change');
});

function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

t.test('memory: 200 objects with 6000 forged conditions each', async (t) => {
  const collect = gc();
  const forged = (i: number) => object(Array.from({ length: 6000 }, (_, k) => ({ type: k % 7 === 0 ? 'Ready' : `Forged${k}`, status: 'True', reason: `Reason${k}`, message: `message ${i}/${k} `.repeat(4), lastTransitionTime: '2026-11-21T10:00:00Z' })));
  collect();
  const before = process.memoryUsage().heapUsed;
  const kept = [];
  // Each object is parsed from JSON, as from the watch, and only its summary is kept (as the informer does).
  for (let i = 0; i < 200; i++) kept.push(dispatchSummary(JSON.parse(JSON.stringify(forged(i)))));
  collect();
  const retainedMb = (process.memoryUsage().heapUsed - before) / 1048576;
  t.comment(`200 summaries of objects with 6000 forged conditions each retain ${retainedMb.toFixed(2)} MB of heap`);
  t.ok(kept.every((s) => s.conditions.length === 1), 'one condition kept per object');
  t.ok(retainedMb < 5, `retained ${retainedMb.toFixed(2)} MB (319 MB when every condition was kept)`);
});
