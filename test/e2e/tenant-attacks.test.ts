// Issue 9's attacks by a hostile tenant, on the whole system (the sandbox: real apiserver, webhook and dispatcher, Jobs
// run by the Job controller, the executor applying to the APIM emulator). The tenant is a ServiceAccount that may do
// anything to ExposedAPIs in its own namespace and nothing else, and works through kubectl. After every attack the
// APIs that are not the tenant's are byte-for-byte what they were (properties, operations, policy, links, etags).
import t, { type Test } from 'tap';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startSandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import { waitFor } from '../control-plane/wait-for.ts';

type Obj = Record<string, any>;
const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-tenant-e2e-'));
const sandbox = await startSandbox({ dir, log: () => {} });
t.teardown(async () => {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});
const { k, cp } = sandbox.lcp;
const emu = sandbox.emulator;

const TENANT_NS = 'team-a';
const OTHER_NS = 'team-b';
for (const ns of [TENANT_NS, OTHER_NS]) await k(['create', 'namespace', ns]);
await k(['apply', '-f', '-'], [
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tenant', namespace: TENANT_NS } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'exposedapi-editor', namespace: TENANT_NS }, rules: [{ apiGroups: ['oda.tmforum.org'], resources: ['exposedapis'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'tenant', namespace: TENANT_NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'exposedapi-editor' }, subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: TENANT_NS }] },
].map((o) => YAML.stringify(o)).join('---\n'));
const tenantKubeconfig = await cp.kubeconfigFileFor(TENANT_NS, 'tenant');
/** kubectl as the tenant, in its namespace. */
const tk = (args: string[], input?: string) => cp.kubectl(['-n', TENANT_NS, ...args], { kubeconfigPath: tenantKubeconfig, ...(input !== undefined ? { input } : {}) });

const client = new ApiManagementClient(
  new ClientSecretCredential(emu.tenantId, emu.clientId, emu.clientSecret, { authorityHost: emu.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: emu.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3]),
  emu.subscriptionId,
  { endpoint: emu.url, tlsOptions: { ca: emu.caPem } } as ApiManagementClientOptionalParams,
);

/** A metrics ExposedAPI: no document to fetch, published as a pass-through API. */
const metrics = (name: string, spec: Obj = {}, metadata: Obj = {}): Obj => ({
  apiVersion: 'oda.tmforum.org/v1',
  kind: 'ExposedAPI',
  metadata: { name, ...metadata },
  spec: { name: 'metrics', apiType: 'prometheus', implementation: `${name}-sm`, path: `/${name}/metrics`, port: 4000, ...spec },
});
const getObj = async (ns: string, name: string): Promise<Obj | undefined> => {
  const r = await k(['get', 'exposedapi', name, '-n', ns, '-o', 'json']).catch(() => undefined);
  return r ? JSON.parse(r) : undefined;
};
const snapshot = (id: string): string => JSON.stringify((emu.state() as Obj)['apis'].find((a: Obj) => a['name'] === id) ?? null);
const apiNames = (): string[] => ((emu.state() as Obj)['apis'] as Obj[]).map((a) => a['name']);
const tenantApply = async (obj: Obj) => tk(['apply', '-f', '-'], YAML.stringify(obj));

// Another team's API managed by the operator, and one made outside it with an ip-filter policy and links.
await k(['apply', '--server-side', '-n', OTHER_NS, '-f', '-'], YAML.stringify(metrics('billing', { path: '/billing/v1', apim: { apiId: 'billing-prod' } })));
const { resourceGroup: rg, serviceName: svc } = emu;
await client.api.beginCreateOrUpdateAndWait(rg, svc, 'payments-prod', { path: 'payments/v1', displayName: 'Payments', serviceUrl: 'https://payments.internal.example.com', protocols: ['https'], format: 'openapi+json', value: JSON.stringify({ openapi: '3.0.3', info: { title: 'payments', version: '1' }, paths: { '/pay': { post: { operationId: 'pay', responses: { '200': { description: 'ok' } } } } } }) }, { updateIntervalInMs: 20 });
await client.apiPolicy.createOrUpdate(rg, svc, 'payments-prod', 'policy', { format: 'xml', value: '<policies><inbound><base /><ip-filter action="allow"><address>10.1.2.3</address></ip-filter></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>' });
await client.product.createOrUpdate(rg, svc, 'payments-partners', { displayName: 'Payments partners', subscriptionRequired: true, state: 'published' });
await client.productApi.createOrUpdate(rg, svc, 'payments-partners', 'payments-prod');
t.same(await sandbox.waitSettled([{ ns: OTHER_NS, name: 'billing' }], 90_000), { [`${OTHER_NS}/billing`]: 'ready' }, 'team-b\'s API is published');
const before = { billing: snapshot('billing-prod'), payments: snapshot('payments-prod') };
const othersUnchanged = (t: Test, what: string) => t.same({ billing: snapshot('billing-prod'), payments: snapshot('payments-prod') }, before, `${what}: the other teams' APIs are byte-for-byte unchanged`);

