// rate-limit-by-key and quota-by-key as core/policy-xml.ts renders them from ExposedAPI rateLimit / quota, on real
// traffic: the N+1th call in the window is refused with APIM's 429 and Retry-After; a neighbouring API keeps its own
// budget because the rendered key starts with the apiId, while two policies with the same key value share one counter
// (APIM's "single counter for each counter-key value"); windows renew; header- and subscription-keyed counters;
// quotas answer 403 with the time until renewal; remaining-calls headers when configured; a changed limit applies to
// the next request.
import t from 'tap';
import { itemsDocument, renderedPolicy, startBackend, startGatewayHarness } from './gateway-harness.ts';
import type { GatewayHarness } from './gateway-harness.ts';

async function statuses(h: GatewayHarness, path: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await h.call(path, { headers })).status);
  return out;
}

t.test('per-API rate limit: 429 on the N+1th call, with Retry-After and APIM body; the other API keeps its budget', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  const rateLimit = { rateLimit: { enabled: true, identifier: 'IP', limit: '3', interval: 'pm' } };
  for (const apiId of ['team-a-catalog', 'team-b-catalog']) {
    await h.importApi(apiId, { path: apiId, document: itemsDocument(), serviceUrl: backend.url });
    await h.putPolicy(apiId, renderedPolicy(rateLimit, apiId));
  }
  t.same(await statuses(h, '/team-a-catalog/items', 3), [200, 200, 200], 'three calls a minute are allowed');
  const refused = await h.call('/team-a-catalog/items');
  t.equal(refused.status, 429, 'the fourth is refused');
  const retryAfter = Number(refused.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After in seconds within the window (${retryAfter})`);
  t.equal(refused.text, `{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in ${retryAfter} seconds." }`);
  t.equal(backend.received.length, 3, 'the refused call did not reach the backend');
  t.same(await statuses(h, '/team-b-catalog/items', 3), [200, 200, 200], 'the same caller on the other API: its own counter (the rendered key starts with the apiId)');
  t.equal((await h.call('/team-b-catalog/items')).status, 429, 'which is just as limited');
});

t.test('two policies with the same key value share one counter across APIs, as APIM counts', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  // The policy rendered for one apiId, written to two APIs: the key value is the same on both.
  const shared = renderedPolicy({ rateLimit: { enabled: true, identifier: 'IP', limit: '4', interval: 'pm' } }, 'one-key');
  for (const apiId of ['first', 'second']) {
    await h.importApi(apiId, { path: apiId, document: itemsDocument(), serviceUrl: backend.url });
    await h.putPolicy(apiId, shared);
  }
  t.same([...(await statuses(h, '/first/items', 2)), ...(await statuses(h, '/second/items', 2))], [200, 200, 200, 200]);
  t.equal((await h.call('/second/items')).status, 429, 'the fifth call over both APIs is refused');
  t.equal((await h.call('/first/items')).status, 429);
});

