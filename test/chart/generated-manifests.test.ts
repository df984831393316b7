// The kustomize install cannot drift from the chart: its files are generated from `helm template`
// (scripts/generate-manifests.ts) and must equal what the script produces now; the chart's CRD template is the CRD
// scripts/generate-crd.ts defines. And the one image reference reaches the Jobs in kustomize too: an overlay's
// `images:` override changes the Deployment and EXECUTOR_IMAGE alike.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { locateBinaries } from '../../dev-cluster/control-plane/binaries.ts';
import { generateManifests } from '../../scripts/generate-manifests.ts';
import { crdObject } from '../../scripts/generate-crd.ts';
import { targetCrdObject } from '../../scripts/generate-target-crd.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { find, renderChart, type Obj } from './helm.ts';

async function kustomize(dir: string): Promise<Obj[]> {
  const { kubectl } = await locateBinaries();
  const { stdout } = await promisify(execFile)(kubectl, ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 });
  return YAML.parseAllDocuments(stdout).map((d) => d.toJS() as Obj).filter(Boolean);
}

t.test('the committed kustomize files and the chart\'s CRD template are what scripts/generate-manifests.ts makes now', async (t) => {
  const files = generateManifests();
  t.ok(files.size >= 11, `${files.size} files`);
  for (const [path, text] of files) {
    t.equal(readFileSync(join(REPO_DIR, path), 'utf8'), text, `${path} is current (run: node scripts/generate-manifests.ts)`);
  }
});

t.test('the chart installs the CRD scripts/generate-crd.ts defines', async (t) => {
  const rendered = await renderChart({});
  const generated = crdObject() as Obj;
  const crd = find(rendered, 'CustomResourceDefinition', generated['metadata'].name);
  t.same(crd.spec, generated['spec'], 'same spec');
  const target = targetCrdObject() as Obj;
  t.same(find(rendered, 'CustomResourceDefinition', target['metadata'].name).spec, target['spec'], 'and the ApimTarget CRD scripts/generate-target-crd.ts defines');
});

t.test('kustomize builds the same objects as the chart, in the operator namespace', async (t) => {
  const built = await kustomize(join(REPO_DIR, 'manifests/base'));
  const chart = await renderChart({ certificates: { source: 'secret' } });
  const ids = (objs: Obj[]) => objs.map((o) => `${o['kind']}/${o['metadata'].name}`).sort();
  t.same(ids(built.filter((o) => o['kind'] !== 'Namespace')), ids(chart), 'the same kinds and names (the kustomization adds the Namespace)');
  for (const o of built) {
    if (['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].includes(o['kind'])) continue;
    t.equal(o['metadata'].namespace, 'exposedapi-apim', `${o['kind']}/${o['metadata'].name} in exposedapi-apim`);
  }
  for (const o of built) t.notOk(o['metadata'].labels?.['app.kubernetes.io/managed-by'], `${o['kind']}/${o['metadata'].name}: not labelled as Helm's`);
});

t.test('an overlay\'s images: override reaches the executor Jobs (EXECUTOR_IMAGE) as well as the Deployment', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-overlay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pinned = `registry.example.com/platform/exposedapi-apim@sha256:${'ab'.repeat(32)}`;
  for (const base of ['manifests/base', 'manifests/cert-manager']) {
    const overlay = join(dir, base.replace('/', '-'));
    mkdirSync(overlay);
    writeFileSync(join(overlay, 'kustomization.yaml'), YAML.stringify({
      resources: [relative(overlay, join(REPO_DIR, base))], // kustomize takes relative paths only
      images: [{ name: 'ghcr.io/exposedapi-apim/exposedapi-apim', newName: 'registry.example.com/platform/exposedapi-apim', digest: `sha256:${'ab'.repeat(32)}` }],
    }));
    const built = await kustomize(overlay);
    t.equal(find(built, 'Deployment').spec.template.spec.containers[0].image, pinned, `${base}: the Deployment`);
    t.equal(find(built, 'ConfigMap').data.EXECUTOR_IMAGE, pinned, `${base}: the Jobs`);
  }
});
