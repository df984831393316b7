// The import duration model, table-driven against the public data points it claims to fit (emulator/import-duration.ts),
// and the request-count bound that keeps a long session's memory flat.
import t from 'tap';
import { importDurationMs, importDurationProblem, realisticImportDurationMs, REALISTIC_CAP_MS } from '../../emulator/import-duration.ts';
import { BY_PATH_LIMIT, RequestCounts } from '../../emulator/request-counts.ts';

t.test('realistic durations fit the public data points', async (t) => {
  const cases: { name: string; bytes: number; atLeastMs?: number; atMostMs?: number }[] = [
    { name: 'the recorded 2,969-byte import finished before its first poll at 30 s', bytes: 2969, atMostMs: 30_000 },
    { name: 'an empty document still takes seconds, not milliseconds', bytes: 0, atLeastMs: 10_000 },
    { name: 'a 340 KB document takes over 7.5 minutes (Azure/apiops-cli #251)', bytes: 340 * 1024, atLeastMs: 450_000 },
    { name: 'TMF620 v4 (348,686 bytes) takes over 7.5 minutes', bytes: 348_686, atLeastMs: 450_000, atMostMs: 600_000 },
    { name: 'a 670 KB document takes longer still', bytes: 670 * 1024, atLeastMs: 900_000 },
    { name: 'the 4 MB inline limit is capped', bytes: 4 * 1024 * 1024, atMostMs: REALISTIC_CAP_MS },
  ];
  for (const c of cases) {
    const ms = realisticImportDurationMs(c.bytes);
    if (c.atLeastMs !== undefined) t.ok(ms >= c.atLeastMs, `${c.name}: ${ms} ms ≥ ${c.atLeastMs}`);
    if (c.atMostMs !== undefined) t.ok(ms <= c.atMostMs, `${c.name}: ${ms} ms ≤ ${c.atMostMs}`);
  }
  t.ok(realisticImportDurationMs(200_000) > realisticImportDurationMs(100_000), 'grows with size');
});

t.test('which duration an import gets: fixed, realistic, or the older importDelayMs', async (t) => {
  const cases: [setting: number | 'realistic' | undefined, delay: number, bytes: number, want: number][] = [
    [undefined, 30, 348_686, 30],
    [0, 30, 348_686, 0],
    [5000, 30, 10, 5000],
    ['realistic', 30, 348_686, realisticImportDurationMs(348_686)],
  ];
  for (const [setting, delay, bytes, want] of cases) t.equal(importDurationMs(setting, delay, bytes), want, `${String(setting)} / ${delay} / ${bytes}`);
});

t.test('importDurationMs values are checked', async (t) => {
  for (const ok of ['realistic', 0, 1500]) t.equal(importDurationProblem(ok), undefined, `${String(ok)} accepted`);
  for (const bad of ['slow', -1, Number.NaN, null, '100']) t.match(importDurationProblem(bad), /'importDurationMs' must be a non-negative number of milliseconds or 'realistic'/, `${String(bad)} refused`);
});

t.test('request counts keep at most BY_PATH_LIMIT distinct paths, and still count every request', async (t) => {
  const counts = new RequestCounts();
  const n = BY_PATH_LIMIT + 250;
  for (let i = 0; i < n; i++) counts.record('GET', `/apis/probe-${i}`);
  counts.record('GET', '/apis/probe-0');
  const snap = counts.snapshot();
  t.equal(Object.keys(snap.byPath).length, BY_PATH_LIMIT + 1, 'the limit plus one overflow bucket');
  t.equal(snap.byPath['GET (other paths)'], 250);
  t.equal(snap.byPath['GET /apis/probe-0'], 2, 'known paths keep counting');
  t.equal(snap.total, n + 1);
});
