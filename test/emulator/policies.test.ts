// Policy documents through @azure/arm-apimanagement: stored re-formatted as in the REST examples, rawxml as sent,
// and APIM's checks (XML, sections, scopes, SKU, the settings of the policies the executor emits, fragments and
// named values) with its error form "Error in element 'x' on line L, column C: …".
import t from 'tap';
import type { PolicyContract } from '@azure/arm-apimanagement';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { FullOperationResponse } from '@azure/core-client';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';
import { SKU_TIERS } from '../../emulator/sku-tiers.ts';
import { swaggerPetstore } from './documents.ts';
import { deserialize, example, failure, fromWire, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

/** A document whose inbound policy sits on line 4 and outbound policy on line 11, both with the name at column 6. */
function policyDoc(inbound: string, outbound = '<base />'): string {
  return [
    '<policies>',
    '  <inbound>',
    '    <base />',
    `    ${inbound}`,
    '  </inbound>',
    '  <backend>',
    '    <base />',
    '  </backend>',
    '  <outbound>',
    '    <base />',
    `    ${outbound}`,
    '  </outbound>',
    '</policies>',
  ].join('\n');
}

/**
 * The API policy as GET returns it. The SDK cannot read it: apiPolicy.get is generated with `isXML: true` and
 * deserializes the JSON reply with its XML serializer, so `value` comes back undefined (azure-sdk-for-js #31566).
 */
async function apiPolicyValue(h: Harness, apiId: string, format?: 'rawxml'): Promise<string> {
  const r = await h.raw('GET', h.servicePath(`/apis/${apiId}/policies/policy?api-version=2024-05-01${format ? `&format=${format}` : ''}`));
  return r.body.properties.value as string;
}

async function withApi(h: Harness): Promise<void> {
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'echo', { displayName: 'Echo', path: 'echo', serviceUrl: 'https://echo.example' }, h.lro);
}

async function details(h: Harness, value: string, scope: 'api' | 'global' = 'api', format: 'xml' | 'rawxml' = 'xml'): Promise<{ status?: number; message?: string; details: string[] }> {
  const call = scope === 'api' ? h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value, format }) : h.client.policy.createOrUpdate(h.rg, h.svc, 'policy', { value, format });
  const e = await failure(call);
  return { status: e.statusCode, message: e.body?.error.message, details: (e.body?.error.details ?? []).map((d) => `${d.target}: ${d.message}`) };
}

t.test('the REST examples: re-formatted as APIM stores them, rawxml as sent, ?format=rawxml', async (t) => {
  const h = await startHarness(t);
  await withApi(h);
  const ex = await example('ApiManagementCreateApiPolicy');
  const created = await h.raw('PUT', h.servicePath('/apis/echo/policies/policy?api-version=2024-05-01'), ex.parameters.parameters, { 'if-match': '*' }).catch(() => undefined);
  t.equal(created?.status, 412, "If-Match: * before the policy exists (the example's header)");
  const first = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', fromWire<PolicyContract>('PolicyContract', ex.parameters.parameters));
  t.equal(first.value, (ex.responses['201']!.body!['properties'] as { value: string }).value, "exactly the example's stored form");
  const replaced = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', fromWire<PolicyContract>('PolicyContract', ex.parameters.parameters), { ifMatch: '*' });
  t.equal(replaced.value, (ex.responses['200']!.body!['properties'] as { value: string }).value);
  const body = await h.raw('GET', h.servicePath('/apis/echo/policies/policy?api-version=2024-05-01'));
  t.same(Object.keys(body.body).sort(), ['id', 'name', 'properties', 'type']);
  t.equal(body.body.type, 'Microsoft.ApiManagement/service/apis/policies');
  t.same(deserialize('PolicyContract', body.body).missing, []);

  const raw = await example('ApiManagementCreateApiPolicyNonXmlEncoded');
  const sent = (raw.parameters.parameters!.properties as { value: string }).value;
  const stored = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', fromWire<PolicyContract>('PolicyContract', raw.parameters.parameters), { ifMatch: '*' });
  t.equal(stored.value, (raw.responses['201']!.body!['properties'] as { value: string }).value, 'rawxml: expressions escaped in the stored form');
  t.equal(await apiPolicyValue(h, 'echo', 'rawxml'), sent, '?format=rawxml returns it as sent');
  t.equal(await apiPolicyValue(h, 'echo'), stored.value);
  const viaSdk = await h.client.apiPolicy.get(h.rg, h.svc, 'echo', 'policy');
  t.equal(viaSdk.value, undefined, 'the SDK reads the same reply as an empty PolicyContract (azure-sdk-for-js #31566)');
  t.match(viaSdk.eTag, /^"/, 'though its ETag header comes through');

  const got = await example('ApiManagementGetApiPolicy');
  const doc = (got.responses['200']!.body!['properties'] as { value: string }).value;
  const roundTrip = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value: doc, format: 'xml' });
  t.equal(roundTrip.value, doc, 'a stored document reads back unchanged (comments, text, entities)');

  const tag = await h.client.apiPolicy.getEntityTag(h.rg, h.svc, 'echo', 'policy');
  t.match(tag.eTag, /^"/);
  const stale = await failure(h.client.apiPolicy.delete(h.rg, h.svc, 'echo', 'policy', '"AAAAAAAAAAE="'));
  t.equal(stale.statusCode, 412);
  await h.client.apiPolicy.delete(h.rg, h.svc, 'echo', 'policy', tag.eTag!);
  t.equal((await failure(h.client.apiPolicy.get(h.rg, h.svc, 'echo', 'policy'))).statusCode, 404);
  const policies = await h.client.apiPolicy.listByApi(h.rg, h.svc, 'echo');
  t.same(policies.value, [], 'no policy left');
});

