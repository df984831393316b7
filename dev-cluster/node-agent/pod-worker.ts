// Runs one pod the way kubelet's pod worker does, with local processes instead of containers: prepare volumes and
// environment, run init containers in order, then the containers side by side, restart them as restartPolicy says,
// report every state change to pods/status, and on termination send SIGTERM, then SIGKILL after the grace period.
// Each container is its own process group, so a `sh -c` and everything it started are signalled together, and the
// group is SIGKILLed once its main process exits so nothing outlives the container.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../../core/kube/errors.ts';
import { resolveContainerCommand, type CommandContext } from './container-command.ts';
import { ConfigNotReadyError, resolveContainerEnv } from './pod-env.ts';
import {
  desiredConditions, nextConditions, podStatusPatch, terminalPhase, terminatedState,
  type ConditionRecord, type ContainerRecord, type PodRecord,
} from './pod-status.ts';
import { materializeVolumes, SERVICEACCOUNT_DIR_ENV, type ContainerFilesystem, type VolumeSource } from './pod-volumes.ts';

export interface PodWorkerDeps extends CommandContext {
  source: VolumeSource;
  /** Strategic-merge patch of pods/status; resolves false when the pod no longer exists. */
  patchStatus: (namespace: string, name: string, patch: Record<string, unknown>) => Promise<boolean>;
  /** Pod directory: `<podsDir>/<namespace>/<name>/` holds `<container>.log`, volumes and rootfs. */
  podsDir: string;
  /** Variables every container gets first (PATH, KUBERNETES_SERVICE_HOST/PORT, ...); the pod's own env wins. */
  baseEnv: Record<string, string>;
  ip: string;
  log: (line: string) => void;
}

export interface PodWorker {
  uid: string;
  /** Settles when every process has exited and the final status is reported (or the pod is gone). */
  done: Promise<void>;
  /** Stop the pod (deletion, deadline): SIGTERM now, SIGKILL after graceSeconds; idempotent, a shorter grace wins. */
  terminate: (graceSeconds: number, reason?: { reason: string; message: string }) => void;
  /** The pod object is gone: stop reporting and stop the processes quickly. */
  podGone: () => void;
}

/** Kubelet starts at 10 s and doubles to 5 min; tests cannot wait that long, so restarts back off 1 s → 10 s. */
const RESTART_BACKOFF_MS = { initial: 1000, max: 10_000 };
const CONFIG_RETRY_MS = 500;

export function podDirFor(podsDir: string, namespace: string, name: string): string {
  return join(podsDir, namespace, name);
}