t.test('a per-second limit renews: refused within the second, allowed once the window has slid', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('fast', { path: 'fast', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('fast', renderedPolicy({ rateLimit: { enabled: true, identifier: 'IP', limit: '2', interval: 'ps' } }, 'fast'));
  let refused: Awaited<ReturnType<GatewayHarness['call']>> | undefined;
  // On a loaded machine two calls may straddle a second; keep calling until one is refused (bounded).
  for (let i = 0; i < 50 && !refused; i++) {
    const r = await h.call('/fast/items');
    if (r.status === 429) refused = r;
  }
  t.ok(refused, 'a third call within one second is refused');
  t.equal(refused?.headers['retry-after'], '1', 'Retry-After: the one-second window');
  const end = Date.now() + 10_000;
  let status = 429;
  while (status === 429 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    status = (await h.call('/fast/items')).status;
  }
  t.equal(status, 200, 'allowed again once the window has moved on');
});

t.test('header-keyed counters: one per caller, callers without the header share the anonymous counter', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('keyed', { path: 'keyed', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('keyed', renderedPolicy({ rateLimit: { enabled: true, identifier: 'header:x-client', limit: '2', interval: 'pm' } }, 'keyed'));
  t.same(await statuses(h, '/keyed/items', 3, { 'x-client': 'alice' }), [200, 200, 429]);
  t.same(await statuses(h, '/keyed/items', 3, { 'x-client': 'bob' }), [200, 200, 429], 'another client has its own counter');
  t.same(await statuses(h, '/keyed/items', 3), [200, 200, 429], 'no header: the "anonymous" counter');
});

t.test('subscription-keyed counters: per subscription; without a subscription the expression fails with 500', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('subs', { path: 'subs', document: itemsDocument(), serviceUrl: backend.url, subscriptionRequired: false });
  await h.putPolicy('subs', renderedPolicy({ rateLimit: { enabled: true, identifier: 'subscription', limit: '1', interval: 'pm' } }, 'subs'));
  for (const sid of ['s1', 's2']) await h.client.subscription.createOrUpdate(h.rg, h.svc, sid, { scope: '/apis/subs', displayName: sid, state: 'active', primaryKey: `${sid}-key-000000` });
  t.same(await statuses(h, '/subs/items', 2, { 'ocp-apim-subscription-key': 's1-key-000000' }), [200, 429]);
  t.same(await statuses(h, '/subs/items', 2, { 'ocp-apim-subscription-key': 's2-key-000000' }), [200, 429], 'each subscription has its own counter');
  const anonymous = await h.call('/subs/items');
  t.equal(anonymous.status, 500, 'context.Subscription is null for an anonymous call: Subscription.Id throws');
  t.equal(anonymous.json().message, 'Internal server error');
});

t.test('quota: 403 once the calls are spent, with Retry-After and the time until the period renews', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('quota', { path: 'quota', document: itemsDocument(), serviceUrl: backend.url });
  await h.importApi('quota-2', { path: 'quota-2', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('quota', renderedPolicy({ quota: { identifier: 'IP', limit: '2' } }, 'quota', { quotaRenewalPeriodSeconds: 86400 }));
  await h.putPolicy('quota-2', renderedPolicy({ quota: { identifier: 'IP', limit: '2' } }, 'quota-2', { quotaRenewalPeriodSeconds: 86400 }));
  t.same(await statuses(h, '/quota/items', 2), [200, 200]);
  const over = await h.call('/quota/items');
  t.equal(over.status, 403);
  const retryAfter = Number(over.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 86400, `Retry-After until the daily period renews (${retryAfter})`);
  const m = /^Out of call volume quota\. Quota will be replenished in (\d\d):(\d\d):(\d\d)\.$/.exec(over.json().message);
  t.ok(m, `APIM's message with a TimeSpan (${over.json().message})`);
  if (m) t.ok(Math.abs(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) - retryAfter) <= 1, 'the message and Retry-After agree');
  t.same(await statuses(h, '/quota-2/items', 2), [200, 200], "the neighbour's quota is its own");
});

t.test('remaining-calls headers when the policy configures them', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('hdrs', { path: 'hdrs', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('hdrs', '<policies><inbound><base /><rate-limit-by-key calls="2" renewal-period="60" counter-key="hdrs:all" remaining-calls-header-name="x-remaining" total-calls-header-name="x-total" retry-after-header-name="x-retry" /></inbound><backend><base /></backend><outbound><base /></outbound></policies>');
  const first = await h.call('/hdrs/items');
  const second = await h.call('/hdrs/items');
  const third = await h.call('/hdrs/items');
  t.same([first.headers['x-remaining'], second.headers['x-remaining'], third.headers['x-remaining']], ['1', '0', '0']);
  t.equal(first.headers['x-total'], '2');
  t.equal(third.status, 429);
  t.ok(Number(third.headers['x-retry']) >= 1, 'Retry-After under the configured name');
  t.equal(third.headers['retry-after'], undefined);
});

t.test('a changed rateLimit applies to the next request (the counter carries over under the same key)', async (t) => {
  const h = await startGatewayHarness(t);
  const backend = await startBackend(t);
  await h.importApi('changing', { path: 'changing', document: itemsDocument(), serviceUrl: backend.url });
  await h.putPolicy('changing', renderedPolicy({ rateLimit: { enabled: true, identifier: 'IP', limit: '2', interval: 'pm' } }, 'changing'));
  t.same(await statuses(h, '/changing/items', 3), [200, 200, 429]);
  await h.putPolicy('changing', renderedPolicy({ rateLimit: { enabled: true, identifier: 'IP', limit: '4', interval: 'pm' } }, 'changing'));
  t.same(await statuses(h, '/changing/items', 3), [200, 200, 429], 'two more calls fit under the new limit of four');
  await h.putPolicy('changing', renderedPolicy({}, 'changing'));
  t.same(await statuses(h, '/changing/items', 2), [200, 200], 'rate limiting switched off');
});
