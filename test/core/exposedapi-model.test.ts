import t from 'tap';
import YAML from 'yaml';
import { readExposedApi, looksLikeUrl, splitCsv, DEFAULT_CORS_ALLOW_HEADERS } from '../../core/exposedapi-model.ts';
import { renderFieldError } from '../../core/field-error.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exposedApi, referenceText, REPO_DIR, swagger2 } from '../helpers/fixtures.ts';

const inlineDoc = JSON.stringify(swagger2());
const yamlDoc = YAML.stringify(swagger2());

t.test('every accepted specification shape normalizes to a list of sources', async (t) => {
  const cases: { name: string; apiVersion: string; specification: unknown; expect: { kind: string; url?: string; version?: string; field: string }[] }[] = [
    { name: 'v1 single object (canvas >= 1.2.5)', apiVersion: 'oda.tmforum.org/v1', specification: { url: 'https://h/a.json', version: 'v4' }, expect: [{ kind: 'url', url: 'https://h/a.json', version: 'v4', field: 'spec.specification.url' }] },
    { name: 'v1beta4 array of {url, version}', apiVersion: 'oda.tmforum.org/v1beta4', specification: [{ url: 'https://h/a.json', version: 'v4' }, { url: 'https://h/b.yaml', version: 'v5' }], expect: [{ kind: 'url', url: 'https://h/a.json', version: 'v4', field: 'spec.specification[0].url' }, { kind: 'url', url: 'https://h/b.yaml', version: 'v5', field: 'spec.specification[1].url' }] },
    { name: 'v1beta3 array of URL strings', apiVersion: 'oda.tmforum.org/v1beta3', specification: ['https://h/a.json'], expect: [{ kind: 'url', url: 'https://h/a.json', field: 'spec.specification[0]' }] },
    { name: 'oldest form: a URL string', apiVersion: 'oda.tmforum.org/v1beta3', specification: ' https://h/a.json ', expect: [{ kind: 'url', url: 'https://h/a.json', field: 'spec.specification' }] },
    { name: 'Azure guide variant: the whole document as a string (JSON)', apiVersion: 'oda.tmforum.org/v1beta3', specification: inlineDoc, expect: [{ kind: 'inline', field: 'spec.specification' }] },
    { name: 'Azure guide variant: the whole document as a string (YAML)', apiVersion: 'oda.tmforum.org/v1beta3', specification: yamlDoc, expect: [{ kind: 'inline', field: 'spec.specification' }] },
    { name: 'an array item that is not a URL is an inline document', apiVersion: 'oda.tmforum.org/v1beta3', specification: [yamlDoc], expect: [{ kind: 'inline', field: 'spec.specification[0]' }] },
    { name: 'absent', apiVersion: 'oda.tmforum.org/v1', specification: undefined, expect: [] },
  ];
  for (const c of cases) {
    const { model, errors } = readExposedApi(exposedApi({ apiVersion: c.apiVersion, spec: { specification: c.specification } }));
    t.same(errors, [], `${c.name}: no shape errors`);
    t.equal(model.spec.specification.length, c.expect.length, `${c.name}: source count`);
    c.expect.forEach((e, i) => t.match(model.spec.specification[i], e, `${c.name}: source ${i}`));
    if (c.expect[0]?.kind === 'inline') t.equal((model.spec.specification[0] as { text: string }).text, c.specification instanceof Array ? c.specification[0] : c.specification, `${c.name}: text kept verbatim`);
  }
});

t.test('metrics and MCP APIs have no specification', async (t) => {
  for (const apiType of ['prometheus', 'openmetrics', 'mcp']) {
    const { model, errors } = readExposedApi(exposedApi({ spec: { apiType, specification: undefined, path: '/ctk/metrics', port: 4000 } }));
    t.same(errors, [], apiType);
    t.equal(model.spec.apiType, apiType);
    t.same(model.spec.specification, []);
  }
});

