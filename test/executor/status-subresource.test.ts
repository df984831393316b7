// An ExposedAPI CRD with a status subresource (not the ODA one, which has none): the executor finds it by discovery
// and writes status through /status — through the main object the apiserver would silently drop it. A private plane,
// because the CRD differs from the one every other test uses.
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { usePrivateControlPlane } from '../control-plane/use-control-plane.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { condition, executorBench } from './harness.ts';

t.test('status goes through /status when the CRD has that subresource', async (t) => {
  const plane = await usePrivateControlPlane(t);
  const crd = YAML.parse(await readFile(join(REPO_DIR, 'manifests/base/crd.yaml'), 'utf8')) as { spec: { versions: Record<string, unknown>[] } };
  for (const v of crd.spec.versions) v['subresources'] = { status: {} };
  const dir = await mkdtemp(join(tmpdir(), 'crd-status-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const crdFile = join(dir, 'crd.yaml');
  await writeFile(crdFile, YAML.stringify(crd));
  const b = await executorBench(t, { plane, crdFile });
  const p = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'with-status' },
    spec: { name: 'metrics', apiType: 'prometheus', implementation: 'sm', path: '/with-status/metrics', port: 4000 },
  });
  const r = await b.execute('apply', p.name, p.hash);
  t.equal(r.code, 0, r.stdout);
  const obj = await b.get(p.name);
  t.equal(obj?.['status']?.['appliedSpecHash'], p.hash, 'written through /status');
  t.equal(condition(obj, 'Published')?.['status'], 'True');
});
