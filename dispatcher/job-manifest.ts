// The executor Job for one change of one ExposedAPI: a pure function of the change and the configured template.
// Names are deterministic, so creating the same Job twice is harmless (the second create is AlreadyExists) and a new
// leader can never start a duplicate; labels are the index (`kubectl get jobs -l exposedapi-apim.io/name=X`).
import { createHash } from 'node:crypto';
import type { V1Job } from '@kubernetes/client-node';
import type { JobTemplateConfig } from '../core/dispatcher-config.ts';
import { EXIT_IMPLEMENTATION_NOT_READY, EXIT_PERMANENT, JOB_LABELS, type JobAction } from '../core/exposedapi-status.ts';
import { ANNOTATION_PREFIX } from '../core/exposedapi-model.ts';
import { appliedSettingsHash, targetJobEnv, type ApimTarget, type EnvVar } from '../core/apim-target.ts';

/** One accepted change: what a Job applies (or deletes). */
export interface Change {
  namespace: string;
  name: string;
  /** metadata.uid of the ExposedAPI: tells its Jobs from those of an earlier object with the same name. */
  uid: string;
  specHash: string;
  action: JobAction;
  /**
   * 0 for a change's first Job; n for the n-th retry the dispatcher starts after a transient failure (apply only,
   * dispatcher/job-retry.ts). Part of the Job's name and labels, so each attempt is a Job of its own in the history.
   */
  attempt?: number;
  /**
   * A repair of drift the verify run found (APIM_DRIFT_MODE=repair, docs/drift.md): an apply of the already applied
   * spec hash, tagged from the Drifted condition that asked for it (repairTag), so each request gets one Job.
   */
  repair?: string;
  /**
   * The ApimTarget the Job works in (core/target-selection.ts); absent = the operator's own instance, whose Jobs keep
   * the names and environment they had before targets existed (an upgrade finds its Jobs and starts none).
   */
  target?: JobTarget;
}

/** What a Job needs of its ApimTarget: its name and applied settings (in the Job's name), env and ServiceAccount. */
export interface JobTarget {
  /** The ApimTarget's name; '' only for a release from the operator's own instance (no env of its own). */
  name: string;
  /** core/apim-target.ts appliedSettingsHash: a change of it is a new change of every ExposedAPI on the target. */
  settings: string;
  env: EnvVar[];
  serviceAccountName?: string;
}

