// DocumentCheckCache shares one in-flight check among identical concurrent misses, counted by an inner checker that
// answers only when the test releases it.
import t from 'tap';
import { DocumentCheckCache, type DocumentVerdict } from '../../core/spec-document.ts';

/** An inner checker that counts its calls per text and holds every answer until release(). */
function gatedChecker(answer: (text: string) => DocumentVerdict | Error) {
  const calls = new Map<string, number>();
  const held: (() => void)[] = [];
  return {
    calls,
    get total() {
      return [...calls.values()].reduce((a, b) => a + b, 0);
    },
    inner: (text: string) => {
      calls.set(text, (calls.get(text) ?? 0) + 1);
      return new Promise<DocumentVerdict>((resolve, reject) =>
        held.push(() => {
          const a = answer(text);
          if (a instanceof Error) reject(a);
          else resolve(a);
        }),
      );
    },
    release() {
      for (const r of held.splice(0)) r();
    },
  };
}

t.test('identical concurrent misses run one check; different texts each run their own', async (t) => {
  const checker = gatedChecker((text) => ({ problems: text === 'bad' ? ['is bad'] : [] }));
  const cache = new DocumentCheckCache(8, checker.inner);
  const big = `{"x":"${'a'.repeat(600 * 1024)}"}`; // beyond the identity-key size: the cache keys it by hash
  const pending = [cache.check('good'), cache.check('good'), cache.check('bad'), cache.check('good'), cache.check('bad'), cache.check(big), cache.check(big.slice(0, -1) + "}")];
  t.same(Object.fromEntries(checker.calls), { good: 1, bad: 1, [big]: 1 }, 'one check per distinct text while they run');
  checker.release();
  t.same(await Promise.all(pending), [{ problems: [] }, { problems: [] }, { problems: ['is bad'] }, { problems: [] }, { problems: ['is bad'] }, { problems: [] }, { problems: [] }]);
  t.same([cache.misses, cache.joined, cache.hits], [3, 4, 0]);
  t.same(await cache.check('good'), { problems: [] }, 'afterwards the verdict is cached');
  t.same([checker.total, cache.hits], [3, 1]);
});

t.test('a shared transient answer reaches every waiter and is not kept: the next check runs again', async (t) => {
  let transient = true;
  const checker = gatedChecker(() => (transient ? { problems: ['could not be checked within 40 ms'], transient: true } : { problems: [] }));
  const cache = new DocumentCheckCache(8, checker.inner);
  const pending = [1, 2, 3].map(() => cache.check('doc'));
  checker.release();
  t.same(await Promise.all(pending), Array(3).fill({ problems: ['could not be checked within 40 ms'], transient: true }));
  t.equal(checker.total, 1);
  transient = false;
  const again = cache.check('doc');
  checker.release();
  t.same(await again, { problems: [] });
  t.equal(checker.total, 2, 'checked again once the transient check was over');
});

t.test('a failed check fails its waiters once and leaves nothing behind', async (t) => {
  let fail = true;
  const checker = gatedChecker(() => (fail ? new Error('checker gone') : { problems: [] }));
  const cache = new DocumentCheckCache(8, checker.inner);
  const pending = [1, 2].map(() => cache.check('doc').then(() => 'answered', (e: Error) => e.message));
  checker.release();
  t.same(await Promise.all(pending), ['checker gone', 'checker gone']);
  fail = false;
  const again = cache.check('doc');
  checker.release();
  t.same(await again, { problems: [] });
  t.equal(checker.total, 2);
});
