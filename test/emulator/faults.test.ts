// Faults on demand and ARM throttling, seen through the SDK: its built-in retries (Retry-After for 429/503,
// exponential for 5xx and dropped connections) must show up in the emulator's request counts.
import t from 'tap';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { clientOptions, failure, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

function count(h: Harness, method: string, suffix: string): number {
  return h.emu.state().requests.byPath[`${method} ${h.servicePath(suffix)}`] ?? 0;
}

t.test('429 with Retry-After: the SDK waits and retries', async (t) => {
  const h = await startHarness(t);
  await h.credential.getToken(`${h.emu.url}/.default`);
  h.emu.faults.add({ method: 'PUT', pathPattern: '/apis/slow', status: 429, retryAfter: 1, times: 1 });
  const started = Date.now();
  const api = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'slow', { displayName: 'Slow', path: 'slow' }, h.lro);
  const elapsed = Date.now() - started;
  t.equal(api.name, 'slow');
  t.equal(count(h, 'PUT', '/apis/slow'), 2, 'the PUT was sent twice');
  t.ok(elapsed >= 1000, `Retry-After: 1 was honoured (${elapsed} ms)`);
  t.match(h.emu.faults.list(), [{ hits: 1, remaining: 0 }]);
});

t.test('503 and 500 are retried; after three retries the SDK gives up', async (t) => {
  const h = await startHarness(t);
  await h.client.tag.createOrUpdate(h.rg, h.svc, 'a', { displayName: 'A' });
  h.emu.faults.add({ method: 'GET', pathPattern: '/tags/a', status: 503, retryAfter: 0, times: 2 });
  t.equal((await h.client.tag.get(h.rg, h.svc, 'a')).displayName, 'A');
  t.equal(count(h, 'GET', '/tags/a'), 3, '503 twice, then 200');

  h.emu.requests.reset();
  h.emu.faults.add({ method: 'GET', pathPattern: '/tags/a', status: 500, times: 2 });
  t.equal((await h.client.tag.get(h.rg, h.svc, 'a')).displayName, 'A');
  t.equal(count(h, 'GET', '/tags/a'), 3, '500 twice (exponential back-off), then 200');

  h.emu.requests.reset();
  h.emu.faults.add({ method: 'GET', pathPattern: '/tags/a', status: 500, times: 4 });
  const e = await failure(h.client.tag.get(h.rg, h.svc, 'a'));
  t.equal(e.statusCode, 500);
  t.equal(e.code, 'InternalServerError');
  t.equal(count(h, 'GET', '/tags/a'), 4, 'one try and three retries');
});

t.test('409 PessimisticConcurrencyConflict is not retried by the SDK', async (t) => {
  const h = await startHarness(t);
  h.emu.faults.add({ method: 'PUT', pathPattern: '/apis/busy', status: 409, times: 1 });
  const e = await failure(h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'busy', { displayName: 'Busy', path: 'busy' }, h.lro));
  t.same([e.statusCode, e.code, e.body?.error.message], [409, 'PessimisticConcurrencyConflict', 'Operation on the API is in progress']);
  t.equal(count(h, 'PUT', '/apis/busy'), 1, 'the caller must retry a 409 itself');
  const api = await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'busy', { displayName: 'Busy', path: 'busy' }, h.lro);
  t.equal(api.name, 'busy', 'the rule was used up');
});

t.test('slow responses and dropped connections', async (t) => {
  const h = await startHarness(t);
  await h.client.tag.createOrUpdate(h.rg, h.svc, 'a', { displayName: 'A' });
  h.emu.faults.add({ method: 'GET', pathPattern: '/tags/a', delayMs: 300, times: 1 });
  const started = Date.now();
  t.equal((await h.client.tag.get(h.rg, h.svc, 'a')).displayName, 'A');
  t.ok(Date.now() - started >= 300, 'answered late');

  h.emu.requests.reset();
  h.emu.faults.add({ method: 'GET', pathPattern: '/tags/a', drop: true, times: 1 });
  t.equal((await h.client.tag.get(h.rg, h.svc, 'a')).displayName, 'A');
  t.equal(count(h, 'GET', '/tags/a'), 2, 'a dropped connection is retried');

  h.emu.faults.add({ method: 'GET', pathPattern: '/tags/a', drop: true, times: 4 });
  const e = await failure(h.client.tag.get(h.rg, h.svc, 'a'));
  t.equal(e.statusCode, undefined);
  t.match(e.code, /ECONNRESET|REQUEST_SEND_ERROR/);

  const slowClient = new ApiManagementClient(h.credential, h.emu.subscriptionId, { ...clientOptions(h.emu), retryOptions: { maxRetries: 0 } });
  h.emu.faults.add({ pathPattern: '^/subscriptions/.*/tags/a\\?', delayMs: 2000, times: 1 });
  const aborted = await failure(slowClient.tag.get(h.rg, h.svc, 'a', { abortSignal: AbortSignal.timeout(200) }));
  t.match(aborted.message, /aborted/i, 'a client timeout ends a slow call (the rule matched by regular expression)');
});

