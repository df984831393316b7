// A kubelet stand-in for the local control plane (there is no container runtime here): it registers one Node, binds
// pending pods to it (there is no scheduler either), runs each pod's containers as local processes (pod-worker.ts),
// reports their status, and honours deletion like kubelet: stop the processes (SIGTERM, SIGKILL after the grace
// period), report the final status, then delete the pod object with gracePeriodSeconds 0. It serves no API: logs are
// files under `<podsDir>/<namespace>/<pod>/<container>.log`, read directly by tests.
//
// In-cluster wiring for the processes: KUBERNETES_SERVICE_HOST/PORT point at the apiserver's loopback address and
// EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR at the pod's ServiceAccount token directory (see pod-volumes.ts).
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { join } from 'node:path';
import { errorMessage, statusCode as code } from '../../core/kube/errors.ts';
import { LOOPBACK } from './pod-env.ts';
import { nodeObject, registerNode } from './node-registration.ts';
import { startPodWorker, type PodWorker, type PodWorkerDeps } from './pod-worker.ts';
import { REPO_ROOT } from '../control-plane/repo-root.ts';
import { runWatchLoop } from '../control-plane/watch-loop.ts';

export interface NodeAgentOptions {
  kubeConfig: KubeConfig;
  podsDir: string;
  apiserverHost: string;
  apiserverPort: number;
  nodeName?: string;
  /** Node for `exposedapi-apim` images; default this process's own (the project's pinned Node 24). */
  nodeBinary?: string;
  repoRoot?: string;
  log?: (line: string) => void;
}

export interface NodeAgent {
  nodeName: string;
  podsDir: string;
  stop: () => Promise<void>;
}

export const DEFAULT_NODE_NAME = 'exposedapi-apim-node';

