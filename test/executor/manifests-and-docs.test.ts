// The executor's install pieces and documentation stay true to the code: least-privilege RBAC with the workload
// identity placeholders, the ConfigMap keys, and a documented row for every variable the executor reads.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO_DIR } from '../helpers/fixtures.ts';

const read = (p: string) => readFileSync(join(REPO_DIR, p), 'utf8');
const docs = read('docs/executor.md');

/** Every environment variable name readExecutorConfig and readSpecFetchOptions read (r.str('X'…), r.int('X'…), …). */
function variablesRead(): string[] {
  const sources = read('core/executor-config.ts') + read('core/operator-config.ts').slice(read('core/operator-config.ts').indexOf('export function readSpecFetchOptions'), read('core/operator-config.ts').indexOf('export function readWebhookConfig'));
  return [...new Set([...sources.matchAll(/r\.(?:str|int|bool|oneOf|list)\('([A-Z_]+)'/g), ...sources.matchAll(/(?:optionalUrl|required|idList)\(r, '([A-Z_]+)'/g)].map((m) => m[1]!))].sort();
}

t.test('every variable the executor reads is documented', async (t) => {
  const vars = variablesRead();
  t.ok(vars.length >= 30, `${vars.length} variables`);
  for (const v of vars) t.match(docs, `\`${v}\``, `${v} in docs/executor.md`);
  for (const v of ['QUOTA_RENEWAL_PERIOD_SECONDS', 'ROUTE_MODE', 'SPEC_IMPORT_MODE', 'CREATE_MISSING_PRODUCTS', 'JWT_TENANT_ID', 'JWT_AUDIENCES', 'ARM_ENDPOINT', 'AZURE_AUTHORITY_HOST']) t.ok(vars.includes(v), `reads ${v}`);
});

t.test('the ConfigMap has the executor\'s keys, all of them read', async (t) => {
  const cm = YAML.parse(read('manifests/base/config.yaml')) as { data: Record<string, string> };
  const vars = new Set(variablesRead());
  for (const key of ['APIM_SUBSCRIPTION_ID', 'APIM_RESOURCE_GROUP', 'APIM_SERVICE_NAME', 'ROUTE_MODE', 'INGRESS_CLASS', 'DEFAULT_PRODUCTS', 'DEFAULT_TAGS', 'DEFAULT_AUTHENTICATION', 'SPEC_IMPORT_MODE', 'QUOTA_RENEWAL_PERIOD_SECONDS', 'RETRY_BUDGET_SECONDS']) {
    t.ok(key in cm.data, `${key} in config.yaml`);
    t.ok(vars.has(key), `${key} is read`);
  }
  t.equal(cm.data['QUOTA_RENEWAL_PERIOD_SECONDS'], '86400', 'the documented default');
  t.equal(cm.data['DEFAULT_AUTHENTICATION'], 'none', 'gateway auth is not forced on');
});

t.test('RBAC: the executor\'s ServiceAccount, least privilege', async (t) => {
  const objs = YAML.parseAllDocuments(read('manifests/base/executor-rbac.yaml')).map((d) => d.toJS() as Record<string, any>);
  const sa = objs.find((o) => o['kind'] === 'ServiceAccount');
  t.equal(sa?.['metadata'].name, 'exposedapi-apim-executor', 'the name the dispatcher\'s Job template uses (EXECUTOR_SERVICE_ACCOUNT)');
  t.ok(sa?.['metadata'].annotations['azure.workload.identity/client-id'], 'workload identity client-id placeholder');
  t.equal(sa?.['metadata'].labels['azure.workload.identity/use'], 'true');
  const role = objs.find((o) => o['kind'] === 'ClusterRole');
  const rules = (role?.['rules'] ?? []) as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  const grants = new Map<string, string[]>();
  for (const r of rules) for (const res of r.resources) grants.set(`${r.apiGroups[0] || 'core'}/${res}`, [...r.verbs].sort());
  t.same(Object.fromEntries(grants), {
    // list: the verify Job compares every applied ExposedAPI (docs/drift.md).
    'oda.tmforum.org/exposedapis': ['get', 'list', 'patch'],
    'oda.tmforum.org/exposedapis/status': ['patch'],
    'oda.tmforum.org/components': ['get', 'patch'],
    'networking.k8s.io/ingresses': ['create', 'delete', 'get', 'patch'],
    'networking.istio.io/virtualservices': ['create', 'delete', 'get', 'patch'],
    'gateway.networking.k8s.io/httproutes': ['create', 'delete', 'get', 'patch'],
    'core/services': ['get'],
    'discovery.k8s.io/endpointslices': ['list'],
    'core/events': ['create'],
  });
  const binding = objs.find((o) => o['kind'] === 'ClusterRoleBinding');
  t.same(binding?.['subjects'], [{ kind: 'ServiceAccount', name: 'exposedapi-apim-executor', namespace: 'exposedapi-apim' }]);
  t.ok((YAML.parse(read('manifests/base/kustomization.yaml')) as { resources: string[] }).resources.includes('executor-rbac.yaml'), 'installed by the kustomization');
});
