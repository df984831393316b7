// Runs the kubectl built with the control plane (same version as the apiserver, unlike any kubectl on PATH) against
// a given kubeconfig. Bounded: a hung kubectl is killed by its PID after the timeout.
import { spawn } from 'node:child_process';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  input?: string;
  timeoutMs?: number;
}

export function runKubectl(kubectl: string, kubeconfigPath: string, args: string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, [`--kubeconfig=${kubeconfigPath}`, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfigPath },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${kubectl}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) stderr += `\nkubectl killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutMs} ms` : ''}`;
      resolve({ code: code ?? 128, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
