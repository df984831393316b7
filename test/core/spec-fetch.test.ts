// The guarded fetcher against real local servers (loopback, started and stopped here).
import t from 'tap';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../certs/pki.ts';
import { refusedAddressReason } from '../../core/address-guard.ts';
import { SpecFetcher, hostAllowed } from '../../core/spec-fetch.ts';

const doc = JSON.stringify({ swagger: '2.0', info: { title: 'x', version: '1' }, paths: {} });
let conditionalHits = 0;

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = req.url ?? '/';
  if (url === '/doc.json') {
    if (req.headers['if-none-match'] === '"v1"') {
      conditionalHits++;
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end(doc);
  } else if (url === '/big') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('x'.repeat(600_000));
    res.end('x'.repeat(600_000)); // streamed, no content-length
  } else if (url === '/declared-big') {
    res.writeHead(200, { 'content-length': String(10_000_000) }).end();
  } else if (url === '/to-metadata') {
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
  } else if (url === '/counted') {
    countedHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(doc);
  } else if (url === '/flaky') {
    flakyHits++;
    if (flakyUp) res.writeHead(200, { 'content-type': 'application/json' }).end(doc);
    else res.writeHead(503).end('down');
  } else if (url === '/hang') {
    // never answers; the client's budget must end it
  } else res.writeHead(404).end('not found');
}

let countedHits = 0;
let flakyHits = 0;
let flakyUp = false;

