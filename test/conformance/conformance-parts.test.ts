// The pure parts of the conformance suite: the write guard that keeps a run to its own objects, run prefixes, check
// selection, how a policy body is recognized, the polling headers, and the table printer.
import t from 'tap';
import type { ArmResponse } from '../../conformance/arm-target.ts';
import { policyBodyForm } from '../../conformance/checks/policies.ts';
import { isAccepted, outcomeError } from '../../conformance/long-running.ts';
import { isRunObject, newRunPrefix, writeRefusal } from '../../conformance/owned-names.ts';
import { exitCode } from '../../conformance/runner.ts';
import type { ConformanceReport } from '../../conformance/runner.ts';
import { ALL_CHECKS, selectChecks } from '../../conformance/suite.ts';
import { formatReport, renderTable, wrap } from '../../conformance/table.ts';

const PREFIX = 'conformance-0a1b2c3d-';
const owns = (id: string): boolean => id.toLowerCase().startsWith(PREFIX);

t.test('writeRefusal: every id segment must carry the run prefix (policy ids aside)', async (tt) => {
  const cases: { path: string; allowed: boolean; why: string }[] = [
    { path: `/apis/${PREFIX}base`, allowed: true, why: 'own API' },
    { path: `/apis/${PREFIX}base;rev=2`, allowed: true, why: 'own API revision' },
    { path: `/apis/${PREFIX.toUpperCase()}base`, allowed: true, why: 'ARM names compare case-insensitively' },
    { path: `/apis/${PREFIX}base/policies/policy?format=rawxml`, allowed: true, why: 'policy of own API' },
    { path: `/products/${PREFIX}product/apis/${PREFIX}base`, allowed: true, why: 'link between own objects' },
    { path: `/apis/${PREFIX}base/tags/${PREFIX}tag`, allowed: true, why: 'own tag link' },
    { path: '/apis/payments', allowed: false, why: "someone else's API" },
    { path: `/products/starter/apis/${PREFIX}base`, allowed: false, why: "linking into someone else's product" },
    { path: `/apis/payments/tags/${PREFIX}tag`, allowed: false, why: "tagging someone else's API" },
    { path: '/policies/policy', allowed: false, why: 'the global policy' },
    { path: `/apis/conformance-ffffffff-base`, allowed: false, why: "another run's object" },
    { path: '', allowed: false, why: 'the service itself' },
    { path: '/apis', allowed: false, why: 'a collection' },
    { path: `/apis/x${PREFIX}`, allowed: false, why: 'the prefix must lead' },
  ];
  for (const c of cases) {
    const refusal = writeRefusal(c.path, owns);
    tt.equal(refusal === undefined, c.allowed, `${c.why}: ${c.path} → ${refusal ?? 'allowed'}`);
  }
});

t.test('run prefixes: fresh ones are recognized, look-alikes are not', async (tt) => {
  const p = newRunPrefix();
  tt.match(p, /^conformance-[0-9a-f]{8}-$/);
  tt.not(newRunPrefix(), p, 'random per run');
  tt.equal(newRunPrefix(() => 0.999), 'conformance-ffffffff-');
  const cases: [string, boolean][] = [
    [`${p}base`, true],
    ['CONFORMANCE-0A1B2C3D-product', true],
    ['conformance-tests', false],
    ['conformance-0a1b2c3-x', false],
    ['my-conformance-0a1b2c3d-x', false],
  ];
  for (const [id, expected] of cases) tt.equal(isRunObject(id), expected, id);
});

