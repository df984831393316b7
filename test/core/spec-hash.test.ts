import t from 'tap';
import { readExposedApi, RECONCILE_AT_ANNOTATION } from '../../core/exposedapi-model.ts';
import { canonicalJson, specHash } from '../../core/spec-hash.ts';
import { exposedApi } from '../helpers/fixtures.ts';

const hashOf = (o: Record<string, unknown>) => specHash(readExposedApi(o).model);

t.test('the hash identifies the applied spec, nothing else', async (t) => {
  const base = hashOf(exposedApi());
  t.match(base, /^[0-9a-f]{64}$/);
  t.equal(hashOf(exposedApi({ status: { apiStatus: { url: 'https://x' } } })), base, 'status is ignored');
  t.equal(hashOf(exposedApi({ metadata: { labels: { a: 'b' }, generation: 7, resourceVersion: '99', annotations: { note: 'x' } } })), base, 'metadata is ignored');
  t.equal(hashOf(exposedApi({ spec: { CORS: { enabled: false, allowOrigins: '*' }, rateLimit: { enabled: false, interval: 'ps' } } })), base, 'explicit defaults hash like omitted ones');
  t.equal(
    hashOf(exposedApi({ apiVersion: 'oda.tmforum.org/v1beta4', spec: { specification: [{ url: 'https://specs.example.com/TMF620-ProductCatalog-v4.0.0.swagger.json', version: 'v4' }] } })),
    base,
    'v1beta4 and v1 spellings of the same API hash the same',
  );
  t.not(hashOf(exposedApi({ spec: { port: 8081 } })), base, 'a spec change changes it');
  t.not(hashOf(exposedApi({ spec: { apim: { products: ['p'] } } })), base, 'spec.apim is part of it');
  t.not(hashOf(exposedApi({ metadata: { annotations: { [RECONCILE_AT_ANNOTATION]: '2026-11-21T10:00:00Z' } } })), base, 'reconcile-at forces a new hash');
});

t.test('canonical JSON sorts keys at every level', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  t.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
});
