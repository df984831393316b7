// The webhook never wedges metadata operations (issue 9, points 2 and 3), through the real kube-apiserver and kubectl,
// as a tenant: a ServiceAccount with rights on exposedapis in its namespaces only. The webhooks' matchConditions
// (manifests/base/webhook-configurations.yaml) send only creates and changes to what is applied to the webhook, so
// with the webhook process STOPPED — registration kept, failurePolicy Fail — finalizer removal, detach-on-delete,
// labels, annotations and status writes still work, namespace deletion finishes, and every spec change is refused.
// With the webhook up, a spec change on an object being deleted is denied with the reason.
import t, { type Test } from 'tap';
import YAML from 'yaml';
import { DETACH_ANNOTATION, FINALIZER, RECONCILE_AT_ANNOTATION, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { startWebhook, type RunningWebhook } from '../../webhook/run-webhook.ts';
import type { KubectlResult } from '../../dev-cluster/control-plane/kubectl.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { exposedApi, referenceText, TMF620_V4 } from '../helpers/fixtures.ts';
import { applyManifest, installWebhook } from './webhook-in-cluster.ts';

const cp = await useControlPlane(t);
const WEBHOOK_ENV = { REMOTE_SPEC_CHECK: 'off' };
const hook = await installWebhook(cp, t, { env: WEBHOOK_ENV });
const ns = hook.namespace;
const selector = JSON.parse((await cp.kubectl(['get', 'namespace', ns, '-o', 'json'])).stdout).metadata.labels as Record<string, string>;
const e2eLabel = { 'exposedapi-apim.io/e2e': selector['exposedapi-apim.io/e2e']! };
const unique = Math.random().toString(36).slice(2, 8);

// The tenant: may do anything to ExposedAPIs in the namespaces it is given, nothing else.
await applyManifest(cp, [
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tenant', namespace: ns } },
]);
async function grantTenant(namespace: string): Promise<void> {
  await applyManifest(cp, [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'exposedapi-editor', namespace },
      rules: [{ apiGroups: ['oda.tmforum.org'], resources: ['exposedapis'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'tenant-exposedapi-editor', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'exposedapi-editor' },
      subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: ns }],
    },
  ]);
}
await grantTenant(ns);
const tenantKubeconfig = await cp.kubeconfigFileFor(ns, 'tenant');

/** kubectl as the tenant, in `namespace` (default: the webhook's test namespace). */
const tk = (args: string[], o: { input?: string; namespace?: string } = {}) =>
  cp.kubectl(['-n', o.namespace ?? ns, ...args], { kubeconfigPath: tenantKubeconfig, ...(o.input !== undefined ? { input: o.input } : {}) });
const named = (name: string, patch: Record<string, any> = {}) =>
  exposedApi({ ...patch, metadata: { name, namespace: undefined, ...(patch['metadata'] ?? {}) }, spec: { path: `/${name}-${unique}/v1`, ...(patch['spec'] ?? {}) } });
