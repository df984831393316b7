// core/policy-xml.ts: every ODA policy field to its exact XML (golden strings), and every rendered document accepted
// by the APIM emulator, which validates policies the way APIM does (sections, scopes, attributes, fragments).
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';
import { readExposedApi, type JwtSettings } from '../../core/exposedapi-model.ts';
import { counterKey, policiesUsed, renderPolicyXml, xmlEscape, type PolicyInput } from '../../core/policy-xml.ts';
import { exposedApi } from '../helpers/fixtures.ts';
import { classifyApimError } from '../../executor/apim-error.ts';

type Spec = PolicyInput['spec'];

/** The APIM apiId the goldens are rendered for (the id derived for team-a/pc). */
const API_ID = 'team-a-pc';

function specOf(patch: Record<string, unknown>): Spec {
  const { model, errors } = readExposedApi(exposedApi({ spec: patch }));
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return model.spec;
}

function render(patch: Record<string, unknown>, o: Partial<Omit<PolicyInput, 'spec'>> = {}): string {
  return renderPolicyXml({ spec: specOf(patch), apiId: API_ID, quotaRenewalPeriodSeconds: 86400, documentValidation: true, ...o });
}

/** The skeleton with literal lines inserted after inbound's and outbound's <base />. */
function doc(inbound: string[], outbound: string[] = [], beforeBase: string[] = []): string {
  return [
    '<policies>',
    '  <inbound>',
    ...beforeBase,
    '    <base />',
    ...inbound,
    '  </inbound>',
    '  <backend>',
    '    <base />',
    '  </backend>',
    '  <outbound>',
    '    <base />',
    ...outbound,
    '  </outbound>',
    '  <on-error>',
    '    <base />',
    '  </on-error>',
    '</policies>',
  ].join('\n');
}

const JWT: JwtSettings = {
  openidConfigUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration',
  audiences: ['api://productcatalog'],
  issuers: ['https://sts.windows.net/contoso/'],
  requiredClaims: [
    { name: 'roles', values: ['catalog.read', 'catalog.write'] },
    { name: 'sub', values: [] },
  ],
};

const cases: { name: string; xml: string }[] = [];
const golden = (name: string, actual: string, expected: string): void => {
  cases.push({ name, xml: actual });
  t.equal(actual, expected, name);
};