t.test('the policies the executor emits, in their sections, are accepted', async (t) => {
  const h = await startHarness(t);
  await withApi(h);
  await h.client.policyFragment.beginCreateOrUpdateAndWait(h.rg, h.svc, 'common', { format: 'xml', value: '<fragment><set-header name="X-Gateway" exists-action="override"><value>apim</value></set-header></fragment>' }, h.lro);
  await h.client.namedValue.beginCreateOrUpdateAndWait(h.rg, h.svc, 'audience', { displayName: 'audience', value: 'api://orders' }, h.lro);
  const value = `<policies>
  <inbound>
    <base />
    <cors allow-credentials="false" terminate-unmatched-request="true">
      <allowed-origins><origin>https://app.example.com</origin><origin>http://localhost:3000</origin></allowed-origins>
      <allowed-methods preflight-result-max-age="300"><method>GET</method><method>POST</method></allowed-methods>
      <allowed-headers><header>*</header></allowed-headers>
      <expose-headers><header>X-Total-Count</header></expose-headers>
    </cors>
    <validate-jwt header-name="Authorization" failed-validation-httpcode="401" require-scheme="Bearer">
      <openid-config url="https://login.example.com/.well-known/openid-configuration" />
      <audiences><audience>{{audience}}</audience></audiences>
      <issuers><issuer>https://login.example.com/</issuer></issuers>
      <required-claims><claim name="roles" match="any"><value>reader</value></claim></required-claims>
    </validate-jwt>
    <rate-limit-by-key calls="100" renewal-period="60" counter-key="@(context.Request.IpAddress)" />
    <quota-by-key calls="10000" renewal-period="86400" counter-key="@(context.Request.IpAddress)" />
    <rate-limit calls="20" renewal-period="90" />
    <validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="ignore" errors-variable-name="requestErrors" />
    <validate-content unspecified-content-type-action="prevent" max-size="102400" size-exceeded-action="prevent">
      <content type="application/json" validate-as="json" action="prevent" />
    </validate-content>
    <include-fragment fragment-id="common" />
    <set-backend-service base-url="https://backend.example/api" />
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
    <validate-headers specified-header-action="ignore" unspecified-header-action="ignore" />
    <validate-status-code unspecified-status-code-action="detect" />
    <validate-content unspecified-content-type-action="detect" max-size="102400" size-exceeded-action="detect" />
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>`;
  const stored = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value, format: 'xml' });
  t.match(stored.value, /^<policies>\r\n  <inbound>\r\n    <base \/>\r\n    <cors allow-credentials="false" terminate-unmatched-request="true">\r\n      <allowed-origins>\r\n        <origin>https:\/\/app\.example\.com<\/origin>/, 'two-space indentation, CRLF, one element per line');
  t.match(stored.value, /counter-key="@\(context\.Request\.IpAddress\)" \/>/);
  const quotaZero = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value: policyDoc('<quota-by-key bandwidth="1024" renewal-period="0" counter-key="k" />'), format: 'xml' });
  t.ok(quotaZero.value, 'quota-by-key: bandwidth only, renewal-period 0 (never renews)');
  const rawExpression = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', {
    value: policyDoc('<set-header name="X-Client" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-Client", "none") ?? "<none>")</value></set-header>'),
    format: 'rawxml',
  });
  t.match(rawExpression.value, /GetValueOrDefault\("X-Client", "none"\) \?\? "&lt;none&gt;"\)<\/value>/, 'rawxml expressions may hold < and quotes');
  const global = await h.client.policy.createOrUpdate(h.rg, h.svc, 'policy', { value: policyDoc('<cors><allowed-origins><origin>*</origin></allowed-origins></cors>'), format: 'xml' });
  t.match(global.value, /<origin>\*<\/origin>/, 'a global policy');
});

