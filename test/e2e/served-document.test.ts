// A document served by the implementation itself (springdoc's /v3/api-docs), end to end on the real control plane:
// the admission webhook, the dispatcher, the Job controller, the real executor in its Jobs and the APIM emulator.
//
// The implementation is an HTTP server this test starts on an address of the run's own (dev-cluster/run-address.ts:
// EndpointSlices refuse loopback, and the machine's interface address is off limits; the sandbox does the same),
// published as a Service with a selector. The dev control plane runs no EndpointSlice controller (the node agent's
// pods all have 127.0.0.1), so the test writes the Service's EndpointSlice as that controller would — its managed-by
// label, endpoints naming Pods, `ready` following the pods — and moves it the way a rollout does: first not ready,
// then ready, then a new pod serving a changed document.
//
// What it shows: admission says the document will be read from the implementation (no fetch, no "unreachable");
// the Job finds no ready pod, fails at once (exit 43, one pod, no backoff spent) and Ready says ImplementationNotReady
// naming the Service; the pod turns ready and the API is published with no one touching the ExposedAPI; after a
// rollout a new reconcile-at re-imports the changed document; URLs naming another Service or namespace are refused.
import t from 'tap';
import { DiscoveryV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { derivedApiId } from '../../core/api-id.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { RECONCILE_AT_ANNOTATION } from '../../core/exposedapi-model.ts';
import { claimRunAddress } from '../../dev-cluster/run-address.ts';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, finished, setUpDispatcher, specHashOf, watchJobs } from '../dispatcher/dispatcher-harness.ts';
import { installExecutorRbac, emulatorConnection } from '../executor/harness.ts';
import { exposedApi, openapi3 } from '../helpers/fixtures.ts';
import { applyManifest } from './webhook-in-cluster.ts';

type Obj = Record<string, any>;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const cp = await useControlPlane(t);
const dir = await mkdtemp(join(tmpdir(), 'exposedapi-apim-served-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const emu = await startApimEmulator({ dir: join(dir, 'emulator'), importDelayMs: 20, importDurationMs: 20 });
t.teardown(() => emu.close());
const caFile = join(dir, 'emulator-ca.crt');
await writeFile(caFile, emu.caPem);

// The implementation: /v3/api-docs serves the current image's document; every request is counted.
let served = JSON.stringify(openapi3([['get', '/items', 'listItems']]));
let docRequests = 0;
const runAddress = claimRunAddress();
t.teardown(() => runAddress.release());
const address = runAddress.address;
const server = http.createServer((req, res) => {
  if (req.url === '/v3/api-docs') {
    docRequests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(served);
  } else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
});
await new Promise<void>((r) => server.listen(0, address, r));
t.teardown(() => new Promise<void>((r) => {
  server.closeAllConnections();
  server.close(() => r());
}));
const podPort = (server.address() as AddressInfo).port;

const setup = await setUpDispatcher(cp, t, {
  env: {
    // The real executor: the node agent runs any exposedapi-apim image as cli/main.ts with the project's Node.
    EXECUTOR_IMAGE: 'ghcr.io/exposedapi-apim/exposedapi-apim:test',
    EXECUTOR_COMMAND: '',
    JOB_BACKOFF_LIMIT: '2',
    JOB_ACTIVE_DEADLINE_SECONDS: '180',
    // Long enough that only readiness can explain a quick second Job.
    JOB_RETRY_BASE_SECONDS: '600',
    JOB_RETRY_MAX_SECONDS: '600',
  },
});
const [ns] = setup.namespaces as [string];
await installExecutorRbac(cp, setup.ops);
await applyManifest(cp, [{
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exposedapi-apim-config', namespace: setup.ops },
  data: {
    ...emulatorConnection(emu, caFile),
    APIM_POLL_INTERVAL_MS: '20',
    RETRY_BUDGET_SECONDS: '30',
    ROUTE_WAIT_SECONDS: '20',
    LOG_LEVEL: 'info',
  },
}]);
const history = await watchJobs(setup);
t.teardown(() => history.stop());
const discovery = cp.kubeConfig().makeApiClient(DiscoveryV1Api);

await setup.core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'catalog' }, spec: { selector: { app: 'catalog' }, ports: [{ name: 'http', port: 8080, targetPort: 'http' as never }] } } });
/** The Service's EndpointSlice as the EndpointSlice controller writes it: one endpoint per pod. */
const slice = (pods: { name: string; ready: boolean }[]) => ({
  metadata: { name: 'catalog-x7k2p', namespace: ns, labels: { 'kubernetes.io/service-name': 'catalog', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
  addressType: 'IPv4',
  endpoints: pods.map((p) => ({ addresses: [address], conditions: { ready: p.ready, serving: p.ready, terminating: false }, targetRef: { kind: 'Pod', namespace: ns, name: p.name } })),
  ports: [{ name: 'http', port: podPort, protocol: 'TCP' }],
});
await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice([{ name: 'catalog-5d9f-a', ready: false }]) as never });

const apply = (obj: Obj) => cp.kubectl(['apply', '-n', ns, '-f', '-'], { input: YAML.stringify(obj) });
const served_api = (name: string, url: string, extra: Obj = {}) => exposedApi({
  metadata: { name, namespace: undefined, ...extra },
  spec: { implementation: 'catalog', port: 8080, path: `/${ns}/${name}`, developerUI: undefined, specification: { url, version: 'v1' } },
});
const operations = (name: string) => emu.state().apis.find((a) => a.name === derivedApiId(ns, name))?.operations.map((o) => o.name).sort();
const jobsOf = (name: string) => history.order.filter((j) => history.latest.get(j)?.metadata?.labels?.[JOB_LABELS.name] === name);
const URL = `http://catalog.${ns}.svc:8080/v3/api-docs`;

