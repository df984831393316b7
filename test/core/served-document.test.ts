// core/served-document.ts: which specification URLs name the ExposedAPI's own implementation Service, and which of
// its endpoints a served document may be read from. Hostile cases first-class: other namespaces and Services, IP
// literals, credentials, names that merely look like the Service, hand-written EndpointSlices.
import t from 'tap';
import { classifySpecUrl, ENDPOINTSLICE_CONTROLLER, resolveServedEndpoints, type SpecUrlTarget } from '../../core/served-document.ts';

const scope = { namespace: 'team-a', service: 'catalog' };
type Kind = SpecUrlTarget['kind'];

const urls: { url: string; kind: Kind; port?: number; https?: boolean; reason?: RegExp; note: string }[] = [
  { url: 'http://catalog/v3/api-docs', kind: 'implementation', port: 80, note: 'the bare Service name (the object\'s namespace, not the fetching pod\'s)' },
  { url: 'http://catalog:8080/v3/api-docs', kind: 'implementation', port: 8080, note: 'with a port' },
  { url: 'http://catalog.team-a:8080/v3/api-docs', kind: 'implementation', port: 8080, note: '<svc>.<ns>' },
  { url: 'http://catalog.team-a.svc:8080/v3/api-docs', kind: 'implementation', port: 8080, note: '<svc>.<ns>.svc' },
  { url: 'http://catalog.team-a.svc.cluster.local:8080/v3/api-docs', kind: 'implementation', port: 8080, note: 'the full cluster name' },
  { url: 'http://CATALOG.Team-A.SVC.cluster.local.:8080/x', kind: 'implementation', port: 8080, note: 'any case, a trailing dot' },
  { url: 'https://catalog.team-a.svc/x', kind: 'implementation', port: 443, https: true, note: 'https: 443 by default' },
  { url: 'http://catalog.team-a.svc:80/x', kind: 'implementation', port: 80, note: 'an explicit default port' },
  // Other Services and namespaces: refused with the fix.
  { url: 'http://catalog.team-b.svc:8080/x', kind: 'other-service', reason: /names Service "catalog" in namespace "team-b", not this ExposedAPI's implementation; .*use http:\/\/catalog\.team-a\.svc:<port>\/<path>/, note: 'the same Service name in another namespace' },
  { url: 'http://catalog.team-b.svc.cluster.local/x', kind: 'other-service', reason: /namespace "team-b"/, note: 'another namespace, full name' },
  { url: 'http://catalog.team-b:8080/x', kind: 'other-service', reason: /another namespace/, note: '<svc>.<other-ns>' },
  { url: 'http://billing:8080/x', kind: 'other-service', reason: /names Service "billing", not this ExposedAPI's implementation/, note: 'another Service of the namespace' },
  { url: 'http://billing.team-a.svc/x', kind: 'other-service', reason: /names Service "billing" in namespace "team-a"/, note: 'another Service, full form' },
  { url: 'http://kubernetes.default.svc/api', kind: 'other-service', reason: /"kubernetes" in namespace "default"/, note: 'the apiserver' },
  { url: 'http://10-0-0-5.team-a.pod.cluster.local/x', kind: 'other-service', reason: /cluster-internal name/, note: 'a pod DNS name' },
  // Names that merely start like the Service, IP literals, credentials, other schemes: the ordinary rules.
  { url: 'http://catalog.team-a.svc.cluster.local.evil.example/x', kind: 'elsewhere', note: 'the cluster name as a prefix of a public name' },
  { url: 'http://catalog.team-a.svc.evil/x', kind: 'elsewhere', note: 'an unknown tail: the ordinary rules (every resolved address checked)' },
  { url: 'http://catalog.team-a.evil.example/x', kind: 'elsewhere', note: 'a public name starting with <svc>.<ns>' },
  { url: 'http://catalog.example.com/x', kind: 'elsewhere', note: 'a public host whose first label is the Service name' },
  { url: 'http://10.96.0.15:8080/x', kind: 'elsewhere', note: 'an IP literal, even the Service\'s own ClusterIP' },
  { url: 'http://[fd00::15]:8080/x', kind: 'elsewhere', note: 'an IPv6 literal' },
  { url: 'http://user:pw@catalog:8080/x', kind: 'elsewhere', note: 'credentials (the ordinary rules refuse them)' },
  { url: 'http://catalog.team-a.svc@evil.example/x', kind: 'elsewhere', note: 'the Service name as a user name' },
  { url: 'ftp://catalog/x', kind: 'elsewhere', note: 'another scheme' },
  { url: 'https://localhost:8443/x', kind: 'elsewhere', note: 'localhost: the ordinary rules (loopback needs SPEC_FETCH_ALLOW_PRIVATE)' },
  { url: 'https://raw.githubusercontent.com/x.json', kind: 'elsewhere', note: 'a public document' },
  { url: 'not a url', kind: 'elsewhere', note: 'not a URL (its own rule reports it)' },
];

t.test('which URLs name the implementation Service', async (t) => {
  for (const c of urls) {
    const got = classifySpecUrl(c.url, scope);
    t.equal(got.kind, c.kind, `${c.note}: ${c.url}`);
    if (got.kind === 'implementation') {
      t.same(got, { kind: 'implementation', service: 'catalog', namespace: 'team-a', port: c.port, https: c.https ?? false }, `${c.note}: target`);
    }
    if (got.kind === 'other-service' && c.reason) t.match(got.reason, c.reason, `${c.note}: reason`);
  }
});

const target = { kind: 'implementation' as const, service: 'catalog', namespace: 'team-a', port: 8080, https: false };
const service = (o: Record<string, unknown> = {}) => ({
  metadata: { name: 'catalog', namespace: 'team-a' },
  spec: { selector: { app: 'catalog' }, ports: [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }, { name: 'admin', port: 9090 }], ...o },
});
const endpoint = (address: string, o: Record<string, unknown> = {}) => ({
  addresses: [address], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'team-a', name: `catalog-${address}` }, ...o,
});
const slice = (endpoints: unknown[], o: { labels?: Record<string, string>; ports?: unknown[]; addressType?: string; namespace?: string } = {}) => ({
  metadata: { name: 's', namespace: o.namespace ?? 'team-a', labels: o.labels ?? { 'kubernetes.io/service-name': 'catalog', 'endpointslice.kubernetes.io/managed-by': ENDPOINTSLICE_CONTROLLER } },
  addressType: o.addressType ?? 'IPv4',
  ports: o.ports ?? [{ name: 'http', port: 8081, protocol: 'TCP' }, { name: 'admin', port: 9091, protocol: 'TCP' }],
  endpoints,
});