t.test('placement, scope, SKU and setting rules give APIM errors naming element, line and column', async (t) => {
  const h = await startHarness(t);
  await withApi(h);
  const cases: [string, string, 'api' | 'global', string[]][] = [
    ['cors directly under policies', '<policies>\n    <cors />\n</policies>', 'api', ["cors: Error in element 'cors' on line 2, column 6: Policy section is not allowed in the specified scope"]],
    ['cors in outbound', policyDoc('<base />', '<cors><allowed-origins><origin>*</origin></allowed-origins></cors>'), 'api', ["cors: Error in element 'cors' on line 11, column 6: Policy is not allowed in this section"]],
    ['validate-jwt in outbound', policyDoc('<base />', '<validate-jwt header-name="Authorization" />'), 'api', ["validate-jwt: Error in element 'validate-jwt' on line 11, column 6: Policy is not allowed in this section"]],
    ['validate-headers in inbound', policyDoc('<validate-headers specified-header-action="ignore" unspecified-header-action="ignore" />'), 'api', ["validate-headers: Error in element 'validate-headers' on line 4, column 6: Policy is not allowed in this section"]],
    ['validate-status-code in inbound', policyDoc('<validate-status-code unspecified-status-code-action="detect" />'), 'api', ["validate-status-code: Error in element 'validate-status-code' on line 4, column 6: Policy is not allowed in this section"]],
    ['set-backend-service in outbound', policyDoc('<base />', '<set-backend-service base-url="https://b.example" />'), 'api', ["set-backend-service: Error in element 'set-backend-service' on line 11, column 6: Policy is not allowed in this section"]],
    ['rate-limit at global scope', policyDoc('<rate-limit calls="5" renewal-period="60" />'), 'global', ["rate-limit: Error in element 'rate-limit' on line 4, column 6: Policy is not allowed in the specified scope"]],
    ['quota at API scope (product only)', policyDoc('<quota calls="5" renewal-period="3600" />'), 'api', ["quota: Error in element 'quota' on line 4, column 6: Policy is not allowed in the specified scope"]],
    ['cors origin with a path', policyDoc('<cors><allowed-origins><origin>https://a.example/app/</origin></allowed-origins></cors>'), 'api', ["cors: Error in element 'cors' on line 4, column 6: Origin must be a valid URL consisting of scheme, host, and port only"]],
    ['cors origin without scheme', policyDoc('<cors><allowed-origins><origin>a.example</origin></allowed-origins></cors>'), 'api', ["cors: Error in element 'cors' on line 4, column 6: Origin must be a valid URL consisting of scheme, host, and port only"]],
    ['rate-limit-by-key renewal over 300 s', policyDoc('<rate-limit-by-key calls="5" renewal-period="301" counter-key="k" />'), 'api', ["rate-limit-by-key: Error in element 'rate-limit-by-key' on line 4, column 6: The 'renewal-period' attribute is invalid - the renewal period must be between 1 and 300 seconds, got '301'."]],
    ['rate-limit-by-key without counter-key', policyDoc('<rate-limit-by-key calls="5" renewal-period="60" />'), 'api', ["rate-limit-by-key: Error in element 'rate-limit-by-key' on line 4, column 6: The required attribute 'counter-key' is missing."]],
    ['quota-by-key renewal under 300 s', policyDoc('<quota-by-key calls="5" renewal-period="60" counter-key="k" />'), 'api', ["quota-by-key: Error in element 'quota-by-key' on line 4, column 6: The 'renewal-period' attribute is invalid - the renewal period must be 0 (never renews) or at least 300 seconds, got '60'."]],
    ['quota-by-key without calls or bandwidth', policyDoc('<quota-by-key renewal-period="3600" counter-key="k" />'), 'api', ["quota-by-key: Error in element 'quota-by-key' on line 4, column 6: At least one of the attributes 'calls' or 'bandwidth' must be specified."]],
    ['validate-parameters with a bad action', policyDoc('<validate-parameters specified-parameter-action="block" unspecified-parameter-action="ignore" />'), 'api', ["validate-parameters: Error in element 'validate-parameters' on line 4, column 6: The 'specified-parameter-action' attribute is invalid - The value 'block' is invalid according to its datatype. Allowed values: 'ignore', 'prevent', 'detect'."]],
    ['an unknown policy', policyDoc('<rate-limitt calls="5" />'), 'api', ["rate-limitt: Error in element 'rate-limitt' on line 4, column 6: The element 'inbound' has invalid child element 'rate-limitt'. 'rate-limitt' is not a known policy."]],
    ['set-header with text', policyDoc('<set-header name="a">text</set-header>'), 'api', ["set-header: Error in element 'set-header' on line 4, column 6: The element 'set-header' cannot contain text. List of possible elements expected: 'value'."]],
    ['include-fragment of a missing fragment', policyDoc('<include-fragment fragment-id="TokenValidator" />'), 'api', ["include-fragment: Error in element 'include-fragment' on line 4, column 6: Policy fragment with id 'TokenValidator' could not be found."]],
    ['two problems at once', policyDoc('<rate-limit-by-key calls="x" renewal-period="60" counter-key="k" />', '<cors />'), 'api', [
      "rate-limit-by-key: Error in element 'rate-limit-by-key' on line 4, column 6: The 'calls' attribute is invalid - The value 'x' is invalid according to its datatype 'Int32'.",
      "cors: Error in element 'cors' on line 11, column 6: Policy is not allowed in this section",
    ]],
  ];
  for (const [name, value, scope, expected] of cases) {
    const r = await details(h, value, scope);
    t.equal(r.status, 400, `${name}: 400`);
    t.equal(r.message, 'One or more fields contain incorrect values:', `${name}: message`);
    t.same(r.details, expected, name);
  }

  const rawDetails = await failure(h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value: policyDoc('<cors />'), format: 'xml' }));
  t.same(rawDetails.body?.error.details?.[0], { code: 'ValidationError', target: 'cors', message: "Error in element 'cors' on line 4, column 6: The element 'cors' has incomplete content. List of possible elements expected: 'allowed-origins'." });

  const nv = await details(h, policyDoc('<set-header name="X-Key" exists-action="override"><value>{{backend-key}}</value></set-header>'));
  t.same([nv.status, nv.message, nv.details], [400, "Property 'backend-key' not found.", []], 'a missing named value');

  h.emu.settings.sku = 'Consumption';
  const consumption = await details(h, policyDoc('<rate-limit-by-key calls="5" renewal-period="60" counter-key="k" />'));
  t.same(consumption.details, ["rate-limit-by-key: Error in element 'rate-limit-by-key' on line 4, column 6: Policy is not allowed in 'Consumption' sku"]);
});

