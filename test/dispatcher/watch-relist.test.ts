// 410 Gone is hard to provoke on a real apiserver (it needs an etcd compaction past the watch's resourceVersion), so
// these tests put a scripted fake apiserver (plain HTTP on loopback) behind the real client-node Watch and check that
// both adapters of the one list-watch (kube/list-watch.ts) the dispatcher relies on — the webhook's ExposedAPI
// informer and the dispatcher's resource watch (Jobs, EndpointSlices) — list again on either form of 410, report what was deleted meanwhile, and resume
// after other failures.
import t, { type Test } from 'tap';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExposedApiInformer } from '../../webhook/exposedapi-informer.ts';
import { ResourceWatch } from '../../dispatcher/resource-watch.ts';
import { waitFor } from '../control-plane/wait-for.ts';

type Script = (req: IncomingMessage, res: ServerResponse, call: { lists: number; watches: number; rv: string; log: string[] }) => void;

/** A fake apiserver: lists and watches are answered by the script; every request is recorded. */
async function fakeApiserver(t: Test, script: Script) {
  const calls = { lists: 0, watches: 0, rv: '', log: [] as string[] };
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const watching = url.searchParams.get('watch') === 'true';
    calls.rv = url.searchParams.get('resourceVersion') ?? '';
    if (watching) calls.watches++;
    else calls.lists++;
    calls.log.push(`${watching ? 'watch' : 'list'}${watching ? ` rv=${calls.rv}` : ''}`);
    open.add(res);
    res.on('close', () => open.delete(res));
    script(req, res, calls);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const res of open) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  return { kc, calls };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function event(res: ServerResponse, type: string, object: unknown): void {
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' });
  res.write(`${JSON.stringify({ type, object })}\n`);
}

const obj = (kind: string, name: string, rv: string, extra: object = {}) => ({ apiVersion: kind === 'Job' ? 'batch/v1' : 'oda.tmforum.org/v1', kind, metadata: { namespace: 'ns', name, resourceVersion: rv, ...extra } });
const GONE = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 10 (20)' };

/** list [a] → watch: ADDED b, then ERROR 410 → list [b, c] → watch: HTTP 410 → list [c] → watch: held open. */
function goneTwice(kind: string): Script {
  const list = (items: object[], rv: string) => ({ apiVersion: kind === 'Job' ? 'batch/v1' : 'oda.tmforum.org/v1', kind: `${kind}List`, metadata: { resourceVersion: rv }, items });
  return (_req, res, calls) => {
    if (calls.log.at(-1)!.startsWith('list')) {
      if (calls.lists === 1) return json(res, 200, list([obj(kind, 'a', '10')], '10'));
      if (calls.lists === 2) return json(res, 200, list([obj(kind, 'b', '11'), obj(kind, 'c', '15')], '20'));
      return json(res, 200, list([obj(kind, 'c', '15')], '30'));
    }
    if (calls.watches === 1) {
      event(res, 'ADDED', obj(kind, 'b', '11'));
      event(res, 'ERROR', GONE);
      return; // the client aborts on the ERROR event
    }
    if (calls.watches === 2) return json(res, 410, GONE);
    event(res, 'BOOKMARK', obj(kind, '', '30')); // stays open
  };
}

t.test('the ExposedAPI informer lists again on 410 Gone (as a watch event and as an HTTP status)', async (t) => {
  const { kc, calls } = await fakeApiserver(t, goneTwice('ExposedAPI'));
  const seen: string[] = [];
  const informer = new ExposedApiInformer<{ name: string }>({
    kubeConfig: kc,
    namespaces: ['ns'],
    summarize: (o) => ({ name: String((o['metadata'] as { name: string }).name) }),
    events: { upsert: (_o, s) => seen.push(`+${s.name}`), remove: (s) => seen.push(`-${s.name}`) },
    maxBackoffMs: 50,
  });
  informer.start();
  t.teardown(() => informer.stop());
  await waitFor('three lists and a held watch', () => (calls.lists === 3 && calls.watches >= 3 ? true : undefined), { timeoutMs: 10_000 });
  t.same([...informer.values()].map((s) => s.name), ['c'], 'the cache holds exactly what the last list said');
  t.same(seen, ['+a', '+b', '+b', '+c', '-a', '+c', '-b'], 'objects deleted while not watching are reported removed');
  t.same(calls.log.slice(0, 5), ['list', 'watch rv=10', 'list', 'watch rv=20', 'list']);
  t.equal(informer.stats.relistsOnGone, 2, 'both forms of 410 counted as a relist on Gone (before kube/list-watch.ts, the HTTP form was counted as an error, and backed off)');
});

