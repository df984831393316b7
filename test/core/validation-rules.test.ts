// One failing case per rule, the valid edge of each rule, and one object with many faults reporting all of them.
import t from 'tap';
import { renderFieldError, renderInvalid } from '../../core/field-error.ts';
import { ClaimTable } from '../../core/rules/claims.ts';
import { defaultValidationContext, validateExposedApi, type ValidationContext } from '../../core/validate-exposedapi.ts';
import { exposedApi, swagger2 } from '../helpers/fixtures.ts';

type Obj = Record<string, any>;
interface Case {
  name: string;
  patch: Obj;
  field: string;
  reason: string;
  /** Substring of the rendered error that must be present (value and fix). */
  text: string;
  ctx?: Partial<ValidationContext>;
}

const enabledRateLimit = (o: Obj) => ({ spec: { rateLimit: { enabled: true, limit: '10', interval: 'ps', identifier: 'IP', ...o } } });
const enabledCors = (o: Obj) => ({ spec: { CORS: { enabled: true, ...o } } });
const claims = new ClaimTable();
claims.set({ namespace: 'other', name: 'first-owner', path: '/taken/api', apiId: 'other-first-owner', apiIdDerived: true, createdMs: 0 });

const failing: Case[] = [
  { name: 'name required', patch: { spec: { name: undefined } }, field: 'spec.name', reason: 'Required', text: 'spec.name: Required value' },
  { name: 'apiType required', patch: { spec: { apiType: undefined } }, field: 'spec.apiType', reason: 'Required', text: 'Required value' },
  { name: 'implementation required', patch: { spec: { implementation: undefined } }, field: 'spec.implementation', reason: 'Required', text: 'Service' },
  { name: 'path required', patch: { spec: { path: undefined } }, field: 'spec.path', reason: 'Required', text: 'root path' },
  { name: 'port required', patch: { spec: { port: undefined } }, field: 'spec.port', reason: 'Required', text: '1-65535' },
  { name: 'apiType enum of v1', patch: { spec: { apiType: 'graphql' } }, field: 'spec.apiType', reason: 'NotSupported', text: 'Unsupported value: "graphql": supported values: "openapi", "prometheus", "openmetrics", "mcp"' },
  { name: 'apiType enum of v1beta4 has no mcp', patch: { apiVersion: 'oda.tmforum.org/v1beta4', spec: { apiType: 'mcp', specification: undefined } }, field: 'spec.apiType', reason: 'NotSupported', text: 'supported values: "openapi", "prometheus"' },
  { name: 'port 0', patch: { spec: { port: 0 } }, field: 'spec.port', reason: 'Invalid', text: 'between 1 and 65535' },
  { name: 'port too high', patch: { spec: { port: 65536 } }, field: 'spec.port', reason: 'Invalid', text: 'Invalid value: 65536' },
  { name: 'implementation not DNS-1035', patch: { spec: { implementation: 'Prod_Cat' } }, field: 'spec.implementation', reason: 'Invalid', text: 'DNS-1035' },
  { name: 'implementation starting with a digit', patch: { spec: { implementation: '1svc' } }, field: 'spec.implementation', reason: 'Invalid', text: 'starting with a letter' },
  { name: 'implementation too long', patch: { spec: { implementation: 'a'.repeat(64) } }, field: 'spec.implementation', reason: 'TooLong', text: 'may not be more than 63' },
  { name: 'segment enum', patch: { spec: { segment: 'core' } }, field: 'spec.segment', reason: 'NotSupported', text: '"coreFunction", "managementFunction", "securityFunction"' },
  { name: 'path without leading slash', patch: { spec: { path: 'api' } }, field: 'spec.path', reason: 'Invalid', text: 'spec.path: Invalid value: "api": must start with "/"' },
  { name: 'path with trailing slash', patch: { spec: { path: '/api/' } }, field: 'spec.path', reason: 'Invalid', text: 'must not end with "/", e.g. "/api"' },
  { name: 'path with empty segment', patch: { spec: { path: '/a//b' } }, field: 'spec.path', reason: 'Invalid', text: 'empty segments' },
  { name: 'path with dot segment', patch: { spec: { path: '/a/../b' } }, field: 'spec.path', reason: 'Invalid', text: '"." or ".."' },
  { name: 'path with unsafe characters', patch: { spec: { path: '/a b/<c>' } }, field: 'spec.path', reason: 'Invalid', text: 'not URL-safe' },
  { name: 'path longer than APIM allows', patch: { spec: { path: '/' + 'a'.repeat(401) } }, field: 'spec.path', reason: 'TooLong', text: '400 characters' },
  { name: 'path only a slash', patch: { spec: { path: '/' } }, field: 'spec.path', reason: 'Invalid', text: 'at least one path segment' },
  { name: 'path claimed by another ExposedAPI', patch: { spec: { path: '/taken/api' } }, field: 'spec.path', reason: 'Forbidden', text: 'already claimed by ExposedAPI other/first-owner', ctx: { claims } },
  { name: 'path claim is case-insensitive', patch: { spec: { path: '/Taken/API' } }, field: 'spec.path', reason: 'Forbidden', text: 'other/first-owner', ctx: { claims } },
  { name: 'percent-encoded path', patch: { spec: { path: '/a%20b/c' } }, field: 'spec.path', reason: 'Invalid', text: 'must not contain percent-encoding ("%20")' },
  { name: 'developerUI without slash', patch: { spec: { developerUI: 'docs' } }, field: 'spec.developerUI', reason: 'Invalid', text: 'must start with "/"' },
  { name: 'specification required for openapi', patch: { spec: { specification: undefined } }, field: 'spec.specification', reason: 'Required', text: 'OpenAPI document' },
  { name: 'specification URL not http(s)', patch: { spec: { specification: { url: 'ftp://h/a.json' } } }, field: 'spec.specification.url', reason: 'Invalid', text: 'absolute http(s) URL' },
  { name: 'specification not a URL nor a document', patch: { spec: { specification: 'specs/api.json' } }, field: 'spec.specification', reason: 'Invalid', text: 'neither an absolute http(s) URL nor an OpenAPI document' },
  { name: 'inline document with a missing operationId', patch: { spec: { specification: JSON.stringify(swagger2([['get', '/productOffering']])) } }, field: 'spec.specification', reason: 'Invalid', text: 'has 1 operation without an operationId' },
  { name: 'inline document with colliding operationIds', patch: { spec: { specification: JSON.stringify(swagger2([['get', '/pets', 'listPets'], ['get', '/pets2', 'list_pets']])) } }, field: 'spec.specification', reason: 'Invalid', text: 'collide' },
  { name: 'rate limit not a number', patch: enabledRateLimit({ limit: 'ten' }), field: 'spec.rateLimit.limit', reason: 'Invalid', text: 'positive whole number' },
  { name: 'rate limit zero', patch: enabledRateLimit({ limit: '0' }), field: 'spec.rateLimit.limit', reason: 'Invalid', text: 'Invalid value: "0"' },
  { name: 'rate limit above 32 bits', patch: enabledRateLimit({ limit: '9999999999' }), field: 'spec.rateLimit.limit', reason: 'Invalid', text: '32-bit' },
  { name: 'rate limit missing when enabled', patch: enabledRateLimit({ limit: '' }), field: 'spec.rateLimit.limit', reason: 'Invalid', text: 'required when rateLimit.enabled' },
  { name: 'rate limit interval', patch: enabledRateLimit({ interval: 'ph' }), field: 'spec.rateLimit.interval', reason: 'NotSupported', text: 'supported values: "ps", "pm"' },
  { name: 'rate limit identifier APIM cannot express', patch: enabledRateLimit({ identifier: 'cookie:session' }), field: 'spec.rateLimit.identifier', reason: 'Invalid', text: 'cookie:session' },
  { name: 'rate limit identifier with markup', patch: enabledRateLimit({ identifier: 'header:<x>' }), field: 'spec.rateLimit.identifier', reason: 'Invalid', text: 'name token' },
  { name: 'subscription identifier without API keys', patch: enabledRateLimit({ identifier: 'subscription' }), field: 'spec.rateLimit.identifier', reason: 'Invalid', text: 'apiKeyVerification.enabled' },
  { name: 'claim identifier without JWT', patch: enabledRateLimit({ identifier: 'claim:sub' }), field: 'spec.rateLimit.identifier', reason: 'Invalid', text: 'needs JWT validation' },
  { name: 'quota not a number', patch: { spec: { quota: { identifier: 'IP', limit: '-5' } } }, field: 'spec.quota.limit', reason: 'Invalid', text: 'positive whole number' },
  { name: 'CORS origin with a path', patch: enabledCors({ allowOrigins: 'https://a.example.com/app' }), field: 'spec.CORS.allowOrigins', reason: 'Invalid', text: 'has a path, query or fragment' },
  { name: 'CORS origin without scheme', patch: enabledCors({ allowOrigins: 'a.example.com' }), field: 'spec.CORS.allowOrigins', reason: 'Invalid', text: 'scheme://host[:port]' },
  { name: 'CORS wildcard with credentials', patch: enabledCors({ allowCredentials: true }), field: 'spec.CORS.allowCredentials', reason: 'Invalid', text: 'cannot be true while allowOrigins is "*"' },
  { name: 'CORS wildcard mixed with origins', patch: enabledCors({ allowOrigins: '*, https://a.com' }), field: 'spec.CORS.allowOrigins', reason: 'Invalid', text: 'cannot be combined' },
  { name: 'CORS method not a token', patch: enabledCors({ allowOrigins: 'https://a.com', handlePreflightRequests: { allowMethods: 'GET, PO ST' } }), field: 'spec.CORS.handlePreflightRequests.allowMethods', reason: 'Invalid', text: 'HTTP method token' },
  { name: 'CORS header with markup', patch: enabledCors({ allowOrigins: 'https://a.com', handlePreflightRequests: { allowHeaders: 'Content-Type, <x>' } }), field: 'spec.CORS.handlePreflightRequests.allowHeaders', reason: 'Invalid', text: 'header name token' },
  { name: 'CORS negative maxAge', patch: enabledCors({ allowOrigins: 'https://a.com', handlePreflightRequests: { maxAge: -1 } }), field: 'spec.CORS.handlePreflightRequests.maxAge', reason: 'Invalid', text: '0 or more' },
  { name: 'API key location not a token', patch: { spec: { apiKeyVerification: { enabled: true, location: 'x api key' } } }, field: 'spec.apiKeyVerification.location', reason: 'Invalid', text: 'name token' },
  { name: 'template not a fragment id', patch: { spec: { template: 'a"/><evil' } }, field: 'spec.template', reason: 'Invalid', text: 'policy fragment' },
  { name: 'apim apiId with forbidden characters', patch: { spec: { apim: { apiId: 'a:b' } } }, field: 'spec.apim.apiId', reason: 'Invalid', text: '^[^*#&+:<>?]+$' },
  { name: 'apim apiId too long', patch: { spec: { apim: { apiId: 'a'.repeat(81) } } }, field: 'spec.apim.apiId', reason: 'TooLong', text: '80' },
  { name: 'apim product id too long', patch: { spec: { apim: { products: ['p'.repeat(81)] } } }, field: 'spec.apim.products[0]', reason: 'TooLong', text: '80' },
  { name: 'apim tag id invalid', patch: { spec: { apim: { tags: ['bad tag'] } } }, field: 'spec.apim.tags[0]', reason: 'Invalid', text: 'tag id' },
  { name: 'apim duplicate product', patch: { spec: { apim: { products: ['a', 'A'] } } }, field: 'spec.apim.products[1]', reason: 'Duplicate', text: 'listed twice' },
  { name: 'apim JWT URL not https', patch: { spec: { apim: { authentication: { jwt: { openidConfigUrl: 'http://idp/.well-known/openid-configuration' } } } } }, field: 'spec.apim.authentication.jwt.openidConfigUrl', reason: 'Invalid', text: 'https' },
  { name: 'apim JWT URL missing', patch: { spec: { apim: { authentication: { jwt: { audiences: ['x'] } } } } }, field: 'spec.apim.authentication.jwt.openidConfigUrl', reason: 'Required', text: 'OpenID Connect' },
  { name: 'apim backend url mode without url', patch: { spec: { apim: { backend: { mode: 'url' } } } }, field: 'spec.apim.backend.url', reason: 'Required', text: 'absolute http(s) URL' },
  { name: 'apim backend mode unknown', patch: { spec: { apim: { backend: { mode: 'gateway' } } } }, field: 'spec.apim.backend.mode', reason: 'NotSupported', text: '"ingress", "url"' },
  { name: 'apim unknown field', patch: { spec: { apim: { prodcuts: ['a'] } } }, field: 'spec.apim.prodcuts', reason: 'Forbidden', text: 'unknown field' },
];

