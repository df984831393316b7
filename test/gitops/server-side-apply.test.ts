// The mutating webhook never changes a field a GitOps tool owns, proven on the running system (the sandbox: webhook,
// dispatcher, Jobs, executor, APIM emulator): an ExposedAPI applied server-side under Argo CD's field manager is
// stamped (spec-hash and document digest annotations, finalizer, the pending Ready) and published; re-applying the
// same manifest under the same manager then conflicts with nothing, writes nothing (same resourceVersion, no new Job),
// and a server-side diff shows no drift. managedFields say why: what the webhook adds belongs to no manager, so an
// apply never removes it and never conflicts over it. A second manager that applies a field the webhook sets gets no
// conflict either, but the webhook's value stays (docs/gitops.md: keep those fields out of Git). Client-side apply
// (Argo CD's default) is checked the same way.
import t from 'tap';
import { FINALIZER, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { JOB_LABELS } from '../../core/exposedapi-status.ts';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, gitopsSandbox, manifest, NS, serverSideApply, type Obj } from './gitops-sandbox.ts';
import YAML from 'yaml';

const ARGO = 'argocd-controller';
const g = await gitopsSandbox(t);

/** The leaf paths of a managedFields fieldsV1 set ("f:spec": {"f:path": {}} → spec.path). */
function leaves(fields: Obj, prefix = ''): string[] {
  const keys = Object.keys(fields).filter((k) => k !== '.');
  if (keys.length === 0) return prefix ? [prefix] : [];
  return keys.flatMap((k) => leaves(fields[k] as Obj, `${prefix}${prefix ? '.' : ''}${k.replace(/^[fkv]:/, '')}`));
}
/** The leaf paths a manifest sets (metadata.name and .namespace identify the object and are not recorded). */
function manifestLeaves(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value as Obj).flatMap(([k, v]) => manifestLeaves(v, `${prefix}${prefix ? '.' : ''}${k}`));
}
const owned = (obj: Obj, manager: string): string[] =>
  ((obj['metadata']['managedFields'] ?? []) as Obj[]).filter((m) => m['manager'] === manager).flatMap((m) => leaves(m['fieldsV1'] ?? {})).sort();
const withManagedFields = async (name: string): Promise<Obj> =>
  JSON.parse((await g.kubectl(['get', 'exposedapi', name, '-n', NS, '-o', 'json', '--show-managed-fields'])).stdout) as Obj;
const jobsOf = async (name: string): Promise<Obj[]> =>
  (JSON.parse((await g.kubectl(['get', 'jobs', '-n', OPERATOR_NAMESPACE, '-l', `${JOB_LABELS.name}=${name}`, '-o', 'json'])).stdout) as { items: Obj[] }).items;
const render = (o: Obj) => YAML.stringify(o).replaceAll('${SANDBOX_SPEC_BASE}', g.sandbox.backend.url);
const published = async (name: string) => {
  const r = await g.kubectl(['wait', '--for=condition=Ready', `exposedapi/${name}`, '-n', NS, '--timeout=180s'], undefined, 240_000);
  if (r.code !== 0) throw new Error(`${name} was not published: ${r.stderr}`);
  return withManagedFields(name);
};
/**
 * Published and settled: the dispatcher has also written the Job's end and the implementation's readiness (they follow
 * Ready by a moment), and two reads half a second apart see the same resourceVersion — so a later write is the test's.
 */
