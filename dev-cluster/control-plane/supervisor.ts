// The process that owns one control plane for a whole test run: etcd, kube-apiserver, kube-controller-manager, the
// node agent and the ingress status faker. It writes the state file once everything is ready and tears everything down
// (components stopped by their own PIDs, run directory removed, state file deleted) on SIGTERM, SIGINT or SIGHUP,
// or as soon as its parent process (the tap runner, or a test file running alone) is gone, so nothing outlives a run.
//
//   node dev-cluster/control-plane/supervisor.ts --state-file <path> --parent-pid <pid|0>
//        [--ingress-address <ip|hostname|off>] [--ingress-class <a,b>] [--node-name <name>]
//        [--node agent|real] [--node-dir <dir>]
//
// --node real runs a real node (kubelet, containerd, kube-proxy, kube-scheduler: dev-cluster/node) instead of the node
// agent; --node-dir keeps its containerd image store across runs.
import { KubeConfig } from '@kubernetes/client-node';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane, type RunningControlPlane } from './control-plane.ts';
import { DEFAULT_INGRESS_ADDRESS, INGRESS_ADDRESS_ENV, INGRESS_CLASS_ENV, startIngressStatusFaker, type IngressStatusFaker } from './ingress-status.ts';
import { startNodeAgent, type NodeAgent } from '../node-agent/node-agent.ts';
import { prepareRealNode, type PreparedNode, type RunningNode } from '../node/real-node.ts';
import { isAlive, writeState, type ControlPlaneState } from './state-file.ts';

const PARENT_POLL_MS = 500;

function log(line: string): void {
  process.stderr.write(`[supervisor ${new Date().toISOString()}] ${line}\n`);
}

const { values } = parseArgs({
  options: {
    'state-file': { type: 'string' },
    'parent-pid': { type: 'string' },
    'ingress-address': { type: 'string' },
    'ingress-class': { type: 'string' },
    'node-name': { type: 'string' },
    node: { type: 'string' },
    'node-dir': { type: 'string' },
  },
});
const stateFile = values['state-file'];
if (!stateFile) {
  log('usage: supervisor.ts --state-file <path> --parent-pid <pid> [--ingress-address <ip|hostname|off>] [--ingress-class <a,b>]');
  process.exit(2);
}
const nodeKind = values.node ?? 'agent';
if (nodeKind !== 'agent' && nodeKind !== 'real') {
  log(`--node ${nodeKind}: expected "agent" (pods as local processes) or "real" (kubelet and containerd)`);
  process.exit(2);
}
const parentPid = Number(values['parent-pid'] ?? process.ppid);
const started = Date.now();
const aborted = new AbortController();
let cp: RunningControlPlane | undefined;
let agent: NodeAgent | undefined;
let prepared: PreparedNode | undefined;
let realNode: RunningNode | undefined;
let faker: IngressStatusFaker | undefined;
let tearingDown: Promise<void> | undefined;

async function start(): Promise<void> {
  if (nodeKind === 'real') {
    prepared = await prepareRealNode({ log, signal: aborted.signal, ...(values['node-dir'] ? { dir: values['node-dir'] } : {}) });
  }
  cp = await startControlPlane({ log, signal: aborted.signal, ...(prepared ? { extension: prepared.extension } : {}) });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cp.kubeconfigPath);
  let podsDir = join(cp.runDir, 'pods');
  let nodeName: string;
  if (prepared) {
    realNode = await prepared.start(cp);
    podsDir = realNode.layout.podLogsDir;
    nodeName = realNode.name;
  } else {
    agent = await startNodeAgent({
      kubeConfig, podsDir, apiserverHost: cp.host, apiserverPort: cp.ports.apiserver,
      ...(values['node-name'] ? { nodeName: values['node-name'] } : {}), log,
    });
    nodeName = agent.nodeName;
  }
  const ingressAddress = values['ingress-address'] ?? process.env[INGRESS_ADDRESS_ENV] ?? DEFAULT_INGRESS_ADDRESS;
  const classSpec = values['ingress-class'] ?? process.env[INGRESS_CLASS_ENV];
  const classNames = classSpec ? classSpec.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  faker = await startIngressStatusFaker({ kubeConfig, address: ingressAddress, ...(classNames ? { classNames } : {}), log });
  if (aborted.signal.aborted) return;

  const state: ControlPlaneState = {
    version: 1,
    supervisorPid: process.pid,
    parentPid,
    runDir: cp.runDir,
    kubeconfigPath: cp.kubeconfigPath,
    caPath: cp.pki.caCert,
    server: cp.server,
    apiserverHost: cp.host,
    apiserverPort: cp.ports.apiserver,
    ports: cp.ports,
    pids: cp.pids,
    binDir: cp.binaries.dir,
    kubectl: cp.binaries.kubectl,
    nodeName,
    podsDir,
    ...(realNode ? {
      realNode: {
        dir: realNode.layout.dir, bridge: realNode.network.bridge, subnet: realNode.network.subnet, gateway: realNode.network.gateway,
        containerdSocket: realNode.layout.containerdSocket, images: realNode.images, pids: realNode.pids,
      },
    } : {}),
    ingress: { defaultAddress: ingressAddress, ...(classNames ? { classNames } : {}) },
    timings: { ...cp.timings, ...Object.fromEntries(Object.entries(realNode?.timings ?? {}).map(([k, v]) => [`node: ${k}`, v])), ready: Date.now() - started },
    readyAt: new Date().toISOString(),
  };
  await writeState(stateFile!, state);
  log(`ready in ${Date.now() - started} ms: ${cp.server}, kubeconfig ${cp.kubeconfigPath}, state ${stateFile}`);

  // A component dying on its own makes the plane useless: stop everything so tests fail fast with the reason logged.
  for (const p of [...cp.processes, ...(realNode?.processes ?? [])]) {
    void p.exited.then((code) => shutdown(`${p.name} (PID ${p.pid}) exited with ${code}; last log lines:\n${p.logTail()}`, 1));
  }
}

function teardown(why: string): Promise<void> {
  tearingDown ??= (async () => {
    log(`tearing down: ${why}`);
    clearInterval(parentPoll);
    // Interrupt a start-up in progress; it stops whatever it had started before it settles.
    aborted.abort();
    await startup.catch(() => {});
    faker?.stop();
    // Pods first, while the apiserver can still take their final status; then the control plane.
    await agent?.stop().catch((err: unknown) => log(`node agent stop: ${(err as Error).message}`));
    if (realNode) await realNode.stop().catch((err: unknown) => log(`real node stop: ${(err as Error).message}`));
    else await prepared?.abandon().catch((err: unknown) => log(`real node clean-up: ${(err as Error).message}`));
    await cp?.stop();
    await rm(stateFile!, { force: true });
    log('teardown complete');
  })();
  return tearingDown;
}

function shutdown(why: string, code: number): void {
  if (tearingDown) return;
  void teardown(why).finally(() => process.exit(code));
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => shutdown(`received ${sig}`, 0));
process.on('uncaughtException', (err) => shutdown(`uncaught exception: ${err.stack ?? err.message}`, 1));
process.on('unhandledRejection', (err) => shutdown(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`, 1));
// --parent-pid 0: no parent to outlive (a long-lived sandbox plane, stopped only by a signal).
const parentPoll = setInterval(() => {
  if (parentPid !== 0 && !isAlive(parentPid)) shutdown(`parent process ${parentPid} is gone`, 0);
}, PARENT_POLL_MS);
const startup = start();
startup.catch((err: unknown) => shutdown(`start-up failed: ${(err as Error).stack ?? String(err)}`, 1));
