// A real node beside the dev control plane: containerd (its own root, state and socket under the node directory),
// the CNI bridge network, kubelet, kube-proxy (iptables mode) and kube-scheduler (the plane has none; the node agent
// binds its own pods, kubelet only runs bound ones). Two phases, because the apiserver must know about the node before
// it starts: prepareRealNode takes the machine's node lock, creates the bridge and returns the apiserver flags and
// controllers (the ControlPlaneExtension); start(cp) then starts the node against the running plane. Every process is
// started and stopped by its own PID; stop() also undoes what they leave on the machine (node-cleanup.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { ControlPlaneExtension, RunningControlPlane } from '../control-plane/control-plane.ts';
import { writeKubeconfig } from '../control-plane/kubeconfig.ts';
import { startProcess, type ManagedProcess } from '../control-plane/managed-process.ts';
import { adminRequest, waitForSteps, type ReadinessStep } from '../control-plane/readiness.ts';
import { readTunables, restoreTunables } from './kernel-tunables.ts';
import { busyboxImage, hasImage, importImage, pauseImage, type LocalImage } from './local-images.ts';
import { containerdConfig, cniConflist, kubeletConfig, kubeProxyConfig, NODE_NAME, nodeLayout, type NodeLayout, type PodNetwork } from './node-config.ts';
import { CLEAN_MACHINE, deleteBridge, killShims, leftoversOnMachine, removeContainers, removeKubepodsCgroups, removeKubeRules, unmountUnder } from './node-cleanup.ts';
import { acquireNodeLock, type NodeLock, type NodeLockRecord } from './node-lock.ts';
import { APISERVER_KUBELET_CLIENT, writeNodePki, type NodePki } from './node-pki.ts';
import { locateNodeBinaries, type NodeBinaries } from './node-prerequisites.ts';
import { choosePodNetwork, createBridge, forwardApiserver, type ApiserverForwarder } from './pod-network.ts';
import { freeLoopbackPorts } from '../control-plane/free-port.ts';

type Log = (line: string) => void;

/**
 * Controllers a node's workloads need beyond the plane's own list: Services get EndpointSlices (kube-proxy programs
 * ClusterIPs from them), Deployments get ReplicaSets and pods, and a node that stops reporting is marked so.
 */
export const NODE_CONTROLLERS = ['endpointslice-controller', 'endpointslice-mirroring-controller', 'deployment-controller', 'replicaset-controller', 'node-lifecycle-controller'];

export interface RealNodeOptions {
  /**
   * The node directory. Default: `node/` in the control plane's run directory (removed with it). A directory given
   * here outlives the run and keeps containerd's images (root/), so the next start imports nothing.
   */
  dir?: string;
  /** More images to import before kubelet starts (the operator image, for example). */
  images?: LocalImage[];
  log?: Log;
  signal?: AbortSignal;
  /** How long to wait for another run's node to stop (default 20 min: test files in one tap run take turns). */
  lockTimeoutMs?: number;
  /** How long the node may take to become Ready (default 180 s). */
  readyTimeoutMs?: number;
}

export interface RunningNode {
  name: string;
  layout: NodeLayout;
  network: PodNetwork;
  /** What pods name to run the locally built images. */
  images: { pause: string; busybox: string };
  pids: { containerd: number; kubelet: number; kubeProxy: number; scheduler: number };
  processes: ManagedProcess[];
  /** Milliseconds from prepareRealNode to each step. */
  timings: Record<string, number>;
  stop: () => Promise<void>;
}

export interface PreparedNode {
  network: PodNetwork;
  /** Pass to startControlPlane. */
  extension: ControlPlaneExtension;
  start: (cp: RunningControlPlane) => Promise<RunningNode>;
  /** Undoes the preparation when start() is never reached (the plane failed to start). */
  abandon: () => Promise<void>;
}

function ctrOk(ctr: string, socket: string): boolean {
  return spawnSync(ctr, ['--address', socket, 'version'], { encoding: 'utf8', timeout: 10_000 }).status === 0;
}

