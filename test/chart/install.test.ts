// helm install / upgrade / uninstall against a real kube-apiserver: every object the chart renders is created and
// validated server-side (no kubelet runs the webhook pods here, so nothing waits for readiness), the generated CA
// survives an upgrade, and uninstall removes the release but keeps the CRD and the ExposedAPIs.
//
// Two planes, for two reasons:
// - the default install (CRD included, cluster-scoped names "exposedapi-apim") runs on a private plane: the shared
//   one already has the CRD, applied by other tests outside Helm, and deleting or owning it there would break them;
// - a namespaced install (crd.install=false, watchNamespaces = its own namespace, a release name of its own) runs on
//   the shared plane, and proves against the apiserver that its webhooks match that namespace and no other.
import t from 'tap';
import YAML from 'yaml';
import { installCrd } from '../e2e/webhook-in-cluster.ts';
import { exposedApi, REPO_DIR } from '../helpers/fixtures.ts';
import { usePrivateControlPlane, useControlPlane, type TestControlPlane } from '../control-plane/use-control-plane.ts';
import { CHART_DIR, helm, valuesFile, type Obj } from './helm.ts';
import { join } from 'node:path';

const APIM = { apim: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', serviceName: 'apim-1' } };

async function get(cp: TestControlPlane, args: string[]): Promise<Obj> {
  const r = await cp.kubectl(['get', ...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Obj;
}

async function exists(cp: TestControlPlane, args: string[]): Promise<boolean> {
  const r = await cp.kubectl(['get', ...args, '-o', 'name']);
  if (r.code !== 0 && !/NotFound|not found/.test(r.stderr)) throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr}`);
  return r.code === 0;
}

async function apply(cp: TestControlPlane, obj: object): Promise<{ code: number; stderr: string }> {
  return cp.kubectl(['create', '-f', '-'], { input: YAML.stringify(obj) });
}

async function helmOk(cp: TestControlPlane, args: string[]): Promise<string> {
  const r = await helm(args, { kubeconfigPath: cp.kubeconfigPath });
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

t.test('default install on a private plane: install, upgrade (same CA), uninstall (CRD and ExposedAPIs stay)', async (t) => {
  const cp = await usePrivateControlPlane(t);
  const ns = 'exposedapi-apim';
  const install = await helmOk(cp, ['install', 'exposedapi-apim', CHART_DIR, '-n', ns, '--create-namespace', '--values', valuesFile(APIM)]);
  t.match(install, /STATUS: deployed/);
  t.match(install, /WARNING: executor\.workloadIdentity\.clientId is not set/, 'NOTES.txt names what is missing');
  t.match(install, /WARNING: webhook\.networkPolicy\.from still holds the placeholder 192\.0\.2\.0\/24/, 'and the NetworkPolicy placeholder still in place');
  t.notMatch(install, /apim\.subscriptionId, apim\.resourceGroup/, 'no warning for APIM settings that are given');

  const namespaced = ['deployment/exposedapi-apim-webhook', 'service/exposedapi-apim-webhook', 'poddisruptionbudget/exposedapi-apim-webhook',
    'networkpolicy/exposedapi-apim-webhook', 'configmap/exposedapi-apim-config', 'secret/exposedapi-apim-webhook-tls',
    'serviceaccount/exposedapi-apim-webhook', 'serviceaccount/exposedapi-apim-executor', 'role/exposedapi-apim-dispatcher', 'rolebinding/exposedapi-apim-dispatcher'];
  const cluster = ['customresourcedefinition/exposedapis.oda.tmforum.org', 'mutatingwebhookconfiguration/exposedapi-apim', 'validatingwebhookconfiguration/exposedapi-apim',
    ...['webhook', 'dispatcher', 'executor'].flatMap((r) => [`clusterrole/exposedapi-apim-${r}`, `clusterrolebinding/exposedapi-apim-${r}`])];
  for (const o of namespaced) t.ok(await exists(cp, ['-n', ns, o]), `${o} created`);
  for (const o of cluster) t.ok(await exists(cp, [o]), `${o} created`);
  const crd = await get(cp, ['customresourcedefinition', 'exposedapis.oda.tmforum.org']);
  t.ok(crd['status'].conditions.some((c: Obj) => c.type === 'Established' && c.status === 'True'), 'the CRD is established');

  const secretBefore = (await get(cp, ['-n', ns, 'secret', 'exposedapi-apim-webhook-tls']))['data'];
  const caBundles = async () => Promise.all(['mutatingwebhookconfiguration', 'validatingwebhookconfiguration'].map(async (k) => (await get(cp, [k, 'exposedapi-apim']))['webhooks'][0].clientConfig.caBundle as string));
  t.same(await caBundles(), [secretBefore['ca.crt'], secretBefore['ca.crt']], 'both webhook configurations trust the Secret\'s CA');
  const checksum = async () => (await get(cp, ['-n', ns, 'deployment', 'exposedapi-apim-webhook']))['spec'].template.metadata.annotations['checksum/config'];
  const checksumBefore = await checksum();

  await t.test('the apiserver validates what the schema cannot: an invalid object fails the install', async (t) => {
    const broken = { ...APIM, crd: { install: false }, webhook: { podLabels: { 'not a label!': 'x' } } };
    const r = await helm(['install', 'broken', CHART_DIR, '-n', 'broken', '--create-namespace', '--values', valuesFile(broken)], { kubeconfigPath: cp.kubeconfigPath });
    t.not(r.code, 0, 'refused');
    t.match(r.stderr, /Deployment.*broken-exposedapi-apim-webhook.*is invalid.*not a label!/s, 'with the apiserver\'s field error');
    await helm(['uninstall', 'broken', '-n', 'broken'], { kubeconfigPath: cp.kubeconfigPath });
  });

  const upgrade = await helmOk(cp, ['upgrade', 'exposedapi-apim', CHART_DIR, '-n', ns, '--values', valuesFile({ ...APIM, logLevel: 'debug', webhook: { replicas: 3 } })]);
  t.match(upgrade, /REVISION: 2/);
  const secretAfter = (await get(cp, ['-n', ns, 'secret', 'exposedapi-apim-webhook-tls']))['data'];
  t.same(secretAfter, secretBefore, 'the upgrade kept the CA, the certificate and the key (read back with lookup)');
  t.same(await caBundles(), [secretBefore['ca.crt'], secretBefore['ca.crt']], 'and the webhook configurations still trust that CA');
  t.equal((await get(cp, ['-n', ns, 'configmap', 'exposedapi-apim-config']))['data'].LOG_LEVEL, 'debug', 'the new value is in the ConfigMap');
  t.equal((await get(cp, ['-n', ns, 'deployment', 'exposedapi-apim-webhook']))['spec'].replicas, 3);
  t.not(await checksum(), checksumBefore, 'the pods are rolled for the new configuration');

  // An ExposedAPI the release does not own (its namespace opts out of the webhook, which no pod serves here).
  const tenant = await cp.newNamespace(t, { labels: { 'exposedapi-apim.io/ignore': 'true' } });
  const created = await apply(cp, exposedApi({ metadata: { name: 'kept', namespace: tenant } }));
  t.equal(created.code, 0, `an ExposedAPI is created: ${created.stderr}`);

  const uninstall = await helmOk(cp, ['uninstall', 'exposedapi-apim', '-n', ns]);
  t.match(uninstall, /release "exposedapi-apim" uninstalled/);
  // Both CRDs carry crd.keep's resource policy: the ExposedAPI's and the ApimTarget's.
  t.match(uninstall, /These resources were kept due to the resource policy:(\s*\[CustomResourceDefinition\] \S+)*\s*\[CustomResourceDefinition\] exposedapis\.oda\.tmforum\.org/, 'Helm says it kept the ExposedAPI CRD');
  t.match(uninstall, /\[CustomResourceDefinition\] apimtargets\.exposedapi-apim\.io/, 'and the ApimTarget CRD');
  for (const o of namespaced) t.notOk(await exists(cp, ['-n', ns, o]), `${o} deleted`);
  for (const o of cluster.filter((c) => !c.startsWith('customresourcedefinition'))) t.notOk(await exists(cp, [o]), `${o} deleted`);
  t.ok(await exists(cp, ['customresourcedefinition/exposedapis.oda.tmforum.org']), 'the CRD is kept');
  t.ok(await exists(cp, ['-n', tenant, 'exposedapi/kept']), 'and so is the ExposedAPI');
});

t.test('namespaced install on the shared plane: the webhooks match the watched namespace and no other', async (t) => {
  const cp = await useControlPlane(t);
  // The CRD as every test on the shared plane installs it (server-side apply, idempotent): this release skips its own.
  await installCrd(cp, join(REPO_DIR, 'manifests/base/crd.yaml'));
  const ns = await cp.newNamespace(t);
  const other = await cp.newNamespace(t);
  const release = `chart-${ns.slice(-6)}`;
  const fullname = `${release}-exposedapi-apim`;
  const values = { ...APIM, crd: { install: false }, watchNamespaces: [ns] };
  t.teardown(() => helm(['uninstall', release, '-n', ns], { kubeconfigPath: cp.kubeconfigPath }));
  await helmOk(cp, ['install', release, CHART_DIR, '-n', ns, '--values', valuesFile(values)]);

  t.notOk(await exists(cp, [`clusterrolebinding/${fullname}-executor`]), 'no cluster-wide binding');
  for (const role of ['webhook', 'dispatcher', 'executor']) {
    const binding = await get(cp, ['-n', ns, 'rolebinding', `${fullname}-${role}-watched`]);
    t.same(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${fullname}-${role}` }, `${role}: its ClusterRole bound in the watched namespace`);
  }
  for (const [where, allowed] of [[ns, true], [other, false]] as const) {
    const r = await cp.kubectl(['auth', 'can-i', 'patch', 'exposedapis.oda.tmforum.org', '-n', where, `--as=system:serviceaccount:${ns}:${fullname}-executor`]);
    t.equal(r.code === 0, allowed, `the executor may ${allowed ? '' : 'not '}patch ExposedAPIs in ${where === ns ? 'the watched namespace' : 'another namespace'}`);
  }

  // No pod serves the webhook (failurePolicy Fail): a create it matches is refused, one it does not match passes.
  const inOther = await apply(cp, exposedApi({ metadata: { name: 'elsewhere', namespace: other } }));
  t.equal(inOther.code, 0, `another namespace is not sent to this release's webhooks: ${inOther.stderr}`);
  const inWatched = await apply(cp, exposedApi({ metadata: { name: 'watched', namespace: ns } }));
  t.not(inWatched.code, 0, 'the watched namespace is');
  t.match(inWatched.stderr, /failed calling webhook "mutate\.exposedapi-apim\.io"/);

  await helmOk(cp, ['uninstall', release, '-n', ns]);
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) t.notOk(await exists(cp, [`${kind}/${fullname}`]), `${kind} removed`);
  const afterUninstall = await apply(cp, exposedApi({ metadata: { name: 'watched', namespace: ns } }));
  t.equal(afterUninstall.code, 0, `after uninstall nothing intercepts the namespace: ${afterUninstall.stderr}`);
});
