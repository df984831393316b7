// When the watched ExposedAPI version stops being served (the CRD deleted, or replaced without the version), the
// webhook's informer says so once, as an error, and /readyz reports not ready until the version is served again.
// Against a real apiserver of this file's own: deleting the CRD would pull it from under every other test.
import t from 'tap';
import { join } from 'node:path';
import { ExposedApiInformer } from '../../webhook/exposedapi-informer.ts';
import { installCrd } from '../e2e/webhook-in-cluster.ts';
import { usePrivateControlPlane } from '../control-plane/use-control-plane.ts';
import { exposedApi, REPO_DIR } from '../helpers/fixtures.ts';
import YAML from 'yaml';

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('the CRD deleted and installed again: not ready with the reason, logged once, then ready', async (t) => {
  const cp = await usePrivateControlPlane(t);
  const crdFile = join(REPO_DIR, 'manifests/base/crd.yaml');
  await installCrd(cp, crdFile);
  const ns = await cp.newNamespace(t);
  const created = await cp.kubectl(['create', '-n', ns, '-f', '-'], { input: YAML.stringify(exposedApi({ metadata: { name: 'pc', namespace: ns } })) });
  t.equal(created.code, 0, created.stderr);

  const logs: { level: string; msg: string }[] = [];
  const informer = new ExposedApiInformer<{ name: string }>({
    kubeConfig: cp.kubeConfig(),
    namespaces: [ns],
    summarize: (o) => ({ name: String((o['metadata'] as { name: string }).name) }),
    events: { upsert: () => {}, remove: () => {} },
    log: {
      debug: (msg) => logs.push({ level: 'debug', msg }),
      info: (msg) => logs.push({ level: 'info', msg }),
      warn: (msg) => logs.push({ level: 'warn', msg }),
      error: (msg) => logs.push({ level: 'error', msg }),
    },
    maxBackoffMs: 500,
  });
  informer.start();
  t.teardown(() => informer.stop());
  await until('the first list', () => informer.notReadyReason === undefined);
  t.same([...informer.values()].map((s) => s.name), ['pc']);

  const deleted = await cp.kubectl(['delete', 'crd', 'exposedapis.oda.tmforum.org', '--wait=true']);
  t.equal(deleted.code, 0, deleted.stderr);
  const reason = await until('not ready with a reason', () => informer.notReadyReason || undefined);
  t.match(reason, 'exposedapis.oda.tmforum.org/v1 is not served by the apiserver (its CRD was deleted or replaced without version v1)');
  // Several retries happen while the version is missing; the outage is said once.
  await new Promise((r) => setTimeout(r, 2_000));
  const errors = logs.filter((l) => l.level === 'error');
  t.equal(errors.length, 1, 'one error per outage, however many retries');
  t.match(errors[0]?.msg, /is not served by the apiserver \(404\).*install the CRD \(manifests\/base\/crd\.yaml\)/);
  t.ok(informer.stats.errors > 1, `retried (${informer.stats.errors} failed attempts)`);

  await installCrd(cp, crdFile);
  await until('ready again', () => informer.notReadyReason === undefined);
  t.ok(logs.some((l) => l.level === 'info' && l.msg.includes('is served again')), 'the recovery is logged');
});
