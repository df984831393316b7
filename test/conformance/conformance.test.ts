// The conformance suite against the emulator, in-process: in the emulator's default mode every check passes (or is
// skipped for its tier premise), and each setting the emulator offers for a disputed behaviour flips what the
// matching check observes — proof that the checks look at the service rather than assume. Also the run's safety:
// it refuses a service holding an earlier run's objects, deletes them only when asked, and cleans up after an
// interrupt.
import t, { type Test } from 'tap';
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApimEmulator } from '../../emulator/apim-emulator.ts';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';
import type { ArmTarget } from '../../conformance/arm-target.ts';
import { emulatorTarget } from '../../conformance/arm-target.ts';
import type { CheckResult } from '../../conformance/check.ts';
import type { ConformanceReport, RunOptions } from '../../conformance/runner.ts';
import { exitCode, runConformance } from '../../conformance/runner.ts';
import { selectChecks } from '../../conformance/suite.ts';

// The whole file takes about a minute on a loaded machine, past tap's 30 s default when run directly with node; the
// tap runner's own limit (package.json) is the same 600 s.
t.setTimeout(600_000);

const dir = await mkdtemp(join(tmpdir(), 'conformance-'));
// Imports last 2.5 s: long enough for the in-progress checks to see the import running on a loaded machine (a few
// loopback requests), short enough for the suite's five imports.
const emu: ApimEmulator = await startApimEmulator({ dir, importDelayMs: 2500 });
t.teardown(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});
const target: ArmTarget = emulatorTarget({ ...emu.info(), caPem: emu.caPem });

/** The emulator's admin API over HTTPS, as a user would change a setting (PATCH /_emulator/settings). */
function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${emu.url}${path}`, { method, ca: emu.caPem, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function settings(patch: Record<string, unknown>): Promise<void> {
  const res = await admin('PATCH', '/_emulator/settings', patch);
  if (res.status !== 200) throw new Error(`PATCH /_emulator/settings ${JSON.stringify(patch)} answered ${res.status} ${JSON.stringify(res.body)}`);
}

const run = (options: RunOptions = {}): Promise<ConformanceReport> => runConformance(target, { pollIntervalMs: 100, operationTimeoutMs: 60_000, ...options });

function only(...ids: string[]): RunOptions {
  const { checks, errors } = selectChecks(ids);
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return { checks };
}

const result = (report: ConformanceReport, id: string): CheckResult => {
  const r = report.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result for ${id}`);
  return r;
};

/** Nothing of any conformance run is left on the service. */
function assertNothingLeft(tt: Test): void {
  const state = emu.state();
  tt.same(state.apis.map((a) => a.name), [], 'no API left');
  tt.same(state.products.map((p) => p.name), [], 'no product left');
  tt.same(state.tags.map((x) => x.name), [], 'no tag left');
}

t.test('default mode: every check passes, tier-premised ones are skipped on Developer, and everything is deleted', async (tt) => {
  const report = await run();
  const table = report.results.map((r) => `${r.id}: ${r.verdict} — ${r.observed}`).join('\n');
  tt.equal(report.outcome, 'completed');
  tt.equal(report.sku, 'Developer');
  for (const r of report.results) {
    const premise = r.id === 'policy.quota-by-key-refused' || r.id === 'policy.rate-limit-by-key-refused';
    tt.equal(r.verdict, premise ? 'skipped' : 'pass', `${r.id}: ${r.observed}`);
  }
  tt.equal(report.results.length, selectChecks([]).checks.length, 'every check ran');
  tt.notMatch(result(report, 'import.lro-final').observed, /404/, 'no not-found window by default');
  tt.equal(result(report, 'import.lro-accepted').observed, '202, Location, empty body', 'the recorded shape by default');
  tt.equal(exitCode(report), 0, table);
  tt.same(report.cleanup.failed, []);
  tt.ok(report.cleanup.deleted.length >= 6, `deleted what it created: ${report.cleanup.deleted.join(', ')}`);
  assertNothingLeft(tt);
});

t.test("sku: 'Consumption' flips the tier checks: the refusals are observed, the offers are skipped", async (tt) => {
  await settings({ sku: 'Consumption' });
  tt.teardown(() => settings({ sku: 'Developer' }));
  const report = await run(only('policy'));
  tt.equal(report.sku, 'Consumption');
  tt.equal(result(report, 'policy.quota-by-key-offered').verdict, 'skipped');
  tt.equal(result(report, 'policy.rate-limit-by-key-offered').observed, 'skipped: tier Consumption');
  for (const id of ['policy.quota-by-key-refused', 'policy.rate-limit-by-key-refused']) {
    const r = result(report, id);
    tt.equal(r.verdict, 'pass', `${id}: ${r.observed}`);
    tt.match(r.observed, /^tier Consumption: 400 .*Policy is not allowed in 'Consumption' sku/);
  }
  assertNothingLeft(tt);
});

