// Admission end to end through the real kubectl and kube-apiserver (v1.36), with our CRD: the apiserver calls the
// webhook over TLS, the webhook watches ExposedAPIs with its own ServiceAccount token and RBAC from manifests/base.
import t from 'tap';
import YAML from 'yaml';
import { FINALIZER, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { exposedApi, referenceText, swagger2, TMF620_V4 } from '../helpers/fixtures.ts';
import { installWebhook } from './webhook-in-cluster.ts';

const cp = await useControlPlane(t);
const hook = await installWebhook(cp, t, { env: { REMOTE_SPEC_CHECK: 'off' } });
const ns = hook.namespace;

const apply = (obj: object, extra: string[] = []) => cp.kubectl(['apply', '-n', ns, ...extra, '-f', '-'], { input: YAML.stringify(obj) });
const getJson = async (name: string, version = 'v1') => {
  const r = await cp.kubectl(['get', `exposedapis.${version}.oda.tmforum.org`, name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
};
const named = (name: string, patch: Record<string, any> = {}) => exposedApi({ ...patch, metadata: { name, namespace: undefined, ...(patch['metadata'] ?? {}) }, spec: { path: `/${name}/v1`, ...(patch['spec'] ?? {}) } });

t.test('kubectl apply of bad ExposedAPIs fails with every field error on stderr', async (t) => {
  const cases: { name: string; obj: object; expect: string[] }[] = [
    {
      name: 'bad-fields',
      obj: named('bad-fields', { spec: { path: 'no-slash', port: 0, implementation: 'Not_A_Service' } }),
      expect: [
        'The ExposedAPI "bad-fields" is invalid: \n',
        '* spec.port: Invalid value: 0: must be a port number between 1 and 65535\n',
        '* spec.implementation: Invalid value: "Not_A_Service": must be a Service name (DNS-1035 label)',
        '* spec.path: Invalid value: "no-slash": must start with "/", e.g. "/no-slash"',
      ],
    },
    {
      name: 'bad-cors',
      obj: named('bad-cors', { spec: { CORS: { enabled: true, allowCredentials: true, allowOrigins: '*' }, rateLimit: { enabled: true, limit: '0', interval: 'ph' } } }),
      expect: [
        'spec.rateLimit.limit: Invalid value: "0": must be a positive whole number',
        'spec.rateLimit.interval: Unsupported value: "ph": supported values: "ps", "pm"',
        'spec.CORS.allowCredentials: Invalid value: true: cannot be true while allowOrigins is "*"',
      ],
    },
    {
      name: 'bad-document',
      obj: named('bad-document', { spec: { specification: JSON.stringify(swagger2([['get', '/productOffering'], ['get', '/pets', 'listPets'], ['get', '/pets2', 'list_pets']])) } }),
      expect: ['has 1 operation without an operationId', 'GET /productOffering', 'collide after APIM\'s name normalization'],
    },
  ];
  for (const c of cases) {
    const r = await apply(c.obj);
    t.not(r.code, 0, `${c.name}: kubectl exits non-zero`);
    for (const e of c.expect) t.match(r.stderr, e, `${c.name}: ${e}`);
    t.equal(await getJson(c.name), undefined, `${c.name}: nothing stored`);
  }
});

t.test('a good ExposedAPI is stored with the spec hash and the finalizer; its path is then taken', async (t) => {
  // A 350 KB inline document: client-side apply would copy it into the last-applied annotation (256 KB limit).
  const r = await apply(named('catalog', { spec: { specification: referenceText(TMF620_V4) } }), ['--server-side']);
  t.equal(r.code, 0, r.stderr);
  const stored = await getJson('catalog');
  t.match(stored.metadata.annotations[SPEC_HASH_ANNOTATION], /^[0-9a-f]{64}$/);
  t.same(stored.metadata.finalizers, [FINALIZER]);
  t.equal(stored.spec.port, 8080, 'user fields untouched');
  t.notOk(stored.spec.CORS, 'no defaults written into the object');

  const second = await apply(named('catalog-copy', { spec: { path: '/CATALOG/v1' } }));
  t.not(second.code, 0);
  t.match(second.stderr, `spec.path: Forbidden: path "/CATALOG/v1" is already claimed by ExposedAPI ${ns}/catalog in the same APIM service`);
});

t.test('--dry-run=server validates without side effects', async (t) => {
  const bad = await apply(named('dry-bad', { spec: { port: 70000 } }), ['--dry-run=server']);
  t.not(bad.code, 0);
  t.match(bad.stderr, 'spec.port: Invalid value: 70000');
  const good = await apply(named('dry-good'), ['--dry-run=server']);
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, 'exposedapi.oda.tmforum.org/dry-good created (server dry run)');
  t.equal(await getJson('dry-good'), undefined, 'not stored');
  const real = await apply(named('dry-good'));
  t.equal(real.code, 0, 'a dry run leaves no path claim behind');
});

t.test('warnings are printed by kubectl', async (t) => {
  const r = await apply(named('shared-quota', { spec: { quota: { identifier: 'test-identifier', limit: '1000' } } }));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, 'Warning: spec.quota.identifier: "test-identifier"');
});

t.test('a status-only update is allowed and keeps the hash; a spec change gets a new one', async (t) => {
  t.equal((await apply(named('status-api'))).code, 0);
  const before = (await getJson('status-api')).metadata.annotations[SPEC_HASH_ANNOTATION];
  const patch = await cp.kubectl(['patch', 'exposedapi', 'status-api', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ status: { apiStatus: { url: 'https://gw.example.com/status-api/v1' }, implementation: { ready: true } } })]);
  t.equal(patch.code, 0, patch.stderr);
  const after = await getJson('status-api');
  t.equal(after.metadata.annotations[SPEC_HASH_ANNOTATION], before, 'same hash');
  t.equal(after.status.apiStatus.url, 'https://gw.example.com/status-api/v1');
  const printed = await cp.kubectl(['get', 'exposedapi', 'status-api', '-n', ns]);
  t.match(printed.stdout, 'https://gw.example.com/status-api/v1', 'the printer column shows the URL');
  const specChange = await cp.kubectl(['patch', 'exposedapi', 'status-api', '-n', ns, '--type', 'merge', '-p', '{"spec":{"port":9090}}']);
  t.equal(specChange.code, 0, specChange.stderr);
  t.not((await getJson('status-api')).metadata.annotations[SPEC_HASH_ANNOTATION], before, 'a spec change is re-stamped');
  const badChange = await cp.kubectl(['patch', 'exposedapi', 'status-api', '-n', ns, '--type', 'merge', '-p', '{"spec":{"port":0}}']);
  t.not(badChange.code, 0, 'a bad spec change is denied');
});

