// The admission server's resource limits over real HTTPS: a request that does not deliver its body in time is cut,
// large bodies beyond the in-flight budget are refused unread (small ones still pass), and a cut or finished request
// gives its share of the budget back.
import t from 'tap';
import tls from 'node:tls';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { startWebhook } from '../../webhook/run-webhook.ts';
import { admissionReview, httpsRequest } from '../helpers/https-client.ts';
import { exposedApi } from '../helpers/fixtures.ts';
import { testTls } from '../helpers/webhook-tls.ts';

/** An AdmissionReview of about `bytes` bytes (an ExposedAPI with a large inline document: denied, quickly). */
function largeReview(bytes: number): string {
  return admissionReview({ operation: 'CREATE', namespace: 'components', object: exposedApi({ spec: { specification: `openapi: 3.0.3\ninfo: {title: t, version: "1", description: ${'x'.repeat(bytes - 700)}}\npaths: {}\n` } }) });
}

/** Opens a connection and sends the headers and the first `sendBytes` of the body; the rest only on `finish()`. */
function partialPost(port: number, ca: string, body: string, sendBytes: number) {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  let text = '';
  const started = performance.now();
  const ended = new Promise<{ status?: number; ms: number }>((resolve) => {
    const done = () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) || undefined, ms: performance.now() - started });
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (/\r\n\r\n/.test(text) && /^HTTP/.test(text)) {
        done();
        socket.destroy();
      }
    });
    socket.on('close', done);
    socket.on('error', () => {});
  });
  socket.once('secureConnect', () => socket.write(`POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, sendBytes)}`));
  return { ended, finish: () => socket.write(body.slice(sendBytes)), destroy: () => socket.destroy() };
}

t.test('request timeouts and the large-body budget', async (t) => {
  const certs = await testTls();
  t.teardown(() => certs.remove());
  const parsed = readWebhookConfig({
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    TLS_CERT_FILE: certs.certFile,
    TLS_KEY_FILE: certs.keyFile,
    PATH_UNIQUENESS: 'false',
    REMOTE_SPEC_CHECK: 'off',
    WEBHOOK_MAX_BODY_BYTES: '200000',
    WEBHOOK_REQUEST_TIMEOUT_MS: '1500',
    WEBHOOK_LARGE_BODY_BYTES: '65536',
    WEBHOOK_LARGE_BODIES_MAX_BYTES: '400000',
    LOG_LEVEL: 'fatal',
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const webhook = await startWebhook(parsed.config);
  t.teardown(() => webhook.close());
  const ca = certs.ca.certPem;
  const small = admissionReview({ operation: 'CREATE', namespace: 'components', object: exposedApi() });
  const large = largeReview(190_000);
  // With Content-Length, as the apiserver sends it (a chunked body of unknown size is reserved at the largest size).
  const post = (body: string) => httpsRequest(`${webhook.url}/validate`, { method: 'POST', body, ca, headers: { 'content-length': String(Buffer.byteLength(body)) } });

  t.test('a body that does not arrive in time is cut', async (t) => {
    const slow = partialPost(webhook.port, ca, small, 100);
    const r = await slow.ended;
    t.ok(r.ms >= 1400 && r.ms < 4000, `cut after ${r.ms.toFixed(0)} ms (WEBHOOK_REQUEST_TIMEOUT_MS=1500, checked every second)`);
    t.equal(r.status, 408, 'with 408 Request Timeout');
  });

  t.test('large bodies beyond the budget are refused unread; small ones still pass; the budget comes back', async (t) => {
    const a = partialPost(webhook.port, ca, large, 1000);
    const b = partialPost(webhook.port, ca, large, 1000);
    await new Promise((r) => setTimeout(r, 200)); // both reserved (2 × 190 kB of 400 kB)
    const third = partialPost(webhook.port, ca, large, 0);
    const refused = await third.ended;
    t.equal(refused.status, 503, 'the third large body is refused');
    t.ok(refused.ms < 1000, `at once (${refused.ms.toFixed(0)} ms), without waiting for its body`);
    const metrics = await httpsRequest(`${webhook.url}/metrics`, { ca });
    t.match(metrics.body, /exposedapi_apim_admission_bodies_refused_total 1/, 'counted');
    const meanwhile = await post(small);
    t.equal(meanwhile.json?.response?.allowed, true, `a small ExposedAPI is admitted meanwhile (${meanwhile.status} ${meanwhile.body.slice(0, 300)})`);
    a.finish();
    const finished = await a.ended;
    t.equal(finished.status, 200, 'a large body within the budget is judged');
    t.equal((await post(large)).status, 200, 'its share is back: another large body is received');
    const cut = await b.ended; // never finished: cut by the request timeout
    t.equal(cut.status, 408);
    const both = await Promise.all([post(large), post(large)]);
    t.same(both.map((r) => r.status), [200, 200], 'the cut request gave its share back too');
  });

  t.test('a budget smaller than the largest accepted body is a configuration error', async (t) => {
    const bad = readWebhookConfig({ WEBHOOK_MAX_BODY_BYTES: '8388608', WEBHOOK_LARGE_BODIES_MAX_BYTES: '1048576' });
    t.match(bad, { ok: false, errors: [/WEBHOOK_LARGE_BODIES_MAX_BYTES=1048576 is smaller than WEBHOOK_MAX_BODY_BYTES=8388608.*make it at least 8388608/] });
    const defaults = readWebhookConfig({});
    t.match(defaults, { ok: true, config: { requestTimeoutMs: 5000, largeBodyBytes: 1048576, largeBodiesMaxBytes: 25165824 } });
  });
});