t.test('golden XML for every field', async (t) => {
  golden('nothing enabled: <base /> in every section', render({}), [
    '<policies>',
    '  <inbound>',
    '    <base />',
    '  </inbound>',
    '  <backend>',
    '    <base />',
    '  </backend>',
    '  <outbound>',
    '    <base />',
    '  </outbound>',
    '  <on-error>',
    '    <base />',
    '  </on-error>',
    '</policies>',
  ].join('\n'));

  golden('rateLimit ps by IP (the default identifier)', render({ rateLimit: { enabled: true, identifier: '', limit: '6' } }),
    doc(['    <rate-limit-by-key calls="6" renewal-period="1" counter-key="@(&quot;team-a-pc:&quot; + context.Request.IpAddress)" />']));
  golden('rateLimit pm by IP', render({ rateLimit: { enabled: true, identifier: 'IP', limit: '100', interval: 'pm' } }),
    doc(['    <rate-limit-by-key calls="100" renewal-period="60" counter-key="@(&quot;team-a-pc:&quot; + context.Request.IpAddress)" />']));
  golden('rateLimit by subscription', render({ apiKeyVerification: { enabled: true }, rateLimit: { enabled: true, identifier: 'subscription', limit: '10', interval: 'pm' } }),
    doc(['    <rate-limit-by-key calls="10" renewal-period="60" counter-key="@(&quot;team-a-pc:&quot; + context.Subscription.Id)" />']));
  golden('rateLimit by header', render({ rateLimit: { enabled: true, identifier: 'header:x-client-id', limit: '5' } }),
    doc(['    <rate-limit-by-key calls="5" renewal-period="1" counter-key="@(&quot;team-a-pc:&quot; + context.Request.Headers.GetValueOrDefault(&quot;x-client-id&quot;,&quot;anonymous&quot;))" />']));
  golden('rateLimit by query parameter', render({ rateLimit: { enabled: true, identifier: 'query:tenant', limit: '5' } }),
    doc(['    <rate-limit-by-key calls="5" renewal-period="1" counter-key="@(&quot;team-a-pc:&quot; + context.Request.Url.Query.GetValueOrDefault(&quot;tenant&quot;,&quot;anonymous&quot;))" />']));
  golden('rateLimit by a shared name: one constant counter', render({ rateLimit: { enabled: true, identifier: 'test-identifier', limit: '5' } }),
    doc(['    <rate-limit-by-key calls="5" renewal-period="1" counter-key="team-a-pc:test-identifier" />']));

  golden('quota by IP with the configured renewal period', render({ quota: { identifier: 'IP', limit: '1000' } }),
    doc(['    <quota-by-key calls="1000" renewal-period="86400" counter-key="@(&quot;team-a-pc:&quot; + context.Request.IpAddress)" />']));
  golden('quota renewal period from configuration', render({ quota: { identifier: 'test-identifier', limit: '1000' } }, { quotaRenewalPeriodSeconds: 3600 }),
    doc(['    <quota-by-key calls="1000" renewal-period="3600" counter-key="team-a-pc:test-identifier" />']));
  golden('disabled blocks with empty strings render nothing (the component operator emits them)',
    render({ rateLimit: { enabled: false, identifier: 'IP', limit: '6', interval: 'pm' }, quota: { identifier: '', limit: '' } }), doc([]));

  golden('CORS with the ODA defaults, first in inbound (before <base />)', render({ CORS: { enabled: true } }), doc([], [], [
    '    <cors allow-credentials="false" terminate-unmatched-request="false">',
    '      <allowed-origins>',
    '        <origin>*</origin>',
    '      </allowed-origins>',
    '      <allowed-methods preflight-result-max-age="1800">',
    '        <method>GET</method>',
    '        <method>POST</method>',
    '        <method>HEAD</method>',
    '        <method>OPTIONS</method>',
    '      </allowed-methods>',
    '      <allowed-headers>',
    '        <header>Origin</header>',
    '        <header>Accept</header>',
    '        <header>X-Requested-With</header>',
    '        <header>Content-Type</header>',
    '        <header>Access-Control-Request-Method</header>',
    '        <header>Access-Control-Request-Headers</header>',
    '      </allowed-headers>',
    '    </cors>',
  ]));
  golden('CORS with listed origins, credentials and custom preflight', render({
    CORS: {
      enabled: true,
      allowCredentials: true,
      allowOrigins: 'https://allowed-origin.com, https://another-allowed-origin.com:8443',
      handlePreflightRequests: { allowHeaders: 'Content-Type, Authorization', allowMethods: 'GET, PUT', maxAge: 3600 },
    },
  }), doc([], [], [
    '    <cors allow-credentials="true" terminate-unmatched-request="false">',
    '      <allowed-origins>',
    '        <origin>https://allowed-origin.com</origin>',
    '        <origin>https://another-allowed-origin.com:8443</origin>',
    '      </allowed-origins>',
    '      <allowed-methods preflight-result-max-age="3600">',
    '        <method>GET</method>',
    '        <method>PUT</method>',
    '      </allowed-methods>',
    '      <allowed-headers>',
    '        <header>Content-Type</header>',
    '        <header>Authorization</header>',
    '      </allowed-headers>',
    '    </cors>',
  ]));
  golden('CORS without preflight handling: origins only', render({ CORS: { enabled: true, handlePreflightRequests: { enabled: false } } }), doc([], [], [
    '    <cors allow-credentials="false" terminate-unmatched-request="false">',
    '      <allowed-origins>',
    '        <origin>*</origin>',
    '      </allowed-origins>',
    '    </cors>',
  ]));

  const requestContent = [
    '    <validate-content unspecified-content-type-action="prevent" max-size="4194304" size-exceeded-action="prevent">',
    '      <content validate-as="json" action="prevent" />',
    '    </validate-content>',
  ];
  golden('request validation: nothing unspecified allowed', render({ OASValidation: { requestEnabled: true } }), doc([
    ...requestContent,
    '    <validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent">',
    '      <headers specified-parameter-action="prevent" unspecified-parameter-action="prevent" />',
    '      <query specified-parameter-action="prevent" unspecified-parameter-action="prevent" />',
    '    </validate-parameters>',
  ]));
  golden('request validation: unspecified headers and query parameters allowed → ignore', render({ OASValidation: { requestEnabled: true, allowUnspecifiedHeaders: true, allowUnspecifiedQueryParams: true, allowUnspecifiedCookies: true } }), doc([
    ...requestContent,
    '    <validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent">',
    '      <headers specified-parameter-action="prevent" unspecified-parameter-action="ignore" />',
    '      <query specified-parameter-action="prevent" unspecified-parameter-action="ignore" />',
    '    </validate-parameters>',
  ]));
  golden('response validation in outbound', render({ OASValidation: { responseEnabled: true } }), doc([], [
    '    <validate-content unspecified-content-type-action="prevent" max-size="4194304" size-exceeded-action="prevent">',
    '      <content validate-as="json" action="prevent" />',
    '    </validate-content>',
    '    <validate-headers specified-header-action="prevent" unspecified-header-action="ignore" />',
    '    <validate-status-code unspecified-status-code-action="prevent" />',
  ]));
  t.equal(render({ OASValidation: { requestEnabled: true, responseEnabled: true } }, { documentValidation: false }), doc([]), 'pass-through APIs have no document: no validation');

  const jwtLines = [
    '    <validate-jwt header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" require-scheme="Bearer" output-token-variable-name="jwt">',
    '      <openid-config url="https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration" />',
    '      <audiences>',
    '        <audience>api://productcatalog</audience>',
    '      </audiences>',
    '      <issuers>',
    '        <issuer>https://sts.windows.net/contoso/</issuer>',
    '      </issuers>',
    '      <required-claims>',
    '        <claim name="roles" match="any">',
    '          <value>catalog.read</value>',
    '          <value>catalog.write</value>',
    '        </claim>',
    '        <claim name="sub" />',
    '      </required-claims>',
    '    </validate-jwt>',
  ];
  golden('authentication: validate-jwt with openid-config, audiences, issuers, required claims', render({}, { jwt: JWT }), doc(jwtLines));
  golden('JWT with only a discovery URL', render({}, { jwt: { openidConfigUrl: JWT.openidConfigUrl, audiences: [], issuers: [], requiredClaims: [] } }), doc([
    '    <validate-jwt header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" require-scheme="Bearer" output-token-variable-name="jwt">',
    `      <openid-config url="${JWT.openidConfigUrl}" />`,
    '    </validate-jwt>',
  ]));
  golden('rateLimit by claim reads the validated token', render({ rateLimit: { enabled: true, identifier: 'claim:sub', limit: '5' }, apim: { authentication: { jwt: { openidConfigUrl: JWT.openidConfigUrl } } } }, { jwt: JWT }), doc([
    ...jwtLines,
    '    <rate-limit-by-key calls="5" renewal-period="1" counter-key="@(&quot;team-a-pc:&quot; + ((Jwt)context.Variables[&quot;jwt&quot;]).Claims.GetValueOrDefault(&quot;sub&quot;,&quot;anonymous&quot;))" />',
  ]));

  golden('template → include-fragment, last in inbound', render({ template: 'oda-standard-headers', rateLimit: { enabled: true, limit: '1' } }), doc([
    '    <rate-limit-by-key calls="1" renewal-period="1" counter-key="@(&quot;team-a-pc:&quot; + context.Request.IpAddress)" />',
    '    <include-fragment fragment-id="oda-standard-headers" />',
  ]));
});

