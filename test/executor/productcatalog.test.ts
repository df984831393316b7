// The ODA productcatalog component's three ExposedAPIs (core TMF620 with every policy block, management metrics
// without a document, security TMF672 with its blocks present but disabled), applied by the executor run as a Job
// runs it: a child process with the Job's environment, authenticating as its ServiceAccount with the shipped RBAC,
// against the APIM emulator, with the TM Forum documents served over HTTPS. Then the same again (zero APIM writes),
// and the changes that must cost exactly one write.
import t from 'tap';
import { APIM_OPERATIONS } from '../../executor/apim-operations.ts';
import { versionSetIdOf } from '../../core/api-versioning.ts';
import { readExposedApi, RECONCILE_AT_ANNOTATION } from '../../core/exposedapi-model.ts';
import { renderPolicyXml } from '../../core/policy-xml.ts';
import { applyManifest } from '../e2e/webhook-in-cluster.ts';
import { referenceText, TMF620_V4, TMF672_V4 } from '../helpers/fixtures.ts';
import { armWrites, condition, executorBench, type ExecutorBench, instanceIdOf } from './harness.ts';

const GATEWAY = 'https://apim-emulator.azure-api.net';

function productcatalog(b: ExecutorBench): Record<string, Record<string, any>> {
  return {
    core: {
      apiVersion: 'oda.tmforum.org/v1',
      kind: 'ExposedAPI',
      metadata: { name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4', labels: { 'oda.tmforum.org/componentName': 'ctk-productcatalogmanagement' } },
      spec: {
        name: 'productcatalogmanagement',
        apiType: 'openapi',
        implementation: 'ctk-prodcatapi',
        path: '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4',
        port: 8080,
        developerUI: '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4/docs',
        specification: { url: b.specs.url('TMF620-ProductCatalog-v4.0.0.swagger.json'), version: 'v4' },
        segment: 'coreFunction',
        apiKeyVerification: { enabled: true, location: 'header' },
        rateLimit: { enabled: true, identifier: 'IP', limit: '100', interval: 'pm' },
        quota: { identifier: 'test-identifier', limit: '1000' },
        OASValidation: { requestEnabled: true, responseEnabled: true, allowUnspecifiedHeaders: false, allowUnspecifiedQueryParams: false, allowUnspecifiedCookies: false },
        CORS: {
          enabled: true,
          allowCredentials: true,
          allowOrigins: 'https://allowed-origin.com, https://another-allowed-origin.com',
          handlePreflightRequests: { enabled: true, allowMethods: 'GET, POST, PUT, DELETE', maxAge: 3600 },
        },
        apim: { products: ['oda-core'], tags: ['tmf620'] },
      },
    },
    management: {
      apiVersion: 'oda.tmforum.org/v1',
      kind: 'ExposedAPI',
      metadata: { name: 'ctk-productcatalogmanagement-metrics' },
      spec: { name: 'metrics', apiType: 'prometheus', implementation: 'ctk-productcatalogmanagement-sm', path: '/ctk-productcatalogmanagement/metrics', port: 4000, segment: 'managementFunction' },
    },
    security: {
      apiVersion: 'oda.tmforum.org/v1',
      kind: 'ExposedAPI',
      metadata: { name: 'ctk-productcatalogmanagement-userrolesandpermissions-v4' },
      spec: {
        name: 'userrolesandpermissions',
        apiType: 'openapi',
        implementation: 'ctk-permissionspec',
        path: '/ctk-productcatalogmanagement/rolesAndPermissionsManagement/v4',
        port: 8080,
        specification: { url: b.specs.url('TMF672-UserRolePermission-v4.0.0.swagger.json'), version: 'v4' },
        segment: 'securityFunction',
        apiKeyVerification: { enabled: false, location: '' },
        rateLimit: { enabled: false, identifier: 'IP', limit: '6', interval: 'pm' },
        quota: { identifier: '', limit: '' },
        OASValidation: { requestEnabled: false, responseEnabled: false, allowUnspecifiedHeaders: false, allowUnspecifiedQueryParams: false, allowUnspecifiedCookies: false },
        CORS: { enabled: false, allowCredentials: false, allowOrigins: 'https://allowed-origin.com, https://allowed-origin2.com', handlePreflightRequests: { enabled: false, allowHeaders: '', allowMethods: '', maxAge: 0 } },
        template: '',
      },
    },
  };
}

/** The implementation Service of the core API, with one ready endpoint (the other two have no Service yet). */
async function readyService(b: ExecutorBench): Promise<void> {
  await applyManifest(b.cp, [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ctk-prodcatapi', namespace: b.ns }, spec: { ports: [{ port: 8080 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'ctk-prodcatapi-1', namespace: b.ns, labels: { 'kubernetes.io/service-name': 'ctk-prodcatapi' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.17'], conditions: { ready: true } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    },
  ]);
}