/** What every Job of an ApimTarget (apply, delete, release, verify) runs with: one source for all of them. */
export function jobTargetOf(target: ApimTarget): JobTarget {
  return {
    name: target.name,
    settings: appliedSettingsHash(target),
    env: targetJobEnv(target).map((e) => ({ name: e.name, value: e.value })),
    ...(target.identity.serviceAccountName ? { serviceAccountName: target.identity.serviceAccountName } : {}),
  };
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'exposedapi-apim-dispatcher';
/** Jobs the dispatcher watches: `app.kubernetes.io/managed-by=exposedapi-apim-dispatcher`. */
export const JOB_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
/**
 * Which attempt at its change a Job is (absent on first Jobs and on Jobs of older versions: 0). Read back from the
 * Job, which lives in the operator namespace where tenants cannot write: the retry chain is derived from it.
 */
export const ATTEMPT_LABEL = `${ANNOTATION_PREFIX}/attempt`;
/** The ApimTarget a Job works in (absent: the operator's own instance): `kubectl get jobs -l exposedapi-apim.io/target=X`. */
export const TARGET_LABEL = `${ANNOTATION_PREFIX}/target`;
/** Full values that labels cannot hold (a spec hash is 64 hex digits, a label value at most 63 characters). */
export const JOB_ANNOTATIONS = {
  uid: `${ANNOTATION_PREFIX}/uid`,
  specHash: `${ANNOTATION_PREFIX}/spec-hash`,
  exposedApi: `${ANNOTATION_PREFIX}/exposedapi`,
} as const;
/** The repair tag of a repair Job (Change.repair); absent on other Jobs. */
export const REPAIR_LABEL = `${ANNOTATION_PREFIX}/repair`;
/** Azure Workload Identity's webhook injects the federated token into pods with this label. */
export const WORKLOAD_IDENTITY_LABEL = 'azure.workload.identity/use';
export const EXECUTOR_CONTAINER = 'executor';

const MAX_NAME = 63; // the Job controller copies the name into a pod label, so a Job name is at most a label value
const HASH_PART = 8;
const DELETE_SUFFIX = '-delete';
/** `-m` and 5 hex digits of the target released from: as long as DELETE_SUFFIX, so it fits the same room. */
const RELEASE_MARK = '-m';
/** Room left for the prefix so that `<prefix>-<hash8>-delete` still fits. */
export const MAX_PREFIX = MAX_NAME - 1 - HASH_PART - DELETE_SUFFIX.length;

/** Hex SHA-256 of a string: the hashes in Job names. */
export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** DNS-1123: lower case; dots and anything else become "-". */
function dnsWords(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * The readable part of a Job name, for `kubectl get jobs` at a glance: the ExposedAPI's name, after its namespace
 * unless the name already starts with it (ODA names are `<release>-<component>-<api>-<version>`, and the release is
 * often the namespace). Longer than MAX_PREFIX, it keeps whole words from the end — the API and its version, what a
 * reader looks for — rather than the beginning they share. The namespace and name stay whole in labels and
 * annotations; uniqueness is the hash's job (jobName), not this part's.
 */
export function jobNamePrefix(namespace: string, name: string): string {
  const ns = dnsWords(namespace);
  const n = dnsWords(name);
  const readable = (n.startsWith(`${ns}-`) || n === ns ? n : `${ns}-${n}`).replace(/^-+|-+$/g, '') || 'exposedapi';
  if (readable.length <= MAX_PREFIX) return readable;
  let tail = '';
  for (const word of readable.split('-').reverse()) {
    const next = tail ? `${word}-${tail}` : word;
    if (next.length > MAX_PREFIX) break;
    tail = next;
  }
  return tail || readable.slice(0, MAX_PREFIX).replace(/-+$/, '');
}

/**
 * The tag of the repair a Drifted condition asks for: 5 hex digits of SHA-256 over its message, which names the
 * verify Job that found the drift, so every verify run that finds the API still drifted asks for one new repair, and
 * planning the same condition again never asks for a second.
 */
export function repairTag(driftedMessage: string): string {
  return sha256(driftedMessage).slice(0, 5);
}

/**
 * `<prefix>-<hash8>` for an apply, with `-delete` for a delete (they may share a spec hash), and `-r<n>` for the n-th
 * retry of an apply (at most 1000, JOB_RETRY_LIMIT: `-r1000` is no longer than `-delete`, so it fits the same room).
 * The hash covers the namespace, the name and the spec hash, so the name is deterministic and unique per object,
 * change and attempt whatever the prefix left out; the spec hash itself is in the Job's labels and annotations. A
 * first Job keeps the name it had before retries existed, so an upgrade finds the Jobs it already created. A repair
 * (Change.repair) is `-d<tag>`.
 */
export function jobName(change: Pick<Change, 'namespace' | 'name' | 'specHash' | 'action' | 'attempt' | 'repair'> & { target?: Pick<JobTarget, 'name' | 'settings'> }): string {
  // A target's apply and delete Jobs differ from the operator instance's (and from another target's) for one spec
  // hash: moving an unchanged ExposedAPI is a change of its own. A release is named for the instance it leaves.
  const where = change.target && change.action !== 'release' ? `/${change.target.name}/${change.target.settings}` : '';
  const hash = sha256(`${change.namespace}/${change.name}/${change.specHash.toLowerCase()}${where}`).slice(0, HASH_PART);
  const base = `${jobNamePrefix(change.namespace, change.name)}-${hash}`;
  if (change.action === 'delete') return `${base}${DELETE_SUFFIX}`;
  if (change.action === 'release') return `${base}${RELEASE_MARK}${sha256(change.target?.name ?? '').slice(0, DELETE_SUFFIX.length - RELEASE_MARK.length)}`;
  // `-d` + 5 hex digits: as long as `-delete`, so it fits the same room.
  if (change.repair !== undefined) return `${base}-d${change.repair}`;
  const attempt = change.attempt ?? 0;
  return attempt > 0 ? `${base}-r${attempt}` : base;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A label value for an arbitrary string: itself when valid, else shortened with a hash (the annotation keeps it). */
export function labelValue(value: string): string {
  if (value.length <= 63 && LABEL_VALUE.test(value)) return value;
  const cleaned = value.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 63 - 1 - HASH_PART).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return `${cleaned}${cleaned ? '-' : ''}${sha256(value).slice(0, HASH_PART)}`;
}

export function jobLabels(change: Change): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'exposedapi-apim-executor',
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [JOB_LABELS.namespace]: labelValue(change.namespace),
    [JOB_LABELS.name]: labelValue(change.name),
    // 63 of the 64 hex digits: enough to select by; the annotation has all of them.
    [JOB_LABELS.specHash]: change.specHash.slice(0, 63),
    [JOB_LABELS.action]: change.action,
    ...((change.attempt ?? 0) > 0 ? { [ATTEMPT_LABEL]: String(change.attempt) } : {}),
    ...(change.target && change.target.name !== '' ? { [TARGET_LABEL]: labelValue(change.target.name) } : {}),
    ...(change.repair !== undefined ? { [REPAIR_LABEL]: change.repair } : {}),
  };
}