t.test('the ODA example ExposedAPI, every block enabled, as one exact document', async (t) => {
  const xml = render({
    apiKeyVerification: { enabled: true, location: 'header' },
    rateLimit: { enabled: true, identifier: 'IP', limit: '100', interval: 'pm' },
    quota: { identifier: 'test-identifier', limit: '1000' },
    OASValidation: { requestEnabled: true, responseEnabled: true },
    CORS: {
      enabled: true,
      allowCredentials: true,
      allowOrigins: 'https://allowed-origin.com, https://another-allowed-origin.com',
      handlePreflightRequests: { enabled: true, allowMethods: 'GET, POST, PUT, DELETE', maxAge: 3600 },
    },
    template: 'oda-example',
  });
  cases.push({ name: 'ODA example', xml });
  t.equal(xml, `<policies>
  <inbound>
    <cors allow-credentials="true" terminate-unmatched-request="false">
      <allowed-origins>
        <origin>https://allowed-origin.com</origin>
        <origin>https://another-allowed-origin.com</origin>
      </allowed-origins>
      <allowed-methods preflight-result-max-age="3600">
        <method>GET</method>
        <method>POST</method>
        <method>PUT</method>
        <method>DELETE</method>
      </allowed-methods>
      <allowed-headers>
        <header>Origin</header>
        <header>Accept</header>
        <header>X-Requested-With</header>
        <header>Content-Type</header>
        <header>Access-Control-Request-Method</header>
        <header>Access-Control-Request-Headers</header>
      </allowed-headers>
    </cors>
    <base />
    <rate-limit-by-key calls="100" renewal-period="60" counter-key="@(&quot;team-a-pc:&quot; + context.Request.IpAddress)" />
    <quota-by-key calls="1000" renewal-period="86400" counter-key="team-a-pc:test-identifier" />
    <validate-content unspecified-content-type-action="prevent" max-size="4194304" size-exceeded-action="prevent">
      <content validate-as="json" action="prevent" />
    </validate-content>
    <validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent">
      <headers specified-parameter-action="prevent" unspecified-parameter-action="prevent" />
      <query specified-parameter-action="prevent" unspecified-parameter-action="prevent" />
    </validate-parameters>
    <include-fragment fragment-id="oda-example" />
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
    <validate-content unspecified-content-type-action="prevent" max-size="4194304" size-exceeded-action="prevent">
      <content validate-as="json" action="prevent" />
    </validate-content>
    <validate-headers specified-header-action="prevent" unspecified-header-action="ignore" />
    <validate-status-code unspecified-status-code-action="prevent" />
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>`);
});

