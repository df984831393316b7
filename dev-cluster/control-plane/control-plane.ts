// Starts etcd, kube-apiserver and kube-controller-manager on free loopback ports with generated PKI, waits until they
// are usable, writes an admin kubeconfig, and stops them in reverse order. Everything lives in one run directory
// (on /dev/shm when available, so etcd never waits for a disk), which stop() removes.
import { mkdtemp, mkdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateBinaries, type ControlPlaneBinaries } from './binaries.ts';
import { freeLoopbackPorts } from './free-port.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import { writePki, type PkiFiles } from './pki-files.ts';
import { controlPlaneReadinessSteps, waitForSteps, type AdminConnection } from './readiness.ts';

/**
 * Controllers the tests rely on: Jobs and their pods (job, ttl-after-finished, garbage-collector, pod-garbage-collector),
 * namespaces that really go away (namespace), ServiceAccounts and their credentials (serviceaccount, serviceaccount-token,
 * root-ca-certificate-publisher for the kube-root-ca.crt ConfigMap every pod's token volume reads) and RBAC aggregation
 * (clusterrole-aggregation, so aggregated ClusterRoles behave as in a real cluster).
 */
export const CONTROLLERS = [
  'job-controller',
  'ttl-after-finished-controller',
  'garbage-collector-controller',
  'pod-garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

/** What a real node (dev-cluster/node) needs of the plane beyond what the node agent does. */
export interface ControlPlaneExtension {
  /** kube-apiserver flags added to the plane's, each replacing one of the same name; called once the PKI is written. */
  apiserverFlags?: (pki: PkiFiles, runDir: string) => Promise<string[]>;
  /** Controllers run beside CONTROLLERS. */
  controllers?: string[];
}

/** `base` without the flags `extra` names, then `extra` (`--name=value` form). */
export function mergeFlags(base: string[], extra: string[]): string[] {
  const name = (flag: string): string => flag.split('=')[0]!;
  const replaced = new Set(extra.map(name));
  return [...base.filter((f) => !replaced.has(name(f))), ...extra];
}

export interface ControlPlaneOptions {
  /** Parent of the run directory; default /dev/shm when it is a writable tmpfs, else the OS temp dir. */
  baseDir?: string;
  /** Give up waiting for readiness after this long (default 60 s; with cached binaries it takes a few seconds). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
  /** Aborting stops whatever has started and makes startControlPlane reject. */
  signal?: AbortSignal;
  extension?: ControlPlaneExtension;
}

export interface RunningControlPlane {
  runDir: string;
  kubeconfigPath: string;
  server: string;
  host: string;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number };
  pids: { etcd: number; apiserver: number; controllerManager: number };
  binaries: ControlPlaneBinaries;
  pki: PkiFiles;
  admin: AdminConnection;
  /** Milliseconds from the start of this attempt to each readiness step passing. */
  timings: Record<string, number>;
  processes: ManagedProcess[];
  stop: () => Promise<void>;
}

export const HOST = '127.0.0.1';

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const binaries = await locateBinaries(options.log);
  // A port picked by freeLoopbackPorts can be taken by someone else before the component binds it; start again with
  // new ports rather than fail a whole test run.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binaries, options);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test((err as Error).message)) throw err;
      options.log?.(`port collision, starting again (attempt ${attempt + 1})`);
    }
  }
}

async function defaultBaseDir(): Promise<string> {
  try {
    // 0x01021994 is TMPFS_MAGIC: only use /dev/shm when it really is memory-backed.
    if ((await statfs('/dev/shm')).type === 0x01021994) return '/dev/shm';
  } catch {
    // no /dev/shm (e.g. macOS): fall through
  }
  return tmpdir();
}