t.test('malformed XML is refused with the parser message and position', async (t) => {
  const h = await startHarness(t);
  await withApi(h);
  const cases: [string, string, string][] = [
    ['text before the root', 'policies', 'The policy is not a valid XML: Data at the root level is invalid. Line 1, position 1.'],
    ['unclosed element', '<policies>\n  <inbound>\n</policies>', "The policy is not a valid XML: The 'inbound' start tag on line 2 position 4 does not match the end tag of 'policies'. Line 3, position 3."],
    ['unescaped ampersand', '<policies><inbound><set-header name="a"><value>a && b</value></set-header></inbound></policies>', 'The policy is not a valid XML: An error occurred while parsing EntityName. Line 1, position 51.'],
    ['end of input', '<policies><inbound>', 'The policy is not a valid XML: Unexpected end of file has occurred. The following elements are not closed: inbound, policies. Line 1, position 20.'],
    ['expression with < as xml', '<policies><inbound><set-variable name="x" value="@(1 < 2)" /></inbound></policies>', "The policy is not a valid XML: '<', hexadecimal value 0x3C, is an invalid attribute character. Line 1, position 54."],
  ];
  for (const [name, value, message] of cases) {
    const e = await failure(h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value, format: 'xml' }));
    t.same([e.statusCode, e.code, e.body?.error.message, e.body?.error.details], [400, 'ValidationError', message, null], name);
  }
  const asRaw = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value: '<policies><inbound><set-variable name="x" value="@(1 < 2)" /></inbound></policies>', format: 'rawxml' });
  t.match(asRaw.value, /value="@\(1 &lt; 2\)"/, 'the same expression is fine as rawxml');
});

