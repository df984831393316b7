// The pure parts of the executor's import realism: policy bodies in both shapes, ARM pacing, the 404 window after an
// import, and which recorded import URLs a retried Job may poll (status is tenant-writable).
import t from 'tap';
import { notFoundAfterImport, type ClassifiedError } from '../../executor/apim-error.ts';
import { ArmPacer, armRequestKind, paceDelayMs, remainingOf, ARM_BUCKETS } from '../../executor/arm-pacing.ts';
import { formatElapsed, pollAnswerOf, pollingUrlProblem, resumableImport } from '../../executor/import-operation.ts';
import { importProgressChange } from '../../executor/import-status.ts';
import { policyValueOf } from '../../executor/policy-body.ts';

const XML = '<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';

t.test('policy bodies: the JSON envelope and the bare XML document are both read', async (t) => {
  const cases: { name: string; body: string; type?: string; value?: string; shape?: 'json' | 'xml'; problem?: RegExp }[] = [
    { name: 'JSON envelope', body: JSON.stringify({ properties: { format: 'rawxml', value: XML } }), type: 'application/json; charset=utf-8', value: XML, shape: 'json' },
    { name: 'bare XML, policy media type', body: XML, type: 'application/vnd.ms-azure-apim.policy+xml', value: XML, shape: 'xml' },
    { name: 'bare XML, raw media type', body: `\n ${XML}\n`, type: 'application/vnd.ms-azure-apim.policy.raw+xml', value: XML, shape: 'xml' },
    { name: 'bare XML, application/xml', body: XML, type: 'application/xml', value: XML, shape: 'xml' },
    { name: 'no content type: sniffed XML', body: XML, value: XML, shape: 'xml' },
    { name: 'no content type: sniffed JSON', body: JSON.stringify({ properties: { value: XML } }), value: XML, shape: 'json' },
    { name: 'BOM before XML', body: `\uFEFF${XML}`, type: 'application/vnd.ms-azure-apim.policy+xml', value: XML, shape: 'xml' },
    { name: 'envelope without a value', body: JSON.stringify({ properties: {} }), type: 'application/json', shape: 'json' },
    { name: 'declared XML, is JSON', body: '{"properties":{}}', type: 'application/xml', problem: /declared application\/xml/ },
    { name: 'declared JSON, is XML', body: XML, type: 'application/json', problem: /not JSON/ },
    { name: 'value of the wrong type', body: '{"properties":{"value":3}}', type: 'application/json', problem: /not a string/ },
    { name: 'neither', body: 'policy', type: 'text/plain', problem: /neither a JSON envelope nor an XML document/ },
  ];
  for (const c of cases) {
    const r = policyValueOf(c.body, c.type);
    if (c.problem) {
      t.notOk(r.ok, c.name);
      if (!r.ok) t.match(r.problem, c.problem, c.name);
    } else {
      t.same(r, { ok: true, value: c.value, shape: c.shape }, c.name);
    }
  }
});

t.test('ARM pacing: no wait above the reserve, the refill time of the shortfall below it', async (t) => {
  const w = ARM_BUCKETS.writes;
  const cases: [remaining: number, reserve: number, random: number, ms: number][] = [
    [200, 20, 1, 0],
    [40, 20, 1, 0], // reserve of 200 × 20% = 40: not below it
    [39, 20, 1, 100], // 1 short at 10/s
    [0, 20, 1, 4000],
    [0, 20, 0, 2000], // jitter: the upper half of the refill time
    [10, 20, 0.5, 2250],
    [0, 0, 1, 0], // pacing off
  ];
  for (const [remaining, reserve, random, ms] of cases) t.equal(paceDelayMs(remaining, w, reserve, () => random), ms, `${remaining} left, reserve ${reserve}%`);
  t.equal(paceDelayMs(0, ARM_BUCKETS.reads, 20, () => 1), 2000, 'reads refill faster (25/s)');
  t.same(['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'].map(armRequestKind), ['reads', 'reads', 'writes', 'writes', 'writes', 'deletes']);
  const h = (o: Record<string, string>) => (n: string) => o[n];
  t.equal(remainingOf('writes', h({ 'x-ms-ratelimit-remaining-subscription-writes': '17' })), 17);
  t.equal(remainingOf('writes', h({ 'x-ms-ratelimit-remaining-subscription-reads': '17' })), undefined, 'the header of another kind');
  t.equal(remainingOf('deletes', h({ 'x-ms-ratelimit-remaining-subscription-deletes': 'many' })), undefined);

  let now = 1000;
  const pacer = new ArmPacer(20, () => 1, () => now);
  t.equal(pacer.waitMs('writes'), 0);
  t.equal(pacer.observe('writes', 0), 4000);
  t.equal(pacer.waitMs('writes'), 4000, 'the next write waits');
  t.equal(pacer.waitMs('reads'), 0, 'reads have their own bucket');
  now += 3000;
  t.equal(pacer.waitMs('writes'), 1000);
  pacer.observe('writes', 150);
  t.equal(pacer.waitMs('writes'), 0, 'a refilled bucket lifts the wait');
  pacer.observe('writes', undefined);
  t.equal(pacer.waitMs('writes'), 0, 'no header, no change');
});

