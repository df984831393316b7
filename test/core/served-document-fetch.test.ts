// The fetcher reading a document the implementation serves (core/spec-fetch.ts with a ServedScope): it connects to the
// pods the Kubernetes API lists (here a stand-in resolver and loopback servers started and stopped by this test), never
// asks DNS for the Service's name, and judges every redirect again.
import t from 'tap';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../certs/pki.ts';
import type { EndpointResolution, SpecUrlTarget } from '../../core/served-document.ts';
import { SpecFetcher, type ServedScope } from '../../core/spec-fetch.ts';

const doc = JSON.stringify({ openapi: '3.0.3', info: { title: 'served', version: '1' }, paths: {} });
const seen: { url?: string; host?: string }[] = [];

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  seen.push({ url: req.url, host: req.headers.host });
  const redirects: Record<string, string> = {
    '/to-same': '/v3/api-docs',
    '/to-metadata': 'http://169.254.169.254/latest/meta-data/',
    '/to-other-service': 'http://billing.team-a.svc:8080/secret',
    '/to-other-namespace': 'http://catalog.team-b.svc:8080/v3/api-docs',
    '/to-loopback': 'http://127.0.0.1:1/x',
  };
  const to = redirects[req.url ?? ''];
  if (to) res.writeHead(302, { location: to }).end();
  else if (req.url === '/v3/api-docs') res.writeHead(200, { 'content-type': 'application/json' }).end(doc);
  else res.writeHead(404).end();
}