t.test('not ready → says so → ready → published, without a manual step', async (t) => {
  const applied = await apply(served_api('catalog', URL));
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stderr, `Warning: spec.specification.url: ${URL} is served by this ExposedAPI's implementation (Service ${ns}/catalog), so it is not fetched now`, 'admission says where the document will be read, and when');
  t.notMatch(applied.stderr, 'could not fetch', 'no warning about it being unreachable');

  const waiting = await waitFor('Ready False ImplementationNotReady', async () => {
    const obj = await setup.get(ns, 'catalog');
    // The dispatcher's words, written once the Job has failed (before, Ready quotes the executor's step).
    const ready = condition(obj, 'Ready');
    return ready?.['reason'] === 'ImplementationNotReady' && String(ready['message']).startsWith('waiting for') ? obj : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  const ready = condition(waiting, 'Ready')!;
  t.equal(ready['status'], 'False');
  t.equal(ready['specHash'], specHashOf(waiting));
  t.match(ready['message'], `waiting for a ready pod of Service ${ns}/catalog to read the document it serves`);
  t.match(condition(waiting, 'Validated'), { status: 'False', reason: 'ImplementationNotReady', message: new RegExp(`Service ${ns}/catalog has no ready pod for port 8080 \\(1 not ready\\)`) });
  t.notOk(condition(waiting, 'Stalled')?.['status'] === 'True', 'not Stalled: it goes on by itself');
  const first = await waitFor('the first Job seen failed', async () => {
    const job = history.latest.get(jobsOf('catalog')[0] ?? '');
    return finished(job) === 'Failed' && job?.status?.failed !== undefined ? job : undefined;
  }, { timeoutMs: 30_000 });
  t.match(first?.status?.conditions?.find((c) => c.type === 'Failed'), { reason: 'PodFailurePolicy', message: /exit code 43/ }, 'failed at once by the podFailurePolicy');
  t.equal(first?.status?.failed, 1, 'one pod: the backoff limit was not spent');
  t.equal(docRequests, 0, 'nothing was fetched from the pod that was not ready');

  // Stays waiting: no Job while the pod is not ready (the retry backoff is 10 minutes, so nothing else starts one).
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(jobsOf('catalog').length, 1, 'no second Job while the pod is not ready');

  const readyAt = Date.now();
  await discovery.replaceNamespacedEndpointSlice({ name: 'catalog-x7k2p', namespace: ns, body: slice([{ name: 'catalog-5d9f-a', ready: true }]) as never });
  const published = await waitFor('published', async () => {
    const obj = await setup.get(ns, 'catalog');
    return obj?.['status']?.appliedSpecHash === specHashOf(obj) && condition(obj, 'Ready')?.['status'] === 'True' ? obj : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  t.comment(`published ${Date.now() - readyAt} ms after the pod turned ready`);
  t.match(condition(published, 'Ready'), { reason: 'Published' });
  t.equal(jobsOf('catalog').length, 2, 'one more Job, started by readiness');
  t.equal(history.latest.get(jobsOf('catalog')[1]!)?.metadata?.labels?.['exposedapi-apim.io/attempt'], '1');
  t.same(operations('catalog'), ['listitems'], 'the document the pod serves is in APIM');
  t.ok(docRequests >= 1, 'read from the pod');
});

t.test('a new image serving a changed document is imported after a reconcile-at', async (t) => {
  // The rollout: a new pod with a new document replaces the old one.
  served = JSON.stringify(openapi3([['get', '/items', 'listItems'], ['get', '/items/{id}', 'getItem']]));
  await discovery.replaceNamespacedEndpointSlice({ name: 'catalog-x7k2p', namespace: ns, body: slice([{ name: 'catalog-7c4b-b', ready: true }]) as never });
  const before = specHashOf(await setup.get(ns, 'catalog'));
  await setup.patch(ns, 'catalog', { metadata: { annotations: { [RECONCILE_AT_ANNOTATION]: new Date().toISOString() } } });
  const obj = await waitFor('re-applied', async () => {
    const o = await setup.get(ns, 'catalog');
    const hash = specHashOf(o);
    return hash !== before && o?.['status']?.appliedSpecHash === hash && condition(o, 'Ready')?.['status'] === 'True' ? o : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  t.match(condition(obj, 'Imported'), { reason: 'Imported', message: /re-imported \(document changed\)/ });
  t.same(operations('catalog'), ['getitem', 'listitems'], 'the new document is in APIM');
});

t.test('a URL naming another Service or namespace is refused, with the field and the fix', async (t) => {
  for (const url of [`http://billing.${ns}.svc:8080/v3/api-docs`, 'http://catalog.other-team.svc:8080/v3/api-docs', 'http://catalog.other-team:8080/v3/api-docs']) {
    const r = await apply(served_api('elsewhere', url));
    t.not(r.code, 0, `${url}: refused`);
    t.match(r.stderr, `spec.specification.url: Forbidden: ${url} will not be fetched`);
    t.match(r.stderr, `not this ExposedAPI's implementation; a document served in the cluster is read only from this ExposedAPI's own implementation Service (spec.implementation "catalog" in namespace ${ns}): use http://catalog.${ns}.svc:<port>/<path>, or publish the document at a public https URL`);
  }
  t.equal(await setup.get(ns, 'elsewhere'), undefined, 'nothing was created');
});
