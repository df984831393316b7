// The real node (dev-cluster/node): kubelet, containerd, the CNI bridge, kube-proxy and kube-scheduler beside a private
// control plane of this file (the shared plane of the run keeps its node agent). What a cluster user relies on and the
// node agent cannot give: a Job's container restricted as the manifests restrict the executor, its output through
// `kubectl logs job/<name>` (the apiserver reaching kubelet), `kubectl exec`, a Service answering on its ClusterIP
// from the host, pods reaching the apiserver through the `kubernetes` Service; and a teardown that leaves nothing on the
// machine. Needs root, Debian's containerd/runc/CNI plugins and scripts/build-node.sh's binaries (it names the fix).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { controlPlaneClient } from '../../dev-cluster/control-plane/control-plane-client.ts';
import { isAlive, stateDir, supervisorLogFor } from '../../dev-cluster/control-plane/state-file.ts';
import { launchSupervisor, stopSupervisor } from '../../dev-cluster/control-plane/supervisor-process.ts';
import { KUBELET_TUNABLES, readTunables } from '../../dev-cluster/node/kernel-tunables.ts';
import { CLEAN_MACHINE, mountsUnder, shimPids } from '../../dev-cluster/node/node-cleanup.ts';
import { LOCK_PATH } from '../../dev-cluster/node/node-lock.ts';
import { hostProblems } from '../../dev-cluster/node/node-prerequisites.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { holdRealNodeTestLock } from '../helpers/real-node-test-lock.ts';

// Another file's real node may hold the machine's node lock first (it waits up to 20 min), and a cold start builds.
t.setTimeout(30 * 60_000);

const problems = hostProblems();
if (problems.length) throw new Error(`the real node cannot run on this machine:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

// Before anything is read from the machine: no other real-node test file runs meanwhile (test/helpers/real-node-test-lock.ts).
await holdRealNodeTestLock(t);
const stateFile = join(stateDir(), `real-node-${process.pid}-${randomBytes(3).toString('hex')}.json`);
const launched = Date.now();
const { state } = await launchSupervisor({ stateFile, parentPid: process.pid, args: ['--node', 'real'], timeoutMs: 25 * 60_000 });
t.comment(`supervisor with a real node ready in ${Date.now() - launched} ms; node timings ${JSON.stringify(Object.fromEntries(Object.entries(state.timings).filter(([k]) => k.startsWith('node: '))))}`);
let stopped = false;
t.teardown(async () => {
  if (!stopped) await stopSupervisor(state, 120_000);
  await rm(supervisorLogFor(stateFile), { force: true });
});
const cp = controlPlaneClient(state);
const node = state.realNode!;

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cp.kubectl(args, { ...(input !== undefined ? { input } : {}), timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

t.test('the node registers as "localhost", Ready, on kubelet v1.36.3 and containerd', async (t) => {
  t.ok(node, 'the state file describes a real node');
  const n = JSON.parse(await kubectl(['get', 'node', 'localhost', '-o', 'json'])) as Record<string, any>;
  t.equal(n['status']['conditions'].find((c: { type: string }) => c.type === 'Ready')?.status, 'True');
  t.equal(n['status']['nodeInfo']['kubeletVersion'], 'v1.36.3');
  t.match(n['status']['nodeInfo']['containerRuntimeVersion'], /^containerd:\/\//);
  t.ok(n['status']['addresses'].some((a: { type: string; address: string }) => a.type === 'Hostname' && a.address === 'localhost'),
    'a Hostname address the apiserver resolves to loopback');
  t.equal(cp.nodeName, 'localhost');
  t.match(node.subnet, /^10\.244\.\d+\.0\/24$/);
  const bridge = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', node.bridge], { encoding: 'utf8' }).stdout;
  t.match(bridge, `${node.gateway}/24`, 'the bridge holds the gateway address');
});

t.test('a restricted Job runs as a container and `kubectl logs job/<name>` returns its output', async (t) => {
  const ns = await cp.newNamespace(t);
  const script = [
    'echo "uid=$(id -u) gid=$(id -g)"',
    'grep -E "^(CapEff|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status',
    'if touch /probe 2>/dev/null; then echo "root fs writable"; else echo "root fs read-only"; fi',
    'echo "done in $(hostname)"',
  ].join('; ');
  await kubectl(['apply', '-n', ns, '-f', '-'], YAML.stringify({
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'restricted' },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'main', image: node.images.busybox, imagePullPolicy: 'Never', command: ['sh', '-c', script],
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          }],
        },
      },
    },
  }));
  const status = await waitFor('Job restricted to finish', async () => {
    const j = JSON.parse(await kubectl(['get', 'job', 'restricted', '-n', ns, '-o', 'json'])) as Record<string, any>;
    return j['status']?.['succeeded'] || j['status']?.['failed'] ? j['status'] : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  t.equal(status['succeeded'], 1, 'the Job succeeded');
  const out = await kubectl(['logs', '-n', ns, 'job/restricted']);
  t.match(out, 'uid=65532 gid=65532');
  t.match(out, /CapEff:\s+0000000000000000/, 'no effective capabilities');
  t.match(out, /CapPrm:\s+0000000000000000/, 'no permitted capabilities');
  t.match(out, /NoNewPrivs:\s+1/);
  t.match(out, /Seccomp:\s+2/, 'a seccomp filter (RuntimeDefault) is applied');
  t.match(out, 'root fs read-only');
  const pod = JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-l', 'job-name=restricted', '-o', 'json'])) as { items: Record<string, any>[] };
  t.match(pod.items[0]!['status']['containerStatuses'][0]['containerID'], /^containerd:\/\//, 'run by containerd');
  t.equal(pod.items[0]!['spec']['nodeName'], 'localhost', 'bound by kube-scheduler');
  t.equal(await cp.podLog(ns, pod.items[0]!['metadata']['name']), out, 'the client\'s podLog reads the same log through the apiserver');
});

t.test('a Service answers on its ClusterIP from the host; pods reach the apiserver through the kubernetes Service', async (t) => {
  const ns = await cp.newNamespace(t);
  await kubectl(['apply', '-n', ns, '-f', '-'], [
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{
              name: 'web', image: node.images.busybox, imagePullPolicy: 'Never',
              command: ['sh', '-c', 'mkdir -p /tmp/www && echo "served by $(hostname)" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              securityContext: { runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } },
  ].map((o) => YAML.stringify(o)).join('---\n'));
  const podName = await waitFor('a ready web pod', async () => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'json'])) as { items: Record<string, any>[] };
    const ready = pods.items.find((p) => p['status']?.['conditions']?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));
    return ready?.['metadata']['name'] as string | undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  const podIp = (await kubectl(['get', 'pod', podName, '-n', ns, '-o', 'jsonpath={.status.podIP}'])).trim();
  t.ok(podIp.startsWith(node.subnet.replace(/\.0\/24$/, '.')), `the pod's address ${podIp} is on the node's bridge network`);
  const clusterIp = (await kubectl(['get', 'service', 'web', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  // kube-proxy programs the ClusterIP once the EndpointSlice controller has published the ready pod.
  const res = await waitFor(`http://${clusterIp}/ to answer`, async () => {
    const r = await httpGet(`http://${clusterIp}/`);
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  t.equal(res.body.trim(), `served by ${podName}`);

  // kubectl exec goes apiserver → kubelet → containerd's streaming server, all on loopback.
  // busybox has no TLS client the apiserver accepts; plain HTTP to its TLS port gets Go's own answer, which is enough
  // to show the Service leads to the apiserver (nc stops reading at its input's end: keep the input open a moment).
  const env = await kubectl(['exec', '-n', ns, podName, '--', 'sh', '-c',
    'echo "$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; (printf "GET /version HTTP/1.0\\r\\n\\r\\n"; sleep 2) | nc -w 5 "$KUBERNETES_SERVICE_HOST" "$KUBERNETES_SERVICE_PORT"']);
  t.match(env, '10.0.0.1:443', 'in-cluster clients are pointed at the kubernetes Service');
  t.match(env, 'Client sent an HTTP request to an HTTPS server', 'the kubernetes Service leads to the apiserver (its endpoint is the gateway, forwarded to loopback)');
  const slice = JSON.parse(await kubectl(['get', 'endpointslices', '-n', 'default', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'json'])) as { items: Record<string, any>[] };
  t.same(slice.items[0]!['endpoints'][0]['addresses'], [node.gateway], 'the apiserver advertises the gateway address');
});