export function executorArgs(change: Change): string[] {
  return ['execute', change.action, '--namespace', change.namespace, '--name', change.name, '--spec-hash', change.specHash];
}

export function buildJob(change: Change, template: JobTemplateConfig, operatorNamespace: string): V1Job {
  return executorJob({
    name: jobName(change),
    labels: jobLabels(change),
    annotations: {
      [JOB_ANNOTATIONS.uid]: change.uid,
      [JOB_ANNOTATIONS.specHash]: change.specHash,
      [JOB_ANNOTATIONS.exposedApi]: `${change.namespace}/${change.name}`,
    },
    args: executorArgs(change),
    // A target's Jobs run as its identity, with its instance over the ConfigMap's (core/apim-target.ts targetJobEnv).
    ...(change.target?.serviceAccountName ? { serviceAccountName: change.target.serviceAccountName } : {}),
    ...(change.target ? { env: change.target.env } : {}),
  }, template, operatorNamespace);
}

/** An executor Job: the one pod template of every Job the dispatcher starts (apply, delete, verify). */
export function executorJob(job: { name: string; labels: Record<string, string>; annotations: Record<string, string>; args: string[]; serviceAccountName?: string; env?: EnvVar[] }, template: JobTemplateConfig, operatorNamespace: string): V1Job {
  const { name, labels } = job;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: operatorNamespace,
      labels,
      annotations: job.annotations,
    },
    spec: {
      backoffLimit: template.backoffLimit,
      activeDeadlineSeconds: template.activeDeadlineSeconds,
      ttlSecondsAfterFinished: template.ttlSecondsAfterFinished,
      podFailurePolicy: {
        rules: [
          // The executor's "retrying cannot help" (invalid input, a permanent APIM rejection): fail at once.
          { action: 'FailJob', onExitCodes: { containerName: EXECUTOR_CONTAINER, operator: 'In', values: [EXIT_PERMANENT] } },
          // The implementation's pods are not ready (a served document): the dispatcher starts the next Job when they are.
          { action: 'FailJob', onExitCodes: { containerName: EXECUTOR_CONTAINER, operator: 'In', values: [EXIT_IMPLEMENTATION_NOT_READY] } },
          // A node drain or preemption is not the change's fault and must not use up a retry.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels: { ...labels, [WORKLOAD_IDENTITY_LABEL]: 'true' } },
        spec: {
          serviceAccountName: job.serviceAccountName ?? template.serviceAccountName,
          automountServiceAccountToken: true, // the executor writes the ExposedAPI's status with it
          restartPolicy: 'Never', // podFailurePolicy requires it; retries are new pods, counted by backoffLimit
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: EXECUTOR_CONTAINER,
              image: template.image,
              ...(template.imagePullPolicy ? { imagePullPolicy: template.imagePullPolicy } : {}),
              ...(template.command ? { command: template.command } : {}),
              args: job.args,
              envFrom: [{ configMapRef: { name: template.configMapName } }],
              env: [
                { name: 'JOB_NAME', value: name },
                { name: 'OPERATOR_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                // The target's instance and settings, over the ConfigMap's (env wins over envFrom).
                ...(job.env ?? []),
              ],
              resources: {
                requests: { ...template.resources.requests },
                limits: { ...template.resources.limits },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}
