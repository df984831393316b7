// The webhook's pool of document checker processes (real child processes): concurrent documents spread over the
// members, one member's timeout or crash leaves the others' answers alone, idle members exit, and the pool's size
// follows DOCUMENT_CHECKERS or the usable CPUs.
import t from 'tap';
import { documentProblems } from '../../core/spec-document.ts';
import { DocumentCheckerPool } from '../../webhook/document-checker-pool.ts';
import { AUTO_DOCUMENT_CHECKERS_MAX } from '../../core/operator-config.ts';
import { documentCheckerCount } from '../../webhook/run-webhook.ts';
import { manyPathsDocument as bigDocument, referenceText, swagger2, TMF620_V4 } from '../helpers/fixtures.ts';

// Real processes on a loaded machine: beyond tap's 30 s default for a file run directly with node (package.json
// gives tap runs 600 s).
t.setTimeout(300_000);

const small = (n: number) => JSON.stringify(swagger2([['get', `/p${n}`, `op${n}`]]));
const tick = () => new Promise((r) => setImmediate(r));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) until `done` holds; the machine may be slow, so the bound is generous and the check is the point. */
async function until(done: () => boolean, what: string, ms = 30_000): Promise<void> {
  for (const start = Date.now(); !done(); ) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('concurrent documents are spread over the members, with the in-process verdicts', async (t) => {
  const pool = new DocumentCheckerPool({ size: 2, timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1024 });
  t.teardown(() => pool.close());
  const texts = [referenceText(TMF620_V4), small(1), 'not a document', small(2), JSON.stringify(swagger2([['get', '/a']])), small(3)];
  const pending = texts.map((text) => pool.check(text));
  t.same(pool.members.map((m) => m.load > 0), [true, true], 'both members hold a document while six are in flight');
  await until(() => pool.childPids.length === 2, 'two checker processes running at once');
  const pids = pool.childPids;
  t.not(pids[0], pids[1], 'two distinct processes');
  const answers = await Promise.all(pending);
  for (const [i, text] of texts.entries()) t.same(answers[i], { problems: (await documentProblems(text)).problems }, `answer ${i} equals the in-process verdict`);
  const perMember = pool.members.map((m) => m.stats.checks);
  t.ok(perMember.every((n) => n >= 1), `each member checked documents (${perMember.join(' + ')})`);
  t.equal(pool.stats.checks, texts.length, 'every document checked exactly once');
  t.same(pool.members.map((m) => m.stats.spawned), [1, 1], 'one process per member');
});

t.test('one document at a time is served by the same warm member; the others never start', async (t) => {
  const pool = new DocumentCheckerPool({ size: 3, timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1024 });
  t.teardown(() => pool.close());
  for (let n = 0; n < 4; n++) t.same(await pool.check(small(n)), { problems: [] });
  t.same(pool.members.map((m) => m.stats.checks), [4, 0, 0]);
  t.same(pool.members.map((m) => m.stats.spawned), [1, 0, 0]);
  t.equal(pool.childPids.length, 1);
});

t.test("a member that times out does not disturb the other member's answers", async (t) => {
  const pool = new DocumentCheckerPool({ size: 2, timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1024 });
  t.teardown(() => pool.close());
  await Promise.all([pool.check(small(0)), pool.check(small(1))]); // both members warm
  const [first, second] = pool.members;
  const secondPid = second!.childPid;
  first!.timeoutMs = 40; // only the first member's budget is short
  const big = pool.check(bigDocument(3_000_000)); // the first free warm member: the first
  t.equal(first!.load, 1, 'the large document went to the first member');
  const smalls: unknown[] = [];
  for (let n = 10; n < 15; n++) smalls.push(await pool.check(small(n))); // one at a time: the free warm member takes each
  t.match(await big, { problems: [/could not be checked within 40 ms \(DOCUMENT_CHECK_TIMEOUT_MS\)/], transient: true });
  t.same(smalls, Array(5).fill({ problems: [] }), 'the other member answered every document');
  t.equal(first!.stats.timeouts, 1);
  t.equal(second!.stats.timeouts, 0);
  t.equal(second!.childPid, secondPid, 'the other member kept its process');
  t.equal(second!.stats.spawned, 1);
});

t.test("a member's process killed under a document: that document is answered as a crash, the others normally", async (t) => {
  const pool = new DocumentCheckerPool({ size: 2, timeoutMs: 60_000, idleMs: 60_000, maxRssMb: 1024 });
  t.teardown(() => pool.close());
  await Promise.all([pool.check(small(0)), pool.check(small(1))]);
  const [first, second] = pool.members;
  const victim = first!.childPid!;
  const secondPid = second!.childPid;
  const big = pool.check(bigDocument(3_000_000));
  await tick(); // the document is sent once the (already ready) child's promise settles
  const others = [20, 21, 22, 23].map((n) => pool.check(small(n))); // queue behind the second member while the first is busy
  process.kill(victim, 'SIGKILL');
  t.match(await big, { problems: [/exhausted the document checker \(SIGKILL\)/], transient: true });
  t.same(await Promise.all(others), Array(4).fill({ problems: [] }), 'the documents around it are answered normally');
  t.equal(first!.stats.crashes, 1);
  t.equal(second!.stats.crashes, 0);
  t.equal(second!.childPid, secondPid, 'the other member kept its process');
  t.same(await pool.check(small(30)), { problems: [] }, 'the pool still checks documents');
});

t.test('idle members exit, each returning its memory', async (t) => {
  const pool = new DocumentCheckerPool({ size: 2, timeoutMs: 20_000, idleMs: 300, maxRssMb: 1024 });
  t.teardown(() => pool.close());
  const checks = [pool.check(small(0)), pool.check(small(1))];
  await until(() => pool.childPids.length === 2, 'both members started');
  const pids = pool.childPids;
  await Promise.all(checks);
  await until(() => pool.childPids.length === 0, 'every member idle-recycled');
  await until(() => pids.every((pid) => !alive(pid)), 'the idle processes have exited');
  t.same(pool.members.map((m) => m.stats.recycled), [1, 1]);
  t.same(await pool.check(small(2)), { problems: [] }, 'the next document starts a member again');
  t.equal(pool.childPids.length, 1, 'just one');
});

t.test('each member is replaced when its memory grows beyond the limit', async (t) => {
  const pool = new DocumentCheckerPool({ size: 2, timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1 });
  t.teardown(() => pool.close());
  await Promise.all([pool.check(small(0)), pool.check(small(1))]);
  await Promise.all([pool.check(small(2)), pool.check(small(3))]);
  t.same(pool.members.map((m) => m.stats.spawned), [2, 2]);
  t.same(pool.members.map((m) => m.stats.recycled), [1, 1]);
});

t.test('close answers what waits and stops every member', async (t) => {
  const pool = new DocumentCheckerPool({ size: 1, timeoutMs: 20_000, idleMs: 60_000, maxRssMb: 1024 });
  const running = pool.check(small(0)); // in the member's hand while its process starts
  const waiting = pool.check(small(1)); // waits in the pool: the only member is busy
  t.equal(pool.childPids.length, 1, 'the member started its process');
  const pid = pool.childPids[0]!;
  await pool.close();
  const shuttingDown = { problems: ['could not be checked: the webhook is shutting down'], transient: true };
  t.same(await running, shuttingDown, 'the document in hand is answered');
  t.same(await waiting, shuttingDown, 'the waiting document is answered');
  t.notOk(alive(pid), 'the process is gone');
  t.match(await pool.check(small(2)), { transient: true });
});

t.test('pool size: DOCUMENT_CHECKERS, else the usable CPUs up to a cap', async (t) => {
  const cpus = (n: number, quota?: number) => () => ({ cpus: n, available: 64, limit: quota === undefined ? {} : { cpus: quota, source: '/sys/fs/cgroup/cpu.max' } });
  const table: [string, number, ReturnType<typeof cpus>, number][] = [
    ['set explicitly', 3, cpus(1, 1), 3],
    ['set above the CPUs', 8, cpus(2), 8],
    ['auto, limits.cpu 1', 0, cpus(1, 1), 1],
    ['auto, 2 CPUs', 0, cpus(2, 2), 2],
    ['auto, a large node without a limit', 0, cpus(64), AUTO_DOCUMENT_CHECKERS_MAX],
  ];
  for (const [name, configured, usable, size] of table) t.equal(documentCheckerCount(configured, usable).size, size, name);
  t.match(documentCheckerCount(0, cpus(1, 1)).fields, { source: 'cpus', usableCpus: 1, cpuQuota: 1, cpuQuotaFile: '/sys/fs/cgroup/cpu.max' }, 'the log says where the size came from');
  t.throws(() => new DocumentCheckerPool({ size: 0, timeoutMs: 1000, idleMs: 1000, maxRssMb: 64 }), /size 0 is invalid/);
});
