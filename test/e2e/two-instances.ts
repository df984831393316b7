// Two APIM instances behind the dispatcher, the whole path (docs/apim-targets.md): two APIM emulators in one home (one
// CA and one identity, as one Entra ID tenant would have, two services), an ApimTarget for each, the webhook with the
// dispatcher (dispatcher-harness.ts setUpDispatcher), the real Job controller and the real executor in its Jobs.
// Emulator A is also the operator's own instance (the Jobs' ConfigMap); target B's Jobs run as a ServiceAccount of
// their own with the executor's permissions, as the chart's executor.targetServiceAccounts makes it.
//
// ApimTargets are cluster-scoped and the test cluster is shared by the test files running at once: these targets have
// names of their own and select nothing by default (no spec.default, no namespaceSelector), so no other test's
// ExposedAPI is moved by them.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { startApimEmulator, type ApimEmulator, type ApimEmulatorOptions } from '../../emulator/apim-emulator.ts';
import type { TestControlPlane, TestLike } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { condition, setUpDispatcher, type DispatcherSetup } from '../dispatcher/dispatcher-harness.ts';
import { executorConfigMap, installExecutorRbac, instanceIdOf } from '../executor/harness.ts';
import { openapi3, REPO_DIR } from '../helpers/fixtures.ts';
import { applyManifest, installCrd } from './webhook-in-cluster.ts';

type Obj = Record<string, any>;

export interface TwoInstancesOptions {
  /** More environment naming the namespaces and targets the setup creates (e.g. a TENANCY_POLICY). */
  envFor?: (namespaces: string[], targets: { a: string; b: string }) => Record<string, string>;
  /** More dispatcher environment (e.g. DRIFT_INTERVAL_SECONDS). */
  env?: Record<string, string>;
  /** More of the Jobs' ConfigMap (e.g. APIM_DRIFT_MODE). */
  config?: Record<string, string>;
  /** Emulator B's coordinates (e.g. the same service name as A's in another resource group). */
  emulatorB?: Pick<ApimEmulatorOptions, 'serviceName' | 'resourceGroup'>;
  /** More of each ApimTarget's spec (e.g. drift). */
  targetSpecA?: Obj;
  targetSpecB?: Obj;
}

export interface TwoInstances {
  setup: DispatcherSetup;
  /** The operator's own instance, and ApimTarget A's. */
  emuA: ApimEmulator;
  emuB: ApimEmulator;
  targetA: string;
  targetB: string;
  /** Target B's ServiceAccount in the operator namespace. */
  executorB: string;
  /** The test's ExposedAPI namespaces (two). */
  namespaces: [string, string];
  /** Creates through admission, on `target` ('' = the operator's own instance: no spec.apim.target). */
  create(ns: string, name: string, path: string, target: string): Promise<Obj>;
  /** Waits until the ExposedAPI is Ready for its applied spec on `target` ('' = the operator's own), no Job running. */
  published(ns: string, name: string, target: string): Promise<Obj>;
  /** The API ids an emulator holds. */
  apisIn(emu: ApimEmulator): string[];
}

