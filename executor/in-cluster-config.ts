// How the executor reaches the Kubernetes API. In a Job pod: the ServiceAccount token and CA from
// $EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR when set (where the test node agent maps the projected volume), else the
// standard mount, and the apiserver from KUBERNETES_SERVICE_HOST/PORT. Outside a pod (development, tests run as a
// ServiceAccount): the kubeconfig file named by KUBECONFIG (current context; token or client certificate inline).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const STANDARD_SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnection {
  server: string;
  /** Bearer token (never logged). */
  token?: string;
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Where the connection came from, for the log. */
  source: string;
}

type Env = Record<string, string | undefined>;

function hostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function inClusterConnection(env: Env = process.env, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): KubeConnection {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('not in a Kubernetes pod (KUBERNETES_SERVICE_HOST/PORT unset) and KUBECONFIG is not set');
  const dir = env['EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR'] || STANDARD_SERVICEACCOUNT_DIR;
  return {
    server: `https://${hostPort(host, port)}`,
    token: read(join(dir, 'token')).trim(),
    caPem: read(join(dir, 'ca.crt')),
    source: `in-cluster (${dir})`,
  };
}

/** A kubeconfig list entry: `{name, cluster|user|context: {...}}`. */
type NamedEntry = { name?: unknown } & Record<string, unknown>;

function named(list: unknown, name: string, field: string): Record<string, unknown> {
  const entry = (Array.isArray(list) ? (list as NamedEntry[]) : []).find((e) => e.name === name);
  const inner = entry?.[field];
  if (!inner || typeof inner !== 'object') throw new Error(`kubeconfig: no ${field} named ${JSON.stringify(name)}`);
  return inner as Record<string, unknown>;
}

function dataOrFile(obj: Record<string, unknown>, key: string, read: (p: string) => string): string | undefined {
  const data = obj[`${key}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const file = obj[key];
  return typeof file === 'string' ? read(file) : undefined;
}

export async function kubeconfigConnection(path: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): Promise<KubeConnection> {
  // Loaded only here: a Job in a pod never reads a kubeconfig, and start-up time counts for a process per change.
  const { default: YAML } = await import('yaml');
  const doc = YAML.parse(read(path)) as Record<string, unknown>;
  const contextName = doc['current-context'];
  if (typeof contextName !== 'string') throw new Error(`kubeconfig ${path}: no current-context`);
  const context = named(doc['contexts'], contextName, 'context');
  const cluster = named(doc['clusters'], String(context['cluster']), 'cluster');
  const user = named(doc['users'], String(context['user']), 'user');
  const tokenFile = user['tokenFile'];
  const token = typeof user['token'] === 'string' ? user['token'] : typeof tokenFile === 'string' ? read(tokenFile).trim() : undefined;
  return {
    server: String(cluster['server']).replace(/\/+$/, ''),
    ...(token !== undefined ? { token } : {}),
    ...optional('caPem', dataOrFile(cluster, 'certificate-authority', read)),
    ...optional('clientCertPem', dataOrFile(user, 'client-certificate', read)),
    ...optional('clientKeyPem', dataOrFile(user, 'client-key', read)),
    source: `kubeconfig ${path} (context ${contextName})`,
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

export async function kubeConnection(env: Env = process.env): Promise<KubeConnection> {
  const kubeconfig = env['KUBECONFIG']?.split(':')[0];
  if (kubeconfig) return kubeconfigConnection(kubeconfig);
  return inClusterConnection(env);
}
