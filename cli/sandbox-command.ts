// `exposedapi-apim sandbox` (npm start): the whole system on this machine; see dev-cluster/sandbox/sandbox.ts.
import { parseArgs } from 'node:util';
import { errorMessage } from '../core/kube/errors.ts';
import { gatewayHostProblem } from '../emulator/gateway/gateway-host.ts';

const HELP = `usage: exposedapi-apim sandbox [--apply PATH]... [--exit] [--report FILE] [--dir DIR] [--no-examples] [--wait SECONDS]
                              [--node agent|real] [--gateway-host NAME]

Starts a real Kubernetes control plane (v1.36, built from the Go modules on first use) with a node agent that runs
Job pods as local processes, the APIM emulator, the admission webhook and dispatcher registered in the cluster, and a
sample backend; applies examples/ and waits until every ExposedAPI is Ready; prints a summary; stays up until Ctrl-C.

  --apply PATH    also apply these files or folders (repeatable); \${SANDBOX_SPEC_BASE} is the sample backend's URL
  --exit          tear down once everything applied is Ready or failed; exit 0 only if all are Ready
  --report FILE   write a JSON report: ExposedAPIs (annotations, finalizers, status), Jobs (labels, status, logs),
                  the emulator's state
  --dir DIR       where kubeconfig, certificates, logs and the emulator's CA go (default .sandbox)
  --no-examples   apply only --apply paths
  --wait SECONDS  how long to wait for Ready (default 180)
  --node real     run a real node instead of the node agent: kubelet, containerd, kube-proxy and the CNI bridge
                  (root, Debian's containerd/runc/containernetworking-plugins); the operator is installed from its
                  image with its Helm chart, the webhook and dispatcher run as Deployment pods, each Job in a container,
                  and "kubectl logs job/<job>" works (docs/dev-cluster.md)
  --gateway-host NAME
                  status URLs name the gateway NAME (e.g. apim-emulator.azure-api.net, the real service's form)
                  instead of 127.0.0.1; the sandbox resolves it without touching the machine: the printed curls carry
                  --resolve, DIR/gateway-resolve.mjs makes Node programs resolve it (NODE_OPTIONS=--import=…),
                  DIR/gateway-hosts is the hosts line for other tools (node agent only; docs/gateway.md)
`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        apply: { type: 'string', multiple: true, default: [] },
        exit: { type: 'boolean', default: false },
        report: { type: 'string' },
        dir: { type: 'string', default: '.sandbox' },
        'no-examples': { type: 'boolean', default: false },
        wait: { type: 'string', default: '180' },
        node: { type: 'string', default: 'agent' },
        'gateway-host': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`exposedapi-apim sandbox: ${errorMessage(e)}\n\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const wait = Number(parsed.values.wait);
  if (!Number.isInteger(wait) || wait < 1) {
    process.stderr.write(`exposedapi-apim sandbox: --wait ${parsed.values.wait}: a whole number of seconds, e.g. 180\n`);
    return 2;
  }
  const node = parsed.values.node;
  if (node !== 'agent' && node !== 'real') {
    process.stderr.write(`exposedapi-apim sandbox: --node ${node}: "agent" (pods as local processes) or "real" (kubelet and containerd)\n`);
    return 2;
  }
  const gatewayHost = parsed.values['gateway-host'];
  if (gatewayHost !== undefined) {
    const problem = gatewayHostProblem(gatewayHost);
    if (problem) {
      process.stderr.write(`exposedapi-apim sandbox: --gateway-host ${problem}\n`);
      return 2;
    }
    if (node !== 'agent') {
      process.stderr.write('exposedapi-apim sandbox: --gateway-host applies to the node agent: on a real node status URLs come from the chart value apim.gatewayUrl\n');
      return 2;
    }
  }
  const { runSandbox } = await import('../dev-cluster/sandbox/sandbox.ts');
  return runSandbox({
    dir: parsed.values.dir!,
    apply: parsed.values.apply as string[],
    noExamples: parsed.values['no-examples'],
    exit: parsed.values.exit!,
    report: parsed.values.report,
    waitSeconds: wait,
    node,
    ...(gatewayHost !== undefined ? { gatewayHost } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
}
