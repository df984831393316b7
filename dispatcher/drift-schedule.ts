// The leader's verify Jobs (docs/drift.md): every DRIFT_INTERVAL_SECONDS one Job runs `execute verify` with the same
// image, ServiceAccount and configuration as the apply Jobs. When the next one is due is derived from the newest verify
// Job in the cluster (its creation time + the interval), not from memory, so a new leader keeps the rhythm and names
// the due Job exactly as the old one would have (a second create is AlreadyExists). A term that finds none waits one
// interval from its start: an operator restart or a short test never starts a verify run by itself.
import { BatchV1Api, type V1Job } from '@kubernetes/client-node';
import type { JobTemplateConfig } from '../core/dispatcher-config.ts';
import { JOB_LABELS } from '../core/exposedapi-status.ts';
import { errorMessage, statusCode } from '../core/kube/errors.ts';
import type { Log } from '../core/log.ts';
import { executorJob, JOB_SELECTOR, MANAGED_BY, MANAGED_BY_LABEL } from './job-manifest.ts';

export const VERIFY_ACTION = 'verify';
/** The verify Jobs (the Job watch of apply and delete Jobs ignores them: they name no ExposedAPI). */
export const VERIFY_SELECTOR = `${JOB_SELECTOR},${JOB_LABELS.action}=${VERIFY_ACTION}`;

/** `exposedapi-apim-verify-<due time in epoch seconds>`: the same name for the same due time, whoever leads. */
export function verifyJobName(dueMs: number): string {
  return `exposedapi-apim-verify-${Math.floor(dueMs / 1000)}`;
}

export function buildVerifyJob(dueMs: number, template: JobTemplateConfig, operatorNamespace: string): V1Job {
  return executorJob({
    name: verifyJobName(dueMs),
    labels: { 'app.kubernetes.io/name': 'exposedapi-apim-executor', [MANAGED_BY_LABEL]: MANAGED_BY, [JOB_LABELS.action]: VERIFY_ACTION },
    annotations: {},
    args: ['execute', VERIFY_ACTION],
  }, template, operatorNamespace);
}

export interface VerifyJobSeen {
  createdMs: number;
  active: boolean;
}

/**
 * When the next verify Job is due: one interval after the newest one was created, or after the term started when there
 * is none. Pure.
 */
export function nextVerifyDueMs(jobs: readonly VerifyJobSeen[], termStartMs: number, intervalMs: number): number {
  const newest = Math.max(...jobs.map((j) => j.createdMs), -Infinity);
  return (Number.isFinite(newest) ? newest : termStartMs) + intervalMs;
}

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

/** One term's schedule of verify Jobs; stop() when the term ends. */
export class DriftSchedule {
  private readonly options: DriftScheduleOptions;
  private readonly startedMs = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: DriftScheduleOptions) {
    this.options = options;
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
    let jobs: VerifyJobSeen[];
    try {
      jobs = (await batch.listNamespacedJob({ namespace, labelSelector: VERIFY_SELECTOR })).items.map(seen);
    } catch (err) {
      log.warn('could not list the verify Jobs; trying again in 30 s', { error: errorMessage(err) });
      return this.at(Date.now() + 30_000);
    }
    const due = nextVerifyDueMs(jobs, this.startedMs, intervalMs);
    if (due > Date.now()) return this.at(due);
    if (jobs.some((j) => j.active)) {
      // The previous run is still reading: the next starts once it has ended, not beside it.
      log.info('the previous verify Job is still running; the next waits for it', { intervalSeconds: intervalMs / 1000 });
      return this.at(Date.now() + Math.min(intervalMs, 60_000));
    }
    const body = buildVerifyJob(due, this.options.template, namespace);
    try {
      await batch.createNamespacedJob({ namespace, body });
      this.options.onCreated?.();
      log.info('created verify Job', { job: body.metadata!.name });
    } catch (err) {
      if (statusCode(err) !== 409) {
        log.warn('could not create the verify Job; trying again in 30 s', { job: body.metadata!.name, error: errorMessage(err) });
        return this.at(Date.now() + 30_000);
      }
    }
    this.at(Math.max(due, Date.now()) + intervalMs);
  }
}