t.test('the productcatalog component\'s three ExposedAPIs', async (t) => {
  const b = await executorBench(t);
  b.specs.put('TMF620-ProductCatalog-v4.0.0.swagger.json', referenceText(TMF620_V4));
  b.specs.put('TMF672-UserRolePermission-v4.0.0.swagger.json', referenceText(TMF672_V4));
  await readyService(b);
  const objs = productcatalog(b);
  const put = { core: await b.put(objs['core']!), management: await b.put(objs['management']!), security: await b.put(objs['security']!) };
  const env = { CREATE_MISSING_PRODUCTS: 'true' };
  const runAll = () => Promise.all(Object.values(put).map((p) => b.execute('apply', p.name, p.hash, env)));

  const first = await runAll();
  for (const r of first) t.equal(r.code, 0, `exit 0 ${r.code === 0 ? '' : r.stdout + r.stderr}`);

  const state = b.emu.state();
  const api = (key: keyof typeof put) => state.apis.find((a) => a.name === b.apiId(put[key].name));
  const core = api('core');
  const metrics = api('management');
  const security = api('security');
  t.ok(core && metrics && security, 'three APIs, named <namespace>-<name>');
  if (!core || !metrics || !security) return;

  t.test('every APIM request is an operation of executor/apim-operations.ts (the least-privilege role)', async (t) => {
    const armRequests = Object.keys(state.requests.byPath).filter((k) => k.includes(' /subscriptions/'));
    t.ok(armRequests.length >= 10, 'the runs talked to ARM');
    const patterns = Object.values(APIM_OPERATIONS).map((o) => new RegExp(`^${o.method} /subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.ApiManagement/service/[^/]+${o.path.replace(/\?.*$/, '').replace(/\{[^}]+\}/g, '[^/]+')}(\\?.*)?$`));
    t.same(armRequests.filter((k) => !patterns.some((re) => re.test(k))), [], 'no request outside the role');
  });

  t.test('core: TMF620 imported with every policy block', async (t) => {
    // APIM_VERSIONING_SCHEME=Segment (the default): the path's version segment is the API's version in the set of its
    // base path, so the public URL stays the ODA path (docs/version-sets.md).
    t.equal(core.properties['path'], 'ctk-productcatalogmanagement/tmf-api/productCatalogManagement', 'the base path, without the leading slash');
    t.equal(core.properties['apiVersion'], 'v4', 'the version segment is the API\'s version');
    const setId = versionSetIdOf({ cluster: 'default', namespace: b.ns, basePath: '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement' });
    t.equal(String(core.properties['apiVersionSetId']).replace(/^.*\/apiVersionSets\//, ''), setId, 'in the version set of its base path');
    t.equal(core.properties['displayName'], 'productcatalogmanagement');
    t.equal(core.properties['serviceUrl'], 'http://127.0.0.1/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4', 'the Ingress load-balancer address + path');
    t.same(core.properties['protocols'], ['https']);
    t.equal(core.properties['subscriptionRequired'], true, 'apiKeyVerification → subscription key');
    t.same(core.properties['subscriptionKeyParameterNames'], { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' }, 'location "header": APIM\'s own names');
    t.equal(core.operations.length, 50, 'every TMF620 operation');
    t.ok(core.operations.some((o) => o.name === 'listcatalog' && o.properties['urlTemplate'] === '/catalog'), 'named from operationIds');
    const { model } = readExposedApi({ ...objs['core'], metadata: { ...objs['core']!['metadata'], namespace: b.ns } });
    t.equal(core.policy?.raw, renderPolicyXml({ spec: model.spec, apiId: core.name, quotaRenewalPeriodSeconds: 86400, documentValidation: true }), 'the rendered policy, as sent');
    t.match(core.policy?.raw, `<rate-limit-by-key calls="100" renewal-period="60" counter-key="@(&quot;${core.name}:&quot; + context.Request.IpAddress)" />`, 'the counter is this API\'s: keyed by its id and the caller\'s IP');
    t.match(core.policy?.raw, `<quota-by-key calls="1000" renewal-period="86400" counter-key="${core.name}:test-identifier" />`, 'the ODA example\'s shared name: one counter for every caller of this API only');
    t.same(core.products, ['oda-core'], 'linked to the product');
    t.ok(state.products.some((p) => p.name === 'oda-core'), 'the missing product was created (CREATE_MISSING_PRODUCTS=true)');
    t.same(core.tags, ['tmf620']);
  });

  t.test('management: a prometheus API without a document becomes a pass-through', async (t) => {
    t.same(metrics.operations.map((o) => `${o.properties['method']} ${o.properties['urlTemplate']}`), ['GET /*']);
    t.equal(metrics.properties['serviceUrl'], 'http://127.0.0.1/ctk-productcatalogmanagement/metrics');
    t.equal(metrics.properties['subscriptionRequired'], false, 'sent explicitly: APIM would default to true');
    t.notMatch(metrics.policy?.raw, 'validate-', 'nothing to validate against');
  });

  t.test('security: disabled blocks with empty strings render nothing', async (t) => {
    t.equal(security.operations.length, 18);
    t.equal(security.properties['subscriptionRequired'], false);
    t.equal(security.policy?.raw, '<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>');
  });

  t.test('routes: one Ingress each, owned by its ExposedAPI', async (t) => {
    const r = await b.cp.kubectl(['get', 'ingresses', '-n', b.ns, '-o', 'json']);
    const items = (JSON.parse(r.stdout) as { items: Record<string, any>[] }).items;
    t.equal(items.length, 3);
    const coreIngress = items.find((i) => i['metadata'].name === `${put.core.name}-apim`);
    const uid = (await b.get(put.core.name))?.['metadata'].uid;
    t.same(coreIngress?.['metadata'].ownerReferences, [{ apiVersion: 'oda.tmforum.org/v1', kind: 'ExposedAPI', name: put.core.name, uid, controller: true }]);
    t.same(coreIngress?.['spec'].rules[0].http.paths[0], { path: objs['core']!['spec'].path, pathType: 'Prefix', backend: { service: { name: 'ctk-prodcatapi', port: { number: 8080 } } } });
  });

  t.test('status: ODA fields, conditions, applied hash; Events per step', async (t) => {
    const obj = await b.get(put.core.name);
    const s = obj?.['status'];
    t.same(s['apiStatus'], {
      name: put.core.name,
      url: `${GATEWAY}/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4`,
      developerUI: `${GATEWAY}/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4/docs`,
      path: '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4',
      port: 8080,
      implementation: 'ctk-prodcatapi',
      ip: 'apim-emulator.azure-api.net',
    }, 'gateway URL read from the service (APIM_GATEWAY_URL unset)');
    // implementation.ready and lastJob are the dispatcher's (docs/status.md); no dispatcher runs here.
    t.equal(s['implementation'], undefined, 'implementation.ready is left to the dispatcher\'s readiness sync');
    t.equal(s['appliedSpecHash'], put.core.hash);
    t.equal(s['lastJob'], undefined, 'lastJob is left to the dispatcher');
    // Where it is: the operator's own instance (no ApimTarget), by its ARM id.
    t.same(s['apim'], { apiId: b.apiId(put.core.name), serviceName: 'apim-emulator', resourceId: instanceIdOf(b.emu), target: '' });
    for (const type of ['Validated', 'RouteReady', 'Imported', 'PoliciesApplied', 'Published']) {
      const c = condition(obj, type);
      t.same([c?.['status'], c?.['specHash']], ['True', put.core.hash], `${type} True for this spec hash`);
    }
    const events = await b.events(put.core.name);
    const reasons = events.map((e) => e.reason);
    for (const reason of ['Valid', 'IngressReady', 'Imported', 'Applied', 'Published']) t.ok(reasons.includes(reason), `Event ${reason}`);
    t.ok((await b.events(put.management.name)).some((e) => e.reason === 'ImplementationMissing' && e.type === 'Warning'));
  });

  t.test('a second run with nothing changed writes nothing to APIM', async (t) => {
    b.emu.requests.reset();
    const again = await runAll();
    for (const r of again) t.equal(r.code, 0);
    t.same(armWrites(b.emu), {}, 'zero PUT, PATCH or DELETE');
    const byMethod = b.emu.state().requests.byMethod;
    t.notOk(byMethod['PUT'] || byMethod['PATCH'] || byMethod['DELETE'], JSON.stringify(byMethod));
    const obj = await b.get(put.core.name);
    t.equal(condition(obj, 'Imported')?.['reason'], 'UpToDate');
    t.equal(condition(obj, 'PoliciesApplied')?.['reason'], 'UpToDate');
  });

  t.test('a policy change writes the policy only, never re-importing the unchanged document', async (t) => {
    const changed = structuredClone(objs['core']!);
    changed['spec'].rateLimit.limit = '50';
    const p = await b.put(changed);
    b.emu.requests.reset();
    const r = await b.execute('apply', p.name, p.hash, env);
    t.equal(r.code, 0);
    const writes = Object.keys(armWrites(b.emu));
    t.same(writes.map((k) => k.replace(/^(\w+) .*\/apis\//, '$1 apis/')), [`PUT apis/${b.apiId(p.name)}/policies/policy`]);
    t.match(b.emu.state().apis.find((a) => a.name === b.apiId(p.name))?.policy?.raw, 'calls="50"');
  });

  t.test('a changed document (reconcile-at forces a new Job) is re-imported', async (t) => {
    const doc = JSON.parse(referenceText(TMF620_V4)) as Record<string, any>;
    doc['paths']['/health'] = { get: { operationId: 'getHealth', responses: { '200': { description: 'ok' } } } };
    b.specs.put('TMF620-ProductCatalog-v4.0.0.swagger.json', JSON.stringify(doc));
    const changed = structuredClone(objs['core']!);
    changed['spec'].rateLimit.limit = '50';
    changed['metadata'].annotations = { [RECONCILE_AT_ANNOTATION]: new Date().toISOString() };
    const p = await b.put(changed);
    b.emu.requests.reset();
    const r = await b.execute('apply', p.name, p.hash, env);
    t.equal(r.code, 0);
    t.same(Object.keys(armWrites(b.emu)).map((k) => k.replace(/^(\w+) .*\/apis\//, '$1 apis/')), [`PUT apis/${b.apiId(p.name)}`], 'one import, nothing else');
    const coreNow = b.emu.state().apis.find((a) => a.name === b.apiId(p.name));
    t.equal(coreNow?.operations.length, 51);
    t.equal(condition(await b.get(p.name), 'Imported')?.['reason'], 'Imported');
  });
});

t.test('superseded, gone, invalid', async (t) => {
  const b = await executorBench(t);
  const obj = productcatalog(b)['management']!;
  const p = await b.put(obj);

  b.emu.requests.reset();
  const superseded = await b.execute('apply', p.name, 'f'.repeat(64));
  t.equal(superseded.code, 0, 'a Job for an older spec hash exits 0');
  t.ok(superseded.logs.some((l) => /superseded/.test(l['msg']) && l['annotatedSpecHash'] === p.hash));
  // The token request leaves while the ExposedAPI is read (cli/execute-command.ts); nothing reaches ARM.
  t.same(Object.keys(b.emu.state().requests.byPath).filter((k) => k.includes(' /subscriptions/')), [], 'without touching APIM');
  t.ok((b.emu.state().requests.byPath[`POST /${b.emu.tenantId}/oauth2/v2.0/token`] ?? 0) <= 1, 'at most the one early token request');
  t.notOk((await b.get(p.name))?.['status'], 'nor the status');

  const gone = await b.execute('apply', 'no-such-exposedapi', p.hash);
  t.equal(gone.code, 0);
  t.ok(gone.logs.some((l) => /no longer exists/.test(l['msg'])));

  const bad = structuredClone(obj);
  bad['metadata'].name = 'invalid';
  bad['spec'].rateLimit = { enabled: true, identifier: 'IP', limit: 'lots', interval: 'pm' };
  const q = await b.put(bad);
  const invalid = await b.execute('apply', q.name, q.hash);
  t.equal(invalid.code, 42, 'invalid input is permanent');
  const status = await b.get(q.name);
  const validated = condition(status, 'Validated');
  t.same([validated?.['status'], validated?.['reason']], ['False', 'Invalid']);
  t.equal(validated?.['message'], 'ExposedAPI "invalid" is invalid: spec.rateLimit.limit: Invalid value: "lots": must be a positive whole number written as a string, e.g. "100"', 'the webhook\'s rendered field errors');
  t.notOk(condition(status, 'Ready'), 'Ready is the dispatcher\'s summary of Validated (docs/status.md)');
  t.notOk(status?.['status']['appliedSpecHash']);
  t.ok(invalid.logs.some((l) => l['level'] === 'error' && /spec\.rateLimit\.limit/.test(l['msg'])), 'the Job log says why');
  t.ok((await b.events(q.name)).some((e) => e.type === 'Warning' && e.reason === 'Invalid'));
  t.same(armWrites(b.emu), {}, 'nothing written to APIM');
});

t.test('backend mode url: no route, APIM calls the given URL', async (t) => {
  const b = await executorBench(t);
  const obj = productcatalog(b)['management']!;
  obj['spec'].apim = { backend: { mode: 'url', url: 'https://metrics.internal.example.com/ctk' } };
  const p = await b.put(obj);
  const r = await b.execute('apply', p.name, p.hash);
  t.equal(r.code, 0);
  t.equal(b.emu.state().apis[0]?.properties['serviceUrl'], 'https://metrics.internal.example.com/ctk');
  const ingresses = await b.cp.kubectl(['get', 'ingresses', '-n', b.ns, '-o', 'name']);
  t.equal(ingresses.stdout.trim(), '', 'no Ingress');
  const c = condition(await b.get(p.name), 'RouteReady');
  t.same([c?.['status'], c?.['reason']], ['True', 'BackendUrl']);
});

t.test('an Ingress that gets no address: a clear retriable failure, APIM untouched', async (t) => {
  const b = await executorBench(t, { namespace: { ingressAddress: 'off' } });
  const p = await b.put(productcatalog(b)['management']!);
  const r = await b.execute('apply', p.name, p.hash, { ROUTE_WAIT_SECONDS: '1', INGRESS_CLASS: 'nginx-internal' });
  t.equal(r.code, 1, 'EXIT_RETRIABLE');
  const obj = await b.get(p.name);
  const c = condition(obj, 'RouteReady');
  t.same([c?.['status'], c?.['reason']], ['False', 'AddressPending']);
  t.match(c?.['message'], `Ingress ${b.ns}/${p.name}-apim has no load-balancer address after 1 s: check that an ingress controller serves class "nginx-internal"`);
  t.same(armWrites(b.emu), {});
  // The next Job, once the controller has published an address, completes the change.
  await b.cp.kubectl(['annotate', 'namespace', b.ns, '--overwrite', 'test.exposedapi-apim.io/ingress-address=ingress.internal.example.com']);
  const again = await b.execute('apply', p.name, p.hash, { ROUTE_WAIT_SECONDS: '20' });
  t.equal(again.code, 0);
  t.equal(b.emu.state().apis[0]?.properties['serviceUrl'], 'http://ingress.internal.example.com/ctk-productcatalogmanagement/metrics', 'a hostname address');
});
