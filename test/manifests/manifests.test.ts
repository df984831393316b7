// The install manifests: the CRD is what the generator produces, stays compatible with the canonical ODA CRD, and the
// webhook and Deployment keep the properties a production install relies on.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { crdYaml } from '../../scripts/generate-crd.ts';
import { targetCrdYaml } from '../../scripts/generate-target-crd.ts';
import { localWebhookConfigurations } from '../../dev-cluster/webhook-registration.ts';
import { REPO_DIR, referenceText } from '../helpers/fixtures.ts';

const base = join(REPO_DIR, 'manifests/base');
const docs = (file: string) => YAML.parseAllDocuments(readFileSync(join(base, file), 'utf8')).map((d) => d.toJS());

t.test('the committed CRD is the generated one', async (t) => {
  t.equal(readFileSync(join(base, 'crd.yaml'), 'utf8'), crdYaml(), 'run `node scripts/generate-crd.ts` after changing the schema');
  t.equal(readFileSync(join(base, 'apimtarget-crd.yaml'), 'utf8'), targetCrdYaml(), 'run `node scripts/generate-target-crd.ts` after changing the schema');
});

t.test('the CRD is compatible with the canonical ODA CRD', async (t) => {
  const ours = docs('crd.yaml')[0];
  const canonical = YAML.parse(referenceText('oda/oda-exposedapi-crd.yaml'));
  t.equal(ours.metadata.name, canonical.metadata.name);
  t.equal(ours.spec.group, canonical.spec.group);
  t.same(ours.spec.names.kind, canonical.spec.names.kind);
  t.equal(ours.spec.scope, canonical.spec.scope);
  t.notOk(ours.spec.conversion, 'no conversion webhook, like the canonical CRD');
  const versions = (crd: any) => Object.fromEntries(crd.spec.versions.map((v: any) => [v.name, v]));
  const o = versions(ours);
  const c = versions(canonical);
  t.same(Object.keys(o).sort(), Object.keys(c).sort(), 'same versions');
  for (const name of Object.keys(c)) {
    t.equal(o[name].storage, c[name].storage, `${name} storage`);
    t.notOk(o[name].subresources, `${name}: no status subresource (as canonical)`);
    const ourSpec = o[name].schema.openAPIV3Schema.properties.spec;
    const theirSpec = c[name].schema.openAPIV3Schema.properties.spec;
    t.equal(ourSpec['x-kubernetes-preserve-unknown-fields'], true, `${name}: unknown spec keys kept`);
    t.same(ourSpec.required.sort(), theirSpec.required.sort(), `${name}: same required fields`);
    for (const field of Object.keys(theirSpec.properties)) t.ok(ourSpec.properties[field], `${name}: has spec.${field}`);
    t.same(ourSpec.properties.apiType.enum, theirSpec.properties.apiType.enum, `${name}: same apiType enum`);
    t.ok(ourSpec.properties.apim, `${name}: documents spec.apim`);
    t.same(o[name].additionalPrinterColumns.map((p: any) => p.jsonPath), c[name].additionalPrinterColumns.map((p: any) => p.jsonPath), `${name}: same printer columns`);
  }
});

