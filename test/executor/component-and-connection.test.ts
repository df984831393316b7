// Pure parts of the Kubernetes side: the parent Component's status entry patch, and how the executor finds the
// apiserver (in-cluster with the node agent's mapping, or a kubeconfig).
import t from 'tap';
import { componentPatch, parentComponent } from '../../executor/component-status.ts';
import { inClusterConnection, kubeconfigConnection, STANDARD_SERVICEACCOUNT_DIR } from '../../executor/in-cluster-config.ts';
import { renderKubeconfig } from '../../dev-cluster/control-plane/kubeconfig.ts';

t.test('the Component entry with the ExposedAPI\'s uid gets url and developerUI (not ready: the dispatcher\'s), guarded by a test op', async (t) => {
  const component = {
    status: {
      coreAPIs: [{ name: 'other', uid: 'u-other', url: 'x' }],
      managementAPIs: [{ name: 'metrics', uid: 'u-metrics' }],
      securityAPIs: [],
    },
  };
  t.same(componentPatch(component, 'u-metrics', { url: 'https://gw/m', ready: false }), [
    { op: 'test', path: '/status/managementAPIs/0/uid', value: 'u-metrics' },
    { op: 'add', path: '/status/managementAPIs/0/url', value: 'https://gw/m' },
  ]);
  t.same(componentPatch(component, 'u-other', { url: 'https://gw/o', developerUI: 'https://gw/o/docs', ready: true }), [
    { op: 'test', path: '/status/coreAPIs/0/uid', value: 'u-other' },
    { op: 'replace', path: '/status/coreAPIs/0/url', value: 'https://gw/o' },
    { op: 'add', path: '/status/coreAPIs/0/developerUI', value: 'https://gw/o/docs' },
  ]);
  t.equal(componentPatch(component, 'u-missing', { url: 'x', ready: true }), undefined, 'not listed (yet)');
  t.equal(componentPatch({}, 'u', { url: 'x', ready: true }), undefined);
});

t.test('the parent is an oda.tmforum.org Component owner', async (t) => {
  const meta = (refs: object[]) => ({ metadata: { ownerReferences: refs } }) as never;
  t.same(parentComponent(meta([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: '1' }, { apiVersion: 'oda.tmforum.org/v1', kind: 'Component', name: 'ctk', uid: '2', controller: true }]))?.name, 'ctk');
  t.equal(parentComponent(meta([{ apiVersion: 'example.com/v1', kind: 'Component', name: 'x', uid: '3' }])), undefined);
});

t.test('in-cluster: EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR first, else the standard mount', async (t) => {
  const files: Record<string, string> = {
    '/rootfs/sa/token': 'tok-mapped\n',
    '/rootfs/sa/ca.crt': 'CA-MAPPED',
    [`${STANDARD_SERVICEACCOUNT_DIR}/token`]: 'tok-standard',
    [`${STANDARD_SERVICEACCOUNT_DIR}/ca.crt`]: 'CA-STANDARD',
  };
  const read = (p: string) => {
    if (!(p in files)) throw new Error(`ENOENT ${p}`);
    return files[p]!;
  };
  const mapped = inClusterConnection({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '6443', EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR: '/rootfs/sa' }, read);
  t.same([mapped.server, mapped.token, mapped.caPem], ['https://127.0.0.1:6443', 'tok-mapped', 'CA-MAPPED']);
  const standard = inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, read);
  t.same([standard.server, standard.token], ['https://[fd00::1]:443', 'tok-standard']);
  t.throws(() => inClusterConnection({}, read), /KUBERNETES_SERVICE_HOST/);
});

t.test('a kubeconfig with an inline token and CA (what cp.kubeconfigFileFor writes)', async (t) => {
  const text = renderKubeconfig({ server: 'https://127.0.0.1:1234', caPem: 'CA', user: 'system:serviceaccount:ns:sa', token: 'tok' });
  const c = await kubeconfigConnection('/k', () => text);
  t.same([c.server, c.token, c.caPem], ['https://127.0.0.1:1234', 'tok', 'CA']);
});
