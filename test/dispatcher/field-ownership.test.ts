// One writer per status field (docs/status.md), proven on the real apiserver through metadata.managedFields: the
// apiserver records a field manager for merge and JSON patches too, so after each writer's turn — the dispatcher
// seeing the Job start, the real executor's run, the readiness sync, the dispatcher seeing the Job end — the fields
// recorded for `exposedapi-apim-executor` and `exposedapi-apim-dispatcher` are checked against the table. The
// conditions list is atomic in a CRD that preserves unknown fields (the ODA status), so managedFields names only the
// last writer of the whole list; which condition types each writer changed is checked by comparing the object before
// and after its turn.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { dispatchSummary } from '../../dispatcher/exposedapi-summary.ts';
import { planFor } from '../../dispatcher/dispatch-plan.ts';
import { DISPATCHER_FIELD_MANAGER, ExposedApiWrites } from '../../dispatcher/exposedapi-writes.ts';
import { jobName } from '../../dispatcher/job-manifest.ts';
import type { JobSummary } from '../../dispatcher/job-summary.ts';
import { ReadinessSync } from '../../dispatcher/readiness-sync.ts';
import { EXECUTOR_FIELD_MANAGER } from '../../executor/kube-client.ts';
import { applyManifest } from '../e2e/webhook-in-cluster.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { executorBench } from '../executor/harness.ts';

type Obj = Record<string, any>;

/** docs/status.md, as paths under status (a path ending in `.*` covers what is below it). */
const OWNED: Record<string, readonly string[]> = {
  [EXECUTOR_FIELD_MANAGER]: ['apiStatus.*', 'appliedSpecHash', 'apim.*', 'conditions'],
  [DISPATCHER_FIELD_MANAGER]: ['implementation.ready', 'lastJob', 'conditions'],
};
const CONDITION_OWNER: Record<string, string> = {
  Validated: EXECUTOR_FIELD_MANAGER,
  RouteReady: EXECUTOR_FIELD_MANAGER,
  Imported: EXECUTOR_FIELD_MANAGER,
  PoliciesApplied: EXECUTOR_FIELD_MANAGER,
  Published: EXECUTOR_FIELD_MANAGER,
  CleanedUp: EXECUTOR_FIELD_MANAGER,
  Serving: EXECUTOR_FIELD_MANAGER,
  Drifted: EXECUTOR_FIELD_MANAGER,
  Ready: DISPATCHER_FIELD_MANAGER,
  Progressing: DISPATCHER_FIELD_MANAGER,
  DeleteBlocked: DISPATCHER_FIELD_MANAGER,
  Stalled: DISPATCHER_FIELD_MANAGER,
};

/** The leaf paths of a fieldsV1 set ("f:status": {"f:apiStatus": {".": {}, "f:url": {}}} → status.apiStatus.url). */
function leaves(fields: Obj, prefix = ''): string[] {
  const keys = Object.keys(fields).filter((k) => k !== '.');
  if (keys.length === 0) return prefix ? [prefix] : [];
  return keys.flatMap((k) => leaves(fields[k] as Obj, `${prefix}${prefix ? '.' : ''}${k.replace(/^[fkv]:/, '')}`));
}

/** Per field manager: the status paths its entries in managedFields hold. */
function statusFieldsByManager(obj: Obj): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of obj['metadata']['managedFields'] ?? []) {
    const paths = leaves(m['fieldsV1'] ?? {}).filter((p) => p.startsWith('status.')).map((p) => p.slice('status.'.length));
    out.set(m['manager'], [...(out.get(m['manager']) ?? []), ...paths]);
  }
  return out;
}

function owns(manager: string, path: string): boolean {
  return OWNED[manager]!.some((o) => (o.endsWith('.*') ? path === o.slice(0, -2) || path.startsWith(o.slice(0, -1)) : path === o));
}

