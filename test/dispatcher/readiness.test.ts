// Readiness without Jobs on the real control plane: EndpointSlices of the implementation Service (label
// kubernetes.io/service-name) set status.implementation.ready, and the `ready` of the ExposedAPI's entry in its
// parent ODA Component (the canonical Component CRD, no status subresource), by merge patch — no Job involved.
import t from 'tap';
import { DiscoveryV1Api, PatchStrategy, setHeaderOptions, type V1EndpointSlice } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { applyManifest } from '../e2e/webhook-in-cluster.ts';
import { REFERENCE_DIR } from '../helpers/fixtures.ts';
import { setUpDispatcher, specHashOf, watchJobs } from './dispatcher-harness.ts';

const cp = await useControlPlane(t);
const setup = await setUpDispatcher(cp, t);
const [ns] = setup.namespaces as [string];
const history = await watchJobs(setup);
t.teardown(() => history.stop());
const discovery = cp.kubeConfig().makeApiClient(DiscoveryV1Api);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The canonical ODA Component CRD, minus what only its Helm chart can fill in (the conversion webhook, cert-manager). */
function componentCrd(): Record<string, any> {
  const text = readFileSync(`${REFERENCE_DIR}oda/oda-component-crd.yaml`, 'utf8');
  const kept: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    if (/^ {2}(annotations|conversion):/.test(line)) skipping = true;
    else if (skipping && /^ {0,2}\S/.test(line)) skipping = false;
    if (!skipping) kept.push(line);
  }
  return YAML.parse(kept.join('\n'));
}

const slice = (name: string, service: string, ready: boolean): V1EndpointSlice => ({
  metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready } }],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});
const readyOf = async (name: string) => (await setup.get(ns, name))?.['status']?.implementation?.ready as boolean | undefined;
const expectReady = (name: string, value: boolean, what: string) =>
  waitFor(`${name} implementation.ready=${value} (${what})`, async () => ((await readyOf(name)) === value ? true : undefined), { timeoutMs: 15_000, intervalMs: 50 });

t.test('status.implementation.ready follows the implementation Service\'s EndpointSlices', async (t) => {
  await setup.core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'svc-catalog' }, spec: { ports: [{ port: 8080 }] } } });
  const hash = specHashOf(await setup.create(ns, 'catalog'));
  await expectReady('catalog', false, 'no EndpointSlice yet');
  await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice('svc-catalog-a', 'svc-catalog', false) });
  await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice('other', 'svc-other', true) });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(await readyOf('catalog'), false, 'an unready endpoint, and another Service\'s ready one, change nothing');

  let started = Date.now();
  await discovery.patchNamespacedEndpointSlice({ name: 'svc-catalog-a', namespace: ns, body: { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }] } }, mergePatch);
  await expectReady('catalog', true, 'a ready endpoint');
  t.comment(`ready ${Date.now() - started} ms after the EndpointSlice changed`);

  await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice('svc-catalog-b', 'svc-catalog', false) });
  await discovery.deleteNamespacedEndpointSlice({ name: 'svc-catalog-a', namespace: ns });
  started = Date.now();
  await expectReady('catalog', false, 'the only ready slice is gone');
  t.comment(`not ready ${Date.now() - started} ms after the EndpointSlice was deleted`);

  await waitFor('the apply to settle', async () => ((await setup.get(ns, 'catalog'))?.['status']?.appliedSpecHash === hash ? true : undefined));
  t.equal(history.order.length, 1, 'readiness made no Job (only the apply)');
});