t.test('guarded fetches', async (t) => {
  const ca = await createCertificateAuthority('spec-fetch-test');
  const leaf = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const tlsServer = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, handler);
  const plainServer = http.createServer(handler);
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => plainServer.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    tlsServer.closeAllConnections();
    plainServer.closeAllConnections();
    tlsServer.close();
    plainServer.close();
  });
  const tlsPort = (tlsServer.address() as AddressInfo).port;
  const plainPort = (plainServer.address() as AddressInfo).port;
  const base = `https://localhost:${tlsPort}`;

  const strict = new SpecFetcher({ ca: ca.certPem });
  t.match(await strict.fetch(`${base}/doc.json`), { kind: 'refused', reason: /loopback or private.*SPEC_FETCH_ALLOW_PRIVATE/ }, 'a name resolving to loopback is refused by default');
  t.match(await strict.fetch(`https://127.0.0.1:${tlsPort}/doc.json`), { kind: 'refused' }, 'a loopback literal is refused by default');

  const local = new SpecFetcher({ ca: ca.certPem, allowPrivate: true, freshMs: 0 });
  const ok = await local.fetch(`${base}/doc.json`);
  t.match(ok, { kind: 'ok', text: doc, etag: '"v1"', fromCache: false }, 'allowed when configured');
  t.match(await local.fetch(`${base}/doc.json`), { kind: 'ok', text: doc, fromCache: true }, 'revalidated with If-None-Match');
  t.equal(conditionalHits, 1, 'the server saw a conditional request');
  t.equal(local.counts.revalidated, 1);

  const cached = new SpecFetcher({ ca: ca.certPem, allowPrivate: true, freshMs: 60_000 });
  await cached.fetch(`${base}/doc.json`);
  await cached.fetch(`${base}/doc.json`);
  t.equal(cached.counts.cached, 1, 'a fresh entry is served without a request');

  t.match(await local.fetch(`http://127.0.0.1:${plainPort}/doc.json`), { kind: 'refused', reason: /plain http/ }, 'http refused unless allowed');
  const withHttp = new SpecFetcher({ allowPrivate: true, allowHttp: true });
  t.match(await withHttp.fetch(`http://127.0.0.1:${plainPort}/doc.json`), { kind: 'ok' }, 'http allowed when configured');
  t.match(await withHttp.fetch(`http://127.0.0.1:${plainPort}/to-metadata`), { kind: 'refused', reason: /redirected to http:\/\/169\.254\.169\.254.*metadata/ }, 'a redirect to the metadata address is refused');
  t.match(await withHttp.fetch(`http://127.0.0.1:${plainPort}/missing`), { kind: 'unreachable', reason: /HTTP 404/ });
  t.match(await withHttp.fetch(`http://127.0.0.1:${plainPort}/declared-big`), { kind: 'refused', reason: /10000000 bytes/ }, 'declared size over the cap');
  const small = new SpecFetcher({ allowPrivate: true, allowHttp: true, maxBytes: 1_000_000 });
  t.match(await small.fetch(`http://127.0.0.1:${plainPort}/big`), { kind: 'refused', reason: /exceeds the limit/ }, 'streamed size over the cap');
  const quick = new SpecFetcher({ allowPrivate: true, allowHttp: true, timeoutMs: 300 });
  const started = Date.now();
  t.match(await quick.fetch(`http://127.0.0.1:${plainPort}/hang`), { kind: 'unreachable', reason: /timed out after 300 ms/ });
  t.ok(Date.now() - started < 2000, 'the budget is honoured');
  t.match(await withHttp.fetch('http://169.254.169.254/latest/meta-data/'), { kind: 'refused', reason: /metadata/ }, 'metadata literal refused even with private allowed');
  t.match(await withHttp.fetch('http://[::ffff:169.254.169.254]/'), { kind: 'refused' }, 'IPv4-mapped metadata refused');
  const allowlisted = new SpecFetcher({ ca: ca.certPem, allowPrivate: true, allowedHosts: ['specs.example.com'] });
  t.match(await allowlisted.fetch(`${base}/doc.json`), { kind: 'refused', reason: /not in the allowed specification hosts/ });
  t.match(await local.fetch('https://user:pw@localhost/doc.json'), { kind: 'refused', reason: /credentials/ });
  t.match(await local.fetch('https://no-such-host.invalid/doc.json'), { kind: 'unreachable' }, 'DNS failure is transient, not refused');

  // Admission asks for one document twice per review (mutation, then validation), and reviews arrive concurrently.
  const shared = new SpecFetcher({ allowPrivate: true, allowHttp: true, freshMs: 0 });
  const together = await Promise.all([1, 2, 3].map(() => shared.fetch(`http://127.0.0.1:${plainPort}/counted`)));
  t.same(together.map((o) => o.kind), ['ok', 'ok', 'ok']);
  t.equal(countedHits, 1, 'concurrent fetches of one URL share one download');
  t.match(await shared.fetch(`http://127.0.0.1:${plainPort}/flaky`), { kind: 'unreachable', reason: /HTTP 503/ });
  flakyUp = true;
  t.match(await shared.fetch(`http://127.0.0.1:${plainPort}/flaky`), { kind: 'unreachable', reason: /HTTP 503/ }, 'an unreachable outcome is reused at once');
  t.equal(flakyHits, 1, 'without a second request');
  // Past the 2 s memory the URL is asked again (waited for as a condition, bounded).
  let recovered = await shared.fetch(`http://127.0.0.1:${plainPort}/flaky`);
  for (let i = 0; i < 100 && recovered.kind !== 'ok'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    recovered = await shared.fetch(`http://127.0.0.1:${plainPort}/flaky`);
  }
  t.match(recovered, { kind: 'ok' }, 'the failure is forgotten after a short while');
  t.equal(flakyHits, 2, 'and the URL asked once more');
});

t.test('address classification', async (t) => {
  const policy = { allowPrivate: false };
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '::1', 'fd00::1', '169.254.169.254', 'fe80::1', '0.0.0.0', '::ffff:10.0.0.1', '224.0.0.1']) {
    t.ok(refusedAddressReason(a, policy), `${a} refused`);
  }
  for (const a of ['8.8.8.8', '2606:4700::1111', '151.101.1.1']) t.notOk(refusedAddressReason(a, policy), `${a} allowed`);
  t.notOk(refusedAddressReason('10.0.0.1', { allowPrivate: true }), 'private allowed by configuration');
  t.ok(refusedAddressReason('169.254.169.254', { allowPrivate: true }), 'link-local never allowed');
  t.ok(hostAllowed('a.specs.example.com', ['.specs.example.com']));
  t.ok(hostAllowed('specs.example.com', ['.specs.example.com']));
  t.notOk(hostAllowed('evilspecs.example.com', ['.specs.example.com']));
  t.ok(hostAllowed('anything', []));
});
