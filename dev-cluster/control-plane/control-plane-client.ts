// A client of a running control plane, from its state file: admin and ServiceAccount kubeconfigs, the matching
// kubectl, namespaces torn down with their scope, pod logs. The local cluster and the sandbox use it, and so does the
// tests' fixture (test/control-plane/use-control-plane.ts), which names it TestControlPlane.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { podLogPath } from '../node-agent/node-agent.ts';
import { INGRESS_ADDRESS_ANNOTATION } from './ingress-status.ts';
import { runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.ts';
import { CONTEXT_NAME, renderKubeconfig } from './kubeconfig.ts';
import type { ControlPlaneState } from './state-file.ts';
import { waitFor } from './wait-for.ts';

/** What a namespace lives as long as: a tap Test, or anything with a name and teardown hooks. */
export interface Scope {
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

export interface ControlPlaneClient {
  state: ControlPlaneState;
  /** Admin kubeconfig (system:masters): for setup and assertions only, never to run a component. */
  kubeconfigPath: string;
  server: string;
  nodeName: string;
  /** A fresh admin KubeConfig. */
  kubeConfig: () => KubeConfig;
  /** A unique namespace for this scope (a test), deleted when it ends; resolves once its `default` ServiceAccount exists. */
  newNamespace: (t: Scope, options?: NamespaceOptions) => Promise<string>;
  /** The control plane's own kubectl with the admin kubeconfig (or `options.kubeconfigPath`). */
  kubectl: (args: string[], options?: KubectlOptions & { kubeconfigPath?: string }) => Promise<KubectlResult>;
  /** A TokenRequest token for the ServiceAccount: run components with their real RBAC. */
  tokenFor: (namespace: string, serviceAccount: string, o?: TokenOptions) => Promise<string>;
  /** A KubeConfig that authenticates as the ServiceAccount. */
  kubeConfigFor: (namespace: string, serviceAccount: string, o?: TokenOptions) => Promise<KubeConfig>;
  /** The same as a kubeconfig file (for kubectl or a child process), written into the run directory. */
  kubeconfigFileFor: (namespace: string, serviceAccount: string, o?: TokenOptions) => Promise<string>;
  /** What a pod's container wrote to stdout and stderr. `container` may be left out when the pod has only one. */
  podLog: (namespace: string, pod: string, container?: string) => Promise<string>;
}

export function controlPlaneClient(state: ControlPlaneState): ControlPlaneClient {
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
      // A real node's kubelet serves the log (the apiserver's pods/log, as kubectl logs reads it).
      if (state.realNode) return core.readNamespacedPodLog({ name: pod, namespace, ...(container ? { container } : {}) });
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
