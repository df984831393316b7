// A container's environment as kubelet builds it: the image's and the cluster's variables first, then `envFrom`
// sources, then `env` entries (which may refer to earlier ones with `$(VAR)`). ConfigMaps and Secrets are read from the
// API at start, like kubelet does; a missing non-optional source is a ConfigNotReadyError, which the node agent reports
// as CreateContainerConfigError and retries until the source appears or the pod goes away.
import type { V1ConfigMap, V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { expandEnvReferences } from './container-command.ts';

export class ConfigNotReadyError extends Error {
  override name = 'ConfigNotReadyError';
}

/** Where ConfigMaps and Secrets come from; undefined means "not found". */
export interface ConfigSource {
  configMap: (namespace: string, name: string) => Promise<V1ConfigMap | undefined>;
  secret: (namespace: string, name: string) => Promise<V1Secret | undefined>;
}

// Same rule kubelet applies to envFrom keys (validation.IsEnvVarName): anything else is skipped, not an error.
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export async function resolveContainerEnv(pod: V1Pod, container: V1Container, base: Record<string, string>,
  source: ConfigSource): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = { ...base };

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await source.configMap(namespace, from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ConfigNotReadyError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) if (ENV_NAME.test(prefix + k)) env[prefix + k] = v;
    }
    if (from.secretRef) {
      const secret = await source.secret(namespace, from.secretRef.name ?? '');
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ConfigNotReadyError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(secret.data ?? {})) {
        if (ENV_NAME.test(prefix + k)) env[prefix + k] = Buffer.from(v, 'base64').toString('utf8');
      }
    }
  }

  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expandEnvReferences(e.value ?? '', env);
      continue;
    }
    const { configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef } = e.valueFrom;
    if (configMapKeyRef) {
      const cm = await source.configMap(namespace, configMapKeyRef.name ?? '');
      const value = cm?.data?.[configMapKeyRef.key];
      if (value === undefined) {
        if (configMapKeyRef.optional) continue;
        throw new ConfigNotReadyError(cm ? `couldn't find key ${configMapKeyRef.key} in ConfigMap ${namespace}/${configMapKeyRef.name}`
          : `configmap "${configMapKeyRef.name}" not found`);
      }
      env[e.name] = value;
    } else if (secretKeyRef) {
      const secret = await source.secret(namespace, secretKeyRef.name ?? '');
      const value = secret?.data?.[secretKeyRef.key];
      if (value === undefined) {
        if (secretKeyRef.optional) continue;
        throw new ConfigNotReadyError(secret ? `couldn't find key ${secretKeyRef.key} in Secret ${namespace}/${secretKeyRef.name}`
          : `secret "${secretKeyRef.name}" not found`);
      }
      env[e.name] = Buffer.from(value, 'base64').toString('utf8');
    } else if (fieldRef) {
      env[e.name] = podFieldValue(pod, fieldRef.fieldPath);
    } else if (resourceFieldRef) {
      throw new Error(`env ${e.name}: resourceFieldRef is not supported by the test node agent (no cgroups); ` +
        'use a plain value in tests');
    }
  }
  return env;
}

/** The downward API's fieldRef paths (the set kubelet supports for env and volumes). */
export function podFieldValue(pod: V1Pod, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const mapEntry = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (mapEntry) return (mapEntry[1] === 'labels' ? meta.labels : meta.annotations)?.[mapEntry[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? '';
    case 'metadata.uid': return meta.uid ?? '';
    case 'metadata.labels': return formatMap(meta.labels);
    case 'metadata.annotations': return formatMap(meta.annotations);
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': case 'status.podIP': return LOOPBACK;
    case 'status.hostIPs': case 'status.podIPs': return LOOPBACK;
    default:
      throw new Error(`fieldRef "${fieldPath}" is not a downward API field the test node agent knows; supported: ` +
        "metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], " +
        'spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP');
  }
}

/** Pods share the host's loopback: there is no pod network. */
export const LOOPBACK = '127.0.0.1';

function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}="${m![k]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join('\n');
}