const create = async (obj: object, namespace = ns, extra: string[] = []) => {
  const r = await tk(['apply', ...extra, '-f', '-'], { input: YAML.stringify(obj), namespace });
  if (r.code !== 0) throw new Error(`creating ${(obj as any).metadata.name}: ${r.stderr}`);
};
const getJson = async (name: string, namespace = ns) => {
  const r = await cp.kubectl(['get', 'exposedapi', name, '-n', namespace, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
};
const mergePatch = (name: string, patch: object, namespace = ns) => tk(['patch', 'exposedapi', name, '--type=merge', '-p', JSON.stringify(patch)], { namespace });
const ok = (t: Test, r: KubectlResult, what: string) => t.equal(r.code, 0, `${what}: ${r.stderr.trim() || 'succeeds'}`);
/** Refused because the apiserver had to call the stopped webhook (not by a CEL error, not by RBAC). */
const refusedByDownWebhook = (t: Test, r: KubectlResult, what: string) => {
  t.not(r.code, 0, `${what}: refused`);
  t.match(r.stderr, /failed calling webhook "(mutate|validate)\.exposedapi-apim\.io".*connect/s, `${what}: because the webhook is down`);
};
const updatesSeen = async (webhook: RunningWebhook) =>
  (await webhook.metrics.reviews.get()).values.filter((v) => v.labels['operation'] === 'UPDATE').reduce((n, v) => n + v.value, 0);

// Objects for the webhook-down tests, created while it is up.
await create(named('live'));
await create(named('big', { spec: { specification: referenceText(TMF620_V4) } }), ns, ['--server-side']);
// Near etcd's object size limit, as 60,000 small objects in a field ODA lets through (the spec keeps unknown fields):
// comparing that spec must stay within the apiserver's CEL cost budget, or every update of the object would fail.
// (Slow: the apiserver takes about 10 s per write of such an object, with or without matchConditions.)
const wideCreate = await tk(['create', '-f', '-'], { input: JSON.stringify(named('wide', { spec: { notes: Array.from({ length: 60_000 }, (_, i) => ({ k: i, v: 'x' })) } })) });
if (wideCreate.code !== 0) throw new Error(wideCreate.stderr);
await create(named('to-release'));
await create(named('to-detach'));
await create(named('frozen'));
// An object the webhook never saw (its namespace was not selected yet): no annotations map, no finalizers, so the
// conditions' has()/`in` guards are exercised on absent maps.
const unstamped = await cp.newNamespace(t);
await grantTenant(unstamped);
// `kubectl create`, not apply: apply would add its last-applied annotation.
const bareCreate = await tk(['create', '-f', '-'], { input: YAML.stringify(named('unstamped')), namespace: unstamped });
if (bareCreate.code !== 0) throw new Error(bareCreate.stderr);
const selected = await cp.kubectl(['label', 'namespace', unstamped, `exposedapi-apim.io/e2e=${e2eLabel['exposedapi-apim.io/e2e']}`]);
if (selected.code !== 0) throw new Error(selected.stderr);
// A namespace to delete while the webhook is down.
const doomed = await cp.newNamespace(t, { labels: e2eLabel });
await grantTenant(doomed);
await create(named('in-doomed-namespace'), doomed);

t.test('the tenant has namespace rights on exposedapis only', async (t) => {
  t.equal((await tk(['auth', 'can-i', 'patch', 'exposedapis.oda.tmforum.org'])).stdout.trim(), 'yes');
  t.equal((await tk(['auth', 'can-i', 'patch', 'exposedapis.oda.tmforum.org', '-n', 'default'])).stdout.trim(), 'no');
  t.equal((await tk(['auth', 'can-i', 'delete', 'namespaces'])).stdout.trim(), 'no');
});

t.test('webhook up: only creates and changes to what is applied reach it', async (t) => {
  await create(named('counted', { metadata: { annotations: { [RECONCILE_AT_ANNOTATION]: '' } } }));
  const seen = () => updatesSeen(hook.webhook);
  const before = await seen();
  ok(t, await tk(['label', 'exposedapi', 'counted', 'team=a']), 'label');
  ok(t, await tk(['annotate', 'exposedapi', 'counted', 'note=x']), 'annotation');
  ok(t, await tk(['annotate', 'exposedapi', 'counted', `${RECONCILE_AT_ANNOTATION}-`]), 'empty reconcile-at removed (the same reconcile-at)');
  ok(t, await mergePatch('counted', { status: { apiStatus: { url: 'https://gw.example.com/counted' } } }), 'status write');
  t.equal(await seen(), before, 'none of them was sent to the webhook');
  ok(t, await mergePatch('counted', { spec: { port: 9090 } }), 'spec change');
  t.equal(await seen(), before + 2, 'a spec change is sent to both webhooks');
  ok(t, await tk(['annotate', 'exposedapi', 'counted', `${RECONCILE_AT_ANNOTATION}=2026-11-21T10:00:00Z`]), 'reconcile-at set');
  t.equal(await seen(), before + 4, 'so is a new reconcile-at');
});

t.test('webhook up: a replace that drops the stamp is stamped again (nothing relied on it is lost)', async (t) => {
  await create(named('replaced'));
  const stored = await getJson('replaced');
  const hash = stored.metadata.annotations[SPEC_HASH_ANNOTATION];
  const manifest = structuredClone(stored);
  delete manifest.metadata.annotations;
  delete manifest.metadata.finalizers;
  manifest.metadata.labels = { team: 'b' };
  ok(t, await tk(['replace', '-f', '-'], { input: JSON.stringify(manifest) }), 'replace without the stamp');
  const after = await getJson('replaced');
  t.equal(after.metadata.annotations?.[SPEC_HASH_ANNOTATION], hash, 'the same spec hash');
  t.same(after.metadata.finalizers, [FINALIZER], 'the finalizer is back, so a deletion still runs the delete Job');
  t.equal(after.metadata.labels.team, 'b');
});

t.test('the webhook process stops; its registration stays (failurePolicy Fail)', async (t) => {
  await hook.stop();
  t.ok((await cp.kubectl(['get', 'validatingwebhookconfigurations', '-o', 'name'])).stdout.includes('exposedapi-apim'), 'registered');
});

t.test('webhook down: every create and spec change is refused (fail closed)', async (t) => {
  const bare = (await getJson('unstamped', unstamped)).metadata;
  t.notOk(bare.annotations ?? bare.finalizers, 'an object the webhook never saw: no annotations map, no finalizers');
  refusedByDownWebhook(t, await tk(['apply', '-f', '-'], { input: YAML.stringify(named('while-down')) }), 'create');
  refusedByDownWebhook(t, await mergePatch('live', { spec: { port: 9091 } }), 'spec change');
  refusedByDownWebhook(t, await mergePatch('live', { spec: { apim: { apiId: 'payments-prod' } } }), 'spec.apim.apiId change');
  refusedByDownWebhook(t, await tk(['annotate', 'exposedapi', 'live', `${RECONCILE_AT_ANNOTATION}=now`]), 'reconcile-at set');
  refusedByDownWebhook(t, await mergePatch('big', { spec: { port: 9091 } }), 'spec change of a 350 KB inline document');
  refusedByDownWebhook(t, await mergePatch('unstamped', { spec: { port: 9091 } }, unstamped), 'spec change of an object without annotations');
  refusedByDownWebhook(t, await tk(['annotate', 'exposedapi', 'unstamped', `${RECONCILE_AT_ANNOTATION}=now`], { namespace: unstamped }), 'reconcile-at added to an object without annotations');
  t.equal((await getJson('live')).spec.port, 8080, 'nothing changed');
});

t.test('webhook down: labels, annotations, detach-on-delete and status writes work', async (t) => {
  const hash = (await getJson('live')).metadata.annotations[SPEC_HASH_ANNOTATION];
  ok(t, await tk(['label', 'exposedapi', 'live', 'team=a']), 'label added');
  ok(t, await tk(['label', 'exposedapi', 'live', 'team-']), 'label removed');
  ok(t, await tk(['annotate', 'exposedapi', 'live', `${DETACH_ANNOTATION}=true`]), 'detach-on-delete');
  ok(t, await tk(['annotate', 'exposedapi', 'live', 'note=x']), 'another annotation');
  ok(t, await mergePatch('live', { status: { deploymentStatus: 'Deployed', apiStatus: { url: 'https://gw.example.com/live' } } }), 'status merge patch');
  ok(t, await tk(['label', 'exposedapi', 'big', 'team=a']), 'label on a 350 KB inline document (the CEL comparison stays within its cost budget)');
  ok(t, await mergePatch('big', { status: { deploymentStatus: 'Deployed' } }), 'status on a 350 KB inline document');
  ok(t, await tk(['label', 'exposedapi', 'wide', 'team=a']), 'label on a 1.2 MB spec of 60,000 objects');
  for (const [what, args] of [['label', ['label', 'exposedapi', 'unstamped', 'team=a']], ['annotation', ['annotate', 'exposedapi', 'unstamped', 'note=x']]] as const) {
    ok(t, await tk([...args], { namespace: unstamped }), `${what} on an object that had no annotations map`);
  }
  ok(t, await mergePatch('unstamped', { status: { deploymentStatus: 'Deployed' } }, unstamped), 'status on an object without finalizers');
  const stored = await getJson('live');
  t.equal(stored.metadata.annotations[DETACH_ANNOTATION], 'true');
  t.equal(stored.status.apiStatus.url, 'https://gw.example.com/live');
  t.equal(stored.metadata.annotations[SPEC_HASH_ANNOTATION], hash, 'the stamp is untouched');
  t.same(stored.metadata.finalizers, [FINALIZER]);
});

t.test('webhook down: client-side and server-side apply of the same spec with a new label work and keep the stamp', async (t) => {
  const hash = (await getJson('live')).metadata.annotations[SPEC_HASH_ANNOTATION];
  ok(t, await tk(['apply', '-f', '-'], { input: YAML.stringify(named('live', { metadata: { labels: { via: 'client-side' } } })) }), 'client-side apply');
  ok(t, await tk(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: YAML.stringify(named('live', { metadata: { labels: { via: 'server-side' } } })) }), 'server-side apply');
  const stored = await getJson('live');
  t.equal(stored.metadata.labels.via, 'server-side');
  t.equal(stored.metadata.annotations[SPEC_HASH_ANNOTATION], hash, 'spec hash kept');
  t.same(stored.metadata.finalizers, [FINALIZER], 'finalizer kept');
});

t.test('webhook down: losing the stamp of a live object is refused (the mutating webhook would restore it)', async (t) => {
  refusedByDownWebhook(t, await tk(['patch', 'exposedapi', 'live', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']), 'finalizer removed from a live object');
  refusedByDownWebhook(t, await tk(['annotate', 'exposedapi', 'live', '--overwrite', `${SPEC_HASH_ANNOTATION}=${'0'.repeat(64)}`]), 'forged spec hash');
  refusedByDownWebhook(t, await tk(['annotate', 'exposedapi', 'live', `${SPEC_HASH_ANNOTATION}-`]), 'spec hash removed');
});

t.test('webhook down: a deletion can be finished by removing the finalizer', async (t) => {
  ok(t, await tk(['delete', 'exposedapi', 'to-release', '--wait=false']), 'delete');
  t.ok((await getJson('to-release')).metadata.deletionTimestamp, 'held by our finalizer');
  refusedByDownWebhook(t, await mergePatch('to-release', { spec: { port: 9091 } }), 'spec change while being deleted');
  ok(t, await tk(['label', 'exposedapi', 'to-release', 'team=a']), 'label while being deleted');
  ok(t, await mergePatch('to-release', { status: { deploymentStatus: 'Deleting' } }), 'status while being deleted');
  ok(t, await tk(['patch', 'exposedapi', 'to-release', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']), 'finalizer removed');
  await waitFor('to-release to be gone', async () => ((await getJson('to-release')) === undefined ? true : undefined), { timeoutMs: 10_000 });
  t.pass('the object is gone');
});

t.test('webhook down: detach-on-delete can be set on an object being deleted', async (t) => {
  ok(t, await tk(['delete', 'exposedapi', 'to-detach', '--wait=false']), 'delete');
  ok(t, await tk(['annotate', 'exposedapi', 'to-detach', `${DETACH_ANNOTATION}=true`]), 'detach-on-delete');
  t.equal((await getJson('to-detach')).metadata.annotations[DETACH_ANNOTATION], 'true', 'the dispatcher will release it without touching APIM');
});

t.test('webhook down: a namespace holding an ExposedAPI with our finalizer is deleted once the finalizer is removed', async (t) => {
  ok(t, await cp.kubectl(['delete', 'namespace', doomed, '--wait=false']), 'namespace delete');
  await waitFor('the namespace controller to delete the ExposedAPI', async () => ((await getJson('in-doomed-namespace', doomed))?.metadata.deletionTimestamp ? true : undefined), { timeoutMs: 30_000 });
  // As the platform admin: the namespace controller may already have deleted the tenant's RoleBinding. Admission
  // applies to the admin just the same.
  ok(t, await cp.kubectl(['patch', 'exposedapi', 'in-doomed-namespace', '-n', doomed, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']), 'finalizer removed');
  await waitFor(`namespace ${doomed} to be gone`, async () => ((await cp.kubectl(['get', 'namespace', doomed])).code !== 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });
  t.pass('the namespace is gone');
});

t.test('webhook up again: a spec change on an object being deleted is denied, saying why', async (t) => {
  // A new webhook process on the same address, as a restarted Deployment would be; the registration never changed.
  const parsed = readWebhookConfig({
    WEBHOOK_HOST: '127.0.0.1', WEBHOOK_PORT: String(hook.webhook.port), TLS_CERT_FILE: hook.tls.certFile, TLS_KEY_FILE: hook.tls.keyFile, LOG_LEVEL: 'warn', ...WEBHOOK_ENV,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const webhook = await startWebhook(parsed.config, { kubeConfig: await cp.kubeConfigFor(ns, 'exposedapi-apim-webhook') });
  t.teardown(() => webhook.close());
  await waitFor('the restarted webhook\'s ExposedAPI watch to sync', async () => (webhook.informer?.isSynced ? true : undefined), { timeoutMs: 20_000 });

  ok(t, await tk(['delete', 'exposedapi', 'frozen', '--wait=false']), 'delete');
  const r = await mergePatch('frozen', { spec: { apim: { apiId: 'payments-prod' } } });
  t.not(r.code, 0, 'spec change denied');
  t.match(r.stderr, 'The ExposedAPI "frozen" is invalid');
  t.match(r.stderr, 'spec: Forbidden: may not be changed while the ExposedAPI is being deleted');
  t.match(r.stderr, 'the delete Job removes from APIM what was applied, and a changed spec would point it elsewhere');
  t.match(r.stderr, `kubectl annotate exposedapi frozen -n ${ns} ${DETACH_ANNOTATION}=true`);
  const rc = await tk(['annotate', 'exposedapi', 'frozen', `${RECONCILE_AT_ANNOTATION}=now`]);
  t.match(rc.stderr, `metadata.annotations[${RECONCILE_AT_ANNOTATION}]: Forbidden: may not be changed while the ExposedAPI is being deleted`, 'reconcile-at denied too');
  t.notOk((await getJson('frozen')).spec.apim, 'the spec is what was applied');

  ok(t, await tk(['label', 'exposedapi', 'frozen', 'team=a']), 'label still fine');
  ok(t, await tk(['patch', 'exposedapi', 'to-detach', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']), 'the deletion started while the webhook was down can be finished');
  ok(t, await tk(['patch', 'exposedapi', 'frozen', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']), 'finalizer removed');
  await waitFor('frozen to be gone', async () => ((await getJson('frozen')) === undefined ? true : undefined), { timeoutMs: 10_000 });
});