/** Everything a dead node (or a failed start) may have left, given what its lock record says it created. */
async function cleanLeftovers(record: Partial<NodeLockRecord>, binaries: NodeBinaries, log: Log, keepImages: boolean): Promise<void> {
  killPodProcesses(log);
  if (record.containerdSocket) killShims(record.containerdSocket, log);
  removeKubeRules(binaries.kubeProxy, log);
  if (record.nodeDir) unmountUnder(record.nodeDir, log);
  if (record.bridge) {
    try {
      deleteBridge(record.bridge);
    } catch (err) {
      log(`node clean-up: ${(err as Error).message}`);
    }
  }
  removeKubepodsCgroups(log);
  if (record.sysctls) {
    const failed = restoreTunables(record.sysctls);
    if (failed.length) log(`node clean-up: could not restore kernel settings ${failed.join(', ')}`);
  }
  if (record.nodeDir) removeNodeDir(record.nodeDir, keepImages);
}

/** Processes still in a pod cgroup of the v1 hierarchy (containers whose shim died): only this node runs pods here. */
function killPodProcesses(log: Log): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cgroup: string;
    try {
      cgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (/:\/kubepods\//.test(cgroup)) {
      try {
        process.kill(Number(entry), 'SIGKILL');
        log(`node clean-up: killed leftover pod process ${entry}`);
      } catch {
        // gone
      }
    }
  }
}

/** Everything but containerd's root (its image store) when the directory is kept across runs. */
function removeNodeDir(dir: string, keepImages: boolean): void {
  if (!keepImages) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) if (e !== 'containerd') rmSync(join(dir, e), { recursive: true, force: true });
  rmSync(join(dir, 'containerd', 'state'), { recursive: true, force: true });
}

