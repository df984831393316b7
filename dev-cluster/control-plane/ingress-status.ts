// Stands in for an ingress controller's load balancer: gives networking.k8s.io/v1 Ingresses a
// status.loadBalancer.ingress[0] address, the thing a real controller publishes once traffic can reach the Ingress.
//
// The address is an IP (default 127.0.0.1) or a hostname; "off" disables it so a test can observe code that waits for
// the address. Because one control plane serves many test files at once, a namespace can override the default with
// the annotation `test.exposedapi-apim.io/ingress-address` ("off", an IP or a hostname); changing the annotation later
// takes effect for the namespace's existing Ingresses. An optional class filter leaves other ingressClassNames alone.
import { NetworkingV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Ingress, type V1Namespace } from '@kubernetes/client-node';
import { isIP } from 'node:net';
import { errorMessage, statusCode } from '../../core/kube/errors.ts';
import { runWatchLoop } from './watch-loop.ts';

export const INGRESS_ADDRESS_ANNOTATION = 'test.exposedapi-apim.io/ingress-address';
export const INGRESS_ADDRESS_ENV = 'EXPOSEDAPI_APIM_INGRESS_ADDRESS';
export const INGRESS_CLASS_ENV = 'EXPOSEDAPI_APIM_INGRESS_CLASS';
export const DEFAULT_INGRESS_ADDRESS = '127.0.0.1';

export interface IngressStatusOptions {
  kubeConfig: KubeConfig;
  /** IP, hostname or "off". Default from EXPOSEDAPI_APIM_INGRESS_ADDRESS, else 127.0.0.1. */
  address?: string;
  /** Only Ingresses with one of these spec.ingressClassName values (comma-separated in EXPOSEDAPI_APIM_INGRESS_CLASS). */
  classNames?: string[];
  log?: (line: string) => void;
}

export interface IngressStatusFaker {
  stop: () => void;
}

/** The status entry for an address, or undefined for "off". Pure, for tests. */
export function loadBalancerEntry(address: string): { ip: string } | { hostname: string } | undefined {
  const a = address.trim();
  if (a === '' || a === 'off') return undefined;
  return isIP(a) ? { ip: a } : { hostname: a };
}

/** The load-balancer entry to write, or undefined when the Ingress is not ours to touch or already has it. */
export function statusUpdate(ing: V1Ingress, address: string, classNames: string[] | undefined): { ip: string } | { hostname: string } | undefined {
  if (ing.metadata?.deletionTimestamp) return undefined;
  if (classNames && !classNames.includes(ing.spec?.ingressClassName ?? '')) return undefined;
  const entry = loadBalancerEntry(address);
  if (!entry) return undefined;
  const current = ing.status?.loadBalancer?.ingress?.[0];
  const same = current && ('ip' in entry ? current.ip === entry.ip && !current.hostname : current.hostname === entry.hostname && !current.ip);
  return same ? undefined : entry;
}

export async function startIngressStatusFaker(options: IngressStatusOptions): Promise<IngressStatusFaker> {
  const log = options.log ?? (() => {});
  const defaultAddress = options.address ?? process.env[INGRESS_ADDRESS_ENV] ?? DEFAULT_INGRESS_ADDRESS;
  const classes = options.classNames ?? (process.env[INGRESS_CLASS_ENV] ? process.env[INGRESS_CLASS_ENV].split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  const networking = options.kubeConfig.makeApiClient(NetworkingV1Api);
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const ingresses = new Map<string, V1Ingress>(); // "ns/name" → latest
  const namespaceAddress = new Map<string, string>();
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  const reconcile = async (ing: V1Ingress): Promise<void> => {
    const { name, namespace } = ing.metadata!;
    const entry = statusUpdate(ing, namespaceAddress.get(namespace!) ?? defaultAddress, classes);
    if (!entry) return;
    try {
      await networking.patchNamespacedIngressStatus({ name: name!, namespace: namespace!, body: { status: { loadBalancer: { ingress: [entry] } } } }, mergePatch);
    } catch (err) {
      if (statusCode(err) !== 404) log(`ingress ${namespace}/${name}: status update failed: ${errorMessage(err)}`);
    }
  };

  const nsWatch = runWatchLoop<V1Namespace>({
    kubeConfig: options.kubeConfig,
    path: '/api/v1/namespaces',
    list: () => core.listNamespace(),
    onEvent: (type, ns) => {
      const name = ns.metadata!.name!;
      const before = namespaceAddress.get(name);
      const after = type === 'DELETED' ? undefined : ns.metadata?.annotations?.[INGRESS_ADDRESS_ANNOTATION];
      if (after === undefined) namespaceAddress.delete(name);
      else namespaceAddress.set(name, after);
      if (before !== after) for (const ing of ingresses.values()) if (ing.metadata!.namespace === name) void reconcile(ing);
    },
    onError: (err) => log(`namespace watch: ${errorMessage(err)}`),
  });
  // Namespace overrides must be known before the first Ingress is reconciled, or an "off" namespace could get an address.
  await nsWatch.synced;
  const ingWatch = runWatchLoop<V1Ingress>({
    kubeConfig: options.kubeConfig,
    path: '/apis/networking.k8s.io/v1/ingresses',
    list: () => networking.listIngressForAllNamespaces(),
    onEvent: (type, ing) => {
      const key = `${ing.metadata!.namespace}/${ing.metadata!.name}`;
      if (type === 'DELETED') {
        ingresses.delete(key);
        return;
      }
      ingresses.set(key, ing);
      void reconcile(ing);
    },
    onError: (err) => log(`ingress watch: ${errorMessage(err)}`),
  });
  await ingWatch.synced;
  log(`ingress status faker: default address ${defaultAddress}${classes ? `, classes ${classes.join(',')}` : ''}`);
  return { stop: () => { nsWatch.stop(); ingWatch.stop(); } };
}
