// The one status writer (core/kube/status-writer.ts), on a fake client: the guard, the re-read and re-apply after a
// conflict, a conflict left to the caller with one attempt, and a gone object as a result.
import t from 'tap';
import type { KubeResources } from '../../core/kube/client.ts';
import { KubeError } from '../../core/kube/errors.ts';
import { writeFields } from '../../core/kube/status-writer.ts';

type Obj = { metadata: { resourceVersion: string }; status: { n: number } };

/** A client holding one object whose resourceVersion moves on every write; `conflicts` patches answer 409 first. */
function fakeClient(conflicts: number, gone = false) {
  let stored: Obj | undefined = gone ? undefined : { metadata: { resourceVersion: '1' }, status: { n: 1 } };
  const patches: unknown[] = [];
  let reads = 0;
  let left = conflicts;
  const kube: KubeResources = {
    get: async <T>() => {
      reads++;
      return structuredClone(stored) as T | undefined;
    },
    create: async () => { throw new Error('not used'); },
    delete: async () => false,
    patch: async <T>(path: string, body: unknown) => {
      patches.push(body);
      if (!stored) throw new KubeError('PATCH', path, 404, 'NotFound', 'not found');
      if (left-- > 0) {
        stored = { metadata: { resourceVersion: String(Number(stored.metadata.resourceVersion) + 1) }, status: { n: stored.status.n + 10 } };
        throw new KubeError('PATCH', path, 409, 'Conflict', 'the object has been modified');
      }
      const b = body as { status?: Obj['status'] };
      stored = { metadata: { resourceVersion: String(Number(stored.metadata.resourceVersion) + 1) }, status: b.status ?? stored.status };
      return structuredClone(stored) as T;
    },
  };
  return { kube, patches, reads: () => reads };
}

const increment = (current: Obj) => ({ status: { n: current.status.n + 1 } });

t.test('a guarded merge patch of the fields computed from the current object', async (t) => {
  const c = fakeClient(0);
  const written = await writeFields<Obj>({ kube: c.kube, path: '/x', fields: increment });
  t.same(written, { result: 'ok', object: { metadata: { resourceVersion: '2' }, status: { n: 2 } } });
  t.same(c.patches, [{ status: { n: 2 }, metadata: { resourceVersion: '1' } }]);
});

t.test('a conflict: read again and the fields computed again from the newer object', async (t) => {
  const c = fakeClient(2);
  const written = await writeFields<Obj>({ kube: c.kube, path: '/x', fields: increment });
  t.equal(written.result, 'ok');
  t.same(c.patches.at(-1), { status: { n: 22 }, metadata: { resourceVersion: '3' } });
  t.equal(c.reads(), 3);
});

t.test('one attempt leaves the conflict to the caller; the last error comes with it', async (t) => {
  const c = fakeClient(1);
  const written = await writeFields<Obj>({ kube: c.kube, path: '/x', fields: increment, attempts: 1 }, { metadata: { resourceVersion: '1' }, status: { n: 1 } });
  t.equal(written.result, 'conflict');
  t.equal(c.reads(), 0, 'the given object is used, not read');
});

t.test('a gone object is a result; guard: false sends the fields alone', async (t) => {
  t.same(await writeFields<Obj>({ kube: fakeClient(0, true).kube, path: '/x', fields: increment }), { result: 'gone' });
  const c = fakeClient(0);
  await writeFields<Obj>({ kube: c.kube, path: '/x', fields: increment, guard: false });
  t.same(c.patches, [{ status: { n: 2 } }]);
});
