// API settings beyond the policy: JWT (the OpenID Connect provider, authenticationSettings and validate-jwt, from the
// spec or the operator default, and turned off again), product and tag links (missing products, links removed when
// no longer wanted), and link imports (APIM fetches the document; a second run still writes nothing).
import t from 'tap';
import { openidProviderId } from '../../executor/openid-provider.ts';
import { referenceText, TMF620_V4 } from '../helpers/fixtures.ts';
import { armWrites, condition, executorBench, instanceIdOf, startSpecServer } from './harness.ts';

type Obj = Record<string, any>;

const OIDC = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration';

function metrics(name: string, spec: Obj = {}): Obj {
  return { apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI', metadata: { name }, spec: { name, apiType: 'prometheus', implementation: `${name}-sm`, path: `/${name}/metrics`, port: 4000, ...spec } };
}

t.test('JWT from the spec: provider, authenticationSettings, validate-jwt; then turned off', async (t) => {
  const b = await executorBench(t);
  const jwt = { openidConfigUrl: OIDC, audiences: ['api://metrics'], requiredClaims: { roles: ['metrics.read'] } };
  const p = await b.put(metrics('secured', { apim: { authentication: { jwt } }, rateLimit: { enabled: true, identifier: 'claim:oid', limit: '5' } }));
  const r = await b.execute('apply', p.name, p.hash);
  t.equal(r.code, 0, r.stdout);
  const state = b.emu.state();
  const providerId = openidProviderId(OIDC);
  const provider = state.openidConnectProviders.find((o) => o.name === providerId);
  t.equal(provider?.properties['metadataEndpoint'], OIDC, 'the OpenID Connect provider exists');
  t.equal(provider?.properties['clientId'], 'api://metrics');
  const api = state.apis.find((a) => a.name === b.apiId(p.name))!;
  t.same((api.properties['authenticationSettings'] as Obj)['openid'], { openidProviderId: providerId, bearerTokenSendingMethods: ['authorizationHeader'] });
  t.match(api.policy?.raw, `<openid-config url="${OIDC}" />`);
  t.match(api.policy?.raw, '<claim name="roles" match="any">');
  t.match(api.policy?.raw, `counter-key="@(&quot;${api.name}:&quot; + ((Jwt)context.Variables[&quot;jwt&quot;]).Claims.GetValueOrDefault(&quot;oid&quot;,&quot;anonymous&quot;))"`);

  b.emu.requests.reset();
  t.equal((await b.execute('apply', p.name, p.hash)).code, 0);
  t.same(armWrites(b.emu), {}, 'unchanged: no writes (the provider is only read)');

  const off = await b.put(metrics('secured'));
  const r2 = await b.execute('apply', off.name, off.hash);
  t.equal(r2.code, 0);
  const after = b.emu.state().apis.find((a) => a.name === b.apiId(p.name))!;
  t.notOk((after.properties['authenticationSettings'] as Obj)['openid'], 'authenticationSettings cleared');
  t.notMatch(after.policy?.raw, 'validate-jwt');
  t.equal(condition(await b.get(p.name), 'Imported')?.['reason'], 'Updated', 'a PATCH, not an import');
  t.ok(b.emu.state().openidConnectProviders.some((o) => o.name === providerId), 'the shared provider stays');
});

t.test('the operator default JWT (DEFAULT_AUTHENTICATION=jwt, JWT_TENANT_ID)', async (t) => {
  const b = await executorBench(t);
  const p = await b.put(metrics('defaulted'));
  const r = await b.execute('apply', p.name, p.hash, { DEFAULT_AUTHENTICATION: 'jwt', JWT_TENANT_ID: 'contoso.onmicrosoft.com', JWT_AUDIENCES: 'api://oda' });
  t.equal(r.code, 0, r.stdout);
  const api = b.emu.state().apis.find((a) => a.name === b.apiId(p.name))!;
  // The emulator is the authority host here, so the default discovery URL points at it.
  t.match(api.policy?.raw, `<openid-config url="${b.emu.authorityHost}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration" />`);
  t.match(api.policy?.raw, '<audience>api://oda</audience>');
  const none = await b.execute('apply', p.name, p.hash);
  t.equal(none.code, 0);
  t.notMatch(b.emu.state().apis.find((a) => a.name === b.apiId(p.name))!.policy?.raw, 'validate-jwt', 'never forced on by default');
});

t.test('products and tags: missing products, links follow the spec', async (t) => {
  const b = await executorBench(t);
  const p = await b.put(metrics('linked', { apim: { products: ['no-such-product'], tags: ['t1'] } }));
  const missing = await b.execute('apply', p.name, p.hash);
  t.equal(missing.code, 42, 'a missing product is permanent unless it may be created');
  const c = condition(await b.get(p.name), 'PoliciesApplied');
  t.same([c?.['status'], c?.['reason']], ['False', 'ProductNotFound']);
  t.match(c?.['message'], "product 'no-such-product' does not exist in APIM service 'apim-emulator': create it, or set CREATE_MISSING_PRODUCTS=true");

  await b.client().product.createOrUpdate(b.emu.resourceGroup, b.emu.serviceName, 'oda-core', { displayName: 'ODA core', state: 'published' });
  await b.client().product.createOrUpdate(b.emu.resourceGroup, b.emu.serviceName, 'manual', { displayName: 'Manual', state: 'published' });
  const q = await b.put(metrics('linked', { apim: { products: ['oda-core'], tags: ['t1', 't2'] } }));
  t.equal((await b.execute('apply', q.name, q.hash, { DEFAULT_TAGS: 'oda' })).code, 0);
  const apiId = b.apiId(q.name);
  const api = () => b.emu.state().apis.find((a) => a.name === apiId)!;
  t.same(api().products, ['oda-core']);
  t.same([...api().tags].sort(), ['oda', 't1', 't2'], 'default tags added to the spec\'s');

  // A link made by hand, and a tag dropped from the spec: the API's links follow the spec.
  await b.client().productApi.createOrUpdate(b.emu.resourceGroup, b.emu.serviceName, 'manual', apiId);
  const r = await b.put(metrics('linked', { apim: { products: ['oda-core'], tags: ['t1'] } }));
  const run = await b.execute('apply', r.name, r.hash, { DEFAULT_TAGS: 'oda' });
  t.equal(run.code, 0);
  t.same(api().products, ['oda-core']);
  t.same([...api().tags].sort(), ['oda', 't1']);
  t.ok(b.emu.state().products.some((pr) => pr.name === 'manual') && b.emu.state().tags.some((tg) => tg.name === 't2'), 'products and tags themselves stay');
  t.match(condition(await b.get(r.name), 'PoliciesApplied')?.['message'], /-product\/manual/);
});

t.test('link import: APIM fetches the document itself; unchanged on the second run', async (t) => {
  const b = await executorBench(t);
  const plain = await startSpecServer({ plain: true });
  t.teardown(() => plain.close());
  plain.put('tmf620.json', referenceText(TMF620_V4));
  const p = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'linked-620' },
    spec: { name: 'productcatalogmanagement', apiType: 'openapi', implementation: 'pc', path: '/linked/productCatalogManagement/v4', port: 8080, specification: { url: plain.url('tmf620.json'), version: 'v4' } },
  });
  const env = { SPEC_IMPORT_MODE: 'link', SPEC_FETCH_ALLOW_HTTP: 'true' };
  const r = await b.execute('apply', p.name, p.hash, env);
  t.equal(r.code, 0, r.stdout);
  t.equal(plain.hits.get('/tmf620.json'), 2, 'fetched by the executor (to validate and fingerprint) and by APIM');
  const api = b.emu.state().apis.find((a) => a.name === b.apiId(p.name))!;
  t.equal(api.operations.length, 50);
  t.match(condition(await b.get(p.name), 'Imported')?.['message'], `swagger-link-json from ${plain.url('tmf620.json')}`);
  b.emu.requests.reset();
  t.equal((await b.execute('apply', p.name, p.hash, env)).code, 0);
  t.same(armWrites(b.emu), {}, 'the document at the URL is unchanged: no import');
});

t.test('a changed spec.apim.apiId moves the API: the old one goes first (it holds the path)', async (t) => {
  const b = await executorBench(t);
  const first = await b.put(metrics('moving', { apim: { apiId: 'moving-one' } }));
  t.equal((await b.execute('apply', first.name, first.hash)).code, 0);
  const second = await b.put(metrics('moving', { apim: { apiId: 'moving-two' } }));
  const r = await b.execute('apply', second.name, second.hash);
  t.equal(r.code, 0, r.stdout);
  const names = b.emu.state().apis.map((a) => a.name);
  t.notOk(names.includes('moving-one'), 'the previous API is deleted');
  t.ok(names.includes('moving-two'), 'the new one holds the path');
  t.same((await b.get(second.name))?.['status']['apim'], { apiId: 'moving-two', serviceName: 'apim-emulator', resourceId: instanceIdOf(b.emu), target: '' });
});
