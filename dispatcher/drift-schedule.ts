// The leader's verify Jobs (docs/drift.md), the I/O edge of verify-instances.ts: one schedule per APIM instance (the
// operator's own and every usable ApimTarget), each creating a verify Job every DRIFT_INTERVAL_SECONDS. When an
// instance's next Job is due is derived from its newest verify Job in the cluster (its creation time + the interval),
// not from memory, so a new leader keeps every instance's rhythm and names the due Job exactly as the old one would
// have (a second create is AlreadyExists). A schedule that finds none waits one interval from its start: an operator
// restart, a new ApimTarget or a short test never starts a verify run by itself.
import { BatchV1Api, type V1Job } from '@kubernetes/client-node';
import type { JobTemplateConfig } from '../core/dispatcher-config.ts';
import { errorMessage, statusCode } from '../core/kube/errors.ts';
import type { Log } from '../core/log.ts';
import { buildVerifyJob, instanceFingerprint, scheduleChanges, verifySelector, verifyStep, type VerifyInstance, type VerifyJobSeen } from './verify-instances.ts';

function seen(job: V1Job): VerifyJobSeen {
  const created = job.metadata?.creationTimestamp;
  const ms = created instanceof Date ? created.getTime() : typeof created === 'string' ? Date.parse(created) : NaN;
  const done = (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  return { createdMs: Number.isFinite(ms) ? ms : 0, active: !done && !job.metadata?.deletionTimestamp };
}

export interface DriftScheduleOptions {
  batch: BatchV1Api;
  operatorNamespace: string;
  template: JobTemplateConfig;
  intervalMs: number;
  log: Log;
  /** A verify Job was created. */
  onCreated?: () => void;
}

/** One instance's verify Jobs during one term; stop() when the term ends or the instance goes. */
class InstanceSchedule {
  private readonly options: DriftScheduleOptions;
  private readonly sinceMs = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Replaced when the target's settings change: the next Job is built from the new ones. */
  instance: VerifyInstance;

  constructor(options: DriftScheduleOptions, instance: VerifyInstance) {
    this.options = options;
    this.instance = instance;
  }

  start(): void {
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private at(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // setTimeout holds at most 2^31-1 ms; a longer wait is taken in steps.
    this.timer = setTimeout(() => void this.tick(), Math.min(Math.max(ms - Date.now(), 1000), 2 ** 31 - 1));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { batch, operatorNamespace: namespace, intervalMs, log } = this.options;
    const instance = this.instance;
    const where = instance.target === '' ? {} : { target: instance.target };
    let jobs: VerifyJobSeen[];
    try {
      jobs = (await batch.listNamespacedJob({ namespace, labelSelector: verifySelector(instance.target) })).items.map(seen);
    } catch (err) {
      log.warn('could not list the verify Jobs; trying again in 30 s', { ...where, error: errorMessage(err) });
      return this.at(Date.now() + 30_000);
    }
    if (this.stopped) return;
    const step = verifyStep(instance, jobs, this.sinceMs, intervalMs, Date.now());
    if (step.kind === 'wait') return this.at(step.untilMs);
    if (step.kind === 'busy') {
      log.info('the previous verify Job is still running; the next waits for it', { ...where, intervalSeconds: intervalMs / 1000 });
      return this.at(Date.now() + Math.min(intervalMs, 60_000));
    }
    try {
      await batch.createNamespacedJob({ namespace, body: buildVerifyJob(step.dueMs, instance, this.options.template, namespace) });
      this.options.onCreated?.();
      log.info('created verify Job', { ...where, job: step.name });
    } catch (err) {
      if (statusCode(err) !== 409) {
        log.warn('could not create the verify Job; trying again in 30 s', { ...where, job: step.name, error: errorMessage(err) });
        return this.at(Date.now() + 30_000);
      }
    }
    this.at(Math.max(step.dueMs, Date.now()) + intervalMs);
  }
}

/** One term's verify schedules, one per instance; sync() when the ApimTargets change, stop() when the term ends. */
export class DriftSchedules {
  private readonly options: DriftScheduleOptions;
  private readonly schedules = new Map<string, InstanceSchedule>();
  private stopped = false;

  constructor(options: DriftScheduleOptions) {
    this.options = options;
  }

  /** Starts the schedules of new instances, hands changed settings to theirs, stops those of instances gone. */
  sync(instances: readonly VerifyInstance[]): void {
    if (this.stopped) return;
    const running = new Map([...this.schedules].map(([target, s]) => [target, instanceFingerprint(s.instance)]));
    const changes = scheduleChanges(running, instances);
    for (const target of changes.stop) {
      this.schedules.get(target)?.stop();
      this.schedules.delete(target);
      this.options.log.info('ApimTarget gone or unusable: no further verify Jobs for it', { target });
    }
    for (const instance of changes.update) this.schedules.get(instance.target)!.instance = instance;
    for (const instance of changes.start) {
      const schedule = new InstanceSchedule(this.options, instance);
      this.schedules.set(instance.target, schedule);
      schedule.start();
    }
  }

  /** The instances scheduled ('' = the operator's own). */
  get targets(): string[] {
    return [...this.schedules.keys()];
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.schedules.values()) s.stop();
    this.schedules.clear();
  }
}
