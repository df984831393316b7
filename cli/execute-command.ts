// `exposedapi-apim execute apply|delete --namespace NS --name NAME --spec-hash H`: what each Job runs. Configuration
// comes from the environment (docs/executor.md); the exit code tells the Job what happened (0 done or nothing to do,
// 1 retry later, 42 permanent: the reason is in the ExposedAPI's status).
import { parseArgs } from 'node:util';
import { readExecutorConfig } from '../core/executor-config.ts';
import { DETACH_ANNOTATION } from '../core/exposedapi-model.ts';
import { EXIT_IMPLEMENTATION_NOT_READY, EXIT_OK, EXIT_PERMANENT, EXIT_RETRIABLE, type JobAction } from '../core/exposedapi-status.ts';
import { gate } from '../executor/change-gate.ts';
import { exposedApiPath, type ExposedApiObject } from '../executor/exposedapi-object.ts';
import { kubeConnection } from '../executor/in-cluster-config.ts';
import { jobLog } from '../executor/job-log.ts';
import { classifyKubeError, KubeClient } from '../executor/kube-client.ts';
import { runContext } from '../executor/run-context.ts';
import type { RunResult } from '../executor/step-runner.ts';
import { errorMessage } from '../core/kube/errors.ts';

const HELP = `usage: exposedapi-apim execute apply|delete|release --namespace NS --name NAME --spec-hash H
       exposedapi-apim execute verify

Applies one accepted change of an ExposedAPI to Azure API Management (apply), or undoes it once the ExposedAPI is
being deleted (delete), or removes it from an instance it moved away from (release: the instance of APIM_TARGET,
listed in status.apim.formerTargets). Does nothing when the ExposedAPI is gone or its exposedapi-apim.io/spec-hash
annotation is no longer H. verify compares APIM with every applied ExposedAPI, reading only, and marks those that
drifted (Drifted, docs/drift.md). Configuration: environment variables, see docs/executor.md.

Exit codes: 0 done (or nothing to do), 1 transient failure (retry), 42 permanent failure (reason in status).
`;

const ACTIONS: readonly JobAction[] = ['apply', 'delete', 'release'];

/** The Job process contract, and the only place a run's result becomes an exit code. */
export function exitCodeFor(result: RunResult | { kind: 'failed'; retriable: boolean }): number {
  if (result.kind === 'done') return EXIT_OK;
  // Also FailJob: the dispatcher starts the next Job when the implementation's EndpointSlices say a pod is ready.
  if ('waitsForImplementation' in result && result.waitsForImplementation) return EXIT_IMPLEMENTATION_NOT_READY;
  // The podFailurePolicy turns EXIT_PERMANENT into FailJob: retrying cannot help, the reason is in status.
  return result.retriable ? EXIT_RETRIABLE : EXIT_PERMANENT;
}

function usageError(message: string): number {
  process.stderr.write(`exposedapi-apim execute: ${message}\n\n${HELP}`);
  // Retrying a Job whose arguments are wrong cannot help.
  return EXIT_PERMANENT;
}