t.test('deletion is never blocked by the webhook', async (t) => {
  t.equal((await apply(named('to-delete'))).code, 0);
  const del = await cp.kubectl(['delete', 'exposedapi', 'to-delete', '-n', ns, '--wait=false']);
  t.equal(del.code, 0, del.stderr);
  const deleting = await getJson('to-delete');
  t.ok(deleting.metadata.deletionTimestamp, 'marked for deletion; our finalizer holds it for the executor');
  const release = await cp.kubectl(['patch', 'exposedapi', 'to-delete', '-n', ns, '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
  t.equal(release.code, 0, release.stderr);
  t.equal(await getJson('to-delete'), undefined, 'gone once the finalizer is released');
});

t.test('v1beta3, v1beta4 and v1 objects are accepted and round-trip', async (t) => {
  const objs = [
    named('beta3', { apiVersion: 'oda.tmforum.org/v1beta3', spec: { specification: ['https://specs.example.com/a.json'], segment: undefined } }),
    named('beta4', { apiVersion: 'oda.tmforum.org/v1beta4', spec: { specification: [{ url: 'https://specs.example.com/b.json', version: 'v4' }], segment: undefined } }),
    named('v1-object', { spec: { specification: { url: 'https://specs.example.com/c.json', version: 'v4' } } }),
    named('azure-inline', { apiVersion: 'oda.tmforum.org/v1beta3', spec: { specification: YAML.stringify(swagger2()), segment: undefined } }),
  ];
  for (const obj of objs) {
    const r = await apply(obj);
    t.equal(r.code, 0, `${(obj as any).apiVersion} ${(obj as any).metadata.name}: ${r.stderr}`);
    for (const v of ['v1', 'v1beta4', 'v1beta3']) {
      const got = await getJson((obj as any).metadata.name, v);
      t.same(got.spec.specification, (obj as any).spec.specification, `${(obj as any).metadata.name} read as ${v}: same stored spec`);
      t.equal(got.apiVersion, `oda.tmforum.org/${v}`);
    }
  }
  const hashes = await Promise.all(['beta3', 'v1-object'].map(async (n) => (await getJson(n)).metadata.annotations[SPEC_HASH_ANNOTATION]));
  t.not(hashes[0], hashes[1]);
});

t.test('with the webhook down and failurePolicy Fail, kubectl shows a clear error', async (t) => {
  await hook.stop();
  const r = await apply(named('while-down'));
  t.not(r.code, 0);
  t.match(r.stderr, /failed calling webhook "mutate\.exposedapi-apim\.io".*(connection refused|connect)/s);
  t.equal(await getJson('while-down'), undefined);
});
