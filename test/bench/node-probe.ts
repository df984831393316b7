// What bench:e2e reads from the node under test, where the two nodes differ: which process is the leading webhook +
// dispatcher replica and where its /metrics answer, and which processes make up the node (node-memory.ts). Everything
// else the bench does goes through the cluster's API and is the same for both.
import { spawnSync } from 'node:child_process';
import { OPERATOR_NAMESPACE } from '../../dev-cluster/local-cluster.ts';
import { shimPids } from '../../dev-cluster/node/node-cleanup.ts';
import type { Sandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import type { NodeMembers } from './node-memory.ts';

type Obj = Record<string, any>;

export interface NodeProbe {
  /** The replica holding the dispatcher's Lease: its main process (host PID) and its /metrics URL. */
  leader(): Promise<{ pid: number; metricsUrl: string; name: string }>;
  /** The processes the node is made of now (node-memory.ts). */
  members(): NodeMembers;
  /** Whether the kubepods memory cgroup is this node's. */
  cgroup: boolean;
}

export function nodeProbe(sandbox: Sandbox): NodeProbe {
  const state = sandbox.lcp.state;
  const realNode = state.realNode;
  if (!realNode) {
    return {
      // One replica in the process-mode sandbox: it leads.
      leader: async () => {
        const w = sandbox.webhooks[0]!;
        return { pid: w.pid, metricsUrl: `${w.url}/metrics`, name: w.podName };
      },
      members: () => ({
        runtime: [state.supervisorPid],
        pods: sandbox.webhooks.map((w) => w.pid),
        excluded: [state.pids.etcd, state.pids.apiserver, state.pids.controllerManager],
      }),
      cgroup: false,
    };
  }
  return {
    leader: async () => {
      const leases = (JSON.parse(await sandbox.lcp.k(['get', 'leases', '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { items: Obj[] }).items;
      const pods = (JSON.parse(await sandbox.lcp.k(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-l', 'app.kubernetes.io/name=exposedapi-apim-webhook', '-o', 'json'])) as { items: Obj[] }).items;
      const holders = leases.map((l) => String(l['spec']?.['holderIdentity'] ?? ''));
      // The identity is POD_NAME when set, else `<hostname>_<random>` (core/dispatcher-config.ts); a pod's hostname is its name.
      const pod = pods.find((p) => holders.some((h) => h === p['metadata']['name'] || h.startsWith(`${p['metadata']['name']}_`)));
      if (!pod) throw new Error(`no webhook pod in ${OPERATOR_NAMESPACE} holds a Lease (holders: ${holders.join(', ') || 'none'}; pods: ${pods.map((p) => p['metadata']['name']).join(', ')})`);
      const containerId = String(pod['status']?.['containerStatuses']?.[0]?.['containerID'] ?? '').replace(/^containerd:\/\//, '');
      // containerd knows each container's host PID (`ctr tasks ls`: TASK PID STATUS).
      const tasks = spawnSync('ctr', ['--address', realNode.containerdSocket, '-n', 'k8s.io', 'tasks', 'ls'], { encoding: 'utf8', timeout: 30_000 });
      const line = (tasks.stdout ?? '').split('\n').find((l) => containerId !== '' && l.startsWith(containerId));
      const pid = Number(line?.trim().split(/\s+/)[1]);
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no task for container ${containerId || '(none)'} of pod ${pod['metadata']['name']} in containerd: ${tasks.stderr || tasks.stdout}`);
      return { pid, metricsUrl: `https://${pod['status']['podIP']}:8443/metrics`, name: pod['metadata']['name'] };
    },
    members: () => ({
      runtime: [realNode.pids.containerd, realNode.pids.kubelet, realNode.pids.kubeProxy, realNode.pids.scheduler, ...shimPids(realNode.containerdSocket)],
      pods: [],
      excluded: [],
    }),
    cgroup: true,
  };
}
