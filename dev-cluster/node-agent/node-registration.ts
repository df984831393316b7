// The Node the agent plays kubelet for: Ready, with allocatable cpu/memory/pods taken from this machine, so the Job
// controller and anything that lists nodes see an ordinary single-node cluster.
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { arch, cpus, totalmem } from 'node:os';
import { statusCode } from '../../core/kube/errors.ts';
import { kubeTime } from './pod-status.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function nodeObject(name: string, ip: string, now: Date): V1Node {
  const t = kubeTime(now) as unknown as Date; // serialized as-is; the typed model wants Date
  const resources = { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110', 'ephemeral-storage': '10Gi' };
  const condition = (type: string, status: string, reason: string, message: string) =>
    ({ type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: t });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
        'exposedapi-apim.io/test-node-agent': 'true',
      },
    },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'exposedapi-apim test node agent is posting ready status'),
      ],
      addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        architecture: arch() === 'x64' ? 'amd64' : arch(), operatingSystem: 'linux',
        bootID: '', machineID: '', systemUUID: '', containerRuntimeVersion: 'local-process://0',
        kernelVersion: '', kubeProxyVersion: '', kubeletVersion: 'exposedapi-apim-node-agent', osImage: 'local processes',
      },
    },
  };
}

export async function registerNode(core: CoreV1Api, name: string, ip: string): Promise<void> {
  const node = nodeObject(name, ip, new Date());
  try {
    await core.createNode({ body: node });
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
  }
  // Status is the kubelet's to write (create may drop it), and the TaintNodesByCondition admission plugin taints every
  // new node not-ready until the node lifecycle controller sees it Ready; no such controller runs here, so lift it.
  await core.patchNodeStatus({ name, body: { status: node.status } }, mergePatch);
  await core.patchNode({ name, body: { spec: { taints: null } } }, mergePatch);
}
