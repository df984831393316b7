// The mutating webhook stamps the digest of the document admission checked (exposedapi-apim.io/document-sha256), over
// real HTTPS with real AdmissionReview bodies: the digest of the bytes fetched from the URL or of the inline text; none
// when the document could not be checked or has problems (and a digest already on the object is removed then);
// unchanged by updates that apply nothing. The validating webhook that runs next reuses the mutation's fetch.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { documentDigest } from '../../core/document-digest.ts';
import { DOCUMENT_DIGEST_ANNOTATION, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { startWebhook } from '../../webhook/run-webhook.ts';
import { admissionReview, httpsRequest } from '../helpers/https-client.ts';
import { testTls } from '../helpers/webhook-tls.ts';
import { exposedApi, openapi3, swagger2 } from '../helpers/fixtures.ts';

type Op = { op: string; path: string; value?: unknown };

/** RFC 6902 add/replace/remove on objects and arrays (what the apiserver does with the webhook's patch). */
function applyJsonPatch(obj: any, ops: Op[]): any {
  const out = structuredClone(obj);
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node = out;
    for (const p of parts.slice(0, -1)) node = node[p];
    const last = parts[parts.length - 1]!;
    if (op.op === 'remove') {
      if (!(last in node)) throw new Error(`remove of a missing ${op.path}`);
      delete node[last];
    } else if (Array.isArray(node) && last === '-') node.push(op.value);
    else node[last] = op.value;
  }
  return out;
}