t.test('naming an API the operator did not create: the Job fails, the API is untouched by apply and delete', async (t) => {
  const r = await tenantApply(metrics('thief', { apim: { apiId: 'payments-prod' } }));
  t.equal(r.code, 0, r.stderr);
  t.same(await sandbox.waitSettled([{ ns: TENANT_NS, name: 'thief' }], 90_000), { [`${TENANT_NS}/thief`]: 'failed' });
  const obj = (await getObj(TENANT_NS, 'thief'))!;
  t.match(JSON.stringify(obj.status.conditions), /ApiNotOwned/, 'the reason is in the status');
  othersUnchanged(t, 'after the apply');
  t.equal((await tk(['delete', 'exposedapi', 'thief', '--wait=false'])).code, 0);
  await waitFor('thief to be gone', async () => ((await getObj(TENANT_NS, 'thief')) ? undefined : true), { timeoutMs: 60_000 });
  othersUnchanged(t, 'after the delete');
});

t.test('a claim on another team\'s path or apiId is refused at kubectl apply', async (t) => {
  for (const [what, spec, expect] of [
    ['the same apiId', { apim: { apiId: 'Billing-Prod' } }, /spec\.apim\.apiId: Forbidden: apiId "Billing-Prod" is already claimed by ExposedAPI team-b\/billing/],
    ['a path nested under another namespace\'s', { path: '/billing/v1/transfer' }, /spec\.path: Forbidden: .*team-b\/billing/],
    ['a percent-encoded path', { path: '/%62illing/v1' }, /spec\.path: Invalid value: "\/%62illing\/v1"/],
    ['a policy expression in a JWT audience', { apim: { authentication: { jwt: { openidConfigUrl: 'https://login.example.com/.well-known/openid-configuration', audiences: ['@(context.Variables["x"])'] } } } }, /spec\.apim\.authentication\.jwt\.audiences\[0\]/],
    ['a named-value reference in the issuer', { apim: { authentication: { jwt: { openidConfigUrl: 'https://login.example.com/.well-known/openid-configuration', issuers: ['https://{{backend-secret}}.example.com/'] } } } }, /spec\.apim\.authentication\.jwt\.issuers\[0\]/],
    ['the cloud metadata endpoint as backend', { apim: { backend: { mode: 'url', url: 'https://169.254.169.254/latest' } } }, /spec\.apim\.backend\.url/],
  ] as [string, Obj, RegExp][]) {
    const r = await tenantApply(metrics('squatter', spec));
    t.not(r.code, 0, `${what}: refused`);
    t.match(r.stderr, expect, `${what}: ${r.stderr.split('\n')[0]}`);
  }
  t.equal(await getObj(TENANT_NS, 'squatter'), undefined, 'nothing stored');
  othersUnchanged(t, 'after the refused claims');
});

t.test('a forged status naming another team\'s API changes nothing, on update and on delete', async (t) => {
  t.equal((await tenantApply(metrics('honest'))).code, 0);
  t.same(await sandbox.waitSettled([{ ns: TENANT_NS, name: 'honest' }], 90_000), { [`${TENANT_NS}/honest`]: 'ready' });
  const forge = () => tk(['patch', 'exposedapi', 'honest', '--type=merge', '-p', JSON.stringify({ status: { apim: { apiId: 'billing-prod', serviceName: svc, pendingApiIds: ['payments-prod'] } } })]);
  t.equal((await forge()).code, 0, 'the tenant can write status (no status subresource)');
  t.equal((await tenantApply(metrics('honest', { apim: { displayName: 'Honest v2' } }))).code, 0);
  await waitFor('the update to be applied', async () => ((await getObj(TENANT_NS, 'honest'))?.status?.apim?.apiId === `${TENANT_NS}-honest` ? true : undefined), { timeoutMs: 90_000 });
  t.same(await sandbox.waitSettled([{ ns: TENANT_NS, name: 'honest' }], 90_000), { [`${TENANT_NS}/honest`]: 'ready' });
  othersUnchanged(t, 'after an apply with a forged status');

  t.equal((await forge()).code, 0);
  t.equal((await tk(['delete', 'exposedapi', 'honest', '--wait=false'])).code, 0);
  await waitFor('honest to be gone', async () => ((await getObj(TENANT_NS, 'honest')) ? undefined : true), { timeoutMs: 60_000 });
  t.notOk(apiNames().includes(`${TENANT_NS}-honest`), 'its own API is deleted');
  othersUnchanged(t, 'after a delete with a forged status');
});

t.test('the spec is frozen once deletion starts: no redirecting the delete at another API', async (t) => {
  // The tenant holds the object in deletion with a finalizer of its own, after the delete Job has done its work.
  t.equal((await tenantApply(metrics('holder', {}, { finalizers: ['example.com/hold'] }))).code, 0);
  t.same(await sandbox.waitSettled([{ ns: TENANT_NS, name: 'holder' }], 90_000), { [`${TENANT_NS}/holder`]: 'ready' });
  t.equal((await tk(['delete', 'exposedapi', 'holder', '--wait=false'])).code, 0);
  await waitFor('the delete Job to release the object', async () => ((await getObj(TENANT_NS, 'holder'))?.metadata.finalizers?.length === 1 ? true : undefined), { timeoutMs: 60_000 });
  const edit = await tk(['patch', 'exposedapi', 'holder', '--type=merge', '-p', JSON.stringify({ spec: { apim: { apiId: 'billing-prod' } } })]);
  t.not(edit.code, 0, 'a spec change while deleting is refused');
  t.match(edit.stderr, /spec: Forbidden/);
  othersUnchanged(t, 'after the delete-time edit');
  t.equal((await tk(['patch', 'exposedapi', 'holder', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]'])).code, 0, 'its own finalizer can still be removed');
  await waitFor('holder to be gone', async () => ((await getObj(TENANT_NS, 'holder')) ? undefined : true), { timeoutMs: 30_000 });
});