t.test('ODA defaults are applied in the model and never written into the object', async (t) => {
  const obj = exposedApi({ spec: { CORS: { enabled: true } } });
  const before = JSON.stringify(obj);
  const { model } = readExposedApi(obj);
  t.equal(JSON.stringify(obj), before, 'user object untouched');
  t.same(model.spec.cors.allowOrigins, ['*']);
  t.same(model.spec.cors.preflight.allowHeaders, splitCsv(DEFAULT_CORS_ALLOW_HEADERS));
  t.same(model.spec.cors.preflight.allowMethods, ['GET', 'POST', 'HEAD', 'OPTIONS']);
  t.equal(model.spec.cors.preflight.maxAge, 1800);
  t.equal(model.spec.cors.preflight.enabled, true);
  t.equal(model.spec.rateLimit.enabled, false);
  t.equal(model.spec.rateLimit.interval, 'ps');
  t.equal(model.spec.apiKeyVerification.enabled, false);
  t.same(model.spec.oasValidation, { requestEnabled: false, responseEnabled: false, allowUnspecifiedHeaders: false, allowUnspecifiedQueryParams: false, allowUnspecifiedCookies: false });
  t.equal(readExposedApi(exposedApi({ spec: { segment: undefined } })).model.spec.segment, 'coreFunction');
  // Empty strings from the component operator mean "default".
  t.same(readExposedApi(exposedApi({ spec: { CORS: { allowOrigins: '' } } })).model.spec.cors.allowOrigins, ['*']);
});

t.test('spec.apim extension block', async (t) => {
  const { model, errors } = readExposedApi(
    exposedApi({
      spec: {
        apim: {
          apiId: 'components-productcatalog',
          displayName: 'Product Catalog',
          products: ['oda-core'],
          tags: ['tmf620'],
          authentication: { jwt: { openidConfigUrl: 'https://login.example.com/.well-known/openid-configuration', audiences: ['api://pc'], issuers: ['https://sts.example.com/'], requiredClaims: { roles: ['reader', 'writer'], tid: 'abc' } } },
          backend: { url: 'https://backend.example.com/api' },
        },
      },
    }),
  );
  t.same(errors, []);
  t.equal(model.spec.apim.apiId, 'components-productcatalog');
  t.same(model.spec.apim.products, ['oda-core']);
  t.same(model.spec.apim.jwt?.requiredClaims, [{ name: 'roles', values: ['reader', 'writer'] }, { name: 'tid', values: ['abc'] }]);
  t.equal(model.spec.apim.backend.mode, 'url', 'a backend url without a mode means mode url');
  const unknown = readExposedApi(exposedApi({ spec: { apim: { prodcuts: ['x'] } } }));
  t.match(unknown.errors, [{ field: 'spec.apim.prodcuts', reason: 'Forbidden' }], 'typos in spec.apim are reported');
});

t.test('wrong types become field errors, not exceptions', async (t) => {
  const { errors } = readExposedApi(exposedApi({ spec: { port: '8080', rateLimit: { enabled: 'yes' }, CORS: 'on', specification: 42 } }));
  const fields = errors.map((e) => `${e.field}:${e.reason}`);
  t.ok(fields.includes('spec.port:Invalid'), 'port given as a string');
  t.ok(fields.includes('spec.specification:Invalid'), 'specification of a wrong type');
  t.ok(errors.some((e) => e.field === 'spec.rateLimit.enabled'));
  t.ok(errors.some((e) => e.field === 'spec.CORS'));
  t.match(readExposedApi('not an object').errors[0], { field: '<root>' });
  t.match(readExposedApi(exposedApi({ apiVersion: 'oda.tmforum.org/v2' })).errors[0], { field: 'apiVersion', reason: 'NotSupported' });
});

t.test('the ODA reference example reads without errors', async (t) => {
  const { model, errors } = readExposedApi(YAML.parse(referenceText('oda/ExposedAPI-example.yaml')));
  t.same(errors, []);
  t.equal(model.version, 'v1');
  t.equal(model.spec.rateLimit.limit, '100');
  t.same(model.spec.cors.allowOrigins, ['https://allowed-origin.com', 'https://another-allowed-origin.com']);
});

t.test('URL detection', async (t) => {
  t.ok(looksLikeUrl('https://a.b/c'));
  t.ok(looksLikeUrl('ftp://a.b/c'), 'other schemes are URLs too (and then rejected by the URL rule)');
  t.notOk(looksLikeUrl('{"swagger":"2.0"}'));
  t.notOk(looksLikeUrl('openapi: 3.0.0\ninfo: {}'));
  t.notOk(looksLikeUrl('specs/api.json'));
});

