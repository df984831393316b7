// Drift verification against the real control plane and the APIM emulator (docs/drift.md): `execute verify` run the way
// its Job runs it, as the executor's ServiceAccount. An unchanged API: Drifted False and zero writes to APIM; a policy,
// a serviceUrl or a tag changed through APIM's own ARM API (as in the portal): Drifted True naming the field, with an
// Event, still zero writes; repair mode asks for the apply, and the apply restores APIM and clears Drifted; a tenant's
// forged status and apiId make the run read nothing that is not proven theirs.
import t from 'tap';
import { armWrites, condition, executorBench, instanceIdOf, runExecutor, type ExecutorBench } from './harness.ts';

type Obj = Record<string, any>;

const EMPTY_POLICY = '<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';

function metrics(name: string, spec: Obj = {}): Obj {
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name },
    spec: { name, apiType: 'prometheus', implementation: `${name}-sm`, path: `/${name}/metrics`, port: 4000, rateLimit: { enabled: true, limit: '10', interval: 'pm' }, apim: { tags: ['team-a'] }, ...spec },
  };
}

function verify(b: ExecutorBench, env: Record<string, string> = {}) {
  // Scoped to the test's namespace: the shared plane holds other tests' ExposedAPIs.
  return runExecutor(['execute', 'verify'], b.env({ WATCH_NAMESPACES: b.ns, ...env }));
}

/** The verify run's summary line. */
function summary(logs: Obj[]): Obj | undefined {
  return logs.find((l) => l['msg'] === 'verify run finished');
}

/** GETs of one path the emulator counted (any query). */
function gets(b: ExecutorBench, suffix: string): number {
  return Object.entries(b.emu.state().requests.byPath).filter(([k]) => k.startsWith('GET /subscriptions/') && k.endsWith(suffix)).reduce((n, [, c]) => n + c, 0);
}

t.test('verify: unchanged is in sync with zero writes; a portal edit is Drifted naming the field; repair restores it', async (t) => {
  const b = await executorBench(t);
  const p = await b.put(metrics('orders'));
  const applied = await b.execute('apply', p.name, p.hash);
  t.equal(applied.code, 0, applied.stdout);
  const apiId = b.apiId(p.name);
  const { resourceGroup: rg, serviceName: svc } = b.emu;
  const api = () => b.emu.state().apis.find((a) => a.name === apiId)!;
  const original = { serviceUrl: api().properties['serviceUrl'], policy: api().policy!.raw, tags: api().tags };

  await t.test('unchanged: Drifted False, no APIM write, one policy read', async (t) => {
    b.emu.requests.reset();
    const r = await verify(b);
    t.equal(r.code, 0, r.stdout);
    t.same(armWrites(b.emu), {}, 'zero writes to APIM');
    t.match(summary(r.logs), { exposedApis: 1, compared: 1, drifted: 0, written: 1 });
    const c = condition(await b.get(p.name), 'Drifted');
    t.match(c, { status: 'False', reason: 'InSync', specHash: p.hash });
    t.equal(gets(b, `/apis/${apiId}/policies/policy`), 1, 'the policy: the one read per API');
    t.equal(gets(b, `/apis/${apiId}`), 0, 'settings come from the API list, not a read per API');
    t.equal(gets(b, `/apis/${apiId}/tags`) + gets(b, `/apis/${apiId}/products`), 0, 'links come from the bulk lists');
    t.equal(gets(b, '/apisByTags'), 1);
    b.emu.requests.reset();
    const again = await verify(b);
    t.equal(again.code, 0);
    t.match(summary(again.logs), { compared: 1, drifted: 0, written: 0 }, 'a second run writes nothing, not even status');
    t.same(armWrites(b.emu), {});
  });

  await t.test('edits made through APIM\'s ARM API: Drifted True naming each, with an Event; still zero writes', async (t) => {
    const client = b.client();
    const edits: [string, () => Promise<unknown>, RegExp][] = [
      ['the policy', () => client.apiPolicy.createOrUpdate(rg, svc, apiId, 'policy', { format: 'rawxml', value: EMPTY_POLICY }), /in policy;/],
      ['the serviceUrl', () => client.api.update(rg, svc, apiId, '*', { serviceUrl: 'https://portal-edit.example.com/orders' }), /in serviceUrl, policy;/],
      ['a tag', () => client.tag.detachFromApi(rg, svc, apiId, 'team-a'), /in serviceUrl, policy, tags \(-team-a\);/],
    ];
    for (const [what, edit, message] of edits) {
      await edit();
      b.emu.requests.reset();
      const r = await verify(b);
      t.equal(r.code, 0, r.stdout);
      t.same(armWrites(b.emu), {}, `${what}: zero writes to APIM`);
      const c = condition(await b.get(p.name), 'Drifted');
      t.match(c, { status: 'True', reason: 'DriftDetected', specHash: p.hash }, `${what}: Drifted`);
      t.match(c?.['message'], message, `${what}: named`);
      t.match(summary(r.logs), { compared: 1, drifted: 1 });
    }
    const events = (await b.events(p.name)).filter((e) => e.reason === 'Drifted');
    t.equal(events.length, 3, 'one Warning Event per new finding');
    t.ok(events.every((e) => e.type === 'Warning'));
    const same = await verify(b);
    t.match(summary(same.logs), { drifted: 1, written: 0 }, 'the same drift again: nothing rewritten');
  });

  await t.test('repair mode asks for the apply; the apply restores APIM and clears Drifted', async (t) => {
    const r = await verify(b, { APIM_DRIFT_MODE: 'repair', JOB_NAME: 'exposedapi-apim-verify-1' });
    t.equal(r.code, 0, r.stdout);
    const asked = condition(await b.get(p.name), 'Drifted');
    t.match(asked, { status: 'True', reason: 'RepairRequested', specHash: p.hash });
    t.match(asked?.['message'], 'found by exposedapi-apim-verify-1');
    // What the dispatcher starts for it: an apply of the applied spec hash (dispatch-plan.ts repairRequested).
    const repaired = await b.execute('apply', p.name, p.hash);
    t.equal(repaired.code, 0, repaired.stdout);
    t.equal(api().properties['serviceUrl'], original.serviceUrl, 'serviceUrl restored');
    t.equal(api().policy!.raw, original.policy, 'policy restored');
    t.same(api().tags, original.tags, 'tag restored');
    t.match(condition(await b.get(p.name), 'Drifted'), { status: 'False', reason: 'Applied', specHash: p.hash }, 'the apply says APIM matches again');
    b.emu.requests.reset();
    const after = await verify(b, { APIM_DRIFT_MODE: 'repair' });
    t.match(summary(after.logs), { compared: 1, drifted: 0 });
    t.same(armWrites(b.emu), {}, 'in sync: zero writes, in repair mode too');
    t.match(condition(await b.get(p.name), 'Drifted'), { status: 'False', reason: 'InSync' });
    t.ok((await b.events(p.name)).some((e) => e.reason === 'Drifted' && e.type === 'Warning'));
  });
});

