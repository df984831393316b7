// `exposedapi-apim cluster up|down [--dir DIR]`: a real local control plane with our CRD, RBAC and webhook, to explore.
import { parseArgs } from 'node:util';
import { clusterDown, clusterUp, usageText } from '../dev-cluster/local-cluster.ts';
import { errorMessage } from '../core/kube/errors.ts';

const HELP = `usage: exposedapi-apim cluster up|down [--dir DIR] [--node agent|real]

  up     start etcd, kube-apiserver, kube-controller-manager (v1.36, built from the Go modules on first use) and a
         node agent that runs Job pods as local processes; install the ExposedAPI CRD and RBAC; serve the admission
         webhook on loopback and register it; write DIR/kubeconfig and print how to use it
  down   stop everything "up" started (by PID) and remove its files

  --dir DIR   where the kubeconfig, certificates and logs go (default .sandbox/cluster)
  --node real a real node (kubelet, containerd, kube-proxy, CNI bridge; root) instead of the node agent: pods run in
              containers and "kubectl logs" and "kubectl exec" work (docs/dev-cluster.md)
`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { dir: { type: 'string', default: '.sandbox/cluster' }, node: { type: 'string', default: 'agent' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`exposedapi-apim cluster: ${errorMessage(e)}\n\n${HELP}`);
    return 2;
  }
  const [action, ...rest] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if ((action !== 'up' && action !== 'down') || rest.length > 0) {
    process.stderr.write(`exposedapi-apim cluster: expected "up" or "down"\n\n${HELP}`);
    return 2;
  }
  const node = parsed.values.node;
  if (node !== 'agent' && node !== 'real') {
    process.stderr.write(`exposedapi-apim cluster: --node ${node}: "agent" (pods as local processes) or "real" (kubelet and containerd)\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (action === 'up') {
    const record = await clusterUp(parsed.values.dir!, log, { node });
    process.stdout.write(usageText(record));
    return 0;
  }
  return (await clusterDown(parsed.values.dir!, log)) ? 0 : 1;
}