t.test('served documents', async (t) => {
  const ca = await createCertificateAuthority('served-document-test');
  const leaf = await issueCertificate(ca, { commonName: 'catalog.team-a.svc', dnsNames: ['catalog.team-a.svc'], usage: 'server' });
  const plain = http.createServer(handler);
  const tls = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, handler);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  // A port nothing listens on: a pod that is listed ready but refuses the connection.
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  t.teardown(() => {
    plain.closeAllConnections();
    tls.closeAllConnections();
    plain.close();
    tls.close();
  });
  const plainPort = (plain.address() as AddressInfo).port;
  const tlsPort = (tls.address() as AddressInfo).port;

  let resolution: EndpointResolution = { kind: 'ready', endpoints: [{ address: '127.0.0.1', port: plainPort, pod: 'catalog-1' }] };
  const asked: SpecUrlTarget[] = [];
  const scope: ServedScope = { namespace: 'team-a', service: 'catalog', endpoints: async (target) => (asked.push(target), resolution) };
  // The strict defaults: https only, public addresses only. A served document passes them by the scope alone.
  const fetcher = new SpecFetcher({ allowHttp: false, allowPrivate: false, ca: ca.certPem });

  await t.test('read from the ready pod the API lists, with the URL\'s host, never from DNS', async (t) => {
    seen.length = 0;
    const got = await fetcher.fetch('http://catalog.team-a.svc:8080/v3/api-docs', scope);
    t.match(got, { kind: 'ok', text: doc });
    t.same(asked.at(-1), { kind: 'implementation', service: 'catalog', namespace: 'team-a', port: 8080, https: false }, 'the Service port in the URL was resolved');
    t.same(seen, [{ url: '/v3/api-docs', host: 'catalog.team-a.svc:8080' }], 'Host is the URL\'s (the name has no DNS record here: nothing asked DNS)');
    t.match(await fetcher.fetch('http://catalog:8080/v3/api-docs', scope), { kind: 'ok' }, 'the bare Service name');
  });

  await t.test('the same URL without the scope meets the ordinary rules', async (t) => {
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/v3/api-docs'), { kind: 'refused', reason: /plain http is not fetched/ });
  });

  await t.test('no ready pod: not-ready, not unreachable', async (t) => {
    resolution = { kind: 'not-ready', reason: 'Service team-a/catalog has no ready pod for port 8080' };
    t.same(await fetcher.fetch('http://catalog.team-a.svc:8080/v3/api-docs', scope), { kind: 'not-ready', reason: 'Service team-a/catalog has no ready pod for port 8080' });
    resolution = { kind: 'refused', reason: 'port 8443 is not a TCP port of Service team-a/catalog' };
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8443/v3/api-docs', scope), { kind: 'refused', reason: /port 8443 is not a TCP port/ });
  });

  await t.test('a pod that refuses the connection: the next ready one', async (t) => {
    resolution = { kind: 'ready', endpoints: [{ address: '127.0.0.1', port: closedPort, pod: 'a' }, { address: '127.0.0.1', port: plainPort, pod: 'b' }] };
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/v3/api-docs', scope), { kind: 'ok' });
    resolution = { kind: 'ready', endpoints: [{ address: '127.0.0.1', port: closedPort, pod: 'a' }] };
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/v3/api-docs', scope), { kind: 'unreachable', reason: /no ready pod of Service team-a\/catalog accepted the connection/ });
  });

  await t.test('https: the certificate is checked against the Service name', async (t) => {
    resolution = { kind: 'ready', endpoints: [{ address: '127.0.0.1', port: tlsPort, pod: 'a' }] };
    t.match(await fetcher.fetch('https://catalog.team-a.svc/v3/api-docs', scope), { kind: 'ok', text: doc });
    t.match(await fetcher.fetch('https://catalog.team-a.svc.cluster.local/v3/api-docs', scope), { kind: 'unreachable', reason: /altnames|does not match|Hostname/i }, 'a name the certificate does not hold');
  });

  await t.test('other Services and namespaces are refused before any connection', async (t) => {
    resolution = { kind: 'ready', endpoints: [{ address: '127.0.0.1', port: plainPort, pod: 'a' }] };
    seen.length = 0;
    asked.length = 0;
    for (const url of ['http://billing.team-a.svc:8080/x', 'http://catalog.team-b.svc:8080/v3/api-docs', 'http://catalog.team-b:8080/v3/api-docs', 'http://billing:8080/x']) {
      t.match(await fetcher.fetch(url, scope), { kind: 'refused', reason: /not this ExposedAPI's implementation; .*use http:\/\/catalog\.team-a\.svc:<port>\/<path>/ }, url);
    }
    t.match(await fetcher.fetch('http://127.0.0.1:8080/v3/api-docs', scope), { kind: 'refused', reason: /plain http|private/ }, 'an IP literal meets the ordinary rules');
    t.match(await fetcher.fetch('http://u:p@catalog.team-a.svc:8080/v3/api-docs', scope), { kind: 'refused' }, 'credentials');
    t.same(seen, [], 'no request reached the pod');
    t.same(asked, [], 'and the Kubernetes API was not even asked');
    const lenient = new SpecFetcher({ allowHttp: true, allowPrivate: true, timeoutMs: 500 });
    t.notMatch(await lenient.fetch('http://billing.team-a.svc:8080/x', scope), { kind: 'refused', reason: /not this ExposedAPI's implementation/ },
      'SPEC_FETCH_ALLOW_PRIVATE=true: other names are fetched by the ordinary rules, as before');
  });

  await t.test('redirects from the implementation are judged again', async (t) => {
    resolution = { kind: 'ready', endpoints: [{ address: '127.0.0.1', port: plainPort, pod: 'a' }] };
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/to-same', scope), { kind: 'ok', text: doc }, 'within the Service');
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/to-metadata', scope), { kind: 'refused', reason: /redirected to http:\/\/169\.254\.169\.254/ });
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/to-other-service', scope), { kind: 'refused', reason: /redirected to http:\/\/billing\.team-a\.svc:8080\/secret: .*not this ExposedAPI's implementation/ });
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/to-other-namespace', scope), { kind: 'refused', reason: /namespace "team-b"/ });
    t.match(await fetcher.fetch('http://catalog.team-a.svc:8080/to-loopback', scope), { kind: 'refused', reason: /redirected to http:\/\/127\.0\.0\.1:1\/x/ });
  });
});