t.test('the dispatcher\'s resource watch lists again on 410 Gone in both forms', async (t) => {
  const { kc, calls } = await fakeApiserver(t, goneTwice('Job'));
  const seen: string[] = [];
  const batch = kc.makeApiClient(BatchV1Api);
  const watch = new ResourceWatch<string>({
    kubeConfig: kc,
    path: '/apis/batch/v1/namespaces/ns/jobs',
    labelSelector: 'app=x',
    list: () => batch.listNamespacedJob({ namespace: 'ns', labelSelector: 'app=x' }),
    summarize: (o) => (o as { metadata: { name: string } }).metadata.name,
    onUpsert: (_k, s) => seen.push(`+${s}`),
    onRemove: (_k, s) => seen.push(`-${s}`),
    maxBackoffMs: 50,
  });
  watch.start();
  t.teardown(() => watch.stop());
  await waitFor('three lists and a held watch', () => (calls.lists === 3 && calls.watches >= 3 ? true : undefined), { timeoutMs: 10_000 });
  t.same([...watch.values()], ['c']);
  t.same(seen, ['+a', '+b', '+b', '+c', '-a', '+c', '-b']);
  t.same(calls.log.slice(0, 6), ['list', 'watch rv=10', 'list', 'watch rv=20', 'list', 'watch rv=30']);
  t.equal(watch.stats.relistsOnGone, 2, 'both forms of 410 led to a list');
  t.ok(watch.isSynced);
});

t.test('the resource watch resumes from its resourceVersion after a failed or closed watch, without listing', async (t) => {
  const { kc, calls } = await fakeApiserver(t, (_req, res, c) => {
    if (c.log.at(-1) === 'list') return json(res, 200, { apiVersion: 'batch/v1', kind: 'JobList', metadata: { resourceVersion: '5' }, items: [] });
    if (c.watches === 1) return json(res, 500, { kind: 'Status', code: 500, message: 'etcd hiccup' });
    if (c.watches === 2) {
      event(res, 'ADDED', obj('Job', 'j', '6'));
      return res.end(); // the server closes the stream (routine, every few minutes)
    }
    event(res, 'BOOKMARK', obj('Job', '', '6'));
  });
  const batch = kc.makeApiClient(BatchV1Api);
  const errors: string[] = [];
  const watch = new ResourceWatch<string>({
    kubeConfig: kc,
    path: '/apis/batch/v1/namespaces/ns/jobs',
    list: () => batch.listNamespacedJob({ namespace: 'ns' }),
    summarize: (o) => (o as { metadata: { name: string } }).metadata.name,
    onUpsert: () => {},
    onRemove: () => {},
    log: { debug: () => {}, info: () => {}, warn: (msg) => errors.push(msg), error: (msg) => errors.push(msg) },
    maxBackoffMs: 50,
  });
  watch.start();
  t.teardown(() => watch.stop());
  await waitFor('the third watch', () => (calls.watches >= 3 ? true : undefined), { timeoutMs: 10_000 });
  t.same(calls.log.slice(0, 4), ['list', 'watch rv=5', 'watch rv=5', 'watch rv=6']);
  t.equal(watch.stats.lists, 1, 'listed once');
  t.equal(errors.length, 1, 'the 500 was logged (and backed off)');
  t.same([...watch.values()], ['j']);
});