t.test('policy fragments are long-running; their errors arrive on the poll; stored without <fragment>', async (t) => {
  const h = await startHarness(t, { importDelayMs: 50 });
  const ex = await example('ApiManagementCreatePolicyFragment');
  const statuses: number[] = [];
  const created = await h.client.policyFragment.beginCreateOrUpdateAndWait(h.rg, h.svc, 'policyFragment1', fromWire('PolicyFragmentContract', ex.parameters.parameters), {
    ...h.lro,
    onResponse: (r) => statuses.push(r.status),
  });
  t.equal(statuses[0], 202);
  t.equal(statuses.at(-1), 201, 'Location poll answers asyncCode=201 with the fragment');
  const { provisioningState: _p, ...shape } = ex.responses['201']!.body!['properties'] as Record<string, unknown>;
  t.match(created, shape, "the example's response: the value without the <fragment> wrapper");
  const body = await h.raw('GET', h.servicePath('/policyFragments/policyFragment1?api-version=2024-05-01'));
  t.same(deserialize('PolicyFragmentContract', body.body).missing, []);
  t.equal(body.body.type, 'Microsoft.ApiManagement/service/policyFragments');
  t.equal((await h.client.policyFragment.get(h.rg, h.svc, 'policyFragment1', { format: 'rawxml' })).value, (ex.parameters.parameters!.properties as { value: string }).value);

  const bad = await failure(h.client.policyFragment.beginCreateOrUpdateAndWait(h.rg, h.svc, 'broken', { format: 'xml', value: './SetBasicAuthHeader.xml' }, h.lro));
  t.same([bad.statusCode, bad.body?.error], [400, { code: 'ValidationError', message: 'The policy fragment is not a valid XML: Data at the root level is invalid. Line 1, position 1.', details: null }], 'the message recorded from the real service, on the poll');
  t.equal((await failure(h.client.policyFragment.get(h.rg, h.svc, 'broken'))).statusCode, 404);

  h.emu.settings.asyncMode = 'azure-async-operation';
  const viaStatus = await failure(h.client.policyFragment.beginCreateOrUpdateAndWait(h.rg, h.svc, 'broken', { format: 'xml', value: '<fragment><cors2 /></fragment>' }, h.lro));
  t.match(viaStatus.message, /^The long-running operation has failed\. ValidationError\. One or more fields contain incorrect values:/);
  const fine = await h.client.policyFragment.beginCreateOrUpdateAndWait(h.rg, h.svc, 'fine', { format: 'xml', value: '<fragment>\n<set-variable name="a" value="1" />\n</fragment>', description: 'ok' }, h.lro);
  t.equal(fine.value, '<set-variable name="a" value="1" />');
  t.equal(fine.description, 'ok');
  const names = [];
  for await (const f of h.client.policyFragment.listByService(h.rg, h.svc)) names.push(f.name);
  t.same(names.sort(), ['fine', 'policyFragment1']);
  await h.client.policyFragment.delete(h.rg, h.svc, 'fine', '*');
  t.equal((await failure(h.client.policyFragment.get(h.rg, h.svc, 'fine'))).statusCode, 404);
});