t.test('each rule rejects its bad value with field, value and fix', async (t) => {
  for (const c of failing) {
    const result = await validateExposedApi(exposedApi(c.patch), defaultValidationContext(c.ctx));
    const hit = result.errors.find((e) => e.field === c.field && e.reason === c.reason);
    if (!t.ok(hit, `${c.name}: ${c.field} ${c.reason} (got ${result.errors.map(renderFieldError).join(' | ') || 'no errors'})`)) continue;
    t.match(renderFieldError(hit!), c.text, `${c.name}: message`);
  }
});

const passing: { name: string; patch: Obj; ctx?: Partial<ValidationContext> }[] = [
  { name: 'the base object', patch: {} },
  { name: 'disabled blocks with empty strings (component operator output)', patch: { spec: { rateLimit: { enabled: false, identifier: 'IP', limit: '6', interval: 'pm' }, quota: { identifier: '', limit: '' }, CORS: { enabled: false, allowOrigins: 'https://allowed-origin.com, https://allowed-origin2.com' }, apiKeyVerification: { enabled: false, location: '' } } } },
  { name: 'a disabled rate limit with garbage is ignored', patch: { spec: { rateLimit: { enabled: false, limit: 'lots', interval: 'pd' } } } },
  { name: 'path at APIM limit', patch: { spec: { path: '/' + 'a'.repeat(400) } } },
  { name: 'every identifier form', patch: { spec: { apiKeyVerification: { enabled: true, location: 'x-api-key' }, rateLimit: { enabled: true, limit: '5', interval: 'pm', identifier: 'subscription' }, quota: { identifier: 'header:x-client-id', limit: '1000' } } } },
  { name: 'claim identifier with JWT configured', patch: { spec: { rateLimit: { enabled: true, limit: '5', identifier: 'claim:sub' }, apim: { authentication: { jwt: { openidConfigUrl: 'https://idp.example.com/.well-known/openid-configuration' } } } } } },
  { name: 'claim identifier with the operator default JWT', patch: { spec: { rateLimit: { enabled: true, limit: '5', identifier: 'claim:sub' } } }, ctx: { defaultJwt: true } },
  { name: 'CORS with explicit origins and credentials', patch: enabledCors({ allowCredentials: true, allowOrigins: 'https://a.example.com, http://localhost:3000, https://[::1]:8443' }) },
  { name: 'CORS wildcard without credentials', patch: enabledCors({}) },
  { name: 'prometheus API without specification', patch: { spec: { apiType: 'prometheus', specification: undefined, path: '/ctk/metrics', port: 4000, segment: 'managementFunction' } } },
  { name: 'MCP API (v1)', patch: { spec: { apiType: 'mcp', specification: undefined } } },
  { name: 'API key in a named header', patch: { spec: { apiKeyVerification: { enabled: true, location: 'header:x-api-key' } } } },
  { name: 'own path claim', patch: { metadata: { name: 'first-owner', namespace: 'other' }, spec: { path: '/taken/api' } }, ctx: { claims } },
  { name: 'template names a fragment', patch: { spec: { template: 'oda-standard-headers' } } },
  { name: 'inline OpenAPI 3.1 document', patch: { spec: { specification: JSON.stringify({ openapi: '3.1.0', info: { title: 'x', version: '1' }, paths: { '/a': { get: { operationId: 'getA', responses: { '200': { description: 'ok' } } } } } }) } } },
];

