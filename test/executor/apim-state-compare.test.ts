// The comparisons behind "a second run writes nothing": the stored API against the desired one (desired-api.ts) and
// the stored policy against the rendered one (policy-compare.ts), including the forms APIM returns.
import t from 'tap';
import type { ApiContract } from '@azure/arm-apimanagement';
import { readExposedApi } from '../../core/exposedapi-model.ts';
import { renderPolicyXml } from '../../core/policy-xml.ts';
import { desiredApi, driftOf, importBody, updateBody } from '../../executor/desired-api.ts';
import { planImport, type ImportPlan } from '../../executor/import-plan.ts';
import { canonicalPolicy, samePolicy } from '../../executor/policy-compare.ts';
import { exposedApi, openapi3 } from '../helpers/fixtures.ts';

const { model } = readExposedApi(exposedApi({ metadata: { name: 'pc', namespace: 'components' }, spec: { apiKeyVerification: { enabled: true, location: 'header:x-api-key' } } }));
const WHO = { cluster: 'test', namespace: 'components', name: 'pc', uid: '4f1c2b1e-0000-4000-8000-000000000001' };
const plan = planImport({ text: JSON.stringify(openapi3()) }, 'auto') as ImportPlan;
const desired = desiredApi(model, { apiId: 'components-pc', serviceUrl: 'http://10.0.0.1/x', who: WHO, plan });

t.test('the desired API: path without the slash, explicit subscription settings, the mark', async (t) => {
  t.equal(desired.path, 'ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4');
  t.equal(desired.displayName, 'productcatalogmanagement');
  t.equal(desired.subscriptionRequired, true);
  t.same(desired.subscriptionKeyParameterNames, { header: 'x-api-key', query: 'subscription-key' });
  t.match(desired.mark, /^exposedapi-apim cluster=test owner=[0-9a-f]{16} uid=4f1c2b1e-0000-4000-8000-000000000001 import=[0-9a-f]{64} ref=components\/pc$/);
  const off = desiredApi(readExposedApi(exposedApi({})).model, { apiId: 'x', serviceUrl: 'http://a/', who: WHO, plan });
  t.equal(off.subscriptionRequired, false, 'sent explicitly: APIM\'s default is true');
  t.same(off.subscriptionKeyParameterNames, { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' });
  const body = importBody(desired, plan);
  t.same([body.path, body.serviceUrl, body.protocols, body.format, body.translateRequiredQueryParametersConduct, body.apiRevisionDescription], [desired.path, 'http://10.0.0.1/x', ['https'], 'openapi+json', 'query', desired.mark]);
  t.same((importBody(off, plan).authenticationSettings as Record<string, unknown>), { openid: null, oAuth2: null, openidAuthenticationSettings: [], oAuth2AuthenticationSettings: [] }, 'JWT off clears any earlier setting');
  t.notOk('value' in updateBody(desired), 'a PATCH never re-imports');
});

t.test('drift: only what the executor sets, as APIM returns it', async (t) => {
  const stored: ApiContract = {
    path: desired.path,
    displayName: desired.displayName,
    serviceUrl: desired.serviceUrl,
    protocols: ['https'],
    subscriptionRequired: true,
    subscriptionKeyParameterNames: { header: 'x-api-key', query: 'subscription-key' },
    authenticationSettings: { oAuth2: undefined, openid: undefined, oAuth2AuthenticationSettings: [], openidAuthenticationSettings: [] },
    description: 'from the document',
    apiRevision: '1',
    isCurrent: true,
  };
  t.same(driftOf(stored, desired), [], 'a freshly imported API has no drift (description and revision are not ours)');
  t.same(driftOf({ ...stored, serviceUrl: 'http://10.0.0.2/x', protocols: ['http', 'https'] }, desired), ['serviceUrl', 'protocols']);
  t.same(driftOf({ ...stored, subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' } }, desired), ['subscriptionKeyParameterNames']);
  const withJwt = { ...desired, openidProviderId: 'oidc-1' };
  t.same(driftOf(stored, withJwt), ['authenticationSettings']);
  t.same(driftOf({ ...stored, authenticationSettings: { openid: { openidProviderId: 'oidc-1' } } }, withJwt), []);
});

t.test('policies compare in canonical form', async (t) => {
  const xml = renderPolicyXml({ spec: readExposedApi(exposedApi({ spec: { rateLimit: { enabled: true, identifier: 'header:x-client', limit: '5' }, CORS: { enabled: true } } })).model.spec, apiId: 'team-a-pc', quotaRenewalPeriodSeconds: 86400, documentValidation: true });
  t.ok(samePolicy(xml, xml));
  t.notOk(samePolicy(undefined, xml), 'no stored policy');
  // As APIM stores and returns it: CRLF, other indentation, <x></x>, expressions unescaped (rawxml).
  const apimStyle = xml
    .replace(/\n/g, '\r\n')
    .replace(/^( +)/gm, (m) => '\t'.repeat(m.length / 2))
    .replace('<base />', '<base></base>')
    .replace(/&quot;/g, '"');
  t.ok(samePolicy(apimStyle, xml), 'formatting and entity differences are not changes');
  t.notOk(samePolicy(xml.replace('calls="5"', 'calls="6"'), xml), 'an attribute value is a change');
  t.notOk(samePolicy(xml.replace('<method>GET</method>', ''), xml), 'an element is a change');
  t.notOk(samePolicy(xml.replace('x-client', 'x-other'), xml), 'an expression is a change');
  t.equal(canonicalPolicy('<a>\n  <b x="1"></b>\n</a>'), '<a><b x="1"/></a>');
});
