// Claims end to end through the real kubectl and kube-apiserver: two namespaces served by the webhook; a path nested
// in (or containing) another namespace's path, the same path, an apiId another ExposedAPI holds (explicit or
// derived) and non-canonical paths (percent-encoding, encoded dot segments) are denied in kubectl's words, naming the
// holder and the fix; a namespace nesting its own paths and /payments/v10 beside /payments/v1 are accepted.
import t from 'tap';
import YAML from 'yaml';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { exposedApi } from '../helpers/fixtures.ts';
import { installWebhook } from './webhook-in-cluster.ts';

const cp = await useControlPlane(t);
const hook = await installWebhook(cp, t, { env: { REMOTE_SPEC_CHECK: 'off' } });
const nsA = hook.namespace;
// The second tenant's namespace carries the same selector label, so the same webhook serves it.
const label = await cp.kubectl(['get', 'namespace', nsA, '-o', 'jsonpath={.metadata.labels.exposedapi-apim\\.io/e2e}']);
const nsB = await cp.newNamespace(t, { labels: { 'exposedapi-apim.io/e2e': label.stdout.trim() } });

const apply = (ns: string, name: string, spec: Record<string, unknown>) =>
  cp.kubectl(['apply', '-n', ns, '-f', '-'], { input: YAML.stringify(exposedApi({ metadata: { name, namespace: undefined }, spec })) });
const stored = async (ns: string, name: string) => (await cp.kubectl(['get', 'exposedapi', name, '-n', ns, '-o', 'name'])).code === 0;

t.test('team A holds /payments/v1: team B cannot nest in it or around it; A may nest its own', async (t) => {
  const first = await apply(nsA, 'payments', { path: '/payments/v1' });
  t.equal(first.code, 0, first.stderr);

  const nested = await apply(nsB, 'transfer', { path: '/payments/v1/transfer' });
  t.not(nested.code, 0);
  t.match(nested.stderr, `The ExposedAPI "transfer" is invalid: spec.path: Forbidden: path "/payments/v1/transfer" is inside path "/payments/v1", claimed by ExposedAPI ${nsA}/payments of another namespace, and paths of different namespaces must not nest; choose a path outside "/payments/v1"`);
  t.notOk(await stored(nsB, 'transfer'), 'nothing stored');

  const around = await apply(nsB, 'all-payments', { path: '/Payments' });
  t.not(around.code, 0);
  t.match(around.stderr, `spec.path: Forbidden: path "/Payments" contains path "/payments/v1", claimed by ExposedAPI ${nsA}/payments of another namespace`);

  const same = await apply(nsB, 'payments', { path: '/PAYMENTS/v1' });
  t.not(same.code, 0);
  t.match(same.stderr, `spec.path: Forbidden: path "/PAYMENTS/v1" is already claimed by ExposedAPI ${nsA}/payments in the same APIM service`);

  const own = await apply(nsA, 'payments-admin', { path: '/payments/v1/admin' });
  t.equal(own.code, 0, `the holder's namespace may nest: ${own.stderr}`);
  const beside = await apply(nsB, 'payments-v10', { path: '/payments/v10' });
  t.equal(beside.code, 0, `segment-wise: /payments/v10 is not under /payments/v1: ${beside.stderr}`);
});

t.test('non-canonical paths are denied: percent-encoding, encoded dot segments', async (t) => {
  const encoded = await apply(nsB, 'encoded', { path: '/%70ayments/v1' });
  t.not(encoded.code, 0);
  t.match(encoded.stderr, 'spec.path: Invalid value: "/%70ayments/v1": must not contain percent-encoding ("%70"): APIM and backends decode it, so two different strings would name one path; write the characters themselves: "/payments/v1"');
  const dots = await apply(nsB, 'dots', { path: '/team-b/%2e%2e/payments/v1' });
  t.not(dots.code, 0);
  t.match(dots.stderr, 'spec.path: Invalid value: "/team-b/%2e%2e/payments/v1": must not contain percent-encoding ("%2e")');
  t.match(dots.stderr, 'it decodes to "/team-b/../payments/v1", which is not a valid path either');
  t.notOk(await stored(nsB, 'encoded'));
  t.notOk(await stored(nsB, 'dots'));
});

t.test('an apiId is claimed like a path: a second claim is denied naming the holder', async (t) => {
  const id = `catalog-${nsA.slice(-6)}`;
  const first = await apply(nsA, 'catalog', { path: '/catalog-a/v1', apim: { apiId: id } });
  t.equal(first.code, 0, first.stderr);
  const second = await apply(nsB, 'catalog', { path: '/catalog-b/v1', apim: { apiId: id.toUpperCase() } });
  t.not(second.code, 0);
  t.match(second.stderr, `spec.apim.apiId: Forbidden: apiId "${id.toUpperCase()}" is already claimed by ExposedAPI ${nsA}/catalog (APIM compares ids case-insensitively); choose another spec.apim.apiId`);

  // The id ${nsA}/payments derives is taken too.
  const derived = `${nsA}-payments`;
  const third = await apply(nsB, 'takes-derived', { path: '/elsewhere/v1', apim: { apiId: derived } });
  t.not(third.code, 0);
  t.match(third.stderr, `spec.apim.apiId: Forbidden: apiId "${derived}" is already claimed by ExposedAPI ${nsA}/payments`);

  const update = await apply(nsA, 'catalog', { path: '/catalog-a/v1', apim: { apiId: id }, port: 9090 });
  t.equal(update.code, 0, `the holder can still be updated: ${update.stderr}`);
});