t.test('valid values pass', async (t) => {
  for (const c of passing) {
    const result = await validateExposedApi(exposedApi(c.patch), defaultValidationContext(c.ctx));
    t.same(result.errors.map(renderFieldError), [], c.name);
  }
});

t.test('one object with many faults reports all of them at once', async (t) => {
  const obj = exposedApi({
    spec: {
      apiType: 'graphql',
      port: 70000,
      implementation: 'Bad_Svc',
      path: 'api/',
      rateLimit: { enabled: true, limit: '0', interval: 'ph', identifier: 'cookie:x' },
      CORS: { enabled: true, allowCredentials: true, allowOrigins: '*' },
      apim: { apiId: 'a:b', products: ['p', 'p'] },
    },
  });
  const result = await validateExposedApi(obj, defaultValidationContext());
  const fields = new Set(result.errors.map((e) => e.field));
  for (const f of ['spec.apiType', 'spec.port', 'spec.implementation', 'spec.path', 'spec.rateLimit.limit', 'spec.rateLimit.interval', 'spec.rateLimit.identifier', 'spec.CORS.allowCredentials', 'spec.apim.apiId', 'spec.apim.products[1]']) {
    t.ok(fields.has(f), `reports ${f}`);
  }
  const message = renderInvalid('ExposedAPI', 'x', result.errors);
  t.match(message, /^ExposedAPI "x" is invalid: \[spec\.apiType: Unsupported value: "graphql".*, spec\.port: Invalid value: 70000: .*\]$/s);
});

