// The chart's tests run the Helm built by scripts/build-helm.sh (cached; built on first use), each process with its own
// Helm cache, config and data folders so that no test reads or writes the user's Helm configuration. Every run is
// bounded: a hung helm is killed by its PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { CHART_DIR, helmBinary } from '../../scripts/generate-manifests.ts';

export { CHART_DIR };
export type Obj = Record<string, any>;

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string | undefined;
let binary: string | undefined;

function helmHome(): string {
  if (!home) {
    home = mkdtempSync(join(tmpdir(), 'chart-test-helm-'));
    const dir = home;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return home;
}

/** Runs helm with `args` (against `kubeconfigPath` when given); never throws for a non-zero exit. */
export function helm(args: string[], options: { kubeconfigPath?: string; timeoutMs?: number } = {}): Promise<HelmResult> {
  binary ??= helmBinary();
  const dir = helmHome();
  return new Promise((resolve, reject) => {
    const child = spawn(binary!, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: dir,
        HELM_CACHE_HOME: join(dir, 'cache'),
        HELM_CONFIG_HOME: join(dir, 'config'),
        HELM_DATA_HOME: join(dir, 'data'),
        NO_PROXY: '127.0.0.1,localhost',
        ...(options.kubeconfigPath ? { KUBECONFIG: options.kubeconfigPath } : {}),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timeoutMs = options.timeoutMs ?? 120_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${binary}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) stderr += `\nhelm killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutMs} ms` : ''}`;
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

/** A values file for `--values` (helm's --set cannot express lists of objects without escaping). */
export function valuesFile(values: object): string {
  const path = join(helmHome(), `values-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, YAML.stringify(values));
  return path;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
}

/** `helm template` of the chart: its text, or the failure as an Error carrying helm's message. */
export async function templateText(values: object, render: RenderOptions = {}): Promise<string> {
  const r = await helm(['template', render.release ?? 'exposedapi-apim', CHART_DIR, '--namespace', render.namespace ?? 'exposedapi-apim', '--values', valuesFile(values)]);
  if (r.code !== 0) throw new Error(r.stderr.trim());
  return r.stdout;
}

/** The rendered objects (empty documents left out). */
export async function renderChart(values: object, render: RenderOptions = {}): Promise<Obj[]> {
  return YAML.parseAllDocuments(await templateText(values, render)).map((d) => d.toJS() as Obj).filter(Boolean);
}

export function find(objs: Obj[], kind: string, name?: string): Obj {
  const found = objs.filter((o) => o['kind'] === kind && (name === undefined || o['metadata'].name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}: ${objs.map((o) => `${o['kind']}/${o['metadata'].name}`).join(', ')}`);
  return found[0]!;
}
