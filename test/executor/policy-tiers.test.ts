// The executor against the service's tier (executor/service-tier.ts): the SKU is read from the service once per run
// and a policy the tier does not offer fails before anything is written, naming the field, the policy and the tier;
// and per-API counters: two ExposedAPIs limited by the same identifier get distinct counter keys in APIM.
import t from 'tap';
import { armWrites, condition, emulatorSettings, executorBench, type ExecutorBench } from './harness.ts';

type Obj = Record<string, any>;

function api(name: string, spec: Obj = {}): Obj {
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name },
    spec: { name, apiType: 'prometheus', implementation: `${name}-sm`, path: `/tiers/${name}/metrics`, port: 4000, ...spec },
  };
}

async function setSku(b: ExecutorBench, sku: string): Promise<void> {
  await emulatorSettings(b, { sku });
  const service = await b.client().apiManagementService.get(b.emu.resourceGroup, b.emu.serviceName);
  if (service.sku.name !== sku) throw new Error(`the service reports sku ${service.sku.name}, not ${sku}`);
}

const servicePath = (b: ExecutorBench): string =>
  `GET /subscriptions/${b.emu.subscriptionId}/resourceGroups/${b.emu.resourceGroup}/providers/Microsoft.ApiManagement/service/${b.emu.serviceName}`;

t.test('tiers', async (t) => {
  const b = await executorBench(t);

  t.test('StandardV2: a quota fails before any write, naming spec.quota, quota-by-key and the tier', async (t) => {
    await setSku(b, 'StandardV2');
    b.emu.requests.reset();
    const p = await b.put(api('quota-v2', { rateLimit: { enabled: true, identifier: 'IP', limit: '5' }, quota: { identifier: 'IP', limit: '1000' } }));
    const r = await b.execute('apply', p.name, p.hash);
    t.equal(r.code, 42, `a permanent failure: ${r.stdout}`);
    const obj = await b.get(p.name);
    const c = condition(obj, 'PoliciesApplied');
    t.same([c?.['status'], c?.['reason']], ['False', 'PolicyNotInTier']);
    t.match(c?.['message'], `APIM service '${b.emu.serviceName}' is StandardV2: spec.quota: Forbidden: renders APIM's quota-by-key policy, which the StandardV2 tier does not offer`);
    t.match(c?.['message'], 'remove spec.quota from the ExposedAPI, or publish to an API Management service of one of those tiers', 'with the fix');
    t.notMatch(c?.['message'], 'spec.rateLimit', 'rate-limit-by-key is offered on v2 tiers');
    t.notOk(condition(obj, 'RouteReady'), 'no route was written');
    t.same(armWrites(b.emu), {}, 'nothing was written to APIM');
    t.notOk(b.emu.state().apis.some((a) => a.name === b.apiId(p.name)), 'no API was imported');
    t.equal(b.emu.state().requests.byPath[servicePath(b)], 1, 'the service (its tier) was read once');
  });

  t.test('StandardV2: a rate limit alone is published', async (t) => {
    const p = await b.put(api('rate-v2', { rateLimit: { enabled: true, identifier: 'IP', limit: '5' } }));
    const r = await b.execute('apply', p.name, p.hash);
    t.equal(r.code, 0, r.stdout);
    t.match(b.emu.state().apis.find((a) => a.name === b.apiId(p.name))?.policy?.raw, '<rate-limit-by-key calls="5"');
  });

  t.test('Consumption: a rate limit by key is refused the same way', async (t) => {
    await setSku(b, 'Consumption');
    const p = await b.put(api('rate-consumption', { rateLimit: { enabled: true, identifier: 'IP', limit: '5' } }));
    const r = await b.execute('apply', p.name, p.hash);
    t.equal(r.code, 42, r.stdout);
    const c = condition(await b.get(p.name), 'PoliciesApplied');
    t.same([c?.['status'], c?.['reason']], ['False', 'PolicyNotInTier']);
    t.match(c?.['message'], "spec.rateLimit: Forbidden: renders APIM's rate-limit-by-key policy, which the Consumption tier does not offer");
  });

  t.test('Developer (classic): the same quota is published; the fixed spec converges', async (t) => {
    await setSku(b, 'Developer');
    const p = await b.put(api('quota-v2', { rateLimit: { enabled: true, identifier: 'IP', limit: '5' }, quota: { identifier: 'IP', limit: '1000' } }));
    const r = await b.execute('apply', p.name, p.hash);
    t.equal(r.code, 0, r.stdout);
    t.equal(condition(await b.get(p.name), 'PoliciesApplied')?.['status'], 'True');
    t.match(b.emu.state().apis.find((a) => a.name === b.apiId(p.name))?.policy?.raw, '<quota-by-key calls="1000"');
  });

  t.test('validate-content max-size: a service enforcing 100 KB refuses 4 MB; VALIDATE_CONTENT_MAX_SIZE fixes it', async (t) => {
    await emulatorSettings(b, { validateContentMaxSizeLimit: 102400 });
    t.teardown(() => emulatorSettings(b, { validateContentMaxSizeLimit: 4194304 }));
    const doc = { openapi: '3.0.3', info: { title: 'sized', version: '1' }, paths: { '/items': { post: { operationId: 'createItem', requestBody: { content: { 'application/json': { schema: { type: 'object' } } } }, responses: { '201': { description: 'created' } } } } } };
    const p = await b.put(api('sized', { apiType: 'openapi', path: '/tiers/sized', specification: JSON.stringify(doc), OASValidation: { requestEnabled: true } }));
    const refused = await b.execute('apply', p.name, p.hash);
    t.equal(refused.code, 42, 'APIM refuses the policy: permanent');
    const c = condition(await b.get(p.name), 'PoliciesApplied');
    t.equal(c?.['status'], 'False');
    t.match(c?.['message'], 'validate-content max-size is VALIDATE_CONTENT_MAX_SIZE=4194304: set it to what this service accepts (102400', 'names the setting');
    const fixed = await b.execute('apply', p.name, p.hash, { VALIDATE_CONTENT_MAX_SIZE: '102400' });
    t.equal(fixed.code, 0, fixed.stdout.slice(-2000));
    t.match(b.emu.state().apis.find((a) => a.name === b.apiId(p.name))?.policy?.raw, '<validate-content unspecified-content-type-action="prevent" max-size="102400"');
  });

  t.test('two APIs limited by IP and by the ODA example\'s shared name get distinct counters', async (t) => {
    const limits = { rateLimit: { enabled: true, identifier: 'IP', limit: '5' }, quota: { identifier: 'test-identifier', limit: '1000' } };
    const keys: string[][] = [];
    for (const name of ['counter-a', 'counter-b']) {
      const p = await b.put(api(name, limits));
      t.equal((await b.execute('apply', p.name, p.hash)).code, 0);
      const raw = b.emu.state().apis.find((a) => a.name === b.apiId(p.name))?.policy?.raw ?? '';
      keys.push([...raw.matchAll(/counter-key="([^"]*)"/g)].map((m) => m[1]!));
      t.same(keys.at(-1), [`@(&quot;${b.apiId(p.name)}:&quot; + context.Request.IpAddress)`, `${b.apiId(p.name)}:test-identifier`], `${name}: keys scoped by its apiId`);
    }
    t.equal(keys.length, 2);
    for (let i = 0; i < 2; i++) t.not(keys[0]![i], keys[1]![i], `counter ${i} differs between the two APIs`);
  });
});