const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const nodeName = options.nodeName ?? DEFAULT_NODE_NAME;
  const log = options.log ?? (() => {});
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  await registerNode(core, nodeName, LOOPBACK);
  const nodeLabels = nodeObject(nodeName, LOOPBACK, new Date()).metadata!.labels!;

  const deps: PodWorkerDeps = {
    nodeBinary: options.nodeBinary ?? process.execPath,
    repoRoot: options.repoRoot ?? REPO_ROOT,
    podsDir: options.podsDir,
    ip: LOOPBACK,
    log,
    baseEnv: {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      ...(process.env['HOME'] ? { HOME: process.env['HOME'] } : {}),
      KUBERNETES_SERVICE_HOST: options.apiserverHost,
      KUBERNETES_SERVICE_PORT: String(options.apiserverPort),
      KUBERNETES_SERVICE_PORT_HTTPS: String(options.apiserverPort),
      KUBERNETES_PORT: `tcp://${options.apiserverHost}:${options.apiserverPort}`,
      // The apiserver is on loopback; never send that through a proxy configured for the outside world.
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    },
    patchStatus: async (namespace, name, body) => {
      try {
        await core.patchNamespacedPodStatus({ name, namespace, body }, smp);
        return true;
      } catch (err) {
        if (code(err) === 404) return false;
        throw err;
      }
    },
    source: {
      configMap: (namespace, name) => core.readNamespacedConfigMap({ name, namespace }).catch(notFound),
      secret: (namespace, name) => core.readNamespacedSecret({ name, namespace }).catch(notFound),
      token: async (namespace, serviceAccount, spec) => {
        const res = await core.createNamespacedServiceAccountToken({
          name: serviceAccount, namespace,
          body: {
            spec: {
              audiences: spec.audience ? [spec.audience] : [],
              expirationSeconds: spec.expirationSeconds,
              boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: spec.pod.name, uid: spec.pod.uid },
            },
          },
        });
        if (!res.status?.token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
        return res.status.token;
      },
    },
  };

  const workers = new Map<string, PodWorker>(); // by pod UID, kept until the pod object is gone
  const binding = new Set<string>();
  const forceDeleting = new Set<string>();
  let stopping = false;

  const bind = async (pod: V1Pod): Promise<void> => {
    const { name, namespace, uid } = pod.metadata!;
    binding.add(uid!);
    try {
      await core.createNamespacedPodBinding({
        name: name!, namespace: namespace!,
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: name!, uid: uid! }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      });
    } catch (err) {
      // 409: bound meanwhile; 404: deleted meanwhile. Anything else is worth seeing in the supervisor log.
      if (code(err) !== 409 && code(err) !== 404) log(`bind ${namespace}/${name}: ${errorMessage(err)}`);
    } finally {
      binding.delete(uid!);
    }
  };

  const forceDelete = async (pod: V1Pod): Promise<void> => {
    const { name, namespace, uid } = pod.metadata!;
    if (forceDeleting.has(uid!)) return;
    forceDeleting.add(uid!);
    try {
      await core.deleteNamespacedPod({ name: name!, namespace: namespace!, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: uid! } } });
    } catch (err) {
      if (code(err) !== 404 && code(err) !== 409) {
        log(`delete ${namespace}/${name}: ${errorMessage(err)}`);
        forceDeleting.delete(uid!);
      }
    }
  };

  const handle = (type: string, pod: V1Pod): void => {
    const uid = pod.metadata?.uid;
    if (!uid || stopping) return;
    if (type === 'DELETED') {
      workers.get(uid)?.podGone();
      workers.delete(uid);
      return;
    }
    const spec = pod.spec!;
    if (!spec.nodeName) {
      if (schedulable(pod, nodeLabels) && !binding.has(uid)) void bind(pod);
      return;
    }
    if (spec.nodeName !== nodeName) return;
    let worker = workers.get(uid);
    const phase = pod.status?.phase;
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    if (!worker && !terminal) {
      worker = startPodWorker(pod, deps);
      workers.set(uid, worker);
    }
    if (pod.metadata?.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
      if (worker) {
        worker.terminate(grace);
        void worker.done.then(() => forceDelete(pod));
      } else if (grace > 0) {
        // Finished before deletion was requested: nothing runs; finalize the object as kubelet does.
        void forceDelete(pod);
      }
    }
  };

  const watch = runWatchLoop<V1Pod>({
    kubeConfig: options.kubeConfig,
    path: '/api/v1/pods',
    list: () => core.listPodForAllNamespaces(),
    onEvent: handle,
    onError: (err) => log(`pod watch: ${errorMessage(err)}`),
  });
  await watch.synced;
  log(`node agent: node ${nodeName} registered; pods under ${options.podsDir}`);

  return {
    nodeName,
    podsDir: options.podsDir,
    stop: async () => {
      stopping = true;
      watch.stop();
      const all = [...workers.values()];
      for (const w of all) w.terminate(1);
      // Bounded: terminate() SIGKILLs after 1 s and the final status report is retried at most a few times.
      await Promise.race([Promise.all(all.map((w) => w.done)), new Promise((r) => setTimeout(r, 10_000))]);
    },
  };
}

/** What the default scheduler would consider: its own pods, not gated, whose nodeSelector our node satisfies. */
function schedulable(pod: V1Pod, nodeLabels: Record<string, string>): boolean {
  const spec = pod.spec!;
  if (pod.metadata?.deletionTimestamp) return false;
  if ((spec.schedulerName ?? 'default-scheduler') !== 'default-scheduler') return false;
  if ((spec.schedulingGates ?? []).length > 0) return false;
  if (Object.entries(spec.nodeSelector ?? {}).some(([k, v]) => nodeLabels[k] !== v)) return false;
  const phase = pod.status?.phase;
  return phase === undefined || phase === 'Pending';
}

function notFound(err: unknown): undefined {
  if (code(err) === 404) return undefined;
  throw err;
}

export function podLogPath(podsDir: string, namespace: string, pod: string, container: string): string {
  return join(podsDir, namespace, pod, `${container}.log`);
}
