// `execute delete`: the APIM API goes with its revisions and links (shared products and tags stay), then the route,
// then our finalizer, and Kubernetes finishes the deletion; detach-on-delete leaves APIM untouched; an API already
// gone is success; another ExposedAPI's API is never deleted.
import t, { type Test } from 'tap';
import { DETACH_ANNOTATION, FINALIZER } from '../../core/exposedapi-model.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { armWrites, condition, executorBench, type ExecutorBench } from './harness.ts';

function metricsApi(name: string, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name },
    spec: { name: 'metrics', apiType: 'prometheus', implementation: `${name}-sm`, path: `/${name}/metrics`, port: 4000, apim: { products: ['shared-product'], tags: ['shared-tag'] }, ...extra },
  };
}

async function applied(t: Test, b: ExecutorBench, name: string, extra: Record<string, unknown> = {}): Promise<{ name: string; hash: string }> {
  const p = await b.put(metricsApi(name, extra));
  const r = await b.execute('apply', p.name, p.hash, { CREATE_MISSING_PRODUCTS: 'true' });
  t.equal(r.code, 0, `${name} applied`);
  return p;
}

/** Starts the deletion: the finalizer keeps the object, with deletionTimestamp set, until the executor lets go. */
async function startDeletion(b: ExecutorBench, name: string): Promise<void> {
  const r = await b.cp.kubectl(['delete', 'exposedapi.v1.oda.tmforum.org', name, '-n', b.ns, '--wait=false']);
  if (r.code !== 0) throw new Error(r.stderr);
  await waitFor(`deletionTimestamp on ${name}`, async () => ((await b.get(name))?.['metadata'].deletionTimestamp ? true : undefined));
}

const apiNames = (b: ExecutorBench) => b.emu.state().apis.map((a) => a.name);

t.test('delete removes the API with its revisions and links, the route, then the finalizer', async (t) => {
  const b = await executorBench(t);
  const p = await applied(t, b, 'pc-metrics');
  const apiId = b.apiId(p.name);
  b.emu.requests.reset();

  const early = await b.execute('delete', p.name, p.hash);
  t.equal(early.code, 0, 'a delete Job for a live object does nothing …');
  t.ok(apiNames(b).includes(apiId), '… and leaves the API alone');

  await startDeletion(b, p.name);
  const r = await b.execute('delete', p.name, p.hash);
  t.equal(r.code, 0, r.stdout);
  t.notOk(apiNames(b).includes(apiId), 'the APIM API is gone');
  const writes = Object.keys(armWrites(b.emu)).map((k) => k.replace(/^(\w+) .*\/service\/[^/]+/, '$1 '));
  t.ok(writes.includes(`DELETE /products/shared-product/apis/${apiId}`), 'product link removed');
  t.ok(writes.includes(`DELETE /apis/${apiId}/tags/shared-tag`), 'tag link removed');
  t.ok(writes.includes(`DELETE /apis/${apiId}`), 'API deleted');
  t.ok(b.emu.state().requests.byPath[`DELETE /subscriptions/${b.emu.subscriptionId}/resourceGroups/${b.emu.resourceGroup}/providers/Microsoft.ApiManagement/service/${b.emu.serviceName}/apis/${apiId}`]);
  t.ok(b.emu.state().products.some((pr) => pr.name === 'shared-product'), 'the shared product stays');
  t.ok(b.emu.state().tags.some((tg) => tg.name === 'shared-tag'), 'the shared tag stays');
  const ingresses = await b.cp.kubectl(['get', 'ingresses', '-n', b.ns, '-o', 'name']);
  t.equal(ingresses.stdout.trim(), '', 'the Ingress is deleted');
  await waitFor(`${p.name} gone`, async () => ((await b.get(p.name)) === undefined ? true : undefined), { timeoutMs: 10_000 });
  t.pass('our finalizer was the last: the ExposedAPI is gone');

  const again = await b.execute('delete', p.name, p.hash);
  t.equal(again.code, 0, 'a repeated delete Job finds nothing to do');
});

