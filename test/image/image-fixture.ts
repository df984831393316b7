// What the image test and the image bench share: the tools they need (checked first, every missing one named with
// the command that installs it), an unpacked image, and the executor's configuration handed to a container the way a
// Job gets it (files mounted read-only, environment variables).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProblems } from '../../scripts/build-image.ts';
import type { ExecutorBench } from '../executor/harness.ts';
import type { BindMount } from './runc-container.ts';

/** Problems that stop the image from being built and run here, each with its fix. */
export function imageProblems(): string[] {
  const problems = buildProblems();
  const has = (c: string): boolean => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  if (!has('runc')) problems.push('missing runc: apt-get update && apt-get install -y runc');
  if (!has('go')) problems.push('missing go: Go ≥ 1.26.6 (containerd v2.4.2\'s minimum) generates containerd\'s RuntimeDefault seccomp profile (scripts/image/seccomp-profile); the control plane build needs Go too (scripts/build-control-plane.sh)');
  return problems;
}

/** `umoci unpack` of the layout's image into `dir` (an independent reader of what the build wrote); returns the rootfs. */
export function unpackImage(layout: string, tag: string, dir: string): string {
  const r = spawnSync('umoci', ['unpack', '--image', `${layout}:${tag}`, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`umoci unpack ${layout}:${tag}: ${r.stderr || r.error?.message}`);
  return join(dir, 'rootfs');
}

/** Where the executor's files appear in the container. */
export const CONFIG_DIR = '/var/run/exposedapi-apim';

/**
 * The executor bench's Job environment for a container: its kubeconfig (a ServiceAccount token) and CA bundle copied
 * where uid 65532 may read them (the bench writes them for its own user, mode 0600) and mounted read-only; the rest of
 * the environment as the ConfigMap gives it. PATH and HOME are the image's (HOME as the runtime sets it from
 * /etc/passwd).
 */
export function executorContainerConfig(b: ExecutorBench, dir: string, extra: Record<string, string> = {}): { env: Record<string, string>; mounts: BindMount[] } {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const { PATH: _path, HOME: _home, KUBECONFIG: kubeconfig, NODE_EXTRA_CA_CERTS: caBundle, ...env } = b.env(extra);
  const files = { kubeconfig: kubeconfig!, 'ca-bundle.crt': caBundle! };
  for (const [name, source] of Object.entries(files)) {
    copyFileSync(source, join(dir, name));
    chmodSync(join(dir, name), 0o644);
  }
  return {
    env: { ...env, HOME: '/home/nonroot', KUBECONFIG: `${CONFIG_DIR}/kubeconfig`, NODE_EXTRA_CA_CERTS: `${CONFIG_DIR}/ca-bundle.crt` },
    mounts: [{ source: dir, destination: CONFIG_DIR }],
  };
}

/** The compile cache lines NODE_DEBUG_NATIVE=COMPILE_CACHE writes: which modules' caches V8 accepted or rejected. */
export function compileCacheReport(stderr: string): { read: string[]; accepted: string[]; rejected: string[]; folder?: string } {
  const read = [...stderr.matchAll(/reading cache from \S+ for ESM (\S+?)\.\.\./g)].map((m) => m[1]!);
  const accepted = [...stderr.matchAll(/V8 code cache for ESM (\S+) was accepted/g)].map((m) => m[1]!);
  const rejected = [...stderr.matchAll(/V8 code cache for ESM (\S+) was rejected|cache for (\S+) (?:is )?(?:mismatch|invalid)/g)].map((m) => m[1] ?? m[2]!);
  const folder = /\[compile cache\] resolved path \S+ \+ (\S+)/.exec(stderr)?.[1];
  return { read, accepted, rejected, ...(folder ? { folder } : {}) };
}

export function readJsonFile(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}
