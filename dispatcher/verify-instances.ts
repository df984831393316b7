// Which verify Jobs the leader owes, per APIM instance (docs/drift.md "Several instances"): the operator's own instance
// (the ConfigMap's APIM_*) and every usable ApimTarget each get one verify Job per DRIFT_INTERVAL_SECONDS, run like that
// instance's apply Jobs (a target's ServiceAccount and environment, core/apim-target.ts targetJobEnv, so its
// drift.mode is the run's APIM_DRIFT_MODE). Each instance keeps its own rhythm, read back from the cluster through its
// own label selector: a verify Job still running delays only its own instance's next one. Pure: names, selectors,
// manifests, what is due, and which schedules a change of the targets starts, updates or stops.
import type { V1Job } from '@kubernetes/client-node';
import type { JobTemplateConfig } from '../core/dispatcher-config.ts';
import { JOB_LABELS } from '../core/exposedapi-status.ts';
import { executorJob, JOB_SELECTOR, labelValue, MANAGED_BY, MANAGED_BY_LABEL, sha256, TARGET_LABEL, type JobTarget } from './job-manifest.ts';

export const VERIFY_ACTION = 'verify';
/** Every verify Job, of any instance (the Job watch of apply and delete Jobs ignores them: they name no ExposedAPI). */
export const VERIFY_SELECTOR = `${JOB_SELECTOR},${JOB_LABELS.action}=${VERIFY_ACTION}`;
const PREFIX = 'exposedapi-apim-verify-';
/** Hex digits of SHA-256 over a target's name in its verify Jobs' names: 2^32 names, not a length a reader must parse. */
const TARGET_HASH = 8;

/** One instance the leader verifies. */
export interface VerifyInstance {
  /** '' = the operator's own instance; else the ApimTarget's name. */
  target: string;
  /** The target's Job settings (environment, ServiceAccount: job-manifest.ts jobTargetOf); absent for the operator's own. */
  job?: JobTarget;
}

export const OPERATOR_INSTANCE: VerifyInstance = { target: '' };

/**
 * The verify Jobs of one instance. The operator's own are the ones without a target label: its Jobs keep the name and
 * labels they had before targets existed, so an upgrade finds its newest one and keeps the rhythm.
 */
export function verifySelector(target: string): string {
  return target === '' ? `${VERIFY_SELECTOR},!${TARGET_LABEL}` : `${VERIFY_SELECTOR},${TARGET_LABEL}=${labelValue(target)}`;
}

/**
 * `exposedapi-apim-verify-<due time in epoch seconds>` for the operator's own instance, and
 * `exposedapi-apim-verify-<8 hex of the target's name>-<due time>` for a target (42 characters, within a label value's
 * 63 whatever the name's length): the same name for the same instance and due time, whoever leads, so a second leader's
 * create is AlreadyExists. The readable name is in the target label.
 */
export function verifyJobName(dueMs: number, target = ''): string {
  const when = Math.floor(dueMs / 1000);
  if (target === '') return `${PREFIX}${when}`;
  return `${PREFIX}${sha256(target).slice(0, TARGET_HASH)}-${when}`;
}

export function buildVerifyJob(dueMs: number, instance: VerifyInstance, template: JobTemplateConfig, operatorNamespace: string): V1Job {
  const job = instance.target === '' ? undefined : instance.job;
  return executorJob({
    name: verifyJobName(dueMs, instance.target),
    labels: {
      'app.kubernetes.io/name': 'exposedapi-apim-executor',
      [MANAGED_BY_LABEL]: MANAGED_BY,
      [JOB_LABELS.action]: VERIFY_ACTION,
      ...(instance.target === '' ? {} : { [TARGET_LABEL]: labelValue(instance.target) }),
    },
    annotations: {},
    args: ['execute', VERIFY_ACTION],
    // A target's verify Job runs exactly like its apply Jobs: its identity, its instance and settings over the ConfigMap.
    ...(job?.serviceAccountName ? { serviceAccountName: job.serviceAccountName } : {}),
    ...(job ? { env: job.env } : {}),
  }, template, operatorNamespace);
}

export interface VerifyJobSeen {
  createdMs: number;
  active: boolean;
}

/** One interval after the newest verify Job of the instance was created, or after `sinceMs` when there is none. */
export function nextVerifyDueMs(jobs: readonly VerifyJobSeen[], sinceMs: number, intervalMs: number): number {
  const newest = Math.max(...jobs.map((j) => j.createdMs), -Infinity);
  return (Number.isFinite(newest) ? newest : sinceMs) + intervalMs;
}

/** What one instance's schedule does now, from its verify Jobs in the cluster. */
export type VerifyStep =
  | { kind: 'wait'; untilMs: number }
  /** Due, but the previous run still reads: the next starts once it has ended, not beside it. */
  | { kind: 'busy' }
  | { kind: 'create'; dueMs: number; name: string };

/**
 * `sinceMs`: when this leader started scheduling the instance (its term's start, or when the target appeared), so an
 * operator restart, a new target or a short test never starts a verify run at once.
 */
export function verifyStep(instance: VerifyInstance, jobs: readonly VerifyJobSeen[], sinceMs: number, intervalMs: number, nowMs: number): VerifyStep {
  const due = nextVerifyDueMs(jobs, sinceMs, intervalMs);
  if (due > nowMs) return { kind: 'wait', untilMs: due };
  if (jobs.some((j) => j.active)) return { kind: 'busy' };
  return { kind: 'create', dueMs: due, name: verifyJobName(due, instance.target) };
}

/** The instances to verify: the operator's own, then every usable ApimTarget (TargetDirectory.targets()). */
export function verifyInstances(targets: readonly { name: string; job: JobTarget }[]): VerifyInstance[] {
  return [OPERATOR_INSTANCE, ...targets.map((t) => ({ target: t.name, job: t.job }))];
}

/** What a Job of the instance is built from: a change of it (identity, drift mode, the instance) reaches the next Job. */
export function instanceFingerprint(instance: VerifyInstance): string {
  return JSON.stringify(instance.job ?? null);
}

export interface ScheduleChanges {
  /** New instances: a schedule of their own, starting now. */
  start: VerifyInstance[];
  /** Changed settings: the same schedule (its rhythm is in the cluster), its next Job built from the new settings. */
  update: VerifyInstance[];
  /** Gone (the ApimTarget deleted or unusable): no further verify Job; one still running finishes. */
  stop: string[];
}

/** From the schedules running (target → fingerprint) to the instances wanted. */
export function scheduleChanges(running: ReadonlyMap<string, string>, wanted: readonly VerifyInstance[]): ScheduleChanges {
  const out: ScheduleChanges = { start: [], update: [], stop: [] };
  const names = new Set<string>();
  for (const instance of wanted) {
    names.add(instance.target);
    const before = running.get(instance.target);
    if (before === undefined) out.start.push(instance);
    else if (before !== instanceFingerprint(instance)) out.update.push(instance);
  }
  for (const target of running.keys()) if (!names.has(target)) out.stop.push(target);
  return out;
}