const resolutions: { note: string; service?: unknown; slices: unknown[]; port?: number; expect: Record<string, unknown> }[] = [
  { note: 'a ready pod: its address and the container port of the Service port', slices: [slice([endpoint('10.244.0.7')])],
    expect: { kind: 'ready', endpoints: [{ address: '10.244.0.7', port: 8081, pod: 'catalog-10.244.0.7' }] } },
  { note: 'the admin port maps to its own container port', port: 9090, slices: [slice([endpoint('10.244.0.7')])],
    expect: { kind: 'ready', endpoints: [{ address: '10.244.0.7', port: 9091 }] } },
  { note: 'an absent ready condition counts as ready (EndpointSlice API)', slices: [slice([endpoint('10.244.0.7', { conditions: {} })])], expect: { kind: 'ready' } },
  { note: 'only unready pods', slices: [slice([endpoint('10.244.0.7', { conditions: { ready: false } })])],
    expect: { kind: 'not-ready', reason: 'Service team-a/catalog has no ready pod for port 8080 (1 not ready)' } },
  { note: 'no slices yet', slices: [], expect: { kind: 'not-ready', reason: 'Service team-a/catalog has no ready pod for port 8080' } },
  { note: 'no Service yet', service: null, slices: [], expect: { kind: 'not-ready', reason: 'Service team-a/catalog does not exist yet' } },
  { note: 'a port the Service does not have', port: 8443, slices: [slice([endpoint('10.244.0.7')])],
    expect: { kind: 'refused', reason: 'port 8443 is not a TCP port of Service team-a/catalog (its ports: 8080, 9090); put one of them in the URL' } },
  { note: 'a Service without a selector (hand-written endpoints)', service: service({ selector: undefined }), slices: [slice([endpoint('10.244.0.7')])],
    expect: { kind: 'refused', reason: /has no selector.*give the Service a selector/ } },
  { note: 'an ExternalName Service', service: service({ type: 'ExternalName', externalName: 'evil.example' }), slices: [],
    expect: { kind: 'refused', reason: /ExternalName/ } },
  // Hostile slices: not the controller's, mirrored from hand-written Endpoints, another Service's, FQDN, other namespaces.
  { note: 'a hand-written slice is ignored', slices: [slice([endpoint('10.1.2.3')], { labels: { 'kubernetes.io/service-name': 'catalog', 'endpointslice.kubernetes.io/managed-by': 'someone' } })],
    expect: { kind: 'not-ready' } },
  { note: 'a slice mirrored from hand-written Endpoints is ignored', slices: [slice([endpoint('10.1.2.3')], { labels: { 'kubernetes.io/service-name': 'catalog', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' } })],
    expect: { kind: 'not-ready' } },
  { note: 'another Service\'s slice is ignored', slices: [slice([endpoint('10.1.2.3')], { labels: { 'kubernetes.io/service-name': 'billing', 'endpointslice.kubernetes.io/managed-by': ENDPOINTSLICE_CONTROLLER } })],
    expect: { kind: 'not-ready' } },
  { note: 'a slice of another namespace is ignored', slices: [slice([endpoint('10.1.2.3')], { namespace: 'team-b' })], expect: { kind: 'not-ready' } },
  { note: 'an FQDN slice is ignored', slices: [slice([endpoint('evil.example')], { addressType: 'FQDN' })], expect: { kind: 'not-ready' } },
  { note: 'an endpoint naming a pod of another namespace is ignored', slices: [slice([endpoint('10.1.2.3', { targetRef: { kind: 'Pod', namespace: 'team-b', name: 'x' } })])],
    expect: { kind: 'not-ready' } },
  { note: 'an endpoint without a Pod is ignored', slices: [slice([endpoint('10.1.2.3', { targetRef: undefined })])], expect: { kind: 'not-ready' } },
  { note: 'link-local and metadata addresses are never used', slices: [slice([endpoint('169.254.169.254'), endpoint('fe80::1')])], expect: { kind: 'not-ready' } },
  { note: 'a slice without the Service port\'s name is ignored', slices: [slice([endpoint('10.244.0.7')], { ports: [{ name: 'other', port: 1 }] })], expect: { kind: 'not-ready' } },
  { note: 'several ready pods: in a stable order', slices: [slice([endpoint('10.244.0.9'), endpoint('10.244.0.7', { conditions: { ready: false } }), endpoint('10.244.0.8')])],
    expect: { kind: 'ready', endpoints: [{ address: '10.244.0.8' }, { address: '10.244.0.9' }] } },
];

t.test('which endpoints a served document is read from', async (t) => {
  for (const c of resolutions) {
    const got = resolveServedEndpoints({ ...target, port: c.port ?? 8080 }, c.service === undefined ? service() : c.service, c.slices);
    t.match(got, c.expect, c.note);
  }
});