export async function setUpTwoInstances(cp: TestControlPlane, t: TestLike, o: TwoInstancesOptions = {}): Promise<TwoInstances> {
  await installCrd(cp, join(REPO_DIR, 'manifests/base/apimtarget-crd.yaml'), 'apimtargets.exposedapi-apim.io');
  const dir = await mkdtemp(join(tmpdir(), 'exposedapi-apim-targets-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const home = join(dir, 'emulator');
  const emuA = await startApimEmulator({ dir: home, serviceName: 'apim-a', importDelayMs: 20, importDurationMs: 20 });
  t.teardown(() => emuA.close());
  const emuB = await startApimEmulator({ dir: home, serviceName: 'apim-b', importDelayMs: 20, importDurationMs: 20, ...o.emulatorB });
  t.teardown(() => emuB.close());
  const caFile = join(dir, 'emulator-ca.crt');
  await writeFile(caFile, emuA.caPem);
  if (emuB.caPem !== emuA.caPem) throw new Error('the two emulators must share one CA (one emulator home)');

  const run = Math.random().toString(36).slice(2, 8);
  const targetA = `apim-a-${run}`;
  const targetB = `apim-b-${run}`;
  const setup = await setUpDispatcher(cp, t, {
    namespaces: 2,
    env: {
      // The real executor: the node agent runs any exposedapi-apim image as cli/main.ts with the project's Node.
      EXECUTOR_IMAGE: 'ghcr.io/exposedapi-apim/exposedapi-apim:test',
      EXECUTOR_COMMAND: '',
      JOB_BACKOFF_LIMIT: '1',
      JOB_ACTIVE_DEADLINE_SECONDS: '180',
      ...o.env,
    },
    ...(o.envFor ? { envFor: (namespaces: string[]) => o.envFor!(namespaces, { a: targetA, b: targetB }) } : {}),
  });
  const namespaces = setup.namespaces as [string, string];

  // The executor's identities: the shipped one (target A and the operator's own instance), and target B's own account
  // with the same permissions.
  await installExecutorRbac(cp, setup.ops);
  const executorB = 'executor-b';
  {
    const docs = YAML.parseAllDocuments(await readFile(join(REPO_DIR, 'manifests/base/executor-rbac.yaml'), 'utf8')).map((d) => d.toJS() as Obj);
    const role = docs.find((d) => d['kind'] === 'ClusterRole')!;
    role['metadata'].name = `executor-b-${run}`;
    await applyManifest(cp, [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: executorB, namespace: setup.ops } },
      role,
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `executor-b-${run}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `executor-b-${run}` },
        subjects: [{ kind: 'ServiceAccount', name: executorB, namespace: setup.ops }] },
    ]);
    t.teardown(async () => {
      await cp.kubectl(['delete', 'clusterrolebinding', `executor-b-${run}`, '--ignore-not-found']);
      await cp.kubectl(['delete', 'clusterrole', `executor-b-${run}`, '--ignore-not-found']);
    });
  }
  // The operator's own instance is emulator A; every Job's ConfigMap. The targets override the instance per Job.
  await applyManifest(cp, [executorConfigMap(setup.ops, emuA, caFile, {
    // As the chart sets it for the dispatcher: a verify run lists only the test's namespaces of the shared plane.
    WATCH_NAMESPACES: namespaces.join(','),
    ...o.config,
  })]);

  const apimTarget = (name: string, emu: ApimEmulator, gatewayUrl: string, serviceAccountName: string, more: Obj = {}) => ({
    apiVersion: 'exposedapi-apim.io/v1alpha1',
    kind: 'ApimTarget',
    metadata: { name },
    spec: {
      resourceId: instanceIdOf(emu),
      gatewayUrl,
      identity: { serviceAccountName },
      cloud: { armEndpoint: emu.url, authorityHost: emu.authorityHost },
      ...more,
    },
  });
  await applyManifest(cp, [
    apimTarget(targetA, emuA, 'https://gateway-a.example.test', 'exposedapi-apim-executor', o.targetSpecA),
    apimTarget(targetB, emuB, 'https://gateway-b.example.test', executorB, o.targetSpecB),
  ]);
  t.teardown(async () => {
    await cp.kubectl(['delete', 'apimtarget', targetA, targetB, '--ignore-not-found']);
  });
  await waitFor('the webhook to know both ApimTargets', () => (setup.webhook.targets?.target(targetA) && setup.webhook.targets?.target(targetB) ? true : undefined), { timeoutMs: 30_000 });

  const document = JSON.stringify(openapi3([['get', '/items', 'listItems'], ['get', '/items/{id}', 'getItem']]));
  return {
    setup, emuA, emuB, targetA, targetB, executorB, namespaces,
    /**
     * The first reviews of a fresh webhook can outlast its 8 s validation budget on a loaded machine (the document
     * checker process starts); the apiserver then answers 500 InternalError, and the create is asked again, a bounded
     * number of times. A denial (4xx) is the answer.
     */
    create: async (ns, name, path, target) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await setup.create(ns, name, { spec: { developerUI: undefined, specification: document, port: 8080, path, ...(target ? { apim: { target } } : {}) } });
        } catch (e) {
          if ((e as { code?: number }).code !== 500 || attempt === 5) throw e;
        }
      }
    },
    published: (ns, name, target) => waitFor(`${ns}/${name} Ready on ${target || 'the operator\'s own instance'}`, async () => {
      const obj = await setup.get(ns, name);
      const ready = condition(obj, 'Ready');
      const progressing = condition(obj, 'Progressing');
      return ready?.['status'] === 'True' && ready['specHash'] === obj?.['status']?.appliedSpecHash && obj?.['status']?.apim?.target === target
        && progressing?.['status'] === 'False' ? obj : undefined;
    }, { timeoutMs: 180_000, intervalMs: 250 }),
    apisIn: (emu) => emu.state().apis.map((a) => a.name),
  };
}