export function startPodWorker(pod: V1Pod, deps: PodWorkerDeps): PodWorker {
  const namespace = pod.metadata!.namespace!;
  const name = pod.metadata!.name!;
  const uid = pod.metadata!.uid!;
  const spec = pod.spec!;
  const restartPolicy = spec.restartPolicy ?? 'Always';
  const podDir = podDirFor(deps.podsDir, namespace, name);
  const waiting = (c: V1Container, reason: string): ContainerRecord => ({ name: c.name, image: c.image ?? '', restartCount: 0, state: { kind: 'waiting', reason } });
  const record: PodRecord = {
    phase: 'Pending',
    startTime: new Date(),
    initContainers: (spec.initContainers ?? []).map((c) => waiting(c, 'PodInitializing')),
    containers: spec.containers.map((c) => waiting(c, 'ContainerCreating')),
  };
  let conditions: ConditionRecord[] = [];
  let gone = false;
  let terminating: { deadline: number; reason?: { reason: string; message: string } } | undefined;
  const running = new Map<string, number>(); // container name → process group id
  const wakers = new Set<() => void>();
  let killTimer: NodeJS.Timeout | undefined;

  // Status reports are serialized and coalesced: at most one patch in flight, and the next one carries the latest state.
  let reporting: Promise<void> = Promise.resolve();
  let dirty = false;
  const report = (): Promise<void> => {
    dirty = true;
    reporting = reporting.then(async () => {
      if (!dirty || gone) return;
      dirty = false;
      conditions = nextConditions(conditions, desiredConditions(record), new Date());
      const patch = podStatusPatch(record, conditions, deps.ip);
      for (let attempt = 0; attempt < 5 && !gone; attempt++) {
        try {
          if (!(await deps.patchStatus(namespace, name, patch))) gone = true;
          return;
        } catch (err) {
          deps.log(`pod ${namespace}/${name}: status update failed (attempt ${attempt + 1}): ${errorMessage(err)}`);
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    });
    return reporting;
  };

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const wake = (): void => { clearTimeout(timer); wakers.delete(wake); resolve(); };
    const timer = setTimeout(wake, ms);
    wakers.add(wake);
  });

  const signalAll = (sig: NodeJS.Signals): void => {
    for (const pgid of running.values()) signalGroup(pgid, sig);
  };

  const terminate = (graceSeconds: number, reason?: { reason: string; message: string }): void => {
    const deadline = Date.now() + Math.max(0, graceSeconds) * 1000;
    if (terminating && terminating.deadline <= deadline) return;
    const kept = reason ?? terminating?.reason;
    terminating = { deadline, ...(kept ? { reason: kept } : {}) };
    for (const wake of [...wakers]) wake();
    signalAll('SIGTERM');
    if (killTimer) clearTimeout(killTimer);
    killTimer = setTimeout(() => signalAll('SIGKILL'), Math.max(0, deadline - Date.now()));
  };

  const runContainer = async (c: V1Container, rec: ContainerRecord, env: Record<string, string>, cwd: string, isInit: boolean): Promise<void> => {
    let backoff = RESTART_BACKOFF_MS.initial;
    for (;;) {
      if (terminating) return;
      const startedAt = new Date();
      const exit = await runProcess(c, rec, env, cwd, startedAt);
      rec.state = exit;
      const restart = !terminating && (restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exit.exitCode !== 0));
      if (!restart || (isInit && exit.exitCode === 0)) {
        void report();
        return;
      }
      rec.lastTerminated = exit;
      rec.state = { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${backoff / 1000}s restarting failed container=${c.name} pod=${name}_${namespace}(${uid})` };
      void report();
      await sleep(backoff);
      backoff = Math.min(backoff * 2, RESTART_BACKOFF_MS.max);
      if (terminating) {
        rec.state = exit;
        return;
      }
      rec.restartCount++;
    }
  };

  const runProcess = (c: V1Container, rec: ContainerRecord, env: Record<string, string>, cwd: string, startedAt: Date): Promise<Extract<ContainerRecord['state'], { kind: 'terminated' }>> => {
    let command;
    try {
      command = resolveContainerCommand(c, deps, env);
    } catch (err) {
      return Promise.resolve({ kind: 'terminated', exitCode: 128, reason: 'StartError', message: (err as Error).message, finishedAt: new Date() });
    }
    let child: ChildProcess;
    try {
      const fd = openSync(join(podDir, `${c.name}.log`), 'a');
      try {
        child = spawn(command.file, command.args, {
          cwd: command.projectImage ? deps.repoRoot : cwd, env, stdio: ['ignore', fd, fd], detached: true,
        });
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      return Promise.resolve({ kind: 'terminated', exitCode: 128, reason: 'StartError', message: `exec: "${command.file}": ${(err as Error).message}`, finishedAt: new Date() });
    }
    return new Promise((resolve) => {
      let settled = false;
      child.once('error', (err) => {
        if (settled) return;
        settled = true;
        if (child.pid !== undefined) running.delete(c.name);
        resolve({ kind: 'terminated', exitCode: 128, reason: 'StartError', message: `exec: "${command.file}": ${err.message}`, finishedAt: new Date() });
      });
      child.once('spawn', () => {
        running.set(c.name, child.pid!);
        rec.containerID = `local://${child.pid}`;
        rec.state = { kind: 'running', startedAt };
        if (record.phase === 'Pending' && record.initContainers.every((i) => i.state.kind === 'terminated')) record.phase = 'Running';
        deps.log(`pod ${namespace}/${name}: container ${c.name} started as PID ${child.pid}: ${[command.file, ...command.args].join(' ')}`);
        void report();
        // Deleted while starting: terminate()'s signals missed this process.
        if (terminating) signalGroup(child.pid!, Date.now() >= terminating.deadline ? 'SIGKILL' : 'SIGTERM');
      });
      child.once('exit', (code, sig) => {
        if (settled) return;
        settled = true;
        running.delete(c.name);
        // Whatever the main process left behind in its group dies with the container.
        signalGroup(child.pid!, 'SIGKILL');
        const signal = sig ? constants.signals[sig] : undefined;
        deps.log(`pod ${namespace}/${name}: container ${c.name} exited with ${code ?? sig}`);
        resolve(terminatedState(code, signal, startedAt, new Date()));
      });
    });
  };

  const run = async (): Promise<void> => {
    await rm(podDir, { recursive: true, force: true });
    await mkdir(podDir, { recursive: true });
    void report();
    if (spec.activeDeadlineSeconds !== undefined) {
      const timer = setTimeout(() => terminate(spec.terminationGracePeriodSeconds ?? 30,
        { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }),
      spec.activeDeadlineSeconds * 1000);
      timer.unref();
      void doneP.finally(() => clearTimeout(timer));
    }

    // Volumes and environment: wait (as kubelet does) for ConfigMaps, Secrets and tokens that do not exist yet.
    let filesystems: Map<string, ContainerFilesystem> | undefined;
    const envs = new Map<string, Record<string, string>>();
    while (!terminating && !gone) {
      try {
        filesystems = await materializeVolumes(pod, podDir, deps.source);
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          const fs = filesystems.get(c.name)!;
          const base = { ...deps.baseEnv, HOSTNAME: name, ...(fs.serviceAccountDir ? { [SERVICEACCOUNT_DIR_ENV]: fs.serviceAccountDir } : {}) };
          envs.set(c.name, await resolveContainerEnv(pod, c, base, deps.source));
        }
        break;
      } catch (err) {
        const message = (err as Error).message;
        for (const rec of [...record.initContainers, ...record.containers]) {
          rec.state = { kind: 'waiting', reason: err instanceof ConfigNotReadyError ? 'CreateContainerConfigError' : 'CreateContainerError', message };
        }
        deps.log(`pod ${namespace}/${name}: cannot start yet: ${message}`);
        void report();
        await sleep(CONFIG_RETRY_MS);
      }
    }

    const inits = spec.initContainers ?? [];
    let initFailed = false;
    for (let i = 0; i < inits.length && !terminating && !gone && filesystems; i++) {
      const c = inits[i]!;
      const rec = record.initContainers[i]!;
      await runContainer(c, rec, envs.get(c.name)!, filesystems.get(c.name)!.rootfs, true);
      if (rec.state.kind !== 'terminated' || rec.state.exitCode !== 0) {
        initFailed = true;
        break;
      }
    }
    if (!initFailed && !terminating && !gone && filesystems) {
      for (const rec of record.containers) rec.state = { kind: 'waiting', reason: 'ContainerCreating' };
      await Promise.all(spec.containers.map((c, i) =>
        runContainer(c, record.containers[i]!, envs.get(c.name)!, filesystems!.get(c.name)!.rootfs, false)));
    }

    // Containers that never ran: what kubelet reports for a container it could not find when the pod ended.
    const now = new Date();
    for (const rec of [...record.initContainers, ...record.containers]) {
      if (rec.state.kind !== 'terminated') {
        rec.state = { kind: 'terminated', exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', finishedAt: now };
      }
    }
    record.phase = initFailed ? 'Failed' : terminalPhase(record.containers);
    if (terminating?.reason) {
      record.phase = 'Failed';
      record.reason = terminating.reason.reason;
      record.message = terminating.reason.message;
    }
    if (killTimer) clearTimeout(killTimer);
    await report();
  };

  const doneP: Promise<void> = Promise.resolve().then(run).catch(async (err: unknown) => {
    // A bug here must not leave the pod Running forever: end its processes and report it failed.
    deps.log(`pod ${namespace}/${name}: worker failed: ${(err as Error).stack ?? String(err)}`);
    signalAll('SIGKILL');
    const now = new Date();
    for (const rec of [...record.initContainers, ...record.containers]) {
      if (rec.state.kind !== 'terminated') rec.state = { kind: 'terminated', exitCode: 128, reason: 'StartError', message: `node agent: ${(err as Error).message}`, finishedAt: now };
    }
    record.phase = 'Failed';
    await report().catch(() => {});
  });

  return {
    uid,
    done: doneP,
    terminate,
    podGone: () => {
      gone = true;
      terminate(2);
    },
  };
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
