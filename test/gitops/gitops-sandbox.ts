// The running system for the GitOps tests: the sandbox (dev-cluster/sandbox: its own control plane with the real Job
// controller, the webhook and dispatcher registered as in an install, the executor in every Job, the APIM emulator),
// plus what GitOps tools make of an ExposedAPI read back from its apiserver: Argo CD's verdict (the shipped Lua under
// Lua 5.1) and kstatus's (cli-utils). Every version of every ExposedAPI the test sees through a watch is kept, so a
// test can assert on all status writes, not only on the last.
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { ODA_GROUP } from '../../core/exposedapi-model.ts';
import { runWatchLoop } from '../../dev-cluster/control-plane/watch-loop.ts';
import { SANDBOX_NAMESPACE, SAMPLE_SERVICE, startSandbox, type Sandbox } from '../../dev-cluster/sandbox/sandbox.ts';
import type { TestLike } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { exposedApi } from '../helpers/fixtures.ts';
import { HEALTH_LUA } from './argocd-cm-patch.ts';
import { kstatus, kstatusBinary } from './kstatus-binary.ts';
import { runHealthScript, type ArgoHealth } from './lua-health.ts';

export type Obj = Record<string, any>;
export const NS = SANDBOX_NAMESPACE;

export interface GitopsSandbox {
  sandbox: Sandbox;
  /** `kubectl` with the sandbox's admin kubeconfig; never throws (code, stdout, stderr). */
  kubectl(args: string[], input?: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  get(name: string): Promise<Obj | undefined>;
  /** Every version of each ExposedAPI of the namespace, in the order the watch delivered them. */
  versions: Map<string, Obj[]>;
  verdicts(obj: Obj): Promise<{ argo: ArgoHealth; kstatus: { status: string; message: string } }>;
}

/** A TMF620 ExposedAPI the sample backend serves, at /<name>/v4. */
export function manifest(name: string, spec: Obj = {}): Obj {
  return exposedApi({
    metadata: { name, namespace: NS },
    spec: { implementation: SAMPLE_SERVICE, path: `/${name}/v4`, developerUI: undefined, specification: { url: '${SANDBOX_SPEC_BASE}/TMF620-ProductCatalog-v4.0.0.swagger.json', version: 'v4' }, ...spec },
  });
}

export async function gitopsSandbox(t: TestLike): Promise<GitopsSandbox> {
  const binary = await kstatusBinary(); // before the sandbox: a cold build competes with nothing
  const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-gitops-'));
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({ dir, log: () => {} });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  t.teardown(async () => {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const cp = sandbox.lcp.cp;
  const kubectl = async (args: string[], input?: string, timeoutMs = 120_000) => {
    const r = await cp.kubectl(args, { ...(input !== undefined ? { input } : {}), timeoutMs });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  const get = async (name: string): Promise<Obj | undefined> => {
    const r = await kubectl(['get', 'exposedapi', name, '-n', NS, '-o', 'json']);
    if (r.code !== 0) {
      if (/NotFound/.test(r.stderr)) return undefined;
      throw new Error(r.stderr);
    }
    return JSON.parse(r.stdout) as Obj;
  };

  const versions = new Map<string, Obj[]>();
  const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const watch = runWatchLoop<KubernetesObject>({
    kubeConfig: cp.kubeConfig(),
    path: `/apis/${ODA_GROUP}/v1/namespaces/${NS}/exposedapis`,
    list: async () => (await custom.listNamespacedCustomObject({ group: ODA_GROUP, version: 'v1', namespace: NS, plural: 'exposedapis' })) as { items: KubernetesObject[] },
    onEvent: (_type, obj) => {
      const name = obj.metadata?.name ?? '';
      const seen = versions.get(name) ?? [];
      if (seen.at(-1)?.['metadata']?.resourceVersion !== obj.metadata?.resourceVersion) seen.push(structuredClone(obj) as Obj);
      versions.set(name, seen);
    },
  });
  t.teardown(() => watch.stop());
  await waitFor('the test\'s ExposedAPI watch to sync', async () => {
    const synced = await Promise.race([watch.synced.then(() => true), new Promise((r) => setTimeout(() => r(undefined), 500))]);
    return synced ? true : undefined;
  }, { timeoutMs: 30_000 });

  return {
    sandbox,
    kubectl,
    get,
    versions,
    async verdicts(obj) {
      const [argo, [k]] = await Promise.all([runHealthScript(HEALTH_LUA, obj), kstatus(binary, [obj])]);
      return { argo, kstatus: { status: k!.status, message: k!.message } };
    },
  };
}

/** `kubectl apply --server-side` of manifests, as a GitOps tool applies them (its field manager). */
export async function serverSideApply(g: GitopsSandbox, objs: Obj[], fieldManager: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const text = objs.map((o) => YAML.stringify(o)).join('---\n').replaceAll('${SANDBOX_SPEC_BASE}', g.sandbox.backend.url);
  return g.kubectl(['apply', '--server-side', `--field-manager=${fieldManager}`, '-n', NS, ...extra, '-f', '-'], text);
}

/** The condition of a type (the first, as the operator reads them). */
export function condition(obj: Obj | undefined, type: string): Obj | undefined {
  return ((obj?.['status']?.['conditions'] ?? []) as Obj[]).find((c) => c?.['type'] === type);
}