t.test('the delete uses deleteRevisions, keeps other finalizers, and an API already gone is success', async (t) => {
  const b = await executorBench(t);
  const p = await applied(t, b, 'pc-revisions');
  const apiId = b.apiId(p.name);
  // A second revision of the API, as the portal makes them: without deleteRevisions APIM refuses the delete.
  const svcId = b.emu.state().service.id;
  await b.client().api.beginCreateOrUpdateAndWait(b.emu.resourceGroup, b.emu.serviceName, `${apiId};rev=2`,
    { path: `${p.name}/metrics`, sourceApiId: `${svcId}/apis/${apiId}`, apiRevisionDescription: 'made by a person' }, { updateIntervalInMs: 10 });
  t.equal(apiNames(b).filter((n) => n.startsWith(apiId)).length, 2, 'two revisions');

  await b.cp.kubectl(['patch', 'exposedapi.v1.oda.tmforum.org', p.name, '-n', b.ns, '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/metadata/finalizers/-', value: 'example.com/other' }])]);
  await startDeletion(b, p.name);
  const r = await b.execute('delete', p.name, p.hash);
  t.equal(r.code, 0);
  t.same(apiNames(b).filter((n) => n.startsWith(apiId)), [], 'every revision is gone');
  t.ok(Object.keys(b.emu.state().requests.byPath).some((k) => k.startsWith('DELETE') && k.endsWith(`/apis/${apiId}`)));
  const obj = await b.get(p.name);
  t.same(obj?.['metadata'].finalizers, ['example.com/other'], 'only our finalizer removed');

  // Run again before the other finalizer goes: the API is already gone, which is success.
  const again = await b.execute('delete', p.name, p.hash);
  t.equal(again.code, 0);
  t.ok(again.logs.some((l) => /not present/.test(l['msg'])));
  await b.cp.kubectl(['patch', 'exposedapi.v1.oda.tmforum.org', p.name, '-n', b.ns, '--type=merge', '-p', '{"metadata":{"finalizers":[]}}']);
});

t.test('detach-on-delete leaves APIM untouched', async (t) => {
  const b = await executorBench(t);
  const p = await applied(t, b, 'pc-detached');
  await b.cp.kubectl(['annotate', 'exposedapi.v1.oda.tmforum.org', p.name, '-n', b.ns, `${DETACH_ANNOTATION}=true`]);
  await startDeletion(b, p.name);
  b.emu.requests.reset();
  const r = await b.execute('delete', p.name, p.hash);
  t.equal(r.code, 0);
  t.ok(apiNames(b).includes(b.apiId(p.name)), 'the APIM API stays');
  t.equal(b.emu.state().requests.total, 0, 'not even a read');
  await waitFor(`${p.name} gone`, async () => ((await b.get(p.name)) === undefined ? true : undefined), { timeoutMs: 10_000 });
  t.pass('the ExposedAPI is released');
});

t.test('a delete that APIM refuses reports CleanedUp False with the escape hatch, and keeps the finalizer', async (t) => {
  const b = await executorBench(t);
  const p = await applied(t, b, 'pc-blocked');
  await startDeletion(b, p.name);
  b.emu.faults.add({ method: 'DELETE', pathPattern: `/service/[^/]+/apis/${b.apiId(p.name)}\\?api-version`, status: 503, times: 100 });
  // A budget that outlasts start-up and the reads before the DELETE on a loaded machine, so the 503s are what ends it.
  const r = await b.execute('delete', p.name, p.hash, { RETRY_BUDGET_SECONDS: '15' });
  t.equal(r.code, 1, 'transient: the Job retries');
  const obj = await b.get(p.name);
  t.ok(obj?.['metadata'].finalizers.includes(FINALIZER), 'the finalizer stays until APIM is cleaned up');
  // CleanedUp is the executor's; the dispatcher (not running here) summarises it as DeleteBlocked (docs/status.md).
  const c = condition(obj, 'CleanedUp');
  t.same([c?.['status'], c?.['reason']], ['False', 'ApimUnavailable']);
  t.match(c?.['message'], /503 ServiceUnavailable: The service is temporarily unavailable/);
  t.match(c?.['message'], `kubectl annotate exposedapi ${p.name} -n ${b.ns} ${DETACH_ANNOTATION}=true`);
  b.emu.faults.clear();
  const again = await b.execute('delete', p.name, p.hash);
  t.equal(again.code, 0, 'the next attempt completes it');
  await waitFor(`${p.name} gone`, async () => ((await b.get(p.name)) === undefined ? true : undefined), { timeoutMs: 10_000 });
});

t.test('an API owned by another ExposedAPI is neither overwritten nor deleted', async (t) => {
  const b = await executorBench(t);
  const first = await applied(t, b, 'owner-a', { apim: { apiId: 'shared-metrics' } });
  const second = await b.put(metricsApi('owner-b', { path: '/owner-b/metrics', apim: { apiId: 'shared-metrics' } }));
  b.emu.requests.reset();
  const r = await b.execute('apply', second.name, second.hash);
  t.equal(r.code, 42, 'permanent: a person must choose another apiId');
  const c = condition(await b.get(second.name), 'Imported');
  t.same([c?.['status'], c?.['reason']], ['False', 'ApiIdTaken']);
  t.match(c?.['message'], `APIM API 'shared-metrics' is managed by ExposedAPI ${b.ns}/owner-a of cluster`);
  t.same(armWrites(b.emu), {}, 'nothing overwritten');
  await startDeletion(b, second.name);
  const d = await b.execute('delete', second.name, second.hash);
  t.equal(d.code, 0);
  t.ok(apiNames(b).includes('shared-metrics'), 'the other ExposedAPI\'s API survives the delete');
  t.equal(b.emu.state().apis.find((a) => a.name === 'shared-metrics')?.properties['path'], `owner-a/metrics`);
  void first;
});