t.test('values are XML-escaped, expressions included', async (t) => {
  t.equal(xmlEscape(`a&b<c>"d"'e'`), 'a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;');
  const jwt: JwtSettings = { openidConfigUrl: 'https://idp.example.com/.well-known/openid-configuration?a=1&b=2', audiences: ['api://x?y=1&z="2"'], issuers: [], requiredClaims: [{ name: 'grp', values: [`"quoted" & 'single'`] }] };
  const xml = renderPolicyXml({ spec: specOf({}), apiId: API_ID, jwt, quotaRenewalPeriodSeconds: 300, documentValidation: true });
  cases.push({ name: 'escaping', xml });
  t.match(xml, '<openid-config url="https://idp.example.com/.well-known/openid-configuration?a=1&amp;b=2" />');
  // Markup itself (< >) is refused before rendering (core/rules/apim-value-safety.ts); quotes and & are escaped.
  t.match(xml, '<audience>api://x?y=1&amp;z=&quot;2&quot;</audience>');
  t.match(xml, '<value>&quot;quoted&quot; &amp; &apos;single&apos;</value>');
  t.equal(counterKey({ kind: 'header', name: 'x"y' }, 'a"b'), '@("a\\"b:" + context.Request.Headers.GetValueOrDefault("x\\"y","anonymous"))', 'the id and a name are C# string literals inside the expression');
  t.throws(() => render({ rateLimit: { enabled: true, identifier: 'no spaces allowed', limit: '1' } }), /spec\.rateLimit\.identifier/, 'an identifier validation would reject is never rendered');
});

// APIM keeps one counter per counter-key value across every API that uses it (docs rate-limit-by-key-policy,
// quota-by-key-policy): two APIs must never render the same key, whatever the identifier.
const IDENTIFIER_KINDS: { kind: string; identifier: string; spec?: Record<string, unknown>; jwt?: JwtSettings }[] = [
  { kind: 'ip (empty = default)', identifier: '' },
  { kind: 'ip', identifier: 'IP' },
  { kind: 'subscription', identifier: 'subscription', spec: { apiKeyVerification: { enabled: true } } },
  { kind: 'header', identifier: 'header:x-client-id' },
  { kind: 'query', identifier: 'query:tenant' },
  { kind: 'claim', identifier: 'claim:sub', jwt: JWT },
  { kind: 'shared (the ODA example)', identifier: 'test-identifier' },
];

