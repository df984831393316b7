// The same webhook in front of the canonical ODA Canvas CRD (oda-crds 1.3.2), in a control plane of its own because
// a CRD of the same name cannot coexist with ours: an operator installed beside ODA Canvas works unchanged.
import t from 'tap';
import { join } from 'node:path';
import YAML from 'yaml';
import { FINALIZER, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { usePrivateControlPlane } from '../control-plane/use-control-plane.ts';
import { exposedApi, REFERENCE_DIR } from '../helpers/fixtures.ts';
import { installWebhook } from './webhook-in-cluster.ts';

const cp = await usePrivateControlPlane(t);
const hook = await installWebhook(cp, t, { crdFile: join(REFERENCE_DIR, 'oda/oda-exposedapi-crd.yaml'), env: { REMOTE_SPEC_CHECK: 'off' } });
const ns = hook.namespace;
const apply = (obj: object) => cp.kubectl(['apply', '-n', ns, '-f', '-'], { input: YAML.stringify(obj) });
const get = async (name: string, version: string) => {
  const r = await cp.kubectl(['get', `exposedapis.${version}.oda.tmforum.org`, name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
};

t.test('the ODA reference example (v1) is accepted and stamped', async (t) => {
  const example = YAML.parse((await import('node:fs')).readFileSync(join(REFERENCE_DIR, 'oda/ExposedAPI-example.yaml'), 'utf8'));
  const r = await apply(example);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, 'Warning: spec.quota.identifier', 'its shared quota counter is warned about');
  const stored = await get(example.metadata.name, 'v1');
  t.match(stored.metadata.annotations[SPEC_HASH_ANNOTATION], /^[0-9a-f]{64}$/);
  t.same(stored.metadata.finalizers, [FINALIZER]);
});

t.test('bad objects are denied with every error', async (t) => {
  const r = await apply(exposedApi({ metadata: { name: 'bad', namespace: undefined }, spec: { path: 'x/', port: 0, CORS: { enabled: true, allowOrigins: 'https://a.example.com/path' } } }));
  t.not(r.code, 0);
  t.match(r.stderr, 'The ExposedAPI "bad" is invalid: \n');
  t.match(r.stderr, '* spec.port: Invalid value: 0');
  t.match(r.stderr, '* spec.path: Invalid value: "x/": must start with "/"');
  t.match(r.stderr, '* spec.CORS.allowOrigins: Invalid value: "https://a.example.com/path": origin "https://a.example.com/path" has a path');
});

t.test('all three versions are accepted; what the canonical CRD keeps of each specification shape', async (t) => {
  const b3 = exposedApi({ apiVersion: 'oda.tmforum.org/v1beta3', metadata: { name: 'b3', namespace: undefined }, spec: { path: '/b3', segment: undefined, specification: ['https://specs.example.com/a.json'] } });
  const b4 = exposedApi({ apiVersion: 'oda.tmforum.org/v1beta4', metadata: { name: 'b4', namespace: undefined }, spec: { path: '/b4', segment: undefined, specification: [{ url: 'https://specs.example.com/b.json', version: 'v4' }] } });
  const v1 = exposedApi({ metadata: { name: 'v1', namespace: undefined }, spec: { path: '/v1', specification: { url: 'https://specs.example.com/c.json', version: 'v4' } } });
  const metrics = exposedApi({ metadata: { name: 'metrics', namespace: undefined }, spec: { path: '/ctk/metrics', apiType: 'prometheus', port: 4000, segment: 'managementFunction', specification: undefined } });
  for (const obj of [b3, b4, v1, metrics]) {
    const r = await apply(obj);
    t.equal(r.code, 0, `${(obj as any).metadata.name} accepted: ${r.stderr}`);
  }
  for (const version of ['v1', 'v1beta4', 'v1beta3']) {
    t.same((await get('b3', version)).spec.specification, ['https://specs.example.com/a.json'], `a v1beta3 list of URLs survives, read as ${version}`);
    t.notOk((await get('metrics', version)).spec.specification, `no specification, read as ${version}`);
    // The canonical CRD has no conversion and declares specification differently per version (v1: an object), so
    // structural pruning empties the other shapes. Our CRD keeps them (admission-kubectl.test.ts); README explains.
    t.same((await get('b4', version)).spec.specification, [{}], `canonical CRD: a v1beta4 list of {url, version} is pruned in storage (read as ${version})`);
  }
  t.same((await get('v1', 'v1')).spec.specification, { url: 'https://specs.example.com/c.json', version: 'v4' }, 'a v1 object survives as v1');
  t.same((await get('v1', 'v1beta4')).spec.specification, {}, 'canonical CRD: a v1 object read through v1beta4 is pruned');
});

t.test('the canonical schema still applies before the webhook', async (t) => {
  const r = await apply(exposedApi({ metadata: { name: 'typed', namespace: undefined }, spec: { path: '/typed', port: '8080' } }));
  t.not(r.code, 0);
  t.match(r.stderr, /spec\.port.*integer/);
});
