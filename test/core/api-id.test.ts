// core/api-id.ts: the derived apiId is namespace-aware, deterministic, at most 80 characters and APIM-legal
// (proved with the webhook's own checkApiId), and cut ids of different objects stay distinct.
import t from 'tap';
import { apiIdOf, derivedApiId } from '../../core/api-id.ts';
import { checkApiId } from '../../core/rules/apim-extension.ts';
import { readExposedApi } from '../../core/exposedapi-model.ts';
import { exposedApi } from '../helpers/fixtures.ts';

t.test('<namespace>-<name>, lower-cased', async (t) => {
  t.equal(derivedApiId('components', 'ctk-productcatalogmanagement-productcatalogmanagement-v4'), 'components-ctk-productcatalogmanagement-productcatalogmanagement-v4');
  t.equal(derivedApiId('Team-A', 'Pets'), 'team-a-pets');
  t.not(derivedApiId('ns1', 'pets'), derivedApiId('ns2', 'pets'), 'the same name in two namespaces gets two APIs');
});

t.test('long names are cut to 80 with a hash of the full pair', async (t) => {
  const ns = 'a'.repeat(63);
  const long1 = derivedApiId(ns, `${'b'.repeat(60)}-one`);
  const long2 = derivedApiId(ns, `${'b'.repeat(60)}-two`);
  t.equal(long1.length, 80);
  t.match(long1, /^a{63}-b{7}-[0-9a-f]{8}$/);
  t.not(long1, long2, 'different objects, different cut ids');
  t.equal(derivedApiId(ns, `${'b'.repeat(60)}-one`), long1, 'deterministic');
  t.match(derivedApiId('ns', `${'x'.repeat(71 - 3)}.${'y'.repeat(20)}`), /^ns-x+-[0-9a-f]{8}$/, 'no "." or "-" left before the hash');
});

t.test('every derived id passes the webhook\'s apiId rule', async (t) => {
  const names = ['a', 'pets', 'x'.repeat(253), 'dotted.name.v1', `${'n'.repeat(100)}.${'m'.repeat(100)}`, 'ctk-productcatalogmanagement-metrics'];
  const namespaces = ['default', 'components', 'z'.repeat(63), 'a-b'];
  for (const ns of namespaces) {
    for (const name of names) {
      const id = derivedApiId(ns, name);
      t.same(checkApiId('apiId', id), [], `${ns}/${name.slice(0, 20)}… → ${id}`);
      t.ok(id.length <= 80);
    }
  }
});

t.test('spec.apim.apiId wins', async (t) => {
  const { model } = readExposedApi(exposedApi({ metadata: { name: 'pc', namespace: 'components' }, spec: { apim: { apiId: 'productcatalog' } } }));
  t.equal(apiIdOf(model), 'productcatalog');
  const { model: plain } = readExposedApi(exposedApi({ metadata: { name: 'pc', namespace: 'components' } }));
  t.equal(apiIdOf(plain), 'components-pc');
});