t.test('a 404 after an import is retriable inside the window, then final with its reason', async (t) => {
  const notFound: ClassifiedError = { retriable: false, reason: 'ApimRejected', detail: { status: 404, code: 'ResourceNotFound', message: 'Api not found.' }, notFound: true };
  const other: ClassifiedError = { retriable: false, reason: 'ApimRejected', detail: { status: 400, message: 'bad' }, notFound: false };
  const now = 1_000_000;
  t.same(notFoundAfterImport(notFound, [], 120_000, now), notFound, 'no import in this run: a 404 is a 404');
  t.match(notFoundAfterImport(notFound, [now - 60_000], 120_000, now), { retriable: true, reason: 'ApiNotFoundAfterImport' });
  t.match(notFoundAfterImport(notFound, [now - 500_000, now - 1000], 120_000, now), { retriable: true }, 'the latest import counts');
  const late = notFoundAfterImport(notFound, [now - 120_000], 120_000, now);
  t.equal(late.retriable, false);
  t.match(late.detail.message, /Api not found\. \(still 404 120 s after the import ended, IMPORT_NOT_FOUND_WINDOW_SECONDS\)/);
  t.same(notFoundAfterImport(other, [now], 120_000, now), other, 'only 404s');
  t.same(notFoundAfterImport(notFound, [now], 0, now), notFound, 'a window of 0 turns it off');
});

