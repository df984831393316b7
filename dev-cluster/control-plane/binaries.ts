// Finds the control-plane binaries. They are built once from the Kubernetes Go modules by
// scripts/build-control-plane.sh and cached outside the checkout; the harness never downloads anything. The script is
// idempotent and answers in milliseconds when the cache is complete, so running it is also how we locate the cache.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './repo-root.ts';

export interface ControlPlaneBinaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
}

/** Overrides the cache lookup, e.g. to try binaries of another Kubernetes version. */
export const BIN_DIR_ENV = 'EXPOSEDAPI_APIM_BIN_DIR';

const BUILD_SCRIPT = join(REPO_ROOT, 'scripts', 'build-control-plane.sh');

/** `log` receives the build script's progress lines as they come (a cold build takes many minutes). */
export async function locateBinaries(log: (line: string) => void = () => {}): Promise<ControlPlaneBinaries> {
  const dir = process.env[BIN_DIR_ENV] || (await runBuildScript(log));
  const bins: ControlPlaneBinaries = {
    dir,
    etcd: join(dir, 'etcd'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubectl: join(dir, 'kubectl'),
  };
  for (const path of [bins.etcd, bins.kubeApiserver, bins.kubeControllerManager, bins.kubectl]) {
    try {
      await access(path, constants.X_OK);
    } catch {
      const source = process.env[BIN_DIR_ENV] ? `${BIN_DIR_ENV}=${dir}` : `${BUILD_SCRIPT}'s output directory`;
      throw new Error(`control plane binary ${path} is missing or not executable (from ${source}); ` +
        `run scripts/build-control-plane.sh${process.env[BIN_DIR_ENV] ? ` or unset ${BIN_DIR_ENV}` : ''}`);
    }
  }
  return bins;
}

async function runBuildScript(log: (line: string) => void): Promise<string> {
  let stdout: string;
  try {
    // A cold build takes many minutes; a cached one milliseconds. No timeout: a cold build is legitimate.
    const run = promisify(execFile)('bash', [BUILD_SCRIPT], { maxBuffer: 16 * 1024 * 1024 });
    run.child.stderr?.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter((l) => l.startsWith('[build-')).forEach((l) => log(l)));
    ({ stdout } = await run);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${BUILD_SCRIPT} failed, so the control plane binaries are unavailable: ${e.stderr?.trim() || e.message}\n` +
      `Fix the build (it needs Go >= 1.26 and the Go module proxy) or point ${BIN_DIR_ENV} at a directory holding ` +
      'etcd, kube-apiserver, kube-controller-manager and kubectl.');
  }
  const dir = stdout.trim().split('\n').pop()?.trim();
  if (!dir) throw new Error(`${BUILD_SCRIPT} printed no output directory; expected its last stdout line to be the bin dir`);
  return dir;
}