t.test('a hostile tenant: forged status and an apiId that is not theirs make the run read and write nothing of others', async (t) => {
  const b = await executorBench(t);
  const owner = await b.put(metrics('owner'));
  t.equal((await b.execute('apply', owner.name, owner.hash)).code, 0);
  const victim = b.apiId(owner.name);
  // A second ExposedAPI names the first one's API, and forges the status that says its spec is applied to this instance.
  const intruder = await b.put(metrics('intruder', { path: '/intruder/metrics', apim: { apiId: victim, tags: ['team-a'] } }));
  const forged = { status: { appliedSpecHash: intruder.hash, apim: { apiId: victim, serviceName: b.emu.serviceName, resourceId: instanceIdOf(b.emu), target: '' }, conditions: [] } };
  const patched = await b.cp.kubectl(['patch', 'exposedapi.v1.oda.tmforum.org', intruder.name, '-n', b.ns, '--type', 'merge', '-p', JSON.stringify(forged)]);
  t.equal(patched.code, 0, patched.stderr);
  // And one that is not applied at all: not compared.
  await b.put(metrics('pending', { path: '/pending/metrics' }));
  b.emu.requests.reset();
  const r = await runExecutor(['execute', 'verify'], b.env({ WATCH_NAMESPACES: b.ns, APIM_DRIFT_MODE: 'repair' }));
  t.equal(r.code, 0, r.stdout);
  t.same(armWrites(b.emu), {}, 'no APIM write');
  t.equal(gets(b, `/apis/${victim}/policies/policy`), 1, 'the API\'s policy is read once, for its owner only');
  t.match(summary(r.logs), { exposedApis: 3, compared: 2, skipped: 1 });
  const said = condition(await b.get(intruder.name), 'Drifted');
  t.match(said, { status: 'True', reason: 'DriftDetected', specHash: intruder.hash }, 'reported, not a repair: no apply may write it');
  t.match(said?.['message'], `ownership (APIM API '${victim}' carries another ExposedAPI's mark instead of this ExposedAPI's ownership mark)`);
  t.notMatch(said?.['message'], /policy|serviceUrl/, 'nothing of the other API is compared or quoted');
  t.match(condition(await b.get(owner.name), 'Drifted'), { status: 'False', reason: 'InSync' }, 'the owner is unaffected');
  t.equal(condition(await b.get('pending'), 'Drifted'), undefined, 'a change not applied yet is the apply Job\'s, not the verify run\'s');
});

t.test('an API in a version set (its path ends in a version): judged as the apply left it, in sync, zero writes', async (t) => {
  const b = await executorBench(t);
  const p = await b.put(metrics('billing', { path: '/billing/v2' }));
  const applied = await b.execute('apply', p.name, p.hash);
  t.equal(applied.code, 0, applied.stdout);
  const stored = b.emu.state().apis.find((a) => a.name === b.apiId(p.name))!;
  t.ok(stored.properties['apiVersionSetId'], 'the apply put it in a version set');
  t.equal(stored.properties['path'], 'billing', 'under the set\'s base path');
  b.emu.requests.reset();
  const r = await verify(b);
  t.equal(r.code, 0, r.stdout);
  t.match(summary(r.logs), { compared: 1, drifted: 0 });
  t.match(condition(await b.get(p.name), 'Drifted'), { status: 'False', reason: 'InSync' }, 'not drifted in path or set');
  t.same(armWrites(b.emu), {});
  // Taken out of its set by hand: the apply would put it back, so it is drift.
  await b.client().api.update(b.emu.resourceGroup, b.emu.serviceName, b.apiId(p.name), '*', { apiVersionSetId: null as unknown as string, apiVersion: '' });
  const after = await verify(b);
  t.match(summary(after.logs), { compared: 1, drifted: 1 });
  t.match(condition(await b.get(p.name), 'Drifted')?.['message'], /in .*apiVersionSet/);
});
