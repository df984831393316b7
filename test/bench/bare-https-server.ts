// The comparison point of bench:admission: a bare fastify HTTPS server answering every POST with a fixed
// AdmissionReview, with the same TLS and body limit as the webhook. Prints its URL on stdout when ready.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

const app = Fastify({
  https: { cert: readFileSync(process.env['TLS_CERT_FILE']!, 'utf8'), key: readFileSync(process.env['TLS_KEY_FILE']!, 'utf8') },
  bodyLimit: 8 * 1024 * 1024,
  logger: false,
});
const fixed = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'bench', allowed: true } };
app.post('/validate', async () => fixed);
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(JSON.stringify({ url: `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }) + '\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