t.test('selectChecks: ids and areas in suite order; unknown names are errors listing the valid ids', async (tt) => {
  tt.equal(selectChecks([]).checks.length, ALL_CHECKS.length);
  tt.same(selectChecks(['etag']).checks.map((c) => c.id), ['etag.get-header', 'etag.new-on-write', 'etag.if-match-stale']);
  tt.same(selectChecks(['etag.if-match-stale', 'api.not-found']).checks.map((c) => c.id), ['api.not-found', 'etag.if-match-stale']);
  const bad = selectChecks(['etag', 'policies']);
  tt.equal(bad.errors.length, 1);
  tt.match(bad.errors[0], /^--only policies: no such check or area; valid: import\.lro-accepted, /);
  tt.equal(new Set(ALL_CHECKS.map((c) => c.id)).size, ALL_CHECKS.length, 'ids are unique');
  for (const c of ALL_CHECKS) {
    tt.match(c.id, /^[a-z]+\.[a-z0-9-]+$/, `${c.id}: area.name`);
    tt.match(c.source, /https:\/\//, `${c.id} cites a public source`);
  }
});

const response = (status: number, headers: Record<string, string>, text = ''): ArmResponse => {
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
};

t.test('policyBodyForm: the JSON envelope, bare XML by content type, or unrecognized', async (tt) => {
  const xml = '<policies><inbound /></policies>';
  const cases: { res: ArmResponse; form: string }[] = [
    { res: response(200, { 'content-type': 'application/json' }, JSON.stringify({ properties: { value: xml } })), form: 'json envelope' },
    { res: response(200, { 'content-type': 'application/vnd.ms-azure-apim.policy+xml' }, xml), form: 'bare xml' },
    { res: response(200, { 'content-type': 'application/vnd.ms-azure-apim.policy.raw+xml' }, `\n${xml}`), form: 'bare xml' },
    { res: response(200, { 'content-type': 'text/plain' }, xml), form: 'unrecognized' },
    { res: response(200, { 'content-type': 'application/json' }, JSON.stringify({ properties: {} })), form: 'unrecognized' },
  ];
  for (const c of cases) tt.equal(policyBodyForm(c.res).form, c.form, `${c.res.headers['content-type']}: ${c.res.text.slice(0, 30)}`);
});

t.test('isAccepted and outcomeError follow core-lro: what is left to poll, and how an operation failed', async (tt) => {
  const cases: { res: ArmResponse; accepted: boolean }[] = [
    { res: response(202, { location: 'https://x/apis/a?asyncId=1' }), accepted: true },
    { res: response(201, { 'azure-asyncoperation': 'https://x/op/1' }, '{}'), accepted: true },
    { res: response(201, { location: 'https://x/apis/a' }, '{}'), accepted: false },
    { res: response(200, {}, '{}'), accepted: false },
    { res: response(204, {}), accepted: false },
  ];
  for (const c of cases) tt.equal(isAccepted(c.res), c.accepted, `${c.res.status} ${Object.keys(c.res.headers).join(',')}`);
  const failed = { via: 'azure-async-operation' as const, final: response(200, {}, '{}'), status: { status: 'Failed', error: { code: 'ValidationError', message: 'bad' } }, polls: 1, durationMs: 1 };
  tt.equal(outcomeError(failed), 'Failed: ValidationError: bad');
  const poll400 = { via: 'location' as const, final: response(400, {}, JSON.stringify({ error: { code: 'ValidationError', message: 'm', details: [{ target: 'path', message: 'p' }] } })), polls: 1, durationMs: 1 };
  tt.equal(outcomeError(poll400), 'ValidationError: m [path] p');
  tt.equal(outcomeError({ via: 'location', final: response(201, {}, '{}'), polls: 1, durationMs: 1 }), undefined);
});

t.test('wrap and renderTable: cells wrap at spaces, long words are cut, columns stay aligned', async (tt) => {
  const cases: { text: string; width: number; lines: string[] }[] = [
    { text: 'a bb ccc', width: 4, lines: ['a bb', 'ccc'] },
    { text: 'abcdefghij', width: 4, lines: ['abcd', 'efgh', 'ij'] },
    { text: '', width: 4, lines: [''] },
    { text: 'x  y', width: 10, lines: ['x y'] },
  ];
  for (const c of cases) tt.same(wrap(c.text, c.width), c.lines, JSON.stringify(c));
  const table = renderTable(['id', 'note'], [['a', 'one two three']], [3, 7]);
  tt.equal(table, ['id   note', '---  -------', 'a    one two', '     three'].join('\n'));
});

function report(verdicts: ConformanceReport['results'][number]['verdict'][], more: Partial<ConformanceReport> = {}): ConformanceReport {
  return {
    target: 'APIM emulator https://127.0.0.1:1',
    prefix: PREFIX,
    sku: 'Developer',
    outcome: 'completed',
    leftovers: [],
    results: verdicts.map((verdict, i) => ({ id: `area.c${i}`, expected: 'does X', source: `https://example.test/${i % 2}`, verdict, observed: 'did X', durationMs: 1 })),
    cleanup: { deleted: [], failed: [] },
    ...more,
  };
}

t.test('exitCode: differs, errors, failed cleanup and interrupts fail the run; refusals are usage-like', async (tt) => {
  const cases: { r: ConformanceReport; code: number }[] = [
    { r: report(['pass', 'skipped', 'not observed']), code: 0 },
    { r: report(['pass', 'differs']), code: 1 },
    { r: report(['pass', 'error']), code: 1 },
    { r: report(['pass'], { cleanup: { deleted: [], failed: ['api x: 500'] } }), code: 1 },
    { r: report(['pass'], { outcome: 'interrupted' }), code: 1 },
    { r: report([], { outcome: 'refused', refusal: 'leftovers' }), code: 2 },
  ];
  for (const c of cases) tt.equal(exitCode(c.r), c.code, `${c.r.outcome} ${c.r.results.map((x) => x.verdict).join(',')}`);
});

t.test('formatReport: one row per check, sources numbered once, totals, and where to report a difference', async (tt) => {
  const text = formatReport(report(['pass', 'differs', 'skipped']), 120);
  tt.match(text, /area\.c0 +pass +does X \[1\] +did X/);
  tt.match(text, /area\.c1 +differs +does X \[2\]/);
  tt.match(text, /area\.c2 +skipped +does X \[1\]/);
  tt.match(text, /\[1\] https:\/\/example\.test\/0\n {2}\[2\] https:\/\/example\.test\/1\n/);
  tt.match(text, /3 checks: 1 pass, 1 differs, 1 skipped/);
  tt.match(text, /please report it .*docs\/conformance\.md/);
  for (const line of text.split('\n').filter((l) => l.startsWith('area.'))) tt.ok(line.length <= 120, `fits: ${line}`);
  tt.match(formatReport(report([], { outcome: 'refused', refusal: 'the service holds 1 object' })), /refused: the service holds 1 object/);
});
