// Puts the admission webhook in front of a real apiserver the way an install does, except that the server runs in
// the test process (registered by URL + caBundle): the CRD, the webhook's ServiceAccount and RBAC from
// manifests/base (the webhook watches ExposedAPIs with its own token, never as admin), and both configurations.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { waitCrdEstablished } from '../../dev-cluster/local-cluster.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { localWebhookConfigurations } from '../../dev-cluster/webhook-registration.ts';
import { startWebhook, type RunningWebhook } from '../../webhook/run-webhook.ts';
import type { TestControlPlane, TestLike } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { testTls, type TestTls } from '../helpers/webhook-tls.ts';

export interface WebhookInCluster {
  /** Namespace of the webhook's ServiceAccount and of the test's ExposedAPIs (it carries the selector label). */
  namespace: string;
  webhook: RunningWebhook;
  tls: TestTls;
  /** Stops the server (the registration stays: the apiserver then fails closed). */
  stop(): Promise<void>;
}

export async function applyManifest(cp: TestControlPlane, objects: object[]): Promise<void> {
  const r = await cp.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: objects.map((o) => YAML.stringify(o)).join('---\n') });
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

export async function installCrd(cp: TestControlPlane, file: string, crd?: string): Promise<void> {
  const r = await cp.kubectl(['apply', '--server-side', '--force-conflicts', '-f', file]);
  if (r.code !== 0) throw new Error(`CRD install failed: ${r.stderr}`);
  await waitCrdEstablished(async (args) => {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(r.stderr);
    return r.stdout;
  }, undefined, crd);
}

export async function installWebhook(cp: TestControlPlane, t: TestLike, o: { crdFile?: string; env?: Record<string, string> } = {}): Promise<WebhookInCluster> {
  await installCrd(cp, o.crdFile ?? join(REPO_DIR, 'manifests/base/crd.yaml'));
  const run = Math.random().toString(36).slice(2, 8);
  const namespace = await cp.newNamespace(t, { labels: { 'exposedapi-apim.io/e2e': run } });
  // RBAC exactly as shipped; cluster-scoped names get a suffix because test files share one cluster.
  const rbac = YAML.parseAllDocuments(readFileSync(join(REPO_DIR, 'manifests/base/rbac.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  for (const obj of rbac) {
    if (obj['kind'] === 'ServiceAccount') obj['metadata'].namespace = namespace;
    else obj['metadata'].name = `${obj['metadata'].name}-${run}`;
    if (obj['kind'] === 'ClusterRoleBinding') {
      obj['roleRef'].name = `${obj['roleRef'].name}-${run}`;
      for (const s of obj['subjects']) s.namespace = namespace;
    }
  }
  await applyManifest(cp, rbac);
  const tls = await testTls();
  const parsed = readWebhookConfig({
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_PORT: '0',
    TLS_CERT_FILE: tls.certFile,
    TLS_KEY_FILE: tls.keyFile,
    LOG_LEVEL: 'warn',
    ...o.env,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const kubeConfig = await cp.kubeConfigFor(namespace, 'exposedapi-apim-webhook');
  const webhook = await startWebhook(parsed.config, { kubeConfig });
  const configurations = localWebhookConfigurations({ url: webhook.url, caPem: tls.ca.certPem, nameSuffix: run, namespaceLabels: { 'exposedapi-apim.io/e2e': run } });
  await applyManifest(cp, configurations);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await webhook.close();
  };
  t.teardown(async () => {
    for (const c of configurations) await cp.kubectl(['delete', c['kind'], c['metadata'].name, '--ignore-not-found']);
    await stop();
    tls.remove();
  });
  await waitFor('the webhook\'s ExposedAPI watch to sync', async () => (webhook.informer?.isSynced ? true : undefined), { timeoutMs: 20_000 });
  return { namespace, webhook, tls, stop };
}
