// What a test file uses: `const cp = await useControlPlane(t)`. Under `tap` it attaches to the run's shared plane
// (started by the `before` script, found through the runner's PID); a file run on its own (`node x.test.ts`) starts a
// private plane that stops when `t` ends. Tests isolate themselves by namespace (cp.newNamespace) and run components
// as their own ServiceAccount (cp.tokenFor / cp.kubeConfigFor), never as the admin that cp.kubeConfig() returns.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INGRESS_ADDRESS_ANNOTATION } from './ingress-status.ts';
import { runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.ts';
import { CONTEXT_NAME, renderKubeconfig } from './kubeconfig.ts';
import { podLogPath } from './node-agent.ts';
import { readLiveState, stateDir, stateFileForRun, supervisorLogFor, STATE_ENV, type ControlPlaneState } from './state-file.ts';
import { launchSupervisor, stopSupervisor } from './supervisor-process.ts';
import { waitFor } from './wait-for.ts';

/** The part of a tap Test this helper needs. */
export interface TestLike {
  name: string;
  teardown: (fn: () => unknown) => void;
}

export interface NamespaceOptions {
  /** Ingress status faker for this namespace: an IP, a hostname, or "off" (see ingress-status.ts). */
  ingressAddress?: string;
  labels?: Record<string, string>;
}

export interface TokenOptions {
  audiences?: string[];
  expirationSeconds?: number;
}

export interface TestControlPlane {
  state: ControlPlaneState;
  /** Admin kubeconfig (system:masters): for test setup and assertions only. */
  kubeconfigPath: string;
  server: string;
  nodeName: string;
  /** A fresh admin KubeConfig. */
  kubeConfig: () => KubeConfig;
  /** A unique namespace for this test, deleted when `t` ends; resolves once its `default` ServiceAccount exists. */
  newNamespace: (t: TestLike, o?: NamespaceOptions) => Promise<string>;
  /** The control plane's own kubectl with the admin kubeconfig (or `o.kubeconfigPath`). */
  kubectl: (args: string[], o?: KubectlOptions & { kubeconfigPath?: string }) => Promise<KubectlResult>;
  /** A TokenRequest token for the ServiceAccount: run components with their real RBAC. */
  tokenFor: (namespace: string, serviceAccount: string, o?: TokenOptions) => Promise<string>;
  /** A KubeConfig that authenticates as the ServiceAccount. */
  kubeConfigFor: (namespace: string, serviceAccount: string, o?: TokenOptions) => Promise<KubeConfig>;
  /** The same as a kubeconfig file (for kubectl or a child process), written into the run directory. */
  kubeconfigFileFor: (namespace: string, serviceAccount: string, o?: TokenOptions) => Promise<string>;
  /** What a pod's container wrote to stdout and stderr. `container` may be left out when the pod has only one. */
  podLog: (namespace: string, pod: string, container?: string) => Promise<string>;
}

let shared: Promise<TestControlPlane> | undefined;

export function useControlPlane(t: TestLike): Promise<TestControlPlane> {
  shared ??= attach(t).catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/**
 * A control plane of this test file's own, even under tap: for tests that need cluster-scoped state the shared plane
 * cannot have (e.g. a different CRD of the same name). Torn down with `t`.
 */
export async function usePrivateControlPlane(t: TestLike): Promise<TestControlPlane> {
  const stateFile = join(stateDir(), `private-${process.pid}-${randomBytes(3).toString('hex')}.json`);
  const { state } = await launchSupervisor({ stateFile, parentPid: process.pid });
  t.teardown(async () => {
    await stopSupervisor(state);
    await rm(supervisorLogFor(stateFile), { force: true });
  });
  return forState(state);
}

async function attach(t: TestLike): Promise<TestControlPlane> {
  const explicit = process.env[STATE_ENV];
  const state = (explicit ? await readLiveState(explicit) : undefined) ?? (await readLiveState(stateFileForRun(process.ppid)));
  if (state) return forState(state);
  // Running alone: a private plane, torn down with `t` (and by the supervisor itself if this process dies).
  const stateFile = join(stateDir(), `file-${process.pid}-${randomBytes(3).toString('hex')}.json`);
  const { state: own } = await launchSupervisor({ stateFile, parentPid: process.pid });
  t.teardown(async () => {
    shared = undefined;
    await stopSupervisor(own);
    await rm(supervisorLogFor(stateFile), { force: true });
  });
  return forState(own);
}

export function forState(state: ControlPlaneState): TestControlPlane {
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfigPath);
    return kc;
  };
  const core = kubeConfig().makeApiClient(CoreV1Api);
  let caPem: string | undefined;

  const tokenFor = async (namespace: string, serviceAccount: string, o: TokenOptions = {}): Promise<string> => {
    const res = await core.createNamespacedServiceAccountToken({
      name: serviceAccount, namespace,
      body: { spec: { audiences: o.audiences ?? [], expirationSeconds: o.expirationSeconds ?? 3600 } },
    });
    if (!res.status?.token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return res.status.token;
  };
  const kubeconfigTextFor = async (namespace: string, serviceAccount: string, o?: TokenOptions): Promise<string> => {
    caPem ??= await readFile(state.caPath, 'utf8');
    return renderKubeconfig({
      server: state.server, caPem, user: `system:serviceaccount:${namespace}:${serviceAccount}`,
      token: await tokenFor(namespace, serviceAccount, o), namespace,
    });
  };

  return {
    state,
    kubeconfigPath: state.kubeconfigPath,
    server: state.server,
    nodeName: state.nodeName,
    kubeConfig,
    newNamespace: async (t, o = {}) => {
      const slug = t.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'test';
      const name = `${slug}-${randomBytes(3).toString('hex')}`;
      await core.createNamespace({
        body: {
          metadata: {
            name,
            labels: { 'exposedapi-apim.io/test': 'true', ...o.labels },
            ...(o.ingressAddress !== undefined ? { annotations: { [INGRESS_ADDRESS_ANNOTATION]: o.ingressAddress } } : {}),
          },
        },
      });
      t.teardown(async () => {
        // Not awaited to completion: the namespace controller finishes in the background; the plane's teardown ends all.
        await core.deleteNamespace({ name }).catch(() => {});
      });
      // Pods are rejected until the ServiceAccount admission plugin finds `default`, and their token volume needs
      // kube-root-ca.crt: both come from controllers, a moment after the namespace.
      await waitFor(`ServiceAccount ${name}/default and ConfigMap kube-root-ca.crt`, async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
        await core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: name });
        return true;
      }, { timeoutMs: 20_000, intervalMs: 50 });
      return name;
    },
    kubectl: (args, o = {}) => runKubectl(state.kubectl, o.kubeconfigPath ?? state.kubeconfigPath, args, o),
    tokenFor,
    kubeConfigFor: async (namespace, serviceAccount, o) => {
      const kc = new KubeConfig();
      kc.loadFromString(await kubeconfigTextFor(namespace, serviceAccount, o));
      kc.setCurrentContext(CONTEXT_NAME);
      return kc;
    },
    kubeconfigFileFor: async (namespace, serviceAccount, o) => {
      const path = join(state.runDir, `kubeconfig-${namespace}-${serviceAccount}-${randomBytes(3).toString('hex')}`);
      await writeFile(path, await kubeconfigTextFor(namespace, serviceAccount, o), { mode: 0o600 });
      return path;
    },
    podLog: async (namespace, pod, container) => {
      if (container === undefined) {
        const dir = join(state.podsDir, namespace, pod);
        const logs = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.log'));
        if (logs.length !== 1) {
          throw new Error(`pod ${namespace}/${pod}: ${logs.length === 0 ? 'no container has started (no log in ' + dir + ')'
            : `several containers (${logs.map((f) => f.slice(0, -4)).join(', ')}); name one`}`);
        }
        container = logs[0]!.slice(0, -4);
      }
      return readFile(podLogPath(state.podsDir, namespace, pod, container), 'utf8');
    },
  };
}