t.test('the parent Component\'s entry for the ExposedAPI gets the same ready', async (t) => {
  await applyManifest(cp, [componentCrd()]);
  // Polled: `kubectl wait` fails at once on a CRD whose status has no conditions yet.
  await waitFor('the Component CRD to be Established', async () => {
    const r = await cp.kubectl(['get', 'crd/components.oda.tmforum.org', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    return r.stdout.trim() === 'True' ? true : undefined;
  }, { timeoutMs: 30_000 });
  const custom = setup.custom;
  const componentRef = { group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'components', name: 'ctk' };
  const component = (await custom.createNamespacedCustomObject({ ...componentRef, body: { apiVersion: 'oda.tmforum.org/v1', kind: 'Component', metadata: { name: 'ctk', namespace: ns }, spec: {} } })) as Record<string, any>;
  await setup.core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'svc-ctk-metrics' }, spec: { ports: [{ port: 4000 }] } } });
  const api = await setup.create(ns, 'ctk-metrics', {
    metadata: { ownerReferences: [{ apiVersion: 'oda.tmforum.org/v1', kind: 'Component', name: 'ctk', uid: component['metadata'].uid, controller: true }] },
    spec: { apiType: 'prometheus', specification: undefined, segment: 'managementFunction', developerUI: undefined },
  });
  // What the component operator writes after creating its ExposedAPIs.
  await custom.patchNamespacedCustomObject({ ...componentRef, body: { status: {
    coreAPIs: [{ name: 'catalog', uid: 'someone-else', url: 'https://x', ready: true }],
    managementAPIs: [{ name: 'metrics', uid: api['metadata'].uid, url: '', ready: false }],
    securityAPIs: [],
  } } }, mergePatch);
  const entry = async () => ((await custom.getNamespacedCustomObject(componentRef)) as Record<string, any>)['status'];
  await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice('svc-ctk-metrics-a', 'svc-ctk-metrics', true) });
  await expectReady('ctk-metrics', true, 'a ready endpoint');
  const status = await waitFor('the Component entry to be ready', async () => {
    const s = await entry();
    return s?.managementAPIs?.[0]?.ready === true ? s : undefined;
  }, { timeoutMs: 15_000 });
  t.same(status.managementAPIs, [{ name: 'metrics', uid: api['metadata'].uid, url: '', ready: true }], 'only ready changed');
  t.same(status.coreAPIs, [{ name: 'catalog', uid: 'someone-else', url: 'https://x', ready: true }], 'other entries untouched');

  await discovery.patchNamespacedEndpointSlice({ name: 'svc-ctk-metrics-a', namespace: ns, body: { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false } }] } }, mergePatch);
  await expectReady('ctk-metrics', false, 'the endpoint became unready');
  await waitFor('the Component entry to be not ready', async () => ((await entry())?.managementAPIs?.[0]?.ready === false ? true : undefined), { timeoutMs: 15_000 });
  t.pass('the Component entry followed');
});

t.test('a change that failed half-way (Serving False) makes the Component entry not ready; Serving True makes it ready again', async (t) => {
  const custom = setup.custom;
  const componentRef = { group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'components', name: 'ctk' };
  const entryReady = async () => ((await custom.getNamespacedCustomObject(componentRef)) as Record<string, any>)['status']?.managementAPIs?.[0]?.ready as boolean | undefined;
  await discovery.patchNamespacedEndpointSlice({ name: 'svc-ctk-metrics-a', namespace: ns, body: { endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }] } }, mergePatch);
  await expectReady('ctk-metrics', true, 'the endpoint is ready again');
  await waitFor('the Component entry to be ready', async () => ((await entryReady()) === true ? true : undefined), { timeoutMs: 15_000 });
  // What the executor writes after a failed re-apply without revisions (executor/serving.ts).
  const serving = async (status: 'True' | 'False', reason: string): Promise<void> => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const obj = (await setup.get(ns, 'ctk-metrics'))!;
      const conditions = ((obj['status']?.conditions ?? []) as Record<string, unknown>[]).filter((c) => c['type'] !== 'Serving');
      conditions.push({ type: 'Serving', status, reason, message: 'test', lastTransitionTime: new Date().toISOString(), specHash: specHashOf(obj) });
      try {
        await custom.patchNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace: ns, plural: 'exposedapis', name: 'ctk-metrics', body: { metadata: { resourceVersion: obj['metadata'].resourceVersion }, status: { conditions } } }, mergePatch);
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
      }
    }
    throw new Error('the ExposedAPI kept changing');
  };
  await serving('False', 'ChangeNotApplied');
  await waitFor('the Component entry to be not ready', async () => ((await entryReady()) === false ? true : undefined), { timeoutMs: 15_000 });
  t.equal(await readyOf('ctk-metrics'), true, 'status.implementation.ready stays the implementation\'s: only the Component entry says not ready');
  await serving('True', 'CurrentSpec');
  await waitFor('the Component entry to be ready again', async () => ((await entryReady()) === true ? true : undefined), { timeoutMs: 15_000 });
  t.pass('a good apply (Serving True) brings the entry back: the Canvas can say Complete again');
});