async function startOnce(binaries: ControlPlaneBinaries, options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const t0 = Date.now();
  const log = options.log ?? (() => {});
  const runDir = await mkdtemp(join(options.baseDir ?? (await defaultBaseDir()), 'exposedapi-apim-cp-'));
  const processes: ManagedProcess[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Reverse start order: the controller-manager and apiserver finish their in-flight writes before etcd goes.
      for (const p of [...processes].reverse()) await p.stop();
      // EXPOSEDAPI_APIM_KEEP_RUN_DIR=1 keeps the component logs for a post-mortem.
      if (!process.env['EXPOSEDAPI_APIM_KEEP_RUN_DIR']) await rm(runDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    if (options.signal?.aborted) throw new Error('control plane start-up aborted');
    const [etcdClient, etcdPeer, apiserver] = (await freeLoopbackPorts(3)) as [number, number, number];
    const pki = await writePki(join(runDir, 'pki'));
    await mkdir(join(runDir, 'logs'));
    const server = `https://${HOST}:${apiserver}`;
    const kubeconfigPath = join(runDir, 'kubeconfig');
    const controllerManagerKubeconfig = join(runDir, 'pki', 'controller-manager.kubeconfig');
    await Promise.all([
      writeKubeconfig(kubeconfigPath, { server, caPem: pki.caPem, user: 'admin', clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem }),
      writeKubeconfig(controllerManagerKubeconfig, {
        server, caPem: pki.caPem, user: 'system:kube-controller-manager',
        clientCertPem: pki.controllerManager.certPem, clientKeyPem: pki.controllerManager.keyPem,
      }),
    ]);

    const etcdUrl = `http://${HOST}:${etcdClient}`;
    const peerUrl = `http://${HOST}:${etcdPeer}`;
    processes.push(startProcess('etcd', binaries.etcd, [
      '--name=cp', `--data-dir=${join(runDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=cp=${peerUrl}`,
      // Test data is disposable: never wait for a disk flush.
      '--unsafe-no-fsync', '--log-level=warn',
    ], join(runDir, 'logs', 'etcd.log')));

    const extraApiserverFlags = (await options.extension?.apiserverFlags?.(pki, runDir)) ?? [];
    processes.push(startProcess('kube-apiserver', binaries.kubeApiserver, mergeFlags([
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${HOST}`, `--secure-port=${apiserver}`,
      `--cert-dir=${join(runDir, 'apiserver')}`,
      `--tls-cert-file=${pki.apiserverCert}`, `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // Nothing routes to the advertised address; "none" keeps the `kubernetes` Endpoints from depending on it.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
    ], extraApiserverFlags), join(runDir, 'logs', 'kube-apiserver.log')));

    const admin: AdminConnection = { host: HOST, port: apiserver, caPem: pki.caPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem };
    // The controller-manager exits at once if the apiserver is unreachable for too long, so start it after /readyz.
    const apiserverSteps = controlPlaneReadinessSteps(admin);
    const crashed = (): string | undefined => {
      if (options.signal?.aborted) return 'control plane start-up aborted';
      const dead = processes.find((p) => p.hasExited());
      return dead && `${dead.name} exited during start-up; last lines of ${dead.logPath}:\n${dead.logTail()}`;
    };
    const deadline = options.readyTimeoutMs ?? 60_000;
    const timings = await waitForSteps(apiserverSteps.slice(0, 1), deadline, crashed, t0);
    log(`apiserver ready after ${Date.now() - t0} ms`);

    if (options.signal?.aborted) throw new Error('control plane start-up aborted');
    processes.push(startProcess('kube-controller-manager', binaries.kubeControllerManager, [
      `--kubeconfig=${controllerManagerKubeconfig}`,
      `--controllers=${[...CONTROLLERS, ...(options.extension?.controllers ?? [])].join(',')}`,
      // Each controller acts as its own ServiceAccount (as kubeadm clusters do), so RBAC is exercised like production.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccountPrivateKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--leader-elect=false',
      // No health/metrics port: nothing scrapes it, and it would be one more port to collide.
      '--secure-port=0',
    ], join(runDir, 'logs', 'kube-controller-manager.log')));

    Object.assign(timings, await waitForSteps(apiserverSteps.slice(1), deadline, crashed, t0));
    timings['total'] = Date.now() - t0;
    log(`control plane ready in ${timings['total']} ms (${runDir})`);
    const pid = (i: number): number => processes[i]!.pid;
    return {
      runDir, kubeconfigPath, server, host: HOST,
      ports: { etcdClient, etcdPeer, apiserver },
      pids: { etcd: pid(0), apiserver: pid(1), controllerManager: pid(2) },
      binaries, pki, admin, timings, processes, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