/** `execute verify`: no ExposedAPI of its own; every applied one of this APIM service is compared (docs/drift.md). */
async function verify(values: { namespace?: string; name?: string; 'spec-hash'?: string }): Promise<number> {
  if (values.namespace || values.name || values['spec-hash']) return usageError('verify takes no --namespace, --name or --spec-hash: it verifies every applied ExposedAPI');
  const configured = readExecutorConfig(process.env);
  const base = { action: 'verify', job: process.env['JOB_NAME'] ?? null };
  if (!configured.ok) {
    jobLog('info', base).error('invalid configuration: fix the exposedapi-apim-config ConfigMap (see docs/executor.md)', { errors: configured.errors });
    return EXIT_PERMANENT;
  }
  const config = configured.config;
  const log = jobLog(config.logLevel, base);
  let kube: KubeClient;
  try {
    kube = new KubeClient(await kubeConnection(process.env));
  } catch (e) {
    log.error(`no Kubernetes connection: ${errorMessage(e)}`);
    return EXIT_RETRIABLE;
  }
  const ctx = runContext({ config, kube, log, specHash: '' });
  try {
    const result = await (await import('../executor/execute-verify.ts')).executeVerify(ctx);
    const code = exitCodeFor(result);
    log.info('done', { exitCode: code });
    return code;
  } finally {
    ctx.close();
    kube.close();
    setTimeout(() => process.exit(), 10_000).unref();
  }
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { namespace: { type: 'string' }, name: { type: 'string' }, 'spec-hash': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    return usageError(errorMessage(e));
  }
  if (parsed.values.help) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  const [action, ...extra] = parsed.positionals;
  if (action === 'verify' && extra.length === 0) return verify(parsed.values);
  if (!ACTIONS.includes(action as JobAction) || extra.length > 0) return usageError(`the action must be apply, delete, release or verify, got ${JSON.stringify(parsed.positionals.join(' '))}`);
  const { namespace, name } = parsed.values;
  const specHash = parsed.values['spec-hash'];
  if (!namespace || !name || !specHash) return usageError('--namespace, --name and --spec-hash are required');

  const configured = readExecutorConfig(process.env);
  const base = { action, namespace, name, specHash, job: process.env['JOB_NAME'] ?? null };
  if (!configured.ok) {
    const log = jobLog('info', base);
    log.error('invalid configuration: fix the exposedapi-apim-config ConfigMap (see docs/executor.md)', { errors: configured.errors });
    return EXIT_PERMANENT;
  }
  const config = configured.config;
  const log = jobLog(config.logLevel, base);
  let kube: KubeClient;
  try {
    const conn = await kubeConnection(process.env);
    kube = new KubeClient(conn);
    log.debug('Kubernetes connection', { source: conn.source, server: conn.server });
  } catch (e) {
    log.error(`no Kubernetes connection: ${errorMessage(e)}`);
    return EXIT_RETRIABLE;
  }
  const ctx = runContext({ config, kube, log, specHash });
  try {
    const ref = { namespace, name };
    // An apply asks Entra ID for its token while the ExposedAPI is read: nearly every apply Job proceeds, and the read
    // is a full round trip (with its TLS handshake) that the token request need not wait for. A Job the gate then stops
    // has spent one token request and no ARM request. A delete asks only once it knows it is not detached.
    if (action === 'apply') ctx.warmUpApim();
    const g = gate(await ctx.budget.run(`reading ExposedAPI ${namespace}/${name}`, () => kube.get<ExposedApiObject>(exposedApiPath(ref)), classifyKubeError), action as JobAction, specHash);
    if (!g.proceed) {
      log.info(g.message, g.fields);
      log.info('done', { exitCode: EXIT_OK });
      return EXIT_OK;
    }
    // The steps load while the token request is out. A detached delete never talks to Entra ID or APIM.
    if (action === 'delete' && g.obj.metadata.annotations?.[DETACH_ANNOTATION] !== 'true') ctx.warmUpApim();
    const result = action === 'apply'
      ? await (await import('../executor/execute-apply.ts')).executeApply(ctx, ref, g.obj)
      : action === 'release'
        ? await (await import('../executor/execute-release.ts')).executeRelease(ctx, ref, g.obj)
        : await (await import('../executor/execute-delete.ts')).executeDelete(ctx, ref, g.obj);
    const code = exitCodeFor(result);
    log.info('done', { exitCode: code });
    return code;
  } catch (e) {
    log.error(`the run failed unexpectedly: ${errorMessage(e)}`, { reason: (e as { info?: { reason?: string } }).info?.reason ?? 'UnexpectedError' });
    return exitCodeFor({ kind: 'failed', retriable: (e as { info?: { retriable?: boolean } }).info?.retriable !== false });
  } finally {
    ctx.close();
    kube.close();
    // A Job must end: a socket or timer some library leaves open cannot hold the pod once the run is over.
    setTimeout(() => process.exit(), 10_000).unref();
  }
}
