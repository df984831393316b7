// The harness itself: the plane is up quickly, kubectl talks to it, and namespaces plus ServiceAccount tokens give
// tests real isolation under RBAC.
import t from 'tap';
import { AuthenticationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';

const cp = await useControlPlane(t);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);

t.test('the control plane is up, reports when it became ready, with its own node', async (t) => {
  // How fast is a benchmark's question (bench:control-plane), not a test's: a loaded CI machine took 15.8 s.
  t.comment(`start-up timings (ms from supervisor start): ${JSON.stringify(cp.state.timings)}`);
  t.ok(Number.isFinite(cp.state.timings['ready']) && cp.state.timings['ready']! > 0, `ready recorded (${cp.state.timings['ready']} ms)`);
  t.ok(existsSync(cp.kubeconfigPath), 'kubeconfig written');
  const readyz = await cp.kubectl(['get', '--raw', '/readyz']);
  t.equal(readyz.stdout.trim(), 'ok', readyz.stderr);
  const node = await core.readNode({ name: cp.nodeName });
  t.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  t.ok(node.status?.allocatable?.['cpu'] && node.status.allocatable['memory'] && node.status.allocatable['pods'], 'allocatable cpu/memory/pods');
  t.same(node.spec?.taints ?? [], [], 'no not-ready taint left');
});

t.test('kubectl is the matching version and can apply and get', async (t) => {
  const version = await cp.kubectl(['version', '-o', 'json']);
  t.equal(version.code, 0, version.stderr);
  const v = JSON.parse(version.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
  t.equal(v.serverVersion.gitVersion, v.clientVersion.gitVersion, `client and server are both ${v.serverVersion.gitVersion}`);
  const ns = await cp.newNamespace(t);
  const apply = await cp.kubectl(['apply', '-n', ns, '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {colour: blue}\n' });
  t.equal(apply.code, 0, apply.stderr);
  t.match(apply.stdout, 'configmap/settings created');
  const get = await cp.kubectl(['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.colour}']);
  t.equal(get.stdout, 'blue');
  const missing = await cp.kubectl(['get', 'configmap', 'nope', '-n', ns]);
  t.not(missing.code, 0, 'a failing kubectl reports its exit code');
  t.match(missing.stderr, /not found/);
});

t.test('namespaces isolate tests; a ServiceAccount token carries that ServiceAccount\'s RBAC only', async (t) => {
  const a = await cp.newNamespace(t);
  const b = await cp.newNamespace(t);
  t.not(a, b);
  await core.createNamespacedConfigMap({ namespace: a, body: { metadata: { name: 'only-in-a' } } });
  await core.createNamespacedConfigMap({ namespace: b, body: { metadata: { name: 'only-in-b' } } });
  await core.createNamespacedServiceAccount({ namespace: a, body: { metadata: { name: 'reader' } } });
  const rbac = cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: a, body: { metadata: { name: 'read-configmaps' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] } });
  await rbac.createNamespacedRoleBinding({
    namespace: a,
    body: {
      metadata: { name: 'reader-reads-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: a }],
    },
  });

  const asReader = await cp.kubeConfigFor(a, 'reader');
  const review = await asReader.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  t.equal(review.status?.userInfo?.username, `system:serviceaccount:${a}:reader`);
  const readerCore = asReader.makeApiClient(CoreV1Api);
  // RBAC changes reach the authorizer's cache within moments.
  const names = await waitFor('the RoleBinding to take effect', async () =>
    (await readerCore.listNamespacedConfigMap({ namespace: a })).items.map((c) => c.metadata?.name));
  t.ok(names.includes('only-in-a'));
  t.notOk(names.includes('only-in-b'), 'objects of another namespace do not leak in');
  const forbidden = await readerCore.listNamespacedConfigMap({ namespace: b }).then(() => 0, (err: { code?: number }) => err.code);
  t.equal(forbidden, 403, 'the ServiceAccount cannot read the other namespace');
  const secrets = await readerCore.listNamespacedSecret({ namespace: a }).then(() => 0, (err: { code?: number }) => err.code);
  t.equal(secrets, 403, 'nor anything its Role does not grant');

  const kubeconfig = await cp.kubeconfigFileFor(a, 'reader');
  const whoami = await cp.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfigPath: kubeconfig });
  t.equal(whoami.stdout, `system:serviceaccount:${a}:reader`, whoami.stderr);
  const token = await cp.tokenFor(a, 'reader', { audiences: ['exposedapi-apim-test'], expirationSeconds: 600 });
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud: string[]; sub: string };
  t.same(claims.aud, ['exposedapi-apim-test']);
  t.equal(claims.sub, `system:serviceaccount:${a}:reader`);
});

t.test('newNamespace deletes its namespace when the test ends, and the namespace controller finishes the job', async (t) => {
  let name = '';
  await t.test('inner', async (t) => {
    name = await cp.newNamespace(t);
    await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'content' } } });
    t.pass(`created ${name}`);
  });
  await waitFor(`namespace ${name} to be gone`, async () =>
    core.readNamespace({ name }).then(() => undefined, (err: { code?: number }) => (err.code === 404 ? true : undefined)));
  t.pass(`namespace ${name} deleted`);
});