t.test('two APIs get distinct counter keys for every identifier kind, in rate limits and quotas', async (t) => {
  const keysOf = (xml: string): string[] => [...xml.matchAll(/counter-key="([^"]*)"/g)].map((m) => m[1]!);
  for (const c of IDENTIFIER_KINDS) {
    const spec = { ...c.spec, rateLimit: { enabled: true, identifier: c.identifier, limit: '5' }, quota: { identifier: c.identifier, limit: '1000' } };
    const a = render(spec, { apiId: 'team-a-orders', ...(c.jwt ? { jwt: c.jwt } : {}) });
    const b = render(spec, { apiId: 'team-b-orders', ...(c.jwt ? { jwt: c.jwt } : {}) });
    cases.push({ name: `per-API keys, ${c.kind}`, xml: a });
    const [ka, kb] = [keysOf(a), keysOf(b)];
    t.equal(ka.length, 2, `${c.kind}: a rate limit and a quota`);
    for (let i = 0; i < ka.length; i++) {
      t.not(ka[i], kb[i], `${c.kind}: the two APIs' keys differ`);
      t.ok(ka[i]!.startsWith('team-a-orders:') || ka[i]!.startsWith('@(&quot;team-a-orders:&quot; + '), `${c.kind}: the key starts with the API's id (${ka[i]})`);
      t.equal(ka[i]!.replaceAll('team-a-orders', 'team-b-orders'), kb[i], `${c.kind}: and differs only in it`);
    }
  }
  // An id one character longer is not a prefix match of another API's keys: the ":" (never in an APIM id) ends it.
  const short = render({ rateLimit: { enabled: true, identifier: 'test-identifier', limit: '5' } }, { apiId: 'orders' });
  const long = render({ rateLimit: { enabled: true, identifier: 'identifier', limit: '5' } }, { apiId: 'orders-test' });
  t.not(keysOf(short)[0], keysOf(long)[0], '"orders" + "test-identifier" and "orders-test" + "identifier" stay apart');
});

t.test('an apiId that could become code or a named value is never put into a counter key', async (t) => {
  for (const apiId of ['@(context.Request.Body)', '{{secret}}', 'x@{y}']) {
    t.throws(() => render({ rateLimit: { enabled: true, identifier: 'IP', limit: '5' } }, { apiId }), /spec\.apim\.apiId: refusing to send/, apiId);
  }
  t.doesNotThrow(() => render({}, { apiId: '{{secret}}' }), 'the id only reaches the document through a counter');
});

t.test('validate-content max-size comes from the input, APIM\'s current maximum by default', async (t) => {
  const sizes = (xml: string): string[] => [...xml.matchAll(/max-size="(\d+)"/g)].map((m) => m[1]!);
  const both = { OASValidation: { requestEnabled: true, responseEnabled: true } };
  t.same(sizes(render(both)), ['4194304', '4194304'], 'default: 4 MB in request and response validation');
  const old = render(both, { validateContentMaxSize: 102400 });
  cases.push({ name: 'validate-content 100 KB', xml: old });
  t.same(sizes(old), ['102400', '102400'], 'the older services\' 100 KB limit');
});

