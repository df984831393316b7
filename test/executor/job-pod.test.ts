// The executor in a real Job, built by the dispatcher's own Job manifest: the node agent runs the pod as a local
// process with the ServiceAccount token mapped under $EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR, the configuration comes from
// a ConfigMap through envFrom and JOB_NAME from the template, and the executor finds the apiserver in-cluster.
import t from 'tap';
import { buildJob, jobName, type Change } from '../../dispatcher/job-manifest.ts';
import { applyManifest } from '../e2e/webhook-in-cluster.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, EXECUTOR_SA, executorBench } from './harness.ts';

t.test('a Job from the dispatcher\'s template applies an ExposedAPI as the executor\'s ServiceAccount', async (t) => {
  const b = await executorBench(t);
  const p = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'in-a-job' },
    spec: { name: 'metrics', apiType: 'openmetrics', implementation: 'in-a-job-sm', path: '/in-a-job/metrics', port: 4000 },
  });
  const uid = (await b.get(p.name))?.['metadata'].uid as string;
  // What the ConfigMap and workload identity give a Job in a cluster; no KUBECONFIG: the pod is in-cluster.
  const { KUBECONFIG: _kubeconfig, PATH: _path, HOME: _home, JOB_NAME: _job, ...env } = b.env();
  await applyManifest(b.cp, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exposedapi-apim-config', namespace: b.ns }, data: env }]);
  const change: Change = { namespace: b.ns, name: p.name, uid, specHash: p.hash, action: 'apply' };
  const job = buildJob(change, {
    image: 'ghcr.io/exposedapi-apim/exposedapi-apim:test',
    serviceAccountName: EXECUTOR_SA,
    configMapName: 'exposedapi-apim-config',
    backoffLimit: 0,
    activeDeadlineSeconds: 120,
    ttlSecondsAfterFinished: 600,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  }, b.ns);
  await applyManifest(b.cp, [job as Record<string, unknown>]);
  const name = jobName(change);

  const finished = await waitFor(`Job ${name} to finish`, async () => {
    const r = await b.cp.kubectl(['get', 'job', name, '-n', b.ns, '-o', 'json']);
    const s = (JSON.parse(r.stdout) as { status?: { succeeded?: number; failed?: number } }).status ?? {};
    return s.succeeded || s.failed ? s : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250 });
  const pods = JSON.parse((await b.cp.kubectl(['get', 'pods', '-n', b.ns, '-l', `job-name=${name}`, '-o', 'json'])).stdout) as { items: { metadata: { name: string } }[] };
  const log = await b.cp.podLog(b.ns, pods.items[0]!.metadata.name);
  t.equal(finished.succeeded, 1, `the Job succeeded\n${log}`);
  const lines = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  t.match(lines.find((l) => l['msg'] === 'Kubernetes connection')?.['source'], /^in-cluster \(.+\)$/, 'in-cluster config from the mapped ServiceAccount directory');
  t.notMatch(log, /eyJ[A-Za-z0-9_-]{20,}/, 'no token in the log');
  const obj = await b.get(p.name);
  t.equal(obj?.['status']['appliedSpecHash'], p.hash, 'applied: what the dispatcher checks');
  t.equal(obj?.['status']['lastJob'], undefined, 'lastJob is the dispatcher\'s to write (docs/status.md), not the Job\'s');
  t.equal(condition(obj, 'Published')?.['status'], 'True');
  t.same(b.emu.state().apis.find((a) => a.name === b.apiId(p.name))?.operations.map((o) => `${o.properties['method']} ${o.properties['urlTemplate']}`), ['GET /*']);
});