t.test("policyBodyFormat: 'xml' flips the policy read from the JSON envelope to bare XML", async (tt) => {
  const before = result(await run(only('policy.read-format', 'policy.rawxml-read')), 'policy.read-format');
  await settings({ policyBodyFormat: 'xml' });
  tt.teardown(() => settings({ policyBodyFormat: 'json' }));
  const report = await run(only('policy.read-format', 'policy.rawxml-read'));
  const after = result(report, 'policy.read-format');
  tt.match(before.observed, /json envelope/);
  tt.match(after.observed, /bare xml \(application\/vnd\.ms-azure-apim\.policy\+xml/);
  tt.equal(after.verdict, 'pass', 'bare XML is one of the two forms seen in the wild');
  tt.match(result(report, 'policy.rawxml-read').observed, /bare xml, the stored document/);
  assertNothingLeft(tt);
});

t.test('importAppliesProperties: false flips what an import applies; the re-import still resets serviceUrl', async (tt) => {
  await settings({ importAppliesProperties: false });
  tt.teardown(() => settings({ importAppliesProperties: true }));
  const report = await run(only('import.applies-properties', 'import.reimport-resets-service-url'));
  const applied = result(report, 'import.applies-properties');
  tt.match(applied.observed, /^none applied \(importAppliesProperties: false\): .*serviceUrl/);
  tt.equal(result(report, 'import.reimport-resets-service-url').verdict, 'pass', result(report, 'import.reimport-resets-service-url').observed);
  assertNothingLeft(tt);
});

t.test('notFoundAfterImportMs: the import ends in 404 "Api not found." before the API shows, and the suite waits for it', async (tt) => {
  await settings({ notFoundAfterImportMs: 1500 });
  tt.teardown(() => settings({ notFoundAfterImportMs: 0 }));
  const report = await run(only('import.lro-final', 'etag.get-header'));
  const final = result(report, 'import.lro-final');
  tt.equal(final.verdict, 'pass', final.observed);
  tt.match(final.observed, /404 "Api not found\." at first, the API there [\d.]+ s later; 200, name conformance-/);
  tt.equal(result(report, 'etag.get-header').verdict, 'pass', 'checks on the imported API still run');
  assertNothingLeft(tt);
});

t.test("asyncMode: 'azure-async-operation' flips the import's first answer and how it is followed; failures still show", async (tt) => {
  await settings({ asyncMode: 'azure-async-operation' });
  tt.teardown(() => settings({ asyncMode: 'location' }));
  const report = await run(only('import.lro-accepted', 'import.lro-final', 'import.duplicate-signature'));
  for (const r of report.results) tt.equal(r.verdict, 'pass', `${r.id}: ${r.observed}`);
  tt.equal(result(report, 'import.lro-accepted').observed, '201, Location + Azure-AsyncOperation, provisioningState InProgress');
  tt.match(result(report, 'import.lro-final').observed, /^azure-async-operation, /);
  tt.match(result(report, 'import.duplicate-signature').observed, /^201 → azure-async-operation poll 200: Failed: ValidationError: Importing API has duplicate signature operations/);
  assertNothingLeft(tt);
});

t.test('an import that ends at once: the in-progress behaviour is "not observed", never "differs"', async (tt) => {
  await settings({ importDelayMs: 0 });
  tt.teardown(() => settings({ importDelayMs: 2500 }));
  const report = await run(only('import.conflict-while-importing', 'import.new-api-hidden-while-importing'));
  for (const r of report.results) tt.equal(r.verdict, 'not observed', `${r.id}: ${r.observed}`);
  tt.equal(exitCode(report), 0);
  assertNothingLeft(tt);
});

t.test('a service that answers differently makes the check differ and the run exit 1', async (tt) => {
  // The second API on a taken path gets a 409 instead of APIM's 400 (a fault rule of the emulator), once.
  const added = await admin('POST', '/_emulator/faults', { method: 'PUT', pathPattern: '-collide', status: 409, times: 1 });
  tt.equal(added.status, 201);
  tt.teardown(() => admin('DELETE', '/_emulator/faults'));
  const report = await run(only('api.path-collision'));
  const r = result(report, 'api.path-collision');
  tt.equal(r.verdict, 'differs');
  tt.match(r.observed, /^409 PessimisticConcurrencyConflict/);
  tt.equal(exitCode(report), 1);
  assertNothingLeft(tt);
});

t.test("an earlier run's objects: refused without --clean-up-leftovers, deleted with it; other objects untouched", async (tt) => {
  const leftover = 'conformance-0123abcd-product';
  const put = (id: string) => target.request('PUT', `/products/${id}`, { body: { properties: { displayName: id } } });
  tt.equal((await put(leftover)).status, 201);
  tt.equal((await put('team-a-product')).status, 201, 'an object of someone else');
  tt.teardown(() => target.request('DELETE', '/products/team-a-product', { headers: { 'if-match': '*' } }));

  const refused = await run(only('api.not-found'));
  tt.equal(refused.outcome, 'refused');
  tt.match(refused.refusal, /product conformance-0123abcd-product.*--clean-up-leftovers/);
  tt.same(refused.results, [], 'no check ran');
  tt.equal(exitCode(refused), 2);

  const cleaned = await run({ ...only('api.not-found'), cleanUpLeftovers: true });
  tt.equal(cleaned.outcome, 'completed');
  tt.same(cleaned.leftovers, ['product conformance-0123abcd-product']);
  tt.equal(result(cleaned, 'api.not-found').verdict, 'pass');
  tt.same(emu.state().products.map((p) => p.name), ['team-a-product'], 'only the leftover was deleted');
});

t.test('an interrupt stops the run between checks and still deletes everything it created', async (tt) => {
  const controller = new AbortController();
  const report = await run({
    signal: controller.signal,
    // Interrupt once the base API exists and a product hangs off it.
    log: (line) => {
      if (line.startsWith('links.product-api:')) controller.abort();
    },
  });
  tt.equal(report.outcome, 'interrupted');
  tt.equal(exitCode(report), 1);
  tt.equal(report.results.at(-1)?.id, 'links.product-api', 'no check started after the interrupt');
  tt.same(report.cleanup.failed, []);
  tt.ok(report.cleanup.deleted.includes(`product ${report.prefix}product`), report.cleanup.deleted.join(', '));
  assertNothingLeft(tt);
});