t.test('policiesUsed lists exactly the policies the document holds, in order', async (t) => {
  const combos: { name: string; spec: Record<string, unknown>; jwt?: JwtSettings; documentValidation?: boolean }[] = [
    { name: 'nothing', spec: {} },
    { name: 'ODA example', spec: { apiKeyVerification: { enabled: true }, rateLimit: { enabled: true, identifier: 'IP', limit: '100', interval: 'pm' }, quota: { identifier: 'test-identifier', limit: '1000' }, OASValidation: { requestEnabled: true, responseEnabled: true }, CORS: { enabled: true }, template: 'oda-example' } },
    { name: 'JWT and a claim counter', spec: { rateLimit: { enabled: true, identifier: 'claim:sub', limit: '5' } }, jwt: JWT },
    { name: 'quota only', spec: { quota: { identifier: '', limit: '10' } } },
    { name: 'pass-through: no validation', spec: { OASValidation: { requestEnabled: true, responseEnabled: true } }, documentValidation: false },
    { name: 'disabled blocks', spec: { rateLimit: { enabled: false, identifier: 'IP', limit: '6' }, quota: { identifier: 'IP', limit: '' }, CORS: { enabled: false } } },
    { name: 'response validation only', spec: { OASValidation: { responseEnabled: true } } },
  ];
  const KNOWN = ['cors', 'validate-jwt', 'rate-limit-by-key', 'quota-by-key', 'validate-content', 'validate-parameters', 'include-fragment', 'validate-headers', 'validate-status-code'];
  for (const c of combos) {
    const input = { spec: specOf(c.spec), ...(c.jwt ? { jwt: c.jwt } : {}), documentValidation: c.documentValidation ?? true };
    const xml = renderPolicyXml({ ...input, apiId: API_ID, quotaRenewalPeriodSeconds: 86400 });
    const inDocument = [...xml.matchAll(/^ {4}<([a-z-]+)/gm)].map((m) => m[1]!).filter((name) => KNOWN.includes(name));
    t.same(policiesUsed(input).map((u) => u.policy), inDocument, c.name);
  }
  t.same(policiesUsed({ spec: specOf({ quota: { identifier: '', limit: '10' } }), documentValidation: true }), [{ policy: 'quota-by-key', field: 'spec.quota' }], 'each use names the spec field that asks for it');
});

t.test('the emulator (validating like APIM) accepts every rendered policy', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'policy-xml-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const emu = await startApimEmulator({ dir, importDelayMs: 0 });
  t.teardown(() => emu.close());
  const credential = new ClientSecretCredential(emu.tenantId, emu.clientId, emu.clientSecret, { authorityHost: emu.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: emu.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  const client = new ApiManagementClient(credential, emu.subscriptionId, { endpoint: emu.url, tlsOptions: { ca: emu.caPem } } as ApiManagementClientOptionalParams);
  const rg = emu.resourceGroup;
  const svc = emu.serviceName;
  await client.api.beginCreateOrUpdateAndWait(rg, svc, 'policies', { path: 'policies', displayName: 'Policies', protocols: ['https'], serviceUrl: 'http://backend.example/' }, { updateIntervalInMs: 10 });
  for (const id of ['oda-standard-headers', 'oda-example']) {
    await client.policyFragment.beginCreateOrUpdateAndWait(rg, svc, id, { format: 'xml', value: '<fragment><set-header name="x-oda" exists-action="override"><value>1</value></set-header></fragment>' }, { updateIntervalInMs: 10 });
  }
  t.ok(cases.length >= 20, `${cases.length} rendered documents`);
  for (const c of cases) {
    await t.resolves(client.apiPolicy.createOrUpdate(rg, svc, 'policies', 'policy', { format: 'xml', value: c.xml }), c.name);
    const stored = emu.state().apis.find((a) => a.name === 'policies')?.policy;
    t.equal(stored?.raw, c.xml, `${c.name}: stored as sent`);
  }
  // The emulator does reject what APIM rejects, so the acceptance above means something. APIM puts the reason in the
  // error's details, which classifyApimError brings up into the message the executor reports.
  const rejection = async (xml: string): Promise<string> => {
    try {
      await client.apiPolicy.createOrUpdate(rg, svc, 'policies', 'policy', { format: 'xml', value: xml });
      return 'accepted';
    } catch (e) {
      const c = classifyApimError(e);
      return `${c.detail.status} ${c.detail.code} ${c.detail.target}: ${c.detail.message}`;
    }
  };
  t.match(await rejection(render({ template: 'no-such-fragment' })), /^400 ValidationError include-fragment: .*Policy fragment with id 'no-such-fragment' could not be found/);
  t.match(await rejection(render({ quota: { identifier: 'IP', limit: '5' } }, { quotaRenewalPeriodSeconds: 60 })), /renewal period must be 0 \(never renews\) or at least 300 seconds/);
});