t.test('tiers: the service GET reports each tier; each refuses the policies its gateway lacks, in one wording', async (t) => {
  const h = await startHarness(t);
  await withApi(h);
  const limited = {
    'rate-limit-by-key': '<rate-limit-by-key calls="5" renewal-period="60" counter-key="@(context.Api.Id)" />',
    'quota-by-key': '<quota-by-key calls="500" renewal-period="3600" counter-key="@(context.Api.Id)" />',
  };
  // Offered by every gateway (policy reference index): these must pass on every tier.
  const everywhere = policyDoc(
    '<cors><allowed-origins><origin>https://app.example.com</origin></allowed-origins></cors><check-header name="X-Tenant" failed-check-httpcode="401" failed-check-error-message="no tenant" ignore-case="true" /><rate-limit calls="20" renewal-period="90" /><validate-content unspecified-content-type-action="prevent" max-size="102400" size-exceeded-action="prevent" /><set-header name="X-Gateway" exists-action="override"><value>apim</value></set-header>',
  );
  // tier → [capacity, policies refused]; the same facts as sku-tiers.ts, written out so a changed table fails here.
  const expected: Record<string, [number, string[]]> = {
    Consumption: [0, ['rate-limit-by-key', 'quota-by-key']],
    Developer: [1, []],
    Basic: [1, []],
    Standard: [1, []],
    Premium: [1, []],
    BasicV2: [1, ['quota-by-key']],
    StandardV2: [1, ['quota-by-key']],
    PremiumV2: [1, ['quota-by-key']],
  };
  t.same(Object.keys(expected), SKU_TIERS.map((tier) => tier.name), 'every modelled tier is exercised');
  for (const [sku, [capacity, refusedPolicies]] of Object.entries(expected)) {
    const set = await h.raw('PATCH', '/_emulator/settings', { sku });
    t.equal(set.status, 200, `${sku}: setting accepted`);
    const service = await h.client.apiManagementService.get(h.rg, h.svc);
    t.same(service.sku, { name: sku, capacity }, `${sku}: sku as the service GET reports it`);
    const refused: string[] = [];
    for (const [policy, element] of Object.entries(limited)) {
      const put = h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value: policyDoc(element), format: 'xml' });
      if (!refusedPolicies.includes(policy)) {
        await put;
        continue;
      }
      const r = await failure(put);
      t.same(
        [r.statusCode, r.body?.error.code, r.body?.error.details],
        [400, 'ValidationError', [{ code: 'ValidationError', target: policy, message: `Error in element '${policy}' on line 4, column 6: Policy is not allowed in '${sku}' sku` }]],
        `${sku}: ${policy} refused`,
      );
      refused.push(policy);
    }
    t.same(refused, refusedPolicies, `${sku}: exactly the documented refusals`);
    const stored = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value: everywhere, format: 'xml' });
    t.match(stored.value, /<check-header /, `${sku}: cors, check-header, rate-limit, validate-content, set-header accepted`);
  }
});

t.test('tiers: an unknown sku is refused by the admin API with the valid names, and changes nothing', async (t) => {
  const h = await startHarness(t);
  await h.raw('PATCH', '/_emulator/settings', { sku: 'StandardV2' });
  const names = "'Consumption', 'Developer', 'Basic', 'Standard', 'Premium', 'BasicV2', 'StandardV2', 'PremiumV2'";
  for (const sku of ['Isolated', 'standardv2', 'Premium V2', 42]) {
    const r = await h.raw('PATCH', '/_emulator/settings', { sku });
    t.same([r.status, r.body?.error?.message], [400, `'sku' must be one of ${names}; got ${JSON.stringify(sku)}.`], `refused: ${JSON.stringify(sku)}`);
  }
  t.equal((await h.raw('GET', '/_emulator/settings')).body.sku, 'StandardV2', 'the tier is unchanged');
  await t.rejects(startApimEmulator({ dir: h.dir, sku: 'Isolated' }), { message: `'sku' must be one of ${names}; got "Isolated".` }, 'and so is one given at start (--sku)');
  t.same((await h.client.apiManagementService.get(h.rg, h.svc)).sku, { name: 'StandardV2', capacity: 1 });
});