export async function prepareRealNode(options: RealNodeOptions = {}): Promise<PreparedNode> {
  const t0 = Date.now();
  const log = options.log ?? (() => {});
  const timings: Record<string, number> = {};
  const keepImages = options.dir !== undefined;
  const binaries = await locateNodeBinaries(log);
  timings['binaries'] = Date.now() - t0;
  const lock: NodeLock = await acquireNodeLock({
    timeoutMs: options.lockTimeoutMs ?? 20 * 60_000,
    log,
    cleanLeftovers: (stale) => cleanLeftovers(stale, binaries, log, stale.nodeDir === options.dir),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  timings['lock'] = Date.now() - t0;
  let network: PodNetwork;
  try {
    network = choosePodNetwork();
    lock.update({ bridge: network.bridge });
    createBridge(network);
  } catch (err) {
    lock.release();
    throw err;
  }
  let layout: NodeLayout | undefined;
  let pki: NodePki | undefined;

  const extension: ControlPlaneExtension = {
    controllers: NODE_CONTROLLERS,
    apiserverFlags: async (cpPki, runDir) => {
      layout = nodeLayout(options.dir ?? join(runDir, 'node'));
      lock.update({ nodeDir: layout.dir, containerdSocket: layout.containerdSocket });
      // A kept directory may hold a previous run's state; only containerd's image store is reused.
      removeNodeDir(layout.dir, keepImages);
      pki = await writeNodePki(layout.pkiDir, { certFile: cpPki.caCert, keyFile: cpPki.caKey });
      return [
        // Pods reach the apiserver through the `kubernetes` Service, whose endpoint is the bridge's gateway address
        // (the lease reconciler writes it); the node forwards that address to the apiserver on loopback.
        `--advertise-address=${network.gateway}`,
        '--endpoint-reconciler-type=lease',
        // The node is called "localhost", which resolves to where kubelet listens. Never its InternalIP: that is the
        // machine's own interface, and kubectl logs/exec must stay on loopback.
        '--kubelet-preferred-address-types=Hostname',
        `--kubelet-client-certificate=${pki.apiserverKubeletClientCert}`,
        `--kubelet-client-key=${pki.apiserverKubeletClientKey}`,
        `--kubelet-certificate-authority=${cpPki.caCert}`,
        // kubelet acts with the rights of its own node only, as in a production cluster.
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
      ];
    },
  };

  const abandon = async (): Promise<void> => {
    await cleanLeftovers({ ...lock.record }, binaries, log, keepImages);
    lock.release();
  };

  const start = async (cp: RunningControlPlane): Promise<RunningNode> => {
    if (!layout || !pki) throw new Error('start the control plane with this node\'s extension before starting the node');
    const l = layout;
    const p = pki;
    const processes: ManagedProcess[] = [];
    let forwarder: ApiserverForwarder | undefined;
    let savedTunables: Record<string, string> | undefined;
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        const byName = (n: string) => processes.find((x) => x.name === n);
        // kube-proxy and kubelet first (nothing restarts containers behind our back), then the pods' containers while
        // containerd still runs, then containerd.
        for (const name of ['kube-proxy', 'kubelet', 'kube-scheduler']) await byName(name)?.stop(10_000);
        if (savedTunables) {
          const failed = restoreTunables(savedTunables);
          if (failed.length) log(`real node: could not restore kernel settings ${failed.join(', ')}`);
        }
        const containerd = byName('containerd');
        if (containerd && !containerd.hasExited()) removeContainers(binaries.ctr, l.containerdSocket, log);
        await containerd?.stop(15_000);
        await forwarder?.close();
        await cleanLeftovers({ ...lock.record, sysctls: undefined }, binaries, log, keepImages);
        // Checked while this node still holds the lock: afterwards another run's node may create the same things.
        const left = leftoversOnMachine({
          bridge: network.bridge, nodeDir: l.dir, socket: l.containerdSocket, readTunables,
          ...(savedTunables ? { tunables: savedTunables } : {}),
        });
        log(left.length ? `real node: left on the machine after clean-up: ${left.join('; ')}` : CLEAN_MACHINE);
        lock.release();
      })();
      return stopping;
    };
    try {
      for (const d of [l.containerdRoot, l.containerdState, l.cniConfDir, l.cniIpamDir, l.kubeletRoot, l.podLogsDir, l.logsDir, join(l.dir, 'config')]) {
        mkdirSync(d, { recursive: true, mode: 0o700 });
      }
      const pause = pauseImage();
      const busybox = busyboxImage();
      timings['images built'] = Date.now() - t0;
      const [kubeletPort] = (await freeLoopbackPorts(1)) as [number];
      writeFileSync(l.containerdConfig, containerdConfig(l, pause.reference));
      writeFileSync(join(l.cniConfDir, '10-exposedapi-apim.conflist'), JSON.stringify(cniConflist(l, network), null, 2));
      writeFileSync(l.kubeletConfig, YAML.stringify(kubeletConfig(l, {
        port: kubeletPort, clientCaFile: p.caCert, tlsCertFile: p.kubeletServingCert, tlsPrivateKeyFile: p.kubeletServingKey,
      })));
      writeFileSync(l.kubeProxyConfig, YAML.stringify(kubeProxyConfig(l, { net: network })));
      await Promise.all([
        writeKubeconfig(l.kubeletKubeconfig, { server: cp.server, caPem: p.caPem, user: `system:node:${NODE_NAME}`, clientCertPem: p.kubeletClient.certPem, clientKeyPem: p.kubeletClient.keyPem }),
        writeKubeconfig(l.kubeProxyKubeconfig, { server: cp.server, caPem: p.caPem, user: 'system:kube-proxy', clientCertPem: p.kubeProxy.certPem, clientKeyPem: p.kubeProxy.keyPem }),
        writeKubeconfig(l.schedulerKubeconfig, { server: cp.server, caPem: p.caPem, user: 'system:kube-scheduler', clientCertPem: p.scheduler.certPem, clientKeyPem: p.scheduler.keyPem }),
      ]);

      forwarder = await forwardApiserver(network.gateway, cp.ports.apiserver);
      const logFile = (name: string) => join(l.logsDir, `${name}.log`);
      processes.push(startProcess('containerd', binaries.containerd, ['--config', l.containerdConfig], logFile('containerd')));
      const crashed = (): string | undefined => {
        if (options.signal?.aborted) return 'real node start-up aborted';
        const dead = processes.find((x) => x.hasExited());
        return dead && `${dead.name} exited during start-up; last lines of ${dead.logPath}:\n${dead.logTail(25)}`;
      };
      const deadline = options.readyTimeoutMs ?? 180_000;
      const since = Date.now();
      Object.assign(timings, shift(await waitForSteps([{ name: 'containerd', ok: async () => ctrOk(binaries.ctr, l.containerdSocket) }], deadline, crashed, since), since - t0));

      for (const image of [pause, busybox, ...(options.images ?? [])]) {
        if (hasImage(binaries.ctr, l.containerdSocket, image.reference)) continue;
        log(`real node: importing ${image.reference}`);
        importImage(binaries.ctr, l.containerdSocket, image);
      }
      timings['images imported'] = Date.now() - t0;

      // The apiserver's identity towards kubelet (logs, exec, port-forward) gets exactly the kubelet API rights.
      const binding = await adminRequest(cp.admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
        metadata: { name: APISERVER_KUBELET_CLIENT },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: APISERVER_KUBELET_CLIENT }],
      });
      if (binding.status !== 201 && binding.status !== 409) throw new Error(`creating ClusterRoleBinding ${APISERVER_KUBELET_CLIENT}: HTTP ${binding.status} ${binding.body}`);

      processes.push(startProcess('kube-scheduler', binaries.kubeScheduler, [
        `--kubeconfig=${l.schedulerKubeconfig}`, '--leader-elect=false', '--secure-port=0', '--v=1',
      ], logFile('kube-scheduler')));
      savedTunables = readTunables();
      lock.update({ sysctls: savedTunables });
      processes.push(startProcess('kubelet', binaries.kubelet, [
        `--config=${l.kubeletConfig}`, `--kubeconfig=${l.kubeletKubeconfig}`, `--root-dir=${l.kubeletRoot}`,
        `--hostname-override=${NODE_NAME}`, '--v=1',
      ], logFile('kubelet')));
      processes.push(startProcess('kube-proxy', binaries.kubeProxy, [`--config=${l.kubeProxyConfig}`, '--v=1'], logFile('kube-proxy')));

      const steps: ReadinessStep[] = [
        {
          name: `node ${NODE_NAME} Ready`,
          ok: async () => {
            const res = await adminRequest(cp.admin, 'GET', `/api/v1/nodes/${NODE_NAME}`);
            if (res.status !== 200) return false;
            const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
            return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
          },
        },
        {
          // kube-proxy has synced once the default/kubernetes Service has its rule.
          name: 'kube-proxy rules',
          ok: async () => /default\/kubernetes:https/.test(spawnSync('iptables', ['-t', 'nat', '-S', 'KUBE-SERVICES'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? ''),
        },
      ];
      const since2 = Date.now();
      Object.assign(timings, shift(await waitForSteps(steps, deadline, crashed, since2), since2 - t0));
      timings['total'] = Date.now() - t0;
      log(`real node ${NODE_NAME} Ready in ${timings['total']} ms: bridge ${network.bridge} ${network.subnet}, apiserver for pods at ${network.gateway}:${cp.ports.apiserver}, logs in ${l.logsDir}`);
      const pid = (n: string) => processes.find((x) => x.name === n)!.pid;
      return {
        name: NODE_NAME, layout: l, network, images: { pause: pause.reference, busybox: busybox.reference },
        pids: { containerd: pid('containerd'), kubelet: pid('kubelet'), kubeProxy: pid('kube-proxy'), scheduler: pid('kube-scheduler') },
        processes, timings, stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  };

  return { network, extension, start, abandon };
}

/** waitForSteps' timings count from its own start; make them count from prepareRealNode's. */
function shift(t: Record<string, number>, by: number): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v + by]));
}
