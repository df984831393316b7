// The webhook's document checker process: same verdicts as in-process, a hard time budget, crash containment,
// recycling when idle or bloated.
import t from 'tap';
import { DocumentCheckCache, documentProblems } from '../../core/spec-document.ts';
import { IsolatedDocumentChecker } from '../../webhook/document-check-process.ts';
import { manyPathsDocument as bigDocument, referenceText, swagger2, TMF620_V4 } from '../helpers/fixtures.ts';

// Real processes on a loaded machine: beyond tap's 30 s default for a file run directly with node.
t.setTimeout(300_000);

t.test('verdicts equal the in-process checks', async (t) => {
  const checker = new IsolatedDocumentChecker({ timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1024 });
  t.teardown(() => checker.close());
  for (const text of [referenceText(TMF620_V4), JSON.stringify(swagger2([['get', '/a']])), 'not a document']) {
    t.same(await checker.check(text), { problems: (await documentProblems(text)).problems });
  }
  const concurrent = await Promise.all([1, 2, 3].map((n) => checker.check(JSON.stringify(swagger2([['get', `/p${n}`, `op${n}`]])))));
  t.same(concurrent, [{ problems: [] }, { problems: [] }, { problems: [] }], 'queued checks each get their own answer');
  t.equal(checker.stats.spawned, 1, 'one child serves them all');
});

t.test('a document over the time budget is answered, and the next one is checked by a fresh child', async (t) => {
  const checker = new IsolatedDocumentChecker({ timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1024 });
  t.teardown(() => checker.close());
  await checker.check(JSON.stringify(swagger2())); // child warm (a loaded machine can take 40 ms over a small one)
  checker.timeoutMs = 40;
  const slow = await checker.check(bigDocument(3_000_000));
  t.match(slow.problems[0], 'could not be checked within 40 ms (DOCUMENT_CHECK_TIMEOUT_MS)');
  t.equal(checker.stats.timeouts, 1);
  checker.timeoutMs = 20_000;
  t.same(await checker.check(JSON.stringify(swagger2())), { problems: [] }, 'the checker recovers');
  t.equal(checker.stats.spawned, 2);
});

t.test('a crash under a document is contained', async (t) => {
  const checker = new IsolatedDocumentChecker({ timeoutMs: 60_000, idleMs: 60_000, maxRssMb: 1024, execArgv: ['--max-old-space-size=24'] });
  t.teardown(() => checker.close());
  const r = await checker.check(bigDocument(3_500_000));
  t.match(r.problems[0], 'exhausted the document checker');
  t.equal(checker.stats.crashes, 1);
  t.same(await checker.check(JSON.stringify(swagger2())), { problems: [] }, 'later documents are still checked');
});

t.test('the child is recycled when idle and when its memory grows', async (t) => {
  const idle = new IsolatedDocumentChecker({ timeoutMs: 20_000, idleMs: 200, maxRssMb: 1024 });
  t.teardown(() => idle.close());
  await idle.check(JSON.stringify(swagger2()));
  const pid = idle.childPid;
  t.ok(pid, 'a child ran');
  await new Promise((r) => setTimeout(r, 600));
  t.equal(idle.childPid, undefined, 'gone after the idle time');
  t.equal(idle.stats.recycled, 1);
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    try {
      process.kill(pid!, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      alive = false;
    }
  }
  t.notOk(alive, 'the idle child process has exited');

  const bloated = new IsolatedDocumentChecker({ timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1 });
  t.teardown(() => bloated.close());
  await bloated.check(JSON.stringify(swagger2()));
  await bloated.check(JSON.stringify(swagger2()));
  t.equal(bloated.stats.spawned, 2, 'a child over its memory limit is replaced before the next document');
});

t.test('a timeout or a crash is never cached as the document\'s verdict', async (t) => {
  const checker = new IsolatedDocumentChecker({ timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1024 });
  t.teardown(() => checker.close());
  const cache = new DocumentCheckCache(8, (text) => checker.check(text));
  await checker.check(JSON.stringify(swagger2())); // child warm (a loaded machine can take 40 ms over a small one)
  checker.timeoutMs = 40;
  const big = bigDocument(3_000_000);
  const first = await cache.check(big);
  t.match(first, { problems: [/could not be checked within 40 ms/], transient: true }, 'the timeout is answered, marked transient');
  checker.timeoutMs = 20_000;
  t.same(await cache.check(big), { problems: [] }, 'the same document is checked again, and passes');
  t.same(await cache.check(big), { problems: [] });
  t.same([cache.misses, cache.hits], [2, 1], 'only the real verdict was kept');

  const fragile = new IsolatedDocumentChecker({ timeoutMs: 60_000, idleMs: 60_000, maxRssMb: 1024, execArgv: ['--max-old-space-size=24'] });
  t.teardown(() => fragile.close());
  const fragileCache = new DocumentCheckCache(8, (text) => fragile.check(text));
  const crashed = await fragileCache.check(bigDocument(3_500_000));
  t.match(crashed, { problems: [/exhausted the document checker/], transient: true });
  await fragileCache.check(bigDocument(3_500_000));
  t.equal(fragile.stats.crashes, 2, 'a crash is not remembered: the next apply of the document is checked again');
});