t.test('the mutating webhook stamps the digest of the document it checked', async (t) => {
  const tls = await testTls();
  t.teardown(() => tls.remove());
  const good = JSON.stringify(swagger2());
  let changing = JSON.stringify(swagger2([['get', '/pets', 'listPets'], ['get', '/owners', 'listOwners']]));
  const bad = JSON.stringify(swagger2([['get', '/x']])); // no operationId
  const hits = new Map<string, number>();
  const specServer = http.createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    const path = (req.url ?? '').split('?')[0];
    if (path === '/good.json') res.writeHead(200, { 'content-type': 'application/json' }).end(good);
    else if (path === '/changing.json') res.writeHead(200, { 'content-type': 'application/json' }).end(changing);
    else if (path === '/bad.json') res.writeHead(200, { 'content-type': 'application/json' }).end(bad);
    else res.writeHead(503).end();
  });
  await new Promise<void>((r) => specServer.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(specServer.address() as AddressInfo).port}`;
  const parsed = readWebhookConfig({
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
    PATH_UNIQUENESS: 'false',
    SPEC_FETCH_ALLOW_HTTP: 'true',
    SPEC_FETCH_ALLOW_PRIVATE: 'true',
    LOG_LEVEL: 'error',
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const webhook = await startWebhook(parsed.config);
  t.teardown(async () => {
    await webhook.close();
    specServer.closeAllConnections();
    specServer.close();
  });
  const post = async (path: '/mutate' | '/validate', request: Record<string, unknown>) => {
    const r = await httpsRequest(`${webhook.url}${path}`, { method: 'POST', body: admissionReview({ namespace: 'components', ...request }), ca: tls.ca.certPem });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body}`);
    return r.json.response as { allowed: boolean; patch?: string; status?: { message: string } };
  };
  const opsOf = (res: { patch?: string }): Op[] => (res.patch ? JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) : []);
  const mutate = async (object: any, oldObject?: any) => {
    const res = await post('/mutate', { operation: oldObject ? 'UPDATE' : 'CREATE', object, ...(oldObject ? { oldObject } : {}) });
    if (!res.allowed) throw new Error(`the mutation denied: ${res.status?.message}`); // it never denies
    const ops = opsOf(res);
    return { ops, object: applyJsonPatch(object, ops) };
  };
  const digestOf = (obj: any): string | undefined => obj.metadata.annotations?.[DOCUMENT_DIGEST_ANNOTATION];
  const withUrl = (url: string, annotations?: Record<string, string>) => exposedApi({ metadata: annotations ? { annotations } : {}, spec: { specification: { url } } });

  t.test('URL: the digest of the bytes fetched, and validation does not fetch again', async (t) => {
    hits.clear();
    const { object, ops } = await mutate(withUrl(`${base}/good.json`));
    t.equal(digestOf(object), documentDigest(good));
    t.match(object.metadata.annotations[SPEC_HASH_ANNOTATION], /^[0-9a-f]{64}$/, 'beside the spec hash');
    t.same(ops.map((o) => o.path), ['/metadata/annotations', '/metadata/finalizers', '/status'], 'one annotations object, as before (and the new change\'s pending verdict)');
    t.equal((await post('/validate', { operation: 'CREATE', name: object.metadata.name, object })).allowed, true);
    t.equal(hits.get('/good.json'), 1, 'mutation and validation share one fetch (SPEC_FETCH_CACHE_SECONDS)');
  });

  t.test('inline: the digest of the text', async (t) => {
    const text = JSON.stringify(openapi3());
    const { object } = await mutate(exposedApi({ spec: { specification: text } }));
    t.equal(digestOf(object), documentDigest(text));
  });

  const none: [string, any][] = [
    ['a document with problems (validation denies it)', withUrl(`${base}/bad.json`)],
    ['an unreachable document (admitted with a warning, checked by the executor)', withUrl(`${base}/down.json`)],
    ['a metrics API (no document)', exposedApi({ spec: { apiType: 'prometheus', specification: undefined } })],
  ];
  for (const [name, obj] of none) {
    t.test(`no digest for ${name}`, async (t) => {
      const { object } = await mutate(obj);
      t.equal(digestOf(object), undefined);
      t.match(object.metadata.annotations[SPEC_HASH_ANNOTATION], /^[0-9a-f]{64}$/, 'the spec hash is stamped all the same');
    });
  }

  t.test('a digest written by the user is replaced by what admission checked, or removed', async (t) => {
    const forged = 'f'.repeat(64);
    const replaced = await mutate(withUrl(`${base}/good.json`, { [DOCUMENT_DIGEST_ANNOTATION]: forged }));
    t.equal(digestOf(replaced.object), documentDigest(good));
    const removed = await mutate(withUrl(`${base}/bad.json`, { [DOCUMENT_DIGEST_ANNOTATION]: documentDigest(bad) }));
    t.same(removed.ops.filter((o) => o.path.includes('document-sha256')), [{ op: 'remove', path: '/metadata/annotations/exposedapi-apim.io~1document-sha256' }]);
    t.equal(digestOf(removed.object), undefined);
  });

  t.test('updates: a spec change re-checks; an update that applies nothing keeps the digest', async (t) => {
    const first = (await mutate(withUrl(`${base}/changing.json?v=1`))).object;
    const firstDigest = digestOf(first);
    t.equal(firstDigest, documentDigest(changing));
    changing = JSON.stringify(swagger2([['get', '/pets', 'listPets']]));
    // A status write (and a label) through the webhook: nothing applied changes, nothing is fetched or re-stamped.
    hits.clear();
    const statusWrite = { ...structuredClone(first), status: { deploymentStatus: 'Deployed' } };
    const kept = await mutate(statusWrite, first);
    t.same(kept.ops, [], 'no patch');
    t.equal(hits.get('/changing.json?v=1'), undefined, 'not fetched');
    // A spec change (the URL of the new version): fetched and checked, and the new digest stamped.
    const moved = structuredClone(first);
    moved.spec.specification = { url: `${base}/changing.json?v=2` };
    const updated = await mutate(moved, first);
    t.equal(digestOf(updated.object), documentDigest(changing));
    t.not(digestOf(updated.object), firstDigest);
    // The URL now unreachable: a spec change removes the digest, which described the earlier change.
    const gone = structuredClone(updated.object);
    gone.spec.specification = { url: `${base}/down.json` };
    const cleared = await mutate(gone, updated.object);
    t.equal(digestOf(cleared.object), undefined);
  });
});
