// Volumes for a pod whose containers are local processes. Each mounted volume is written once under the pod's directory
// and each container gets its own "rootfs" where the mount paths are symlinks to those volumes. A local process cannot
// read /var/run/secrets/..., so the node agent also points EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR at the container's view
// of the projected ServiceAccount token volume (token, ca.crt, namespace), i.e. `<rootfs>/var/run/secrets/kubernetes.io/
// serviceaccount` for the volume the ServiceAccount admission plugin adds. Because the layout mirrors a container,
// @kubernetes/client-node's `loadFromCluster(rootfs)` works too.
//
// Supported: projected (serviceAccountToken, configMap, secret, downwardAPI), configMap, secret, downwardAPI, emptyDir.
// Tokens are requested once at start (bound to the pod, with the projection's audience and expiry) and not refreshed.
import type { V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigNotReadyError, podFieldValue, type ConfigSource } from './pod-env.ts';

export interface TokenSpec {
  audience?: string;
  expirationSeconds: number;
  pod: { name: string; uid: string };
}

export interface VolumeSource extends ConfigSource {
  /** A TokenRequest for the ServiceAccount; returns the JWT. */
  token: (namespace: string, serviceAccount: string, spec: TokenSpec) => Promise<string>;
}

export interface ContainerFilesystem {
  rootfs: string;
  /** Set when the container mounts a projected volume with a serviceAccountToken source. */
  serviceAccountDir?: string;
}

export const SERVICEACCOUNT_DIR_ENV = 'EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR';

/** Writes every volume some container mounts and returns each container's filesystem view, by container name. */
export async function materializeVolumes(pod: V1Pod, podDir: string, source: VolumeSource): Promise<Map<string, ContainerFilesystem>> {
  const spec = pod.spec!;
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  const mounted = new Set(containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  const volumeDirs = new Map<string, { dir: string; hasToken: boolean }>();
  for (const volume of spec.volumes ?? []) {
    if (!mounted.has(volume.name)) continue;
    const dir = join(podDir, 'volumes', volume.name);
    await mkdir(dir, { recursive: true });
    const hasToken = await writeVolume(pod, volume, dir, source);
    volumeDirs.set(volume.name, { dir, hasToken });
  }
  const result = new Map<string, ContainerFilesystem>();
  for (const c of containers) {
    const rootfs = join(podDir, 'rootfs', c.name);
    await mkdir(rootfs, { recursive: true });
    const fs: ContainerFilesystem = { rootfs };
    for (const m of c.volumeMounts ?? []) {
      const volume = volumeDirs.get(m.name);
      if (!volume) throw new ConfigNotReadyError(`volumeMount "${m.name}" refers to no volume of the pod`);
      const link = join(rootfs, m.mountPath);
      await mkdir(dirname(link), { recursive: true });
      await symlink(m.subPath ? join(volume.dir, m.subPath) : volume.dir, link).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      // Prefer the standard mount path if a container somehow mounts several token volumes.
      if (volume.hasToken && (!fs.serviceAccountDir || m.mountPath === STANDARD_SA_PATH)) fs.serviceAccountDir = link;
    }
    result.set(c.name, fs);
  }
  return result;
}

const STANDARD_SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Returns whether the volume holds a ServiceAccount token. */
async function writeVolume(pod: V1Pod, volume: V1Volume, dir: string, source: VolumeSource): Promise<boolean> {
  const namespace = pod.metadata!.namespace!;
  const put = async (path: string, content: string | Buffer): Promise<void> => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  };
  const writeConfigMap = async (name: string, items: V1KeyToPath[] | undefined, optional: boolean | undefined): Promise<void> => {
    const cm = await source.configMap(namespace, name);
    if (!cm) {
      if (optional) return;
      throw new ConfigNotReadyError(`configmap "${name}" not found (volume "${volume.name}")`);
    }
    const all: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(cm.data ?? {})) all[k] = Buffer.from(v);
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) all[k] = Buffer.from(v, 'base64');
    await writeItems(all, items, `ConfigMap ${namespace}/${name}`, optional);
  };
  const writeSecret = async (name: string, items: V1KeyToPath[] | undefined, optional: boolean | undefined): Promise<void> => {
    const secret = await source.secret(namespace, name);
    if (!secret) {
      if (optional) return;
      throw new ConfigNotReadyError(`secret "${name}" not found (volume "${volume.name}")`);
    }
    const all: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) all[k] = Buffer.from(v, 'base64');
    await writeItems(all, items, `Secret ${namespace}/${name}`, optional);
  };
  const writeItems = async (all: Record<string, Buffer>, items: V1KeyToPath[] | undefined, what: string, optional?: boolean): Promise<void> => {
    if (!items) {
      for (const [k, v] of Object.entries(all)) await put(k, v);
      return;
    }
    for (const item of items) {
      const value = all[item.key];
      if (value === undefined) {
        if (optional) continue;
        throw new ConfigNotReadyError(`couldn't find key ${item.key} in ${what} (volume "${volume.name}")`);
      }
      await put(item.path, value);
    }
  };

  if (volume.emptyDir) return false;
  if (volume.configMap) {
    await writeConfigMap(volume.configMap.name ?? '', volume.configMap.items, volume.configMap.optional);
    return false;
  }
  if (volume.secret) {
    await writeSecret(volume.secret.secretName ?? '', volume.secret.items, volume.secret.optional);
    return false;
  }
  if (volume.downwardAPI) {
    for (const item of volume.downwardAPI.items ?? []) if (item.fieldRef) await put(item.path, podFieldValue(pod, item.fieldRef.fieldPath));
    return false;
  }
  if (volume.projected) {
    let hasToken = false;
    for (const s of volume.projected.sources ?? []) {
      if (s.serviceAccountToken) {
        hasToken = true;
        const token = await source.token(namespace, pod.spec!.serviceAccountName ?? 'default', {
          ...(s.serviceAccountToken.audience ? { audience: s.serviceAccountToken.audience } : {}),
          expirationSeconds: s.serviceAccountToken.expirationSeconds ?? 3600,
          pod: { name: pod.metadata!.name!, uid: pod.metadata!.uid! },
        });
        await put(s.serviceAccountToken.path, token);
      } else if (s.configMap) {
        await writeConfigMap(s.configMap.name ?? '', s.configMap.items, s.configMap.optional);
      } else if (s.secret) {
        await writeSecret(s.secret.name ?? '', s.secret.items, s.secret.optional);
      } else if (s.downwardAPI) {
        for (const item of s.downwardAPI.items ?? []) if (item.fieldRef) await put(item.path, podFieldValue(pod, item.fieldRef.fieldPath));
      } else {
        throw new ConfigNotReadyError(`volume "${volume.name}": projected source ${Object.keys(s).join(',')} is not supported by the test node agent`);
      }
    }
    return hasToken;
  }
  const kind = Object.keys(volume).filter((k) => k !== 'name').join(',');
  throw new ConfigNotReadyError(`volume "${volume.name}" of type ${kind} is not supported by the test node agent ` +
    '(supported: projected, configMap, secret, downwardAPI, emptyDir)');
}
