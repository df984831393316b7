// Turning JWT off clears the API's authenticationSettings in the form APIM reports for "none" (executor/desired-api.ts
// NO_AUTHENTICATION_SETTINGS), and the executor converges whatever the service does with a PATCH of nulls alone: the
// emulator's authenticationSettingsNulls ('ignore', 'refuse', 'clear') models the three answers no public source
// settles. Drift covers whatever else a person adds (OAuth2, another provider).
import t from 'tap';
import type { ApiContract } from '@azure/arm-apimanagement';
import { driftOf, importBody, NO_AUTHENTICATION_SETTINGS, updateBody, type DesiredApi } from '../../executor/desired-api.ts';
import { openidProviderId } from '../../executor/openid-provider.ts';
import { armWrites, condition, emulatorSettings, executorBench, type ExecutorBench } from './harness.ts';

type Obj = Record<string, any>;

const desired: DesiredApi = {
  apiId: 'team-a-pc',
  path: 'pc',
  displayName: 'pc',
  serviceUrl: 'http://10.0.0.1/pc',
  subscriptionRequired: false,
  subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' },
  mark: 'm',
};
const withJwt: DesiredApi = { ...desired, openidProviderId: 'oidc-1' };
const stored = (authenticationSettings: ApiContract['authenticationSettings']): ApiContract => ({
  path: 'pc',
  displayName: 'pc',
  serviceUrl: 'http://10.0.0.1/pc',
  protocols: ['https'],
  subscriptionRequired: false,
  subscriptionKeyParameterNames: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' },
  authenticationSettings,
});
const openid = (id: string) => ({ openidProviderId: id, bearerTokenSendingMethods: ['authorizationHeader'] });

t.test('the bodies: openid alone when on, the reported "none" form when off', async (t) => {
  t.same(updateBody(withJwt).authenticationSettings, { openid: openid('oidc-1') }, 'never a single setting with a list');
  t.same(updateBody(desired).authenticationSettings, { openid: null, oAuth2: null, openidAuthenticationSettings: [], oAuth2AuthenticationSettings: [] });
  t.same(updateBody(desired).authenticationSettings, NO_AUTHENTICATION_SETTINGS);
  const plan = { format: 'openapi+json', value: '{}', link: false, passThrough: false, documentBytes: 2, fingerprint: 'f' } as unknown as Parameters<typeof importBody>[1];
  t.same(importBody(desired, plan).authenticationSettings, NO_AUTHENTICATION_SETTINGS, 'the import says the same');
});

t.test('authentication drift, as APIM returns the settings', async (t) => {
  const none = { oAuth2: undefined, openid: undefined, oAuth2AuthenticationSettings: [], openidAuthenticationSettings: [] };
  const cases: [string, ApiContract['authenticationSettings'], DesiredApi, boolean][] = [
    ['none stored, none wanted', none, desired, false],
    ['no settings at all (older api-versions), none wanted', undefined, desired, false],
    ['ours stored with its mirror in the list', { openid: openid('oidc-1'), openidAuthenticationSettings: [openid('oidc-1')], oAuth2AuthenticationSettings: [] }, withJwt, false],
    ['ours stored, none wanted', { openid: openid('oidc-1'), openidAuthenticationSettings: [openid('oidc-1')] }, desired, true],
    ['none stored, ours wanted', none, withJwt, true],
    ['another provider', { openid: openid('other') }, withJwt, true],
    ['a second provider only in the list', { openid: openid('oidc-1'), openidAuthenticationSettings: [openid('oidc-1'), openid('other')] }, withJwt, true],
    ['OAuth2 added by hand', { oAuth2: { authorizationServerId: 'as' }, oAuth2AuthenticationSettings: [{ authorizationServerId: 'as' }] }, desired, true],
    ['OAuth2 beside ours', { openid: openid('oidc-1'), oAuth2AuthenticationSettings: [{ authorizationServerId: 'as' }] }, withJwt, true],
  ];
  for (const [name, auth, d, drifts] of cases) t.equal(driftOf(stored(auth), d).includes('authenticationSettings'), drifts, name);
});

const OIDC = 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration';

function metrics(name: string, spec: Obj = {}): Obj {
  return { apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI', metadata: { name }, spec: { name, apiType: 'prometheus', implementation: `${name}-sm`, path: `/jwt/${name}/metrics`, port: 4000, ...spec } };
}

t.test('JWT on, then off, converges whatever a PATCH of nulls alone would do', async (t) => {
  const b = await executorBench(t);
  for (const mode of ['ignore', 'refuse', 'clear']) {
    await emulatorSettings(b, { authenticationSettingsNulls: mode });
    const name = `jwt-${mode}`;
    const on = await b.put(metrics(name, { apim: { authentication: { jwt: { openidConfigUrl: OIDC } } } }));
    t.equal((await b.execute('apply', on.name, on.hash)).code, 0, `${mode}: JWT on`);
    const api = () => b.emu.state().apis.find((a) => a.name === b.apiId(name))!;
    t.same((api().properties['authenticationSettings'] as Obj)['openid']?.['openidProviderId'], openidProviderId(OIDC), `${mode}: openid set`);

    const off = await b.put(metrics(name));
    const r = await b.execute('apply', off.name, off.hash);
    t.equal(r.code, 0, `${mode}: JWT off applied: ${r.stdout.slice(-2000)}`);
    t.equal(condition(await b.get(name), 'Imported')?.['reason'], 'Updated', `${mode}: by a PATCH`);
    const auth = api().properties['authenticationSettings'] as Obj;
    t.notOk(auth['openid'], `${mode}: openid cleared`);
    t.same(auth['openidAuthenticationSettings'] ?? [], [], `${mode}: and its list`);

    b.emu.requests.reset();
    t.equal((await b.execute('apply', off.name, off.hash)).code, 0);
    t.same(armWrites(b.emu), {}, `${mode}: converged: a further run writes nothing`);
  }
});
