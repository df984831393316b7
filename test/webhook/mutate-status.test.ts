// The mutating webhook's status reset (core/exposedapi-status.ts admittedChange): a new change — a CREATE, or an UPDATE
// whose spec hash differs from the stored one — gets Ready Unknown / Pending for its hash in the same write that
// stamps it; writes that apply nothing (status writes, labels) get nothing. Table-driven over stampPatch.
import t from 'tap';
import { SPEC_HASH_ANNOTATION, readExposedApi } from '../../core/exposedapi-model.ts';
import { specHash } from '../../core/spec-hash.ts';
import { stampPatch } from '../../webhook/mutate-decision.ts';
import { exposedApi } from '../helpers/fixtures.ts';

type Obj = Record<string, any>;
const now = new Date('2026-11-29T10:00:00Z');
const hashOf = (o: Obj) => specHash(readExposedApi(o).model);
const stamped = (o: Obj): Obj => ({ ...o, metadata: { ...o['metadata'], annotations: { ...(o['metadata'].annotations ?? {}), [SPEC_HASH_ANNOTATION]: hashOf(o) } } });
const failed = [
  { type: 'Imported', status: 'False', reason: 'ImportRejected', message: 'APIM said no', lastTransitionTime: '2026-11-29T09:00:00.000Z', specHash: 'a'.repeat(64) },
  { type: 'Ready', status: 'False', reason: 'JobFailed', message: 'Job x failed', lastTransitionTime: '2026-11-29T09:00:00.000Z', specHash: 'a'.repeat(64) },
  { type: 'Stalled', status: 'True', reason: 'JobFailed', message: 'Job x failed', lastTransitionTime: '2026-11-29T09:00:00.000Z', specHash: 'a'.repeat(64) },
];

/** The status part of the patch, as `type=status/reason` per condition, or undefined when status is not touched. */
function statusOps(object: Obj, previous?: Obj): { path: string; conditions: string[]; hashes: string[] } | undefined {
  const op = stampPatch(object, { kind: 'keep' }, previous, now).find((o) => o.path.startsWith('/status'));
  if (!op || op.op === 'remove') return undefined;
  const value = op.path === '/status' ? (op.value as Obj)['conditions'] : op.value;
  return { path: op.path, conditions: (value as Obj[]).map((c) => `${c['type']}=${c['status']}/${c['reason']}`), hashes: (value as Obj[]).map((c) => c['specHash']) };
}

t.test('CREATE: Ready Unknown / Pending for the object\'s hash, whatever status the request carries', async (t) => {
  const obj = exposedApi();
  t.same(statusOps(obj), { path: '/status', conditions: ['Ready=Unknown/Pending'], hashes: [hashOf(obj)] });
  const restored = { ...stamped(obj), status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Published', message: 'restored from a backup', specHash: hashOf(obj) }] } };
  t.same(statusOps(restored), { path: '/status/conditions', conditions: ['Ready=Unknown/Pending'], hashes: [hashOf(obj)] },
    'a manifest (or backup) that carries status and the annotation is still pending: nothing has been applied by this cluster');
  const junk = { ...obj, status: { conditions: ['not a condition', null, { type: 'Ready', status: 'True' }] } };
  t.same(statusOps(junk)?.conditions, ['Ready=Unknown/Pending'], 'entries that are not objects are not conditions');
  t.same(statusOps({ ...obj, status: 'x' })?.path, '/status', 'a status that is not an object is replaced');
});

t.test('UPDATE: a new spec hash resets the verdicts; an update that keeps the hash gets no status op', async (t) => {
  const before: Obj = { ...stamped(exposedApi()), status: { conditions: failed } };
  const edited = structuredClone(before);
  edited['spec'].port = 9090;
  const reset = statusOps(edited, before);
  t.same(reset?.conditions, ['Imported=False/ImportRejected', 'Ready=Unknown/Pending', 'Stalled=False/Pending'], 'the executor\'s words about the earlier change stay');
  t.equal(reset?.hashes[1], hashOf(edited));

  const copied = structuredClone(edited);
  copied['metadata'].annotations[SPEC_HASH_ANNOTATION] = hashOf(edited);
  t.ok(statusOps(copied, before), 'keyed on the stored annotation: a manifest carrying the new hash is still a new change');

  const statusWrite = { ...structuredClone(before), status: { conditions: [...failed, { type: 'Progressing', status: 'True', reason: 'Applying', message: 'job' }] } };
  t.equal(statusOps(statusWrite, before), undefined, 'a status write (the dispatcher\'s, the executor\'s) keeps the hash: nothing reset');
  const label = structuredClone(before);
  label['metadata'].labels = { team: 'a' };
  t.equal(statusOps(label, before), undefined, 'a label edit applies nothing: nothing reset');
  t.notOk(JSON.stringify(stampPatch(edited, { kind: 'keep' }, before, now)).includes('observedGeneration'), 'no observedGeneration, ever');
});