t.test('stopping the supervisor stops the node and leaves nothing on the machine', async (t) => {
  const lock = JSON.parse(readFileSync(LOCK_PATH, 'utf8')) as { pid: number };
  t.equal(lock.pid, state.supervisorPid, 'the supervisor holds the machine\'s node lock while it runs');
  t.equal(readTunables()['vm/overcommit_memory'], '1', 'kubelet changed a kernel setting for the whole machine (restored below)');
  stopped = true;
  await stopSupervisor(state, 120_000);
  for (const [name, pid] of Object.entries(node.pids)) t.notOk(isAlive(pid), `${name} (PID ${pid}) is gone`);
  t.not(JSON.parse(existsSync(LOCK_PATH) ? readFileSync(LOCK_PATH, 'utf8') : '{}').pid, state.supervisorPid, 'lock released');
  t.not(spawnSync('ip', ['link', 'show', node.bridge], { encoding: 'utf8' }).status, 0, `bridge ${node.bridge} deleted`);
  t.same(mountsUnder(node.dir), [], 'nothing mounted under the node directory');
  t.same(shimPids(node.containerdSocket), [], 'no containerd shim of this node left');
  // Machine-wide state (iptables, kernel settings, cgroups) is checked by the node before it releases the lock:
  // another test file's node may start the moment it does.
  const log = readFileSync(supervisorLogFor(stateFile), 'utf8');
  t.match(log, CLEAN_MACHINE, `the node found no KUBE-* rule, changed kernel setting (${KUBELET_TUNABLES.join(', ')}), kubepods cgroup, mount, bridge or shim left`);
  t.notMatch(log, 'left on the machine');
});
