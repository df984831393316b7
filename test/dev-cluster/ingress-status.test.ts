// The ingress load-balancer faker: Ingresses get status.loadBalancer.ingress[0] unless switched off, per namespace.
import t from 'tap';
import { CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type V1Ingress } from '@kubernetes/client-node';
import { INGRESS_ADDRESS_ANNOTATION, loadBalancerEntry, statusUpdate } from '../../dev-cluster/control-plane/ingress-status.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';

const cp = await useControlPlane(t);
const networking = cp.kubeConfig().makeApiClient(NetworkingV1Api);
const core = cp.kubeConfig().makeApiClient(CoreV1Api);

function ingress(name: string, className?: string): V1Ingress {
  return {
    metadata: { name },
    spec: {
      ...(className ? { ingressClassName: className } : {}),
      rules: [{ http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } }] } }],
    },
  };
}

const address = (namespace: string, name: string) => async () =>
  (await networking.readNamespacedIngress({ name, namespace })).status?.loadBalancer?.ingress?.[0];

t.test('address parsing: IP, hostname, off', async (t) => {
  t.same(loadBalancerEntry('127.0.0.1'), { ip: '127.0.0.1' });
  t.same(loadBalancerEntry('::1'), { ip: '::1' });
  t.same(loadBalancerEntry('lb.example.test'), { hostname: 'lb.example.test' });
  t.equal(loadBalancerEntry('off'), undefined);
});

t.test('which Ingresses get an update: class filter, existing status, deletion', async (t) => {
  const nginx = ingress('a', 'nginx');
  t.same(statusUpdate(nginx, '127.0.0.1', undefined), { ip: '127.0.0.1' }, 'no filter: every class');
  t.same(statusUpdate(nginx, '127.0.0.1', ['nginx', 'azure']), { ip: '127.0.0.1' }, 'a listed class');
  t.equal(statusUpdate(nginx, '127.0.0.1', ['azure']), undefined, 'another class is left alone');
  t.equal(statusUpdate(ingress('b'), '127.0.0.1', ['azure']), undefined, 'no class with a filter is left alone');
  const done = { ...nginx, status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } };
  t.equal(statusUpdate(done, '127.0.0.1', undefined), undefined, 'already has the address');
  t.same(statusUpdate(done, 'lb.example.test', undefined), { hostname: 'lb.example.test' }, 'a changed address is written');
  t.equal(statusUpdate(nginx, 'off', undefined), undefined, 'off');
  t.equal(statusUpdate({ ...nginx, metadata: { name: 'a', deletionTimestamp: new Date() } }, '127.0.0.1', undefined), undefined, 'being deleted');
});

t.test('by default an Ingress gets 127.0.0.1', async (t) => {
  const ns = await cp.newNamespace(t);
  await networking.createNamespacedIngress({ namespace: ns, body: ingress('api', 'nginx') });
  const lb = await waitFor('the ingress address', address(ns, 'api'), { timeoutMs: 10_000 });
  t.same({ ip: lb.ip, hostname: lb.hostname }, { ip: '127.0.0.1', hostname: undefined });
});

t.test('a namespace can ask for a hostname', async (t) => {
  const ns = await cp.newNamespace(t, { ingressAddress: 'lb.example.test' });
  await networking.createNamespacedIngress({ namespace: ns, body: ingress('api') });
  const lb = await waitFor('the ingress hostname', address(ns, 'api'), { timeoutMs: 10_000 });
  t.equal(lb.hostname, 'lb.example.test');
  t.notOk(lb.ip);
});

t.test('switched off, no address appears until the namespace switches it on', async (t) => {
  const ns = await cp.newNamespace(t, { ingressAddress: 'off' });
  await networking.createNamespacedIngress({ namespace: ns, body: ingress('api') });
  // Long enough for the faker to have acted had it been on (it reacts within milliseconds).
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(await address(ns, 'api')(), undefined, 'no address while off');
  await core.patchNamespace({ name: ns, body: { metadata: { annotations: { [INGRESS_ADDRESS_ANNOTATION]: '10.20.30.40' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const lb = await waitFor('the ingress address after switching on', address(ns, 'api'), { timeoutMs: 10_000 });
  t.equal(lb.ip, '10.20.30.40');
});
