// client-node opens a new TLS connection for every API call; with reuseConnections the webhook process keeps one
// pool per cluster and user. Counted at a local HTTPS server standing in for the apiserver.
import t from 'tap';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { reuseConnections } from '../../dispatcher/kube-connection-reuse.ts';
import { testTls } from '../helpers/webhook-tls.ts';

const tls = await testTls();
t.teardown(() => tls.remove());
let handshakes = 0;
const server = https.createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
});
server.on('secureConnection', () => handshakes++);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise((resolve) => server.close(resolve)));

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(tls.ca.certPem).toString('base64') }],
    users: [{ name: 'u', token: 'secret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function handshakesFor(kc: KubeConfig, calls: number): Promise<number> {
  const before = handshakes;
  const api = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < calls; i++) await api.readNamespace({ name: 'x' });
  return handshakes - before;
}

t.test('client-node as it comes: one TLS handshake per call', async (t) => {
  t.equal(await handshakesFor(kubeConfig(), 5), 5);
});

t.test('with reuseConnections: a pool of keep-alive connections, in place and idempotent', async (t) => {
  const kc = kubeConfig();
  t.equal(reuseConnections(kc), kc, 'the same KubeConfig');
  reuseConnections(kc);
  // undici may open a second connection while the first one's response is still being read; then it reuses them.
  const first = await handshakesFor(kc, 10);
  t.ok(first >= 1 && first <= 2, `10 calls, ${first} handshake(s)`);
  t.equal(await handshakesFor(kc, 10), 0, 'a second client of the same KubeConfig shares the pool');
});