t.test('faults on the token endpoint are retried by @azure/identity', async (t) => {
  const h = await startHarness(t);
  h.emu.faults.add({ method: 'POST', pathPattern: '/oauth2/v2.0/token', status: 503, retryAfter: 0, times: 1 });
  t.ok(await h.credential.getToken(`${h.emu.url}/.default`));
  t.equal(h.emu.state().requests.byPath[`POST /${h.emu.tenantId}/oauth2/v2.0/token`], 2);
});

t.test('the faults admin API: add, list, clear; bad rules are refused', async (t) => {
  const h = await startHarness(t);
  const added = await h.raw('POST', '/_emulator/faults', [
    { method: 'DELETE', pathPattern: '/tags/', status: 503, retryAfter: 0, times: 1 },
    { pathPattern: '/products/', status: 500, times: 2 },
  ]);
  t.equal(added.status, 201);
  t.equal(added.body.rules.length, 2);
  await h.client.tag.createOrUpdate(h.rg, h.svc, 'a', { displayName: 'A' });
  await h.client.tag.delete(h.rg, h.svc, 'a', '*');
  const listed = await h.raw('GET', '/_emulator/faults');
  t.match(listed.body.rules, [{ method: 'DELETE', pathPattern: '/tags/', hits: 1, remaining: 0 }, { pathPattern: '/products/', hits: 0, remaining: 2 }], 'only the DELETE was faulted');
  t.equal((await h.raw('DELETE', '/_emulator/faults')).status, 204);
  t.same((await h.raw('GET', '/_emulator/faults')).body.rules, []);
  for (const bad of [{ status: 500 }, { pathPattern: '/x', status: 418 }, { pathPattern: '/x' }, { pathPattern: '/x', status: 500, times: 0 }]) {
    const r = await h.raw('POST', '/_emulator/faults', bad);
    t.equal(r.status, 400, JSON.stringify(bad));
  }
});

t.test('ARM throttling: token buckets per principal, 429 SubscriptionRequestsThrottled + Retry-After, remaining counts', async (t) => {
  const h = await startHarness(t);
  const first = await h.raw('PUT', h.servicePath('/tags/t0?api-version=2024-05-01'), { properties: { displayName: 'T0' } });
  t.equal(first.headers['x-ms-ratelimit-remaining-subscription-writes'], '199', 'writes bucket of 200 by default');
  const read = await h.raw('GET', h.servicePath('/tags/t0?api-version=2024-05-01'));
  t.equal(read.headers['x-ms-ratelimit-remaining-subscription-reads'], '249', 'reads bucket of 250');
  const del = await h.raw('DELETE', h.servicePath('/tags/t0?api-version=2024-05-01'), undefined, { 'if-match': '*' });
  t.equal(del.headers['x-ms-ratelimit-remaining-subscription-deletes'], '199');

  const configured = await h.raw('PATCH', '/_emulator/throttling', { enabled: true, writes: { capacity: 2, refillPerSecond: 1 } });
  t.match(configured.body, { enabled: true, writes: { capacity: 2, refillPerSecond: 1 }, reads: { capacity: 250, refillPerSecond: 25 } });
  const strict = new ApiManagementClient(h.credential, h.emu.subscriptionId, { ...clientOptions(h.emu), retryOptions: { maxRetries: 0 } });
  await strict.tag.createOrUpdate(h.rg, h.svc, 't1', { displayName: 'T1' });
  await strict.tag.createOrUpdate(h.rg, h.svc, 't2', { displayName: 'T2' });
  const limited = await failure(strict.tag.createOrUpdate(h.rg, h.svc, 't3', { displayName: 'T3' }));
  t.equal(limited.statusCode, 429);
  t.equal(limited.code, 'SubscriptionRequestsThrottled');
  t.match(limited.message, /^Number of 'write' requests for subscription '[0-9a-f-]{36}' actor '[0-9a-f-]{36}' exceeded\. Please try again after '1' seconds/);
  t.ok((await strict.tag.get(h.rg, h.svc, 't1')).displayName, 'reads have their own bucket');

  const started = Date.now();
  const retried = await h.client.tag.createOrUpdate(h.rg, h.svc, 't3', { displayName: 'T3' });
  t.equal(retried.displayName, 'T3', 'the default client waits out Retry-After and succeeds');
  t.ok(Date.now() - started >= 900, 'after about a second');
  t.ok(count(h, 'PUT', '/tags/t3') >= 3, 'the throttled PUTs are counted');
  t.ok(h.emu.state().requests.writes >= 6);
});