t.test('a quota identifier that is not a known form works as a shared counter, with a warning', async (t) => {
  const result = await validateExposedApi(exposedApi({ spec: { quota: { identifier: 'test-identifier', limit: '1000' } } }), defaultValidationContext());
  t.same(result.errors, []);
  t.match(result.warnings[0], 'one counter shared by all callers');
});

t.test('several specification entries: the first is imported, with a warning', async (t) => {
  const result = await validateExposedApi(
    exposedApi({ apiVersion: 'oda.tmforum.org/v1beta4', spec: { specification: [{ url: 'https://h.example/a.json', version: 'v4' }, { url: 'https://h.example/b.json', version: 'v5' }] } }),
    defaultValidationContext(),
  );
  t.same(result.errors, []);
  t.match(result.warnings[0], 'only the first (spec.specification[0].url) is imported');
});

t.test('a document served by the implementation: admission leaves it to the Job, other in-cluster names are refused', async (t) => {
  // The fixture's namespace "components", implementation "ctk-prodcatapi".
  const withUrl = (url: string) => exposedApi({ spec: { specification: [{ url }] } });
  let fetched = 0;
  const fetch = async () => (fetched++, { kind: 'unreachable' as const, reason: 'ECONNREFUSED' });
  for (const url of ['http://ctk-prodcatapi:8080/v3/api-docs', 'http://ctk-prodcatapi.components.svc.cluster.local:8080/v3/api-docs']) {
    const result = await validateExposedApi(withUrl(url), defaultValidationContext({ fetch }));
    t.same(result.errors, [], `${url}: admitted`);
    t.equal(result.warnings.length, 1, 'one warning');
    t.match(result.warnings[0], `spec.specification[0].url: ${url} is served by this ExposedAPI's implementation (Service components/ctk-prodcatapi), so it is not fetched now; the Job reads it from the Service's ready pods`);
    t.notMatch(result.warnings[0], 'could not fetch', 'no warning about it being unreachable');
  }
  t.equal(fetched, 0, 'admission fetched nothing');
  const other = await validateExposedApi(withUrl('http://billing.components.svc:8080/v3/api-docs'), defaultValidationContext({ fetch }));
  t.match(renderInvalid('ExposedAPI', 'x', other.errors), /spec\.specification\[0\]\.url: Forbidden: http:\/\/billing\.components\.svc:8080\/v3\/api-docs will not be fetched: .*names Service "billing" in namespace "components", not this ExposedAPI's implementation; .*use http:\/\/ctk-prodcatapi\.components\.svc:<port>\/<path>, or publish the document at a public https URL/);
  const otherNs = await validateExposedApi(withUrl('http://ctk-prodcatapi.team-b.svc:8080/v3/api-docs'), defaultValidationContext());
  t.match(otherNs.errors, [{ field: 'spec.specification[0].url', reason: 'Forbidden' }], 'another namespace, even offline (no fetcher)');
  const allowed = await validateExposedApi(withUrl('http://billing.components.svc:8080/v3/api-docs'), defaultValidationContext({ fetch, allowPrivateFetch: true }));
  t.same(allowed.errors, [], 'SPEC_FETCH_ALLOW_PRIVATE=true: fetched by the ordinary rules, as before');
  t.match(allowed.warnings[0], 'could not fetch');
});