t.test('webhook configurations', async (t) => {
  const configs = docs('webhook-configurations.yaml');
  t.same(configs.map((c) => c.kind).sort(), ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
  for (const c of configs) {
    for (const w of c.webhooks) {
      t.same(w.admissionReviewVersions, ['v1'], `${w.name} v1 reviews`);
      t.equal(w.sideEffects, 'None', `${w.name} no side effects (dry-run works)`);
      t.equal(w.failurePolicy, 'Fail', `${w.name} fails closed`);
      t.ok(w.timeoutSeconds <= 10, `${w.name} timeout ≤ 10 s`);
      t.same(w.rules[0].operations, ['CREATE', 'UPDATE'], `${w.name} CREATE/UPDATE only, so deletion is never blocked`);
      t.same(w.rules[0].resources, ['exposedapis']);
      t.ok(w.namespaceSelector.matchExpressions.some((e: any) => e.values.includes('kube-system')), `${w.name} can exclude system namespaces`);
    }
  }
});

t.test('webhook matchConditions: metadata-only updates never reach the webhook; local registrations keep them', async (t) => {
  // What each condition admits is proven against the real apiserver in test/e2e/webhook-down-escape-hatches.test.ts.
  const [mutating, validating] = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']
    .map((kind) => docs('webhook-configurations.yaml').find((c) => c.kind === kind).webhooks[0]);
  for (const w of [mutating, validating]) {
    t.equal(w.matchConditions.length, 1, `${w.name}: one condition (conditions are ANDed)`);
    t.match(w.matchConditions[0].expression, /^request\.operation == 'CREATE' \|\|/, `${w.name}: every create`);
  }
  t.ok(mutating.matchConditions[0].expression.startsWith(validating.matchConditions[0].expression),
    'the mutating condition is the validating one plus the lost-stamp case');
  const local = localWebhookConfigurations({ url: 'https://127.0.0.1:8443', caPem: 'CA', nameSuffix: 'x', namespaceLabels: { a: 'b' } });
  t.same(local.map((c) => c['webhooks'][0].matchConditions), [mutating.matchConditions, validating.matchConditions], 'local registrations keep them');
});

t.test('deployment, RBAC and disruption budget', async (t) => {
  const [deployment] = docs('deployment.yaml');
  t.equal(deployment.spec.replicas, 2);
  const pod = deployment.spec.template.spec;
  const c = pod.containers[0];
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(c.securityContext.readOnlyRootFilesystem, true);
  t.equal(c.securityContext.allowPrivilegeEscalation, false);
  t.same(c.securityContext.capabilities.drop, ['ALL']);
  t.ok(c.readinessProbe && c.livenessProbe, 'probes');
  t.ok(c.resources.requests && c.resources.limits, 'requests and limits');
  // Least privilege: admission only reads ExposedAPIs; the dispatcher (same ServiceAccount, dispatcher-rbac.yaml)
  // adds exactly what it needs — and Jobs and Leases only in the operator namespace (a Role, never a ClusterRole).
  const rbac = [...docs('rbac.yaml'), ...docs('dispatcher-rbac.yaml')];
  const grants = (kind: string) => [...new Set(rbac.filter((d) => d.kind === kind).flatMap((role) => role.rules.flatMap((r: any) =>
    r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g || 'core'}/${res}: ${v}`))))))].sort();
  t.same(grants('ClusterRole'), [
    'core/events: create',
    // ApimTargets and namespace labels: read only (docs/apim-targets.md).
    'core/namespaces: get', 'core/namespaces: list', 'core/namespaces: watch',
    'discovery.k8s.io/endpointslices: list', 'discovery.k8s.io/endpointslices: watch',
    'exposedapi-apim.io/apimtargets: get', 'exposedapi-apim.io/apimtargets: list', 'exposedapi-apim.io/apimtargets: watch',
    'oda.tmforum.org/components: get', 'oda.tmforum.org/components: patch',
    'oda.tmforum.org/exposedapis/status: patch',
    'oda.tmforum.org/exposedapis: get', 'oda.tmforum.org/exposedapis: list', 'oda.tmforum.org/exposedapis: patch', 'oda.tmforum.org/exposedapis: watch',
  ], 'cluster-wide: read ExposedAPIs, ApimTargets and namespaces, write ExposedAPI status and finalizer, read EndpointSlices, set Component readiness, record Events');
  t.same(grants('Role'), [
    'batch/jobs: create', 'batch/jobs: delete', 'batch/jobs: get', 'batch/jobs: list', 'batch/jobs: watch',
    'coordination.k8s.io/leases: create', 'coordination.k8s.io/leases: get', 'coordination.k8s.io/leases: update',
  ], 'operator namespace only: executor Jobs and the leader Lease');
  const admission = docs('rbac.yaml').find((d) => d.kind === 'ClusterRole');
  t.notOk(admission.rules.flatMap((r: any) => r.verbs).some((v: string) => ['create', 'update', 'patch', 'delete', '*'].includes(v)), 'admission itself only reads');
  for (const b of rbac.filter((d) => d.kind.endsWith('Binding'))) {
    t.same(b.subjects, [{ kind: 'ServiceAccount', name: 'exposedapi-apim-webhook', namespace: 'exposedapi-apim' }], `${b.kind} ${b.metadata.name} binds only the webhook's ServiceAccount`);
  }
  t.ok(YAML.parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8')).resources.includes('dispatcher-rbac.yaml'), 'installed by the kustomization');
  t.same(docs('pdb.yaml')[0].spec.minAvailable, 1);
});

t.test('network policy: only the apiserver reaches the webhook port', async (t) => {
  const [policy] = docs('network-policy.yaml');
  const [deployment] = docs('deployment.yaml');
  const [service] = docs('service.yaml');
  t.equal(policy.kind, 'NetworkPolicy');
  t.same(policy.spec.podSelector.matchLabels, deployment.spec.template.metadata.labels, 'selects the webhook pods');
  t.same(policy.spec.policyTypes, ['Ingress'], 'ingress only: the dispatcher and spec fetches still go out');
  t.equal(policy.spec.ingress.length, 1, 'one rule');
  const [rule] = policy.spec.ingress;
  const containerPort = deployment.spec.template.spec.containers[0].ports.find((p: any) => p.name === service.spec.ports[0].targetPort).containerPort;
  t.same(rule.ports, [{ protocol: 'TCP', port: containerPort }], 'the webhook port, which the Service targets');
  t.equal(rule.from.length, 1, 'one peer: the apiserver');
  t.ok(rule.from[0].ipBlock?.cidr, 'expressed as an ipBlock (a placeholder to replace per cluster)');
  t.notOk(['0.0.0.0/0', '::/0'].includes(rule.from[0].ipBlock.cidr), 'never open to everyone');
  t.ok(YAML.parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8')).resources.includes('network-policy.yaml'), 'installed by the kustomization');
});