const settled = async (name: string): Promise<Obj> => {
  await published(name);
  return waitFor(`${name} to settle`, async () => {
    const a = await withManagedFields(name);
    const hash = a['metadata']['annotations'][SPEC_HASH_ANNOTATION];
    const done = condition(a, 'Progressing')?.['status'] === 'False' && condition(a, 'Progressing')?.['specHash'] === hash && typeof a['status']['implementation']?.['ready'] === 'boolean';
    if (!done) return undefined;
    await new Promise((r) => setTimeout(r, 500));
    const b = await withManagedFields(name);
    return b['metadata']['resourceVersion'] === a['metadata']['resourceVersion'] ? b : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
};

const desired = manifest('synced');

t.test('applied server-side as Argo CD: stamped and published; the stamp belongs to no field manager', async (t) => {
  const r = await serverSideApply(g, [desired], ARGO);
  t.equal(r.code, 0, r.stderr);
  const obj = await published('synced');
  t.match(obj['metadata']['annotations'][SPEC_HASH_ANNOTATION], /^[0-9a-f]{64}$/, 'the webhook stamped the spec hash');
  t.ok(obj['metadata']['finalizers'].includes(FINALIZER), 'and our finalizer');
  t.equal(condition(obj, 'Ready')?.['status'], 'True');

  const argo = owned(obj, ARGO);
  const expected = manifestLeaves({ spec: JSON.parse(JSON.stringify(desired['spec'])) }).sort();
  t.same(argo, expected, 'argocd-controller owns exactly the fields of its manifest');
  const managers = ((obj['metadata']['managedFields'] ?? []) as Obj[]).map((m) => m['manager'] as string);
  for (const manager of managers) {
    const fields = owned(obj, manager);
    t.notOk(fields.some((f) => f.startsWith('metadata.annotations') || f.startsWith('metadata.finalizers')), `${manager} owns none of the webhook's annotations or finalizers (${fields.filter((f) => f.startsWith('metadata')).join(', ') || 'no metadata'})`);
    if (manager === ARGO) t.notOk(fields.some((f) => f.startsWith('status')), 'argocd-controller owns no status field');
  }
  t.same(managers.filter((m) => m !== ARGO).sort(), ['exposedapi-apim-dispatcher', 'exposedapi-apim-executor'], 'the only other managers are the operator\'s status writers');
});

t.test('re-applied unchanged by the same manager: no conflict, no write, no Job, no drift', async (t) => {
  const before = await settled('synced');
  const jobs = (await jobsOf('synced')).length;
  const again = await serverSideApply(g, [desired], ARGO);
  t.equal(again.code, 0, `no conflict without --force-conflicts: ${again.stderr}`);
  const after = await withManagedFields('synced');
  t.equal(after['metadata']['resourceVersion'], before['metadata']['resourceVersion'], 'nothing was written: the stored object is exactly what the apply asks for');
  t.equal((await jobsOf('synced')).length, jobs, 'no new Job');

  const diff = await g.kubectl(['diff', '--server-side', `--field-manager=${ARGO}`, '-n', NS, '-f', '-'], render(desired));
  t.equal(diff.code, 0, `kubectl diff --server-side: no drift (exit 0, 1 = drift): ${diff.stdout}${diff.stderr}`);
  t.equal(diff.stdout, '');

  // Argo CD's server-side diff: the dry-run result of its apply, compared with the live object.
  const dry = await serverSideApply(g, [desired], ARGO, ['--dry-run=server', '-o', 'json']);
  t.equal(dry.code, 0, dry.stderr);
  const predicted = JSON.parse(dry.stdout) as Obj;
  for (const path of ['spec', 'status'] as const) t.same(predicted[path], after[path], `dry-run apply predicts the live ${path}`);
  t.same(predicted['metadata']['annotations'], after['metadata']['annotations'], '… the live annotations (the webhook stamps the same hash in the dry run)');
  t.same(predicted['metadata']['finalizers'], after['metadata']['finalizers'], '… and finalizers');
  t.equal(predicted['metadata']['generation'], after['metadata']['generation'], '… and generation: an apply of the same manifest changes nothing');
});

t.test('a changed manifest from Git: applied without conflict, a new change, and the stamp kept', async (t) => {
  const changed = manifest('synced', { port: 9090 });
  // The apply's own answer is the object as that write stored it (admission included): read afterwards, a fast Job
  // may already have published the change on a loaded machine.
  const r = await serverSideApply(g, [changed], ARGO, ['-o', 'json']);
  t.equal(r.code, 0, r.stderr);
  const stored = JSON.parse(r.stdout) as Record<string, any>;
  t.equal(stored['spec']['port'], 9090);
  t.match(condition(stored, 'Ready'), { status: 'Unknown', reason: 'Pending', specHash: stored['metadata']['annotations'][SPEC_HASH_ANNOTATION] }, 'the new change is pending, not Ready from the last one');
  const obj = await published('synced');
  t.ok(obj['metadata']['finalizers'].includes(FINALIZER), 'the finalizer stays');
  t.equal((await jobsOf('synced')).length, 2, 'one Job per change');
  const diff = await g.kubectl(['diff', '--server-side', `--field-manager=${ARGO}`, '-n', NS, '-f', '-'], render(changed));
  t.equal(diff.code, 0, `no drift once published: ${diff.stdout}${diff.stderr}`);
});

t.test('another manager applying a field the webhook sets: no conflict, but the webhook\'s value stays', async (t) => {
  const before = await settled('synced');
  const hash = before['metadata']['annotations'][SPEC_HASH_ANNOTATION];
  const forged = { apiVersion: desired['apiVersion'], kind: desired['kind'], metadata: { name: 'synced', namespace: NS, annotations: { [SPEC_HASH_ANNOTATION]: '0'.repeat(64) } } };
  const r = await serverSideApply(g, [forged], 'kustomize-controller');
  t.equal(r.code, 0, `no conflict: the field had no owner (${r.stderr})`);
  const after = await withManagedFields('synced');
  t.equal(after['metadata']['annotations'][SPEC_HASH_ANNOTATION], hash, 'the webhook re-stamped the hash of the spec');
  t.same(owned(after, 'kustomize-controller'), [`metadata.annotations.${SPEC_HASH_ANNOTATION}`], 'the manager is recorded as its owner all the same');
  // The dry run of its apply passes the same webhook, so the manager's own diff shows nothing: its value is silently
  // not the stored one (a tool diffing its manifest against the live object without a dry run, like Argo CD's
  // client-side diff, would show it OutOfSync forever). The webhook's annotations do not belong in Git.
  const diff = await g.kubectl(['diff', '--server-side', '--field-manager=kustomize-controller', '-n', NS, '-f', '-'], YAML.stringify(forged));
  t.equal(diff.code, 0, `its server-side diff sees no drift: the dry run is stamped too (${diff.stdout}${diff.stderr})`);
  t.equal((await withManagedFields('synced'))['metadata']['annotations'][SPEC_HASH_ANNOTATION], hash, 'and the value stays the webhook\'s');
  t.same(owned(after, ARGO), owned(before, ARGO), 'Argo CD\'s fields are untouched');
  const argoDiff = await g.kubectl(['diff', '--server-side', `--field-manager=${ARGO}`, '-n', NS, '-f', '-'], render(manifest('synced', { port: 9090 })));
  t.equal(argoDiff.code, 0, `Argo CD still sees no drift: ${argoDiff.stdout}`);
});

t.test('client-side apply (Argo CD\'s default): the stamp is outside last-applied, so no drift either', async (t) => {
  const csa = manifest('synced-csa');
  const r = await g.kubectl(['apply', '-n', NS, '-f', '-'], render(csa));
  t.equal(r.code, 0, r.stderr);
  const before = await settled('synced-csa');
  const again = await g.kubectl(['apply', '-n', NS, '-f', '-'], render(csa));
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, 'unchanged');
  const after = await withManagedFields('synced-csa');
  t.equal(after['metadata']['resourceVersion'], before['metadata']['resourceVersion'], 'nothing written');
  const diff = await g.kubectl(['diff', '-n', NS, '-f', '-'], render(csa));
  t.equal(diff.code, 0, `kubectl diff: no drift: ${diff.stdout}${diff.stderr}`);
});