/** Condition types whose content differs between two versions of the object. */
function changedConditions(before: Obj, after: Obj): string[] {
  const byType = (o: Obj) => new Map<string, string>(((o['status']?.['conditions'] ?? []) as Obj[]).map((c) => [c['type'], JSON.stringify(c)]));
  const a = byType(before);
  const b = byType(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((type) => a.get(type) !== b.get(type)).sort();
}

t.test('each writer touches only its own status fields, under its own field manager', async (t) => {
  const b = await executorBench(t);
  const run = randomBytes(3).toString('hex');
  // The dispatcher's identity with the shipped ClusterRole, under this test's names.
  const shipped = YAML.parseAllDocuments(readFileSync(join(REPO_DIR, 'manifests/base/dispatcher-rbac.yaml'), 'utf8'))
    .map((d) => d.toJS() as Obj).filter((o) => o['kind'] === 'ClusterRole')
    .map((o) => ({ ...o, metadata: { name: `exposedapi-apim-dispatcher-fo-${run}` } }));
  await applyManifest(b.cp, [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'dispatcher', namespace: b.ns } },
    ...shipped,
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `exposedapi-apim-dispatcher-fo-${run}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `exposedapi-apim-dispatcher-fo-${run}` },
      subjects: [{ kind: 'ServiceAccount', name: 'dispatcher', namespace: b.ns }] },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'owned-sm', namespace: b.ns }, spec: { ports: [{ port: 4000 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'owned-sm-1', namespace: b.ns, labels: { 'kubernetes.io/service-name': 'owned-sm' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.31'], conditions: { ready: true } }], ports: [{ port: 4000, protocol: 'TCP' }],
    },
  ]);
  t.teardown(() => b.cp.kubectl(['delete', 'clusterrole,clusterrolebinding', `exposedapi-apim-dispatcher-fo-${run}`, '--ignore-not-found']));
  const kubeConfig = await b.cp.kubeConfigFor(b.ns, 'dispatcher');
  const writes = new ExposedApiWrites(kubeConfig);
  const p = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'owned' },
    spec: { name: 'metrics', apiType: 'prometheus', implementation: 'owned-sm', path: '/owned/metrics', port: 4000 },
  });
  /** The object with its managedFields (kubectl leaves them out unless asked). */
  const get = async (): Promise<Obj> => JSON.parse((await b.cp.kubectl(['get', 'exposedapi.v1.oda.tmforum.org', p.name, '-n', b.ns, '-o', 'json', '--show-managed-fields'])).stdout) as Obj;
  const change = { namespace: b.ns, name: p.name, specHash: p.hash, action: 'apply' as const };
  const job = (outcome?: JobSummary['outcome']): JobSummary => ({
    name: jobName(change), namespace: b.ns, apiName: p.name, apiUid: '', specHash: p.hash, action: 'apply', attempt: 0, deleting: false, ...(outcome ? { outcome } : {}),
  });
  /** One dispatcher plan for the object as stored, written as the dispatcher writes it. */
  const plan = async (jobs: JobSummary[]) => {
    const api = dispatchSummary((await b.get(p.name))!);
    const planned = planFor(api, jobs, { now: new Date(), operatorNamespace: b.ns, fresh: true });
    t.ok(planned.status, 'the plan has status to write');
    t.equal(await writes.writeStatus(api, planned.status!), 'ok');
  };
  const check = (obj: Obj, when: string, expected: Record<string, string[]>) => {
    const fields = statusFieldsByManager(obj);
    for (const [manager, paths] of fields) {
      if (manager in OWNED) {
        const foreign = paths.filter((path) => !owns(manager, path));
        t.same(foreign, [], `${when}: ${manager} holds only its own status fields (holds ${paths.join(', ')})`);
      } else {
        t.same(paths, [], `${when}: no other manager (${manager}) holds a status field`);
      }
    }
    for (const [manager, paths] of Object.entries(expected)) {
      for (const path of paths) t.ok(fields.get(manager)?.includes(path), `${when}: ${manager} recorded as the writer of status.${path}`);
    }
  };
  const turn = async (what: string, owner: string, act: () => Promise<unknown>, expected: Record<string, string[]>) => {
    const before = await get();
    await act();
    const after = await get();
    const changed = changedConditions(before, after);
    t.same(changed.filter((type) => CONDITION_OWNER[type] !== owner), [], `${what}: changed conditions [${changed.join(', ')}], all ${owner}'s`);
    check(after, what, expected);
    return after;
  };

  await turn('the dispatcher sees the Job start', DISPATCHER_FIELD_MANAGER, () => plan([job()]), { [DISPATCHER_FIELD_MANAGER]: ['lastJob', 'conditions'] });

  const applied = await turn('the executor runs', EXECUTOR_FIELD_MANAGER, async () => {
    const r = await b.execute('apply', p.name, p.hash);
    t.equal(r.code, 0, r.stdout);
  }, { [EXECUTOR_FIELD_MANAGER]: ['appliedSpecHash', 'apiStatus.url', 'apim.apiId', 'conditions'] });
  t.equal(applied['status']['appliedSpecHash'], p.hash);
  t.equal(applied['status']['implementation'], undefined, 'the executor leaves implementation.ready alone');

  const readiness = new ReadinessSync({ kubeConfig, namespaces: [b.ns], writes, onServiceChanged: () => {}, onSynced: () => {} });
  readiness.start();
  t.teardown(() => readiness.stop());
  await waitFor('the EndpointSlice watch to sync', async () => (readiness.isSynced ? true : undefined));
  const synced = await turn('the readiness sync', DISPATCHER_FIELD_MANAGER, async () => {
    t.equal(await readiness.sync(dispatchSummary((await b.get(p.name))!)), 'done');
  }, { [DISPATCHER_FIELD_MANAGER]: ['implementation.ready'] });
  t.same(synced['status']['implementation'], { ready: true });

  const done = await turn('the dispatcher sees the Job end', DISPATCHER_FIELD_MANAGER, () => plan([job('Complete')]), { [DISPATCHER_FIELD_MANAGER]: ['implementation.ready', 'lastJob', 'conditions'] });
  const ready = (done['status']['conditions'] as Obj[]).find((c) => c['type'] === 'Ready');
  t.same([ready?.['status'], ready?.['reason'], ready?.['specHash']], ['True', 'Published', p.hash], 'Ready is written by the dispatcher from the executor\'s record');
  t.equal((done['status']['conditions'] as Obj[]).find((c) => c['type'] === 'Published')?.['status'], 'True', 'the executor\'s Published stays as it wrote it');
  const fields = statusFieldsByManager(done);
  t.ok(fields.get(EXECUTOR_FIELD_MANAGER)?.includes('appliedSpecHash'), 'the executor is still recorded for its fields after the dispatcher wrote');

  const shown = await b.cp.kubectl(['get', 'exposedapi.v1.oda.tmforum.org', p.name, '-n', b.ns, '-o', 'yaml', '--show-managed-fields']);
  t.match(shown.stdout, `manager: ${EXECUTOR_FIELD_MANAGER}`, 'kubectl --show-managed-fields names the executor');
  t.match(shown.stdout, `manager: ${DISPATCHER_FIELD_MANAGER}`, '… and the dispatcher');
});
