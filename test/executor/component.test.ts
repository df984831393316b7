// The parent ODA Component: when an ExposedAPI is owned by a Component, the executor sets url and developerUI on the
// Component's status entry whose uid is the ExposedAPI's, as the reference API operator does — with the canonical
// Component CRD (no status subresource) and the executor's own RBAC. The entry's `ready` is the dispatcher's
// (readiness from EndpointSlices, test/dispatcher/readiness.test.ts; docs/status.md): the executor leaves it alone.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { applyManifest } from '../e2e/webhook-in-cluster.ts';
import type { TestControlPlane } from '../control-plane/use-control-plane.ts';
import { REFERENCE_DIR } from '../helpers/fixtures.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { executorBench } from './harness.ts';

const COMPONENT_CRD = 'components.oda.tmforum.org';

/**
 * The canonical CRD is a Helm template: its cert-manager annotation and conversion webhook point at a release that
 * does not exist here. Without them (conversion None) it is the same schema. Installed only when missing: the CRD is
 * cluster-scoped and shared by every test of the run.
 */
async function installComponentCrd(cp: TestControlPlane): Promise<void> {
  if ((await cp.kubectl(['get', 'crd', COMPONENT_CRD])).code === 0) return;
  const text = (await readFile(`${REFERENCE_DIR}oda/oda-component-crd.yaml`, 'utf8'))
    .replace(/\n  annotations:\n    cert-manager\.io\/inject-ca-from:[^\n]*/, '')
    .replace(/\n  conversion:\n[\s\S]*?\n  versions:/, '\n  conversion:\n    strategy: None\n  versions:');
  const r = await cp.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: text });
  if (r.code !== 0 && !/AlreadyExists|conflict/i.test(r.stderr)) throw new Error(`Component CRD: ${r.stderr}`);
  // `kubectl wait` fails while the new CRD has no conditions at all yet, so poll.
  await waitFor(`${COMPONENT_CRD} Established`, async () => {
    const r = await cp.kubectl(['get', 'crd', COMPONENT_CRD, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    return r.stdout.trim() === 'True' ? true : undefined;
  });
}

t.test('the owning Component\'s status entry gets url and developerUI, and keeps its ready', async (t) => {
  const b = await executorBench(t);
  await installComponentCrd(b.cp);
  await applyManifest(b.cp, [{
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'Component',
    metadata: { name: 'ctk-productcatalogmanagement', namespace: b.ns },
    spec: { componentMetadata: { id: 'TMFC001', name: 'ProductCatalogManagement', version: '1.0.0' } },
  }]);
  const component = JSON.parse((await b.cp.kubectl(['get', 'component.v1.oda.tmforum.org', 'ctk-productcatalogmanagement', '-n', b.ns, '-o', 'json'])).stdout) as Record<string, any>;
  const owner = { apiVersion: 'oda.tmforum.org/v1', kind: 'Component', name: 'ctk-productcatalogmanagement', uid: component['metadata'].uid, controller: true, blockOwnerDeletion: false };
  const p = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'ctk-productcatalogmanagement-metrics', ownerReferences: [owner], labels: { 'oda.tmforum.org/componentName': 'ctk-productcatalogmanagement' } },
    spec: { name: 'metrics', apiType: 'prometheus', implementation: 'ctk-productcatalogmanagement-sm', path: '/ctk-productcatalogmanagement/metrics', port: 4000, developerUI: '/ctk-productcatalogmanagement/metrics/ui', segment: 'managementFunction' },
  });
  const uid = (await b.get(p.name))?.['metadata'].uid as string;
  // What the component operator writes: one entry per API, with the ExposedAPI's uid, before the API is ready.
  const status = {
    coreAPIs: [{ name: 'productcatalogmanagement', uid: 'another-uid', url: 'https://elsewhere/x', ready: true }],
    managementAPIs: [{ name: 'metrics', uid, ready: false }],
    securityAPIs: [],
    summary: { 'status.deployment_status': 'In-Progress-CompCon' },
  };
  const patched = await b.cp.kubectl(['patch', 'component.v1.oda.tmforum.org', 'ctk-productcatalogmanagement', '-n', b.ns, '--type=merge', '-p', JSON.stringify({ status })]);
  t.equal(patched.code, 0, patched.stderr);
  await applyManifest(b.cp, [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ctk-productcatalogmanagement-sm', namespace: b.ns }, spec: { ports: [{ port: 4000 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'ctk-productcatalogmanagement-sm-1', namespace: b.ns, labels: { 'kubernetes.io/service-name': 'ctk-productcatalogmanagement-sm' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.21'] }],
      ports: [{ port: 4000, protocol: 'TCP' }],
    },
  ]);

  const r = await b.execute('apply', p.name, p.hash);
  t.equal(r.code, 0, r.stdout);
  const after = JSON.parse((await b.cp.kubectl(['get', 'component.v1.oda.tmforum.org', 'ctk-productcatalogmanagement', '-n', b.ns, '-o', 'json'])).stdout) as Record<string, any>;
  t.same(after['status']['managementAPIs'], [{
    name: 'metrics',
    uid,
    url: 'https://apim-emulator.azure-api.net/ctk-productcatalogmanagement/metrics',
    developerUI: 'https://apim-emulator.azure-api.net/ctk-productcatalogmanagement/metrics/ui',
    ready: false,
  }], 'the entry with our uid gets url and developerUI; ready stays the dispatcher\'s to set (no dispatcher runs here)');
  t.same(after['status']['coreAPIs'], status.coreAPIs, 'other entries untouched');
  t.same(after['status']['summary'], status.summary, 'the rest of the status untouched');
  t.ok(r.logs.some((l) => l['msg'] === 'parent Component' && l['outcome'] === 'updated'));

  const again = await b.execute('apply', p.name, p.hash);
  t.equal(again.code, 0);
  t.ok(again.logs.some((l) => l['msg'] === 'parent Component' && l['outcome'] === 'unchanged'), 'an unchanged entry is not written again');
});
