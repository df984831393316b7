// executor/route-manifests.ts: the Ingress, VirtualService and HTTPRoute objects (golden), route naming, the backend
// URL APIM calls, and the merge patch that brings an existing route in line.
import t from 'tap';
import { httpRouteFor, ingressAddress, ingressFor, isOurRoute, routeBackendUrl, routeName, virtualServiceFor, type RouteInput } from '../../executor/route-manifests.ts';
import { routePatch } from '../../executor/route-sync.ts';

const input: RouteInput = {
  namespace: 'components',
  name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4',
  uid: '6f1c2d3e-0000-4000-8000-000000000001',
  ownerApiVersion: 'oda.tmforum.org/v1',
  path: '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4',
  implementation: 'ctk-prodcatapi',
  port: 8080,
};

const metadata = {
  name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4-apim',
  namespace: 'components',
  labels: { 'app.kubernetes.io/managed-by': 'exposedapi-apim' },
  annotations: { 'exposedapi-apim.io/exposedapi': 'components/ctk-productcatalogmanagement-productcatalogmanagement-v4' },
  ownerReferences: [{ apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI', name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4', uid: '6f1c2d3e-0000-4000-8000-000000000001', controller: true }],
};

t.test('Ingress', async (t) => {
  t.same(ingressFor(input, { ingressClass: 'nginx-internal' }), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata,
    spec: {
      ingressClassName: 'nginx-internal',
      rules: [{ http: { paths: [{ path: input.path, pathType: 'Prefix', backend: { service: { name: 'ctk-prodcatapi', port: { number: 8080 } } } }] } }],
    },
  });
  const hosted = ingressFor(input, { host: 'apis.internal.example.com' }) as { spec: Record<string, any> };
  t.notOk('ingressClassName' in hosted.spec, 'no class: the cluster default');
  t.equal(hosted.spec['rules'][0].host, 'apis.internal.example.com');
});

t.test('Istio VirtualService', async (t) => {
  t.same(virtualServiceFor(input, { gateway: { namespace: 'istio-ingress', name: 'internal' } }), {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata,
    spec: {
      hosts: ['*'],
      gateways: ['istio-ingress/internal'],
      http: [{
        name: 'exposedapi',
        match: [{ uri: { exact: input.path } }, { uri: { prefix: `${input.path}/` } }],
        route: [{ destination: { host: 'ctk-prodcatapi.components.svc.cluster.local', port: { number: 8080 } } }],
      }],
    },
  });
  t.throws(() => virtualServiceFor(input, {}), /ROUTE_GATEWAY/);
});

t.test('Gateway API HTTPRoute', async (t) => {
  t.same(httpRouteFor(input, { gateway: { namespace: 'gateways', name: 'internal' }, host: 'apis.internal.example.com' }), {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata,
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gateways', name: 'internal' }],
      hostnames: ['apis.internal.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: input.path } }], backendRefs: [{ name: 'ctk-prodcatapi', port: 8080 }] }],
    },
  });
});

t.test('names fit a DNS subdomain', async (t) => {
  t.equal(routeName('pets'), 'pets-apim');
  const long = routeName('x'.repeat(253));
  t.ok(long.length <= 253);
  t.match(long, /^x+-[0-9a-f]{8}-apim$/);
});

t.test('backend URL: base URL, host, or the load-balancer address', async (t) => {
  t.equal(routeBackendUrl({ scheme: 'http' }, '/a/b', '10.0.0.7'), 'http://10.0.0.7/a/b');
  t.equal(routeBackendUrl({ scheme: 'https' }, '/a', 'lb.example.com'), 'https://lb.example.com/a');
  t.equal(routeBackendUrl({ scheme: 'http' }, '/a', 'fd00::7'), 'http://[fd00::7]/a');
  t.equal(routeBackendUrl({ scheme: 'http', host: 'apis.internal' }, '/a', '10.0.0.7'), 'http://apis.internal/a');
  t.equal(routeBackendUrl({ scheme: 'http', baseUrl: 'https://gw.internal:8443' }, '/a', '10.0.0.7'), 'https://gw.internal:8443/a');
  t.throws(() => routeBackendUrl({ scheme: 'http' }, '/a'), /no load-balancer address/);
  t.equal(ingressAddress({ status: { loadBalancer: { ingress: [{ ip: '10.1.2.3' }] } } }), '10.1.2.3');
  t.equal(ingressAddress({ status: { loadBalancer: { ingress: [{ hostname: 'x.elb.example' }] } } }), 'x.elb.example');
  t.equal(ingressAddress({ status: { loadBalancer: {} } }), undefined);
});

t.test('ownership and patches', async (t) => {
  const desired = ingressFor(input, { ingressClass: 'nginx' }) as Record<string, any>;
  t.ok(isOurRoute(desired, input.uid));
  t.notOk(isOurRoute({ metadata: { ownerReferences: [{ uid: 'someone-else' }] } }, input.uid));
  t.notOk(isOurRoute({ metadata: {} }, input.uid));
  const stored = structuredClone(desired);
  stored['metadata'].labels['team'] = 'kept';
  stored['status'] = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  t.equal(routePatch(stored, desired), undefined, 'an identical route is not patched (extra labels and status do not count)');
  const drifted = structuredClone(stored);
  drifted['spec'].rules[0].http.paths[0].backend.service.port.number = 9090;
  drifted['spec'].tls = [{ hosts: ['x'] }];
  const patch = routePatch(drifted, desired) as Record<string, any>;
  t.same(patch['spec'].rules, desired['spec'].rules, 'the rules are restored');
  t.equal(patch['spec'].tls, null, 'keys we never set are removed');
  t.same(patch['metadata'].ownerReferences, desired['metadata'].ownerReferences);
});