t.test("the Azure install guide's fields: accepted where they mean something, otherwise refused with what is true", async (t) => {
  const azure = {
    apiVersion: 'oda.tmforum.org/v1beta3',
    kind: 'ExposedAPI',
    metadata: { name: 'pc', namespace: 'team-a' },
    spec: {
      name: 'productcatalog',
      apiType: 'openapi',
      path: '/pc',
      implementation: 'pc-svc',
      port: 8080,
      specification: inlineDoc,
      rateLimit: { limit: 100, period: 60 },
      CORS: { allowOrigins: ['https://a.example'], allowMethods: ['GET'], allowHeaders: ['Authorization'], exposeHeaders: ['X-Total-Count'], maxAge: 600, allowCredentials: true },
    },
  };
  const { model, errors } = readExposedApi(azure);
  t.equal(model.spec.rateLimit.limit, '100', 'an integer limit is read as ODA writes it');
  t.same(model.spec.cors.allowOrigins, ['https://a.example'], 'a list of origins is read as the CSV');
  t.same(model.spec.specification.map((s) => s.kind), ['inline']);
  const byField = Object.fromEntries(errors.map((e) => [e.field, e]));
  t.same(Object.keys(byField).sort(), ['spec.CORS.allowHeaders', 'spec.CORS.allowMethods', 'spec.CORS.exposeHeaders', 'spec.CORS.maxAge', 'spec.rateLimit.period']);
  const expose = byField['spec.CORS.exposeHeaders']!.detail;
  t.match(expose, 'no field for the response headers browsers may read (Access-Control-Expose-Headers)');
  t.notMatch(expose, /use spec\.CORS\.handlePreflightRequests\.allowHeaders/, 'exposed response headers are not the preflight allowed request headers');
  t.equal(byField['spec.CORS.allowHeaders']!.detail, 'not an ODA field at this level; use spec.CORS.handlePreflightRequests.allowHeaders');
  const period = byField['spec.rateLimit.period']!.detail;
  t.notMatch(period, 'the canonical CRD prunes it', 'this CRD kept the field, so it cannot be said that it prunes it');
  t.match(period, 'where the canonical ODA CRD is installed, it is dropped when the object is stored');
  t.match(period, 'use spec.rateLimit.interval');
});

t.test("the Azure install guide's CRD cannot carry what ODA requires, and the README does not claim otherwise", async (t) => {
  const crd = YAML.parse(referenceText('oda/azure-variant-exposedapi-crd.yaml'));
  const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  t.notOk('name' in spec.properties, 'the guide declares no spec.name (kubectl refuses it as an unknown field)');
  t.notOk('apiType' in spec.properties, 'nor spec.apiType');
  const asTheGuideWritesIt = { apiVersion: 'oda.tmforum.org/v1beta3', kind: 'ExposedAPI', metadata: { name: 'pc', namespace: 'a' }, spec: { path: '/pc', implementation: 'pc', port: 8080, specification: inlineDoc } };
  const required = readExposedApi(asTheGuideWritesIt).errors.filter((e) => e.reason === 'Required').map((e) => e.field);
  t.same(required.sort(), ['spec.apiType', 'spec.name'], 'the webhook refuses an object without them');
  const readme = readFileSync(join(REPO_DIR, 'README.md'), 'utf8');
  t.match(readme, "**The Azure install guide's CRD is not supported**");
  t.notMatch(readme, /or — the Azure install guide's variant —/, 'no claim that the guide\'s shape is accepted as it is');
});

t.test('spec.apim.revisions: absent when unset, a boolean when set, anything else a field error naming it', async (t) => {
  const cases: { name: string; value: unknown; expect: boolean | undefined; error?: string }[] = [
    { name: 'unset', value: undefined, expect: undefined },
    { name: 'null', value: null, expect: undefined },
    { name: 'true', value: true, expect: true },
    { name: 'false', value: false, expect: false },
    { name: 'a string', value: 'yes', expect: false, error: 'spec.apim.revisions: Invalid value: "yes": must be a boolean (true or false)' },
    { name: 'a number', value: 1, expect: false, error: 'spec.apim.revisions: Invalid value: 1: must be a boolean (true or false)' },
  ];
  for (const c of cases) {
    const { model, errors } = readExposedApi(exposedApi({ spec: { apim: c.value === undefined ? {} : { revisions: c.value } } }));
    t.equal(model.spec.apim.revisions, c.expect, `${c.name}: the model`);
    t.equal('revisions' in model.spec.apim, c.expect !== undefined, `${c.name}: absent from the model when unset (hash stability)`);
    t.same(errors.map(renderFieldError), c.error ? [c.error] : [], `${c.name}: errors`);
  }
});