const svc = { armEndpoint: 'https://management.azure.com', subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', serviceName: 'apim-1' };
const base = `https://management.azure.com/subscriptions/${svc.subscriptionId}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim-1`;
const good = `${base}/apis/team-a-pc?api-version=2024-05-01&asyncId=65f0a1b2c3d4e5f6a7b8c9d0&asyncCode=201`;

t.test('a recorded import URL is polled only when it is APIM\'s polling URL for this API', async (t) => {
  const cases: [name: string, url: string, problem: RegExp | undefined][] = [
    ['APIM\'s Location URL', good, undefined],
    ['ids compared case-insensitively', good.replace('/resourceGroups/rg/', '/resourcegroups/RG/').replace('team-a-pc', 'Team-A-PC'), undefined],
    ['plain http', good.replace('https:', 'http:'), /http: is not https/],
    ['another host', good.replace('management.azure.com', 'attacker.example'), /not the ARM endpoint/],
    ['another port', good.replace('management.azure.com', 'management.azure.com:8443'), /not the ARM endpoint/],
    ['credentials', good.replace('https://', 'https://u:p@'), /credentials/],
    ['another API', good.replace('team-a-pc', 'team-b-pc'), /not API 'team-a-pc'/],
    ['another service', good.replace('apim-1', 'apim-2'), /not API/],
    ['a path below the API', good.replace('team-a-pc?', 'team-a-pc/policies/policy?'), /not API/],
    ['dot segments', good.replace('/apis/team-a-pc', '/apis/x/../team-a-pc'), undefined],
    ['encoded traversal', good.replace('/apis/team-a-pc', '/apis/x%2F..%2Fteam-a-pc'), /not API/],
    ['the operation status URL', `${base}/tenant/operationResults/abc?api-version=2024-05-01`, /not API/],
    ['no asyncId', good.replace(/&asyncId=[^&]+/, ''), /no asyncId/],
    ['a fragment', `${good}#x`, /fragment/],
    ['not a URL', 'operation-1', /not an absolute URL/],
  ];
  for (const [name, url, problem] of cases) {
    const p = pollingUrlProblem(url, svc, 'team-a-pc');
    if (problem) t.match(p, problem, name);
    else t.equal(p, undefined, name);
  }
});

t.test('a recorded import is resumed only for this API, recent, with a fingerprint', async (t) => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  const fp = 'a'.repeat(64);
  const rec = { apiId: 'team-a-pc', operationUrl: good, startedAt: '2026-11-29T11:50:00.000Z', fingerprint: fp };
  t.same(resumableImport(rec, svc, 'team-a-pc', now), { record: rec });
  t.same(resumableImport(rec, svc, 'TEAM-A-PC', now), { record: rec }, 'API ids are case-insensitive');
  t.equal(resumableImport(undefined, svc, 'team-a-pc', now), undefined);
  t.equal(resumableImport(null, svc, 'team-a-pc', now), undefined, 'null: cleared');
  t.equal(resumableImport({ ...rec, apiId: 'team-a-old' }, svc, 'team-a-pc', now), undefined, 'the record of another API (an earlier apiId) is not this run\'s');
  const refused: [string, unknown, RegExp][] = [
    ['a string', 'x', /not an object/],
    ['a foreign URL', { ...rec, operationUrl: good.replace('management.azure.com', 'evil.example') }, /operationUrl is not APIM's polling URL for API 'team-a-pc': .*not the ARM endpoint/],
    ['no URL', { ...rec, operationUrl: 3 }, /operationUrl is not a string/],
    ['no time', { ...rec, startedAt: 'yesterday' }, /startedAt="yesterday" is not a time/],
    ['a time ahead', { ...rec, startedAt: '2026-11-29T12:05:00Z' }, /in the future/],
    ['too old', { ...rec, startedAt: '2026-11-29T05:00:00Z' }, /more than 6 h ago/],
    ['no fingerprint', { ...rec, fingerprint: 'x' }, /fingerprint is not an import fingerprint/],
  ];
  for (const [name, r, why] of refused) {
    const got = resumableImport(r, svc, 'team-a-pc', now);
    t.ok(got && 'refused' in got, name);
    if (got && 'refused' in got) t.match(got.refused, why, name);
  }
});

t.test('poll answers, elapsed time and the status an import writes', async (t) => {
  t.same([202, 200, 201, 204, 404, 400, 500].map(pollAnswerOf), ['running', 'succeeded', 'succeeded', 'succeeded', 'not-found', undefined, undefined]);
  t.same([0, 59_400, 61_000, 3_725_000].map(formatElapsed), ['0s', '59s', '1m 1s', '1h 2m 5s']);
  const obj = { apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI', metadata: { name: 'pc', namespace: 'team-a', uid: 'u' }, spec: {}, status: { apim: { apiId: 'team-a-old', serviceName: 'apim-1' } } } as never;
  const record = { apiId: 'team-a-pc', operationUrl: good, startedAt: '2026-11-29T11:50:00.000Z', fingerprint: 'a'.repeat(64) };
  const running = importProgressChange(obj, 'apim-1', 'h1', { record, elapsedMs: 252_000 }, 'running');
  t.match(running.conditions, [{ type: 'Imported', status: 'Unknown', reason: 'ImportInProgress', specHash: 'h1', message: /running for 4m 12s \(since 2026-11-29T11:50:00.000Z\)/ }]);
  t.same(running.apim, { apiId: 'team-a-old', serviceName: 'apim-1', pendingApiIds: ['team-a-pc'], import: record }, 'the published id stays; the importing one is pending');
  const ended = importProgressChange(obj, 'apim-1', 'h1', { record, elapsedMs: 300_000 }, 'ended');
  t.same(ended.conditions, []);
  t.equal(ended.apim?.import, null, 'cleared by merge patch');
});