/** A GET through the SDK client's pipeline (token, TLS) with the given Accept, the body kept as text. */
async function rawGet(h: Harness, path: string, accept: string): Promise<{ status: number; contentType: string; text: string; etag?: string }> {
  const res = await h.client.sendRequest(createPipelineRequest({ url: `${h.emu.url}${h.servicePath(path)}`, method: 'GET', headers: createHttpHeaders({ accept }) }));
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: res.bodyAsText ?? '', etag: res.headers.get('etag') };
}

t.test('policy reads: policyBodyFormat xml answers bare XML with the format\'s media type at API, operation and global scope', async (t) => {
  const h = await startHarness(t);
  await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, 'pets', { path: 'pets', format: 'swagger-json', value: JSON.stringify(swaggerPetstore()) }, h.lro);
  const raw = policyDoc('<set-header name="X-Client" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-Client", "<none>"))</value></set-header>');
  const apiStored = await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'pets', 'policy', { value: raw, format: 'rawxml' });
  const opStored = await h.client.apiOperationPolicy.createOrUpdate(h.rg, h.svc, 'pets', 'getpetbyid', 'policy', { value: policyDoc('<base />'), format: 'xml' });
  const globalStored = await h.client.policy.createOrUpdate(h.rg, h.svc, 'policy', { value: policyDoc('<cors><allowed-origins><origin>*</origin></allowed-origins></cors>'), format: 'xml' });

  // Default 'json': the SDK gets the ARM envelope (which apiPolicy.get cannot read, azure-sdk-for-js #31566).
  const seen: { r?: FullOperationResponse } = {};
  const onResponse = (r: FullOperationResponse): void => {
    seen.r = r;
  };
  const viaJson = await h.client.apiPolicy.get(h.rg, h.svc, 'pets', 'policy', { onResponse });
  t.match(seen.r?.headers.get('content-type'), /^application\/json/);
  t.equal(JSON.parse(seen.r!.bodyAsText!).properties.value, apiStored.value);
  const jsonEtag = viaJson.eTag;

  t.equal((await h.raw('PATCH', '/_emulator/settings', { policyBodyFormat: 'xml' })).status, 200);
  // apiPolicy.get accepts both XML media types, so it now gets the bare document (and still reads no value).
  const sdkReads: [string, () => Promise<{ value?: string; eTag?: string }>, string, string][] = [
    ['API scope', () => h.client.apiPolicy.get(h.rg, h.svc, 'pets', 'policy', { onResponse }), 'application/vnd.ms-azure-apim.policy+xml', apiStored.value!],
    ['API scope, format=rawxml', () => h.client.apiPolicy.get(h.rg, h.svc, 'pets', 'policy', { format: 'rawxml', onResponse }), 'application/vnd.ms-azure-apim.policy.raw+xml', raw],
  ];
  for (const [name, read, mediaType, body] of sdkReads) {
    seen.r = undefined;
    const got = await read();
    const r = seen.r as FullOperationResponse | undefined; // set by onResponse during read()
    t.same([r?.status, r?.headers.get('content-type'), r?.bodyAsText], [200, mediaType, body], `${name}: the bare document with its media type`);
    t.equal(got.value, undefined, `${name}: the SDK reads the body as text only, no value`);
    t.match(got.eTag, /^"/, `${name}: the ETag header comes through`);
  }
  t.ok(raw.includes('"<none>"') && !apiStored.value!.includes('"<none>"'), 'the rawxml read is the unescaped document, the xml read the escaped one');
  t.equal((await h.client.apiPolicy.getEntityTag(h.rg, h.svc, 'pets', 'policy')).eTag, jsonEtag, 'HEAD and the ETag are the same in both modes');

  // apiOperationPolicy.get and policy.get send Accept: application/json only, so they keep getting (and reading) JSON;
  // a client that accepts the XML types at those scopes gets bare XML too.
  t.equal((await h.client.apiOperationPolicy.get(h.rg, h.svc, 'pets', 'getpetbyid', 'policy', { onResponse })).value, opStored.value, 'operation scope via the SDK: JSON');
  t.match(seen.r?.request.headers.get('accept'), /^application\/json$/);
  t.equal((await h.client.policy.get(h.rg, h.svc, 'policy')).value, globalStored.value, 'global scope via the SDK: JSON');
  const sdkAccept = 'application/json, application/vnd.ms-azure-apim.policy+xml, application/vnd.ms-azure-apim.policy.raw+xml';
  const scopes: [string, string, string][] = [
    ['operation scope', '/apis/pets/operations/getpetbyid/policies/policy', opStored.value!],
    ['global scope', '/policies/policy', globalStored.value!],
  ];
  for (const [name, path, body] of scopes) {
    const r = await rawGet(h, `${path}?api-version=2024-05-01`, sdkAccept);
    t.same([r.status, r.contentType, r.text], [200, 'application/vnd.ms-azure-apim.policy+xml', body], `${name}: bare XML when accepted`);
    t.match(r.etag, /^"/);
  }

  // Accept decides: a JSON-only client (or one refusing the XML type with q=0) still gets the envelope.
  for (const accept of ['application/json', 'application/json, application/vnd.ms-azure-apim.policy+xml;q=0']) {
    const r = await rawGet(h, '/apis/pets/policies/policy?api-version=2024-05-01', accept);
    t.same([r.status, r.contentType, JSON.parse(r.text).properties.value], [200, 'application/json; charset=utf-8', apiStored.value], `Accept: ${accept}`);
  }
  const anything = await rawGet(h, '/apis/pets/policies/policy?api-version=2024-05-01&format=rawxml', '*/*');
  t.same([anything.contentType, anything.text], ['application/vnd.ms-azure-apim.policy.raw+xml', raw], "Accept */* (apiops-cli's fetch) gets bare XML");
  const list = await h.client.apiPolicy.listByApi(h.rg, h.svc, 'pets');
  t.equal(list.value?.[0]?.value, apiStored.value, 'the collection stays the JSON page');
  const missing = await failure(h.client.apiPolicy.get(h.rg, h.svc, 'echo-missing', 'policy'));
  t.same([missing.statusCode, missing.body?.error.code], [404, 'ResourceNotFound'], 'errors stay JSON');
});

