// The chart lints clean in strict mode (warnings fail), and its values schema turns a mistake in the values into a
// failed `helm install`/`template` that names the key, before anything reaches the cluster.
import t from 'tap';
import { CHART_DIR, helm, templateText, valuesFile } from './helm.ts';

/** Values that switch on every optional part, so lint sees every template branch. */
const EVERYTHING = {
  watchNamespaces: ['team-a', 'team-b'],
  tenancyPolicy: { rules: [{ namespaces: ['team-*'], pathPrefixes: ['/{namespace}'] }] },
  apim: { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', serviceName: 'apim-1', sku: 'StandardV2', products: { defaults: ['starter'] } },
  executor: { command: ['node', '/app/dist/exposedapi-apim.mjs'], workloadIdentity: { clientId: '11111111-1111-1111-1111-111111111111' } },
  extraConfig: { NODE_EXTRA_CA_CERTS: '/etc/ssl/extra/ca.crt' },
  webhook: {
    priorityClassName: 'system-cluster-critical',
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
    extraEnv: [{ name: 'NODE_DEBUG', value: '' }],
    networkPolicy: { extraIngress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 8443, protocol: 'TCP' }] }] },
  },
};

t.test('helm lint --strict passes with the defaults and with every option on', async (t) => {
  for (const [name, args] of [['defaults', []], ['every option', ['--values', valuesFile(EVERYTHING)]], ['cert-manager', ['--set', 'certificates.source=cert-manager']]] as const) {
    const r = await helm(['lint', '--strict', CHART_DIR, ...args]);
    t.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
    t.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, name);
    t.notMatch(r.stdout, /\[(WARNING|ERROR)\]/, `${name}: no warnings`);
  }
});

t.test('the schema rejects a mistake in the values with the key and the reason', async (t) => {
  const cases: [string, object, RegExp][] = [
    ['a misspelt key', { apim: { subscriptonId: 'x' } }, /at '\/apim': additional properties 'subscriptonId' not allowed/],
    ['a misspelt top-level key', { watchNamespace: ['a'] }, /additional properties 'watchNamespace' not allowed/],
    ['a misspelt key deep down', { executor: { job: { retry: { limt: 3 } } } }, /at '\/executor\/job\/retry': additional properties 'limt' not allowed/],
    ['a value of the wrong type', { admission: { pathUniqueness: 'always' } }, /at '\/admission\/pathUniqueness': got string, want boolean/],
    ['a number beyond what the operator accepts', { admission: { requestTimeoutMs: 20000 } }, /at '\/admission\/requestTimeoutMs': maximum: got 20,000, want 9,000/],
    ['a value outside its set', { route: { mode: 'nginx' } }, /at '\/route\/mode': value must be one of 'ingress', 'istio', 'gateway-api'/],
    ['a malformed subscription id', { apim: { subscriptionId: 'my-subscription' } }, /at '\/apim\/subscriptionId': '.*' does not match pattern/],
    ['a digest that is not sha256', { image: { digest: 'latest' } }, /at '\/image\/digest': 'latest' does not match pattern/],
    ['an unknown certificate source', { certificates: { source: 'vault' } }, /at '\/certificates\/source': value must be one of 'helm', 'cert-manager', 'secret'/],
  ];
  for (const [what, values, message] of cases) {
    const error = await templateText(values).then(() => undefined, (e: Error) => e.message);
    t.match(error, /values don't meet the specifications of the schema/, `${what}: refused by the schema`);
    t.match(error, message, `${what}: names the key and the reason`);
  }
});

t.test('extraConfig cannot set a variable that a value sets: the message names the variable', async (t) => {
  const error = await templateText({ extraConfig: { APIM_SKU: 'Basic' } }).then(() => undefined, (e: Error) => e.message);
  t.match(error, /extraConfig\.APIM_SKU: the chart sets APIM_SKU from one of its values; set that value instead/);
  const ok = await templateText({ extraConfig: { NODE_EXTRA_CA_CERTS: '/x/ca.crt', SOME_FLAG: true } });
  t.match(ok, /NODE_EXTRA_CA_CERTS: "\/x\/ca\.crt"/, 'a variable without a value is passed through');
  t.match(ok, /SOME_FLAG: "true"/, 'as a string');
});
