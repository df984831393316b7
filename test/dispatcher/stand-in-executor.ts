// A stand-in for the executor in dispatcher tests: the same command line (`[execute] apply|delete --namespace NS
// --name NAME --spec-hash H`), the same identity (the pod's ServiceAccount token) and the same status contract
// (appliedSpecHash, apiStatus, its Published condition; a delete removes the finalizer; docs/status.md), but no APIM. What it does is steered by
// annotations on the ExposedAPI, so a test decides per object:
//   test.exposedapi-apim.io/exit-code         exit code of an apply (default 0); non-zero records Published False first
//   test.exposedapi-apim.io/delete-exit-code  exit code of a delete (default 0)
//   test.exposedapi-apim.io/hold              "true": keep running until the annotation changes (at most 60 s)
//   test.exposedapi-apim.io/silent            "true": succeed without recording anything
// Run by the test node agent as `node <this file> …` (an image name containing exposedapi-apim selects its Node 24).
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FINALIZER, SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { setCondition, type Condition } from '../../core/exposedapi-status.ts';

export const STAND_IN = {
  exitCode: 'test.exposedapi-apim.io/exit-code',
  deleteExitCode: 'test.exposedapi-apim.io/delete-exit-code',
  hold: 'test.exposedapi-apim.io/hold',
  silent: 'test.exposedapi-apim.io/silent',
} as const;

type Obj = Record<string, any>;

function client(): CustomObjectsApi {
  const dir = process.env['EXPOSEDAPI_APIM_SERVICEACCOUNT_DIR'] ?? '/var/run/secrets/kubernetes.io/serviceaccount';
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'in-cluster', server: `https://${process.env['KUBERNETES_SERVICE_HOST']}:${process.env['KUBERNETES_SERVICE_PORT']}`, caFile: `${dir}/ca.crt` }],
    users: [{ name: 'pod', token: readFileSync(`${dir}/token`, 'utf8').trim() }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'pod' }],
    currentContext: 'in-cluster',
  });
  return kc.makeApiClient(CustomObjectsApi);
}

const log = (msg: string, fields: object = {}) => process.stdout.write(`${JSON.stringify({ msg, ...fields })}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'execute') argv.shift();
  const [action] = argv;
  const { values } = parseArgs({ args: argv.slice(1), options: { namespace: { type: 'string' }, name: { type: 'string' }, 'spec-hash': { type: 'string' } } });
  const namespace = values.namespace!;
  const name = values.name!;
  const hash = values['spec-hash']!;
  const job = process.env['JOB_NAME'] ?? '';
  if ((action !== 'apply' && action !== 'delete') || !namespace || !name || !hash) {
    log('usage: [execute] apply|delete --namespace NS --name NAME --spec-hash H', { argv });
    return 2;
  }
  const api = client();
  const ref = { group: 'oda.tmforum.org', version: 'v1', namespace, plural: 'exposedapis', name };
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const read = async (): Promise<Obj | undefined> => {
    try {
      return (await api.getNamespacedCustomObject(ref)) as Obj;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };
  let obj = await read();
  log('stand-in executor started', { action, namespace, name, hash, job });
  if (!obj) return 0;
  for (let waited = 0; obj?.['metadata']?.annotations?.[STAND_IN.hold] === 'true' && waited < 60_000; waited += 100) {
    await sleep(100);
    obj = await read();
  }
  if (!obj) return 0;
  const annotations: Obj = obj['metadata'].annotations ?? {};
  const exitCode = Number(annotations[action === 'apply' ? STAND_IN.exitCode : STAND_IN.deleteExitCode] ?? 0);

  /** Read-modify-write of the status under its resourceVersion, as the real executor must do. */
  const writeStatus = async (change: (status: Obj) => Obj): Promise<void> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = attempt === 0 ? obj! : await read();
      if (!current) return;
      try {
        await api.patchNamespacedCustomObject({ ...ref, body: { metadata: { resourceVersion: current['metadata'].resourceVersion }, status: change(current['status'] ?? {}) }, fieldManager: 'exposedapi-apim-executor' }, mergePatch);
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
    throw new Error('status write kept conflicting');
  };
  const condition = (status: Obj, c: Omit<Condition, 'lastTransitionTime'>) => setCondition(status['conditions'], c, new Date());

  if (action === 'apply') {
    if (exitCode !== 0) {
      await writeStatus((s) => ({ conditions: condition(s, { type: 'Published', status: 'False', reason: 'StandInFailure', message: `told to exit ${exitCode}`, specHash: hash }) }));
      log('failing as told', { exitCode });
      return exitCode;
    }
    if (annotations[STAND_IN.silent] === 'true') return 0;
    // Superseded: the object has moved on to a newer change; its own Job applies that one.
    if (annotations[SPEC_HASH_ANNOTATION] !== hash) {
      log('superseded', { current: annotations[SPEC_HASH_ANNOTATION] });
      return 0;
    }
    await writeStatus((s) => ({
      appliedSpecHash: hash,
      apiStatus: { name, url: `https://apim.example.test${obj!['spec']?.path ?? ''}`, path: obj!['spec']?.path, port: obj!['spec']?.port, implementation: obj!['spec']?.implementation },
      conditions: condition(s, { type: 'Published', status: 'True', reason: 'Applied', message: `applied by ${job}`, specHash: hash }),
    }));
    log('applied');
    return 0;
  }
  if (exitCode !== 0) {
    log('failing the delete as told', { exitCode });
    return exitCode;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = attempt === 0 ? obj : await read();
    if (!current) return 0;
    const finalizers: string[] = current['metadata'].finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return 0;
    try {
      await api.patchNamespacedCustomObject({ ...ref, body: { metadata: { resourceVersion: current['metadata'].resourceVersion, finalizers: finalizers.filter((f) => f !== FINALIZER) } }, fieldManager: 'exposedapi-apim-executor' }, mergePatch);
      log('deleted; finalizer removed');
      return 0;
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) return 0;
      if (code !== 409) throw err;
    }
  }
  return 1;
}

if (import.meta.main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      log('stand-in executor crashed', { error: err instanceof Error ? err.message : String(err) });
      process.exitCode = 1;
    },
  );
}