t.test('validate-content max-size: refused above validateContentMaxSizeLimit (4 MB by default, 100 KB on older versions)', async (t) => {
  const h = await startHarness(t);
  await withApi(h);
  const doc = (size: number): string => policyDoc(`<validate-content unspecified-content-type-action="prevent" max-size="${size}" size-exceeded-action="prevent" />`);
  const put = (size: number) => h.client.apiPolicy.createOrUpdate(h.rg, h.svc, 'echo', 'policy', { value: doc(size), format: 'xml' });
  const refusal = (limit: number, label: string, size: number): string[] => [
    `validate-content: Error in element 'validate-content' on line 4, column 6: The 'max-size' attribute is invalid - the maximum is ${limit} bytes${label}, got '${size}'.`,
  ];
  const cases: [number | undefined, number, string[] | 'ok'][] = [
    [undefined, 4194304, 'ok'],
    [undefined, 4194305, refusal(4194304, ' (4 MB)', 4194305)],
    [102400, 102400, 'ok'],
    [102400, 102401, refusal(102400, ' (100 KB)', 102401)],
    [102400, 4194304, refusal(102400, ' (100 KB)', 4194304)],
    [500000, 500001, refusal(500000, '', 500001)],
  ];
  for (const [limit, size, outcome] of cases) {
    if (limit !== undefined) t.equal((await h.raw('PATCH', '/_emulator/settings', { validateContentMaxSizeLimit: limit })).status, 200);
    const name = `limit ${limit ?? 'default'}, max-size ${size}`;
    if (outcome === 'ok') {
      t.match((await put(size)).value, new RegExp(`max-size="${size}"`), `${name}: accepted`);
      continue;
    }
    const r = await details(h, doc(size));
    t.same([r.status, r.details], [400, outcome], `${name}: refused`);
  }
});
