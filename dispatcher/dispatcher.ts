// The dispatcher: turns every accepted change of an ExposedAPI into exactly one executor Job. It runs in every
// webhook replica; a Lease picks the one that acts (a "term" lasts as long as it leads). Data flows one way: the
// webhook's ExposedAPI cache and the Job watch feed a per-object work queue; each object's plan (dispatch-plan.ts)
// says what should run and what its status should say; changes wait in the dispatch queue (one running Job per
// object, a global cap, namespaces in turn) until a Job is created for them.
import { BatchV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { DispatcherConfig } from '../core/dispatcher-config.ts';
import type { ClaimConflict, ObjectRef } from '../core/rules/claims.ts';
import { DispatchQueue } from './dispatch-queue.ts';
import { failureRecorded, implementationWaitRecorded, planFor, retryRecorded } from './dispatch-plan.ts';
import type { DispatcherMetrics } from './dispatcher-metrics.ts';
import { EventRecorder } from './event-recorder.ts';
import { dispatchSummary, hasOurFinalizer, keyOf, type DispatchSummary } from './exposedapi-summary.ts';
import { ExposedApiWrites } from './exposedapi-writes.ts';
import { buildJob, JOB_SELECTOR, jobName, type Change } from './job-manifest.ts';
import { initialJobCap, jobCapAt, nextJobCap, type JobCapEvent, type JobCapSettings, type JobCapState } from './job-cap.ts';
import { isActive, jobSummary, podFailedTransiently, type JobSummary } from './job-summary.ts';
import { LeaseElection } from './lease-election.ts';
import { ReadinessSync } from './readiness-sync.ts';
import { DriftSchedule } from './drift-schedule.ts';
import { isDrifted } from './drift-gauge.ts';
import { ResourceWatch } from './resource-watch.ts';
import { KeyedWorkQueue } from './work-queue.ts';
import { errorMessage, statusCode } from '../core/kube/errors.ts';
import { pinoLog, type Log, type PinoLike } from '../core/log.ts';
import { appliedSettingsHash, targetJobEnv, type ApimTarget } from '../core/apim-target.ts';
import type { TargetDirectory } from '../core/target-selection.ts';
import type { TenancyPolicy } from '../core/tenancy-policy.ts';
import type { PlanContext } from './dispatch-plan.ts';
import type { JobTarget } from './job-manifest.ts';

/** The webhook's ExposedAPI cache, seen as dispatch summaries. */
export interface ExposedApiCache {
  get(namespace: string, name: string): DispatchSummary | undefined;
  values(): Iterable<DispatchSummary>;
  readonly isSynced: boolean;
}

export interface DispatcherOptions {
  config: DispatcherConfig;
  kubeConfig: KubeConfig;
  /** WATCH_NAMESPACES (empty = all): where ExposedAPIs and their implementation Services are. */
  watchNamespaces: string[];
  apis: ExposedApiCache;
  /**
   * The claims (path, apiId) of the cached ExposedAPIs (webhook/path-claim-registry.ts, fed by the same informer); an
   * object that loses one gets no apply Job. Absent (PATH_UNIQUENESS=false): nothing is gated.
   */
  claims?: { lostBy(ref: ObjectRef): ClaimConflict[] };
  metrics: DispatcherMetrics;
  /**
   * The ApimTargets and namespace labels (dispatcher/target-watch.ts) and the tenancy policy: each ExposedAPI's Jobs run
   * in the instance chosen from them (core/target-selection.ts). Absent: every Job runs in the operator's own instance.
   */
  targets?: { directory: TargetDirectory; readonly isSynced: boolean; tenancy: TenancyPolicy };
  /** The process's pino logger (fastify's); the dispatcher logs through the one log interface over it (core/log.ts). */
  log: PinoLike;
}

/** How many objects are planned at once: enough to absorb a burst, few enough to be gentle with the apiserver. */
const WORKERS = 8;
/** How long a Component that does not list its ExposedAPI yet is asked again, every COMPONENT_RETRY_MS. */
const COMPONENT_RETRIES = 24;
const COMPONENT_RETRY_MS = 5000;

function errorText(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === 'string' && body.length < 2000) return `${(err as Error).message ?? err} ${body}`;
  return errorMessage(err);
}

export class Dispatcher {
  private readonly options: DispatcherOptions;
  private readonly election: LeaseElection;
  private term: Term | undefined;
  /** When each object's pending change became visible (for the dispatch latency), by `action:hash`. */
  readonly seen = new Map<string, { id: string; at: number }>();
  /** ExposedAPIs by implementation Service (namespace/service → keys), for EndpointSlice changes. */
  readonly byService = new Map<string, Set<string>>();
  private readonly serviceOf = new Map<string, string>();
  /** ExposedAPIs seen Drifted (every replica counts: the gauge is a fact about the objects, not about leading). */
  private readonly drifted = new Set<string>();

  constructor(options: DispatcherOptions) {
    this.options = options;
    const { lease, operatorNamespace, identity } = options.config;
    this.election = new LeaseElection({
      kubeConfig: options.kubeConfig,
      namespace: operatorNamespace,
      name: lease.name,
      identity,
      durationMs: lease.durationMs,
      renewDeadlineMs: lease.renewDeadlineMs,
      retryPeriodMs: lease.retryPeriodMs,
      onStartedLeading: () => {
        options.metrics.leader.set(1);
        this.term = new Term(this.options, this);
        this.term.start();
      },
      onStoppedLeading: () => {
        options.metrics.leader.set(0);
        this.term?.stop();
        this.term = undefined;
      },
      log: pinoLog(options.log),
    });
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  start(): void {
    this.election.start();
  }

  /** Stops dispatching and hands the lease over (the next replica takes over at its next retry). */
  async stop(): Promise<void> {
    await this.election.stop();
    this.term?.stop();
    this.term = undefined;
  }

  /** From the ExposedAPI cache: an object was added or changed. Called on every replica, leader or not. */
  observed(api: DispatchSummary): void {
    const key = keyOf(api);
    this.index(key, api.implementation ? `${api.namespace}/${api.implementation}` : undefined);
    this.countDrift(key, isDrifted(api));
    const needs = api.specHash !== undefined && (api.deleting
      ? hasOurFinalizer(api) && !api.detach
      // A scheduled retry is not a change waiting to be dispatched: its wait is the backoff, not latency.
      : api.appliedSpecHash !== api.specHash && !failureRecorded(api, api.specHash) && !retryRecorded(api, api.specHash) && !implementationWaitRecorded(api, api.specHash));
    if (!needs) this.seen.delete(key);
    else {
      const id = `${api.deleting ? 'delete' : 'apply'}:${api.specHash}`;
      if (this.seen.get(key)?.id !== id) this.seen.set(key, { id, at: performance.now() });
    }
    this.term?.enqueue(key);
  }

  removed(api: { namespace: string; name: string }): void {
    const key = keyOf(api);
    this.index(key, undefined);
    this.countDrift(key, false);
    this.seen.delete(key);
    this.term?.enqueue(key);
  }

  /** Another object's claims changed or went: this one may have lost or won a claim. */
  claimsChanged(key: string): void {
    this.term?.enqueue(key);
  }

  /** The ExposedAPI cache finished its first list (or the target watch did). */
  apisSynced(): void {
    this.term?.checkReady();
  }

  /** An ApimTarget or a selecting namespace label changed: every object's instance is chosen again. */
  targetsChanged(): void {
    this.term?.replanAll();
  }

  private countDrift(key: string, drifted: boolean): void {
    if (drifted) this.drifted.add(key);
    else this.drifted.delete(key);
    this.options.metrics.drifted.set(this.drifted.size);
  }

  private index(key: string, service: string | undefined): void {
    const before = this.serviceOf.get(key);
    if (before === service) return;
    if (before !== undefined) {
      const set = this.byService.get(before);
      set?.delete(key);
      if (set?.size === 0) this.byService.delete(before);
    }
    if (service === undefined) this.serviceOf.delete(key);
    else {
      this.serviceOf.set(key, service);
      let set = this.byService.get(service);
      if (!set) this.byService.set(service, (set = new Set()));
      set.add(key);
    }
  }
}

/** One leadership term: its own watches and queues, built from scratch, discarded when leadership ends. */
class Term {
  private readonly options: DispatcherOptions;
  private readonly log: Log;
  private readonly owner: Dispatcher;
  private readonly batch: BatchV1Api;
  private readonly writes: ExposedApiWrites;
  private readonly events: EventRecorder;
  private readonly queue: DispatchQueue;
  private readonly work: KeyedWorkQueue;
  private readonly jobs: ResourceWatch<JobSummary>;
  private readonly readiness: ReadinessSync | undefined;
  /** The verify Jobs (DRIFT_INTERVAL_SECONDS > 0). */
  private readonly drift: DriftSchedule | undefined;
  /** Jobs by ExposedAPI key, including ones this term created that the watch has not shown yet. */
  private readonly jobsByKey = new Map<string, Map<string, JobSummary>>();
  /** The Job this term created last per object: its outcome counts before status.lastJob says so. */
  private readonly lastCreated = new Map<string, string>();
  /** Jobs seen running during this term: when they end, the outcome is counted (once). */
  private readonly watchedRunning = new Set<string>();
  private readonly componentRetries = new Map<string, number>();
  /** The adaptive global cap (job-cap.ts): starts at the floor with every term, like the queue. */
  private readonly capSettings: JobCapSettings;
  private cap: JobCapState;
  /** When this term created each Job it still waits on (epoch ms): its run time, measured here, is the cap's input. */
  private readonly createdAt = new Map<string, number>();
  private ready = false;
  private stopped = false;
  private pumpTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(options: DispatcherOptions, owner: Dispatcher) {
    this.options = options;
    this.log = pinoLog(options.log);
    this.owner = owner;
    const ns = options.config.operatorNamespace;
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api);
    this.writes = new ExposedApiWrites(options.kubeConfig);
    this.events = new EventRecorder(options.kubeConfig, options.config.identity);
    const { jobCap } = options.config;
    this.capSettings = { min: jobCap.minActiveJobs, max: options.config.maxActiveJobs, slowFactor: jobCap.slowFactor, holdMs: jobCap.holdMs };
    this.cap = initialJobCap(this.capSettings);
    this.queue = new DispatchQueue(jobCapAt(this.cap, Date.now(), this.capSettings));
    options.metrics.jobCap.set(this.queue.maxActive);
    this.work = new KeyedWorkQueue({
      concurrency: WORKERS,
      work: (key) => this.reconcile(key),
      onError: (key, err, retryInMs) => this.log.warn('dispatch step failed; retrying', { exposedapi: key, error: errorText(err), retryInMs }),
    });
    this.jobs = new ResourceWatch<JobSummary>({
      kubeConfig: options.kubeConfig,
      path: `/apis/batch/v1/namespaces/${ns}/jobs`,
      labelSelector: JOB_SELECTOR,
      list: () => this.batch.listNamespacedJob({ namespace: ns, labelSelector: JOB_SELECTOR }),
      summarize: jobSummary,
      onUpsert: (_key, job) => this.jobChanged(job),
      onRemove: (_key, job) => this.jobGone(job),
      onSynced: () => this.checkReady(),
      log: this.log,
      resource: 'Job',
    });
    this.drift = options.config.driftIntervalMs > 0
      ? new DriftSchedule({ batch: this.batch, operatorNamespace: ns, template: options.config.job, intervalMs: options.config.driftIntervalMs, log: this.log, onCreated: () => options.metrics.verifyJobsCreated.inc() })
      : undefined;
    this.readiness = options.config.readinessSync
      ? new ReadinessSync({
          kubeConfig: options.kubeConfig,
          namespaces: options.watchNamespaces,
          writes: this.writes,
          onServiceChanged: (namespace, service) => {
            for (const key of this.owner.byService.get(`${namespace}/${service}`) ?? []) this.enqueue(key);
          },
          onSynced: () => this.checkReady(),
          log: this.log,
        })
      : undefined;
  }

  start(): void {
    this.jobs.start();
    this.readiness?.start();
    this.drift?.start();
  }

  stop(): void {
    this.stopped = true;
    this.drift?.stop();
    this.jobs.stop();
    this.readiness?.stop();
    this.work.stop();
    clearTimeout(this.pumpTimer);
    clearInterval(this.resyncTimer);
    this.options.metrics.queueDepth.set(0);
    this.options.metrics.activeJobs.set(0);
  }

  /** Planning starts once every cache is complete: a plan made from half a picture could start a second Job. */
  checkReady(): void {
    if (this.ready || this.stopped) return;
    if (!this.jobs.isSynced || (this.readiness && !this.readiness.isSynced) || !this.options.apis.isSynced) return;
    // A Job started before the targets are known could run in the wrong instance.
    if (this.options.targets && !this.options.targets.isSynced) return;
    this.ready = true;
    this.log.info('dispatcher caches synced; planning every ExposedAPI', { jobs: this.jobs.size, activeJobs: this.queue.activeCount });
    this.enqueueAll();
    this.resyncTimer = setInterval(() => {
      this.readiness?.forgetComponents();
      this.enqueueAll();
    }, this.options.config.resyncMs);
    this.resyncTimer.unref();
  }

  private enqueueAll(): void {
    for (const api of this.options.apis.values()) this.enqueue(keyOf(api));
  }

  replanAll(): void {
    this.enqueueAll();
  }

  /**
   * Where the object's Jobs run (core/target-selection.ts) and the instances a move left it in. A deleting object is
   * deleted where it was applied (status.apim.target) while that target exists: its current choice may be elsewhere.
   */
  private targetContext(api: DispatchSummary): Pick<PlanContext, 'target' | 'releases'> {
    const t = this.options.targets;
    if (!t) return {};
    const jobTarget = (target: ApimTarget): JobTarget => ({
      name: target.name,
      settings: appliedSettingsHash(target),
      env: targetJobEnv(target).map((e) => ({ name: e.name, value: e.value })),
      ...(target.identity.serviceAccountName ? { serviceAccountName: target.identity.serviceAccountName } : {}),
    });
    let target: PlanContext['target'];
    const applied = api.appliedTarget;
    if (api.deleting && applied !== undefined && (applied === '' || t.directory.target(applied))) {
      target = applied === '' ? undefined : { kind: 'target', job: jobTarget(t.directory.target(applied)!) };
    } else {
      const choice = t.directory.choose(api.namespace, api.target, t.tenancy);
      if (choice.kind === 'target') target = { kind: 'target', job: jobTarget(choice.target) };
      else if (choice.kind === 'refused') target = { kind: 'refused', reason: choice.reason, message: `${choice.field}: ${choice.message}` };
    }
    const here = target?.kind === 'target' ? target.job.name : '';
    const releases: JobTarget[] = [];
    for (const name of api.formerTargets ?? []) {
      if (name === here) continue;
      if (name === '') releases.push({ name: '', settings: '', env: [] });
      else {
        const former = t.directory.target(name);
        if (former) releases.push(jobTarget(former));
        else this.log.warn('the API moved away from an ApimTarget that no longer exists: it cannot be removed there', { exposedapi: keyOf(api), target: name });
      }
    }
    return { ...(target ? { target } : {}), ...(releases.length > 0 ? { releases } : {}) };
  }

  enqueue(key: string, delayMs = 0): void {
    if (this.ready && !this.stopped) this.work.add(key, delayMs);
  }


  private jobChanged(job: JobSummary): void {
    const key = keyOf({ namespace: job.namespace, name: job.apiName });
    let byName = this.jobsByKey.get(key);
    if (!byName) this.jobsByKey.set(key, (byName = new Map()));
    const before = byName.get(job.name);
    byName.set(job.name, job);
    // Only Jobs seen running in this term count for the cap: a relist or a new leader replays old ends.
    if (this.watchedRunning.has(job.name) && podFailedTransiently(before, job)) this.adaptCap({ kind: 'pod-failed', atMs: Date.now() }, job.name);
    if (isActive(job)) {
      this.queue.markActive(key, job.name);
      this.watchedRunning.add(job.name);
    } else {
      this.queue.markInactive(job.name);
      if (job.outcome && this.watchedRunning.delete(job.name)) {
        const createdAt = this.createdAt.get(job.name);
        // A run that included a failed pod measures the failure and the pod's restart, not the pace.
        if (job.outcome === 'Complete' && createdAt !== undefined && !job.failedPods) {
          this.adaptCap({ kind: 'finished', startedAtMs: createdAt, endedAtMs: Date.now(), waiting: this.queue.startable(Date.now()) }, job.name);
        }
        (job.outcome === 'Complete' ? this.options.metrics.jobsSucceeded : this.options.metrics.jobsFailed).inc({ action: job.action });
        this.log.info(`executor Job ${job.outcome === 'Complete' ? 'completed' : 'failed'}`, { job: job.name, exposedapi: key, outcome: job.outcome, reason: job.reason });
      }
    }
    if (!isActive(job)) this.createdAt.delete(job.name);
    this.enqueue(key);
    this.pump();
  }

  private adaptCap(event: JobCapEvent, job: string): void {
    const before = this.cap;
    this.cap = nextJobCap(this.cap, event, this.capSettings);
    if (this.cap.why !== before.why && this.cap.why) this.log.info(`global Job cap: ${this.cap.why}`, { job });
  }

  private jobGone(job: JobSummary): void {
    const key = keyOf({ namespace: job.namespace, name: job.apiName });
    const byName = this.jobsByKey.get(key);
    byName?.delete(job.name);
    if (byName?.size === 0) this.jobsByKey.delete(key);
    this.queue.markInactive(job.name);
    this.watchedRunning.delete(job.name);
    this.createdAt.delete(job.name);
    this.enqueue(key);
    this.pump();
  }

  private async reconcile(key: string): Promise<void> {
    if (this.stopped || !this.ready) return;
    const slash = key.indexOf('/');
    let api = this.options.apis.get(key.slice(0, slash), key.slice(slash + 1));
    if (!api) {
      this.queue.cancel(key);
      this.lastCreated.delete(key);
      this.componentRetries.delete(key);
      this.readiness?.forget(key);
      this.updateGauges();
      return;
    }
    const jobs = [...(this.jobsByKey.get(key)?.values() ?? [])];
    // Ranked over the same cache every replica and every new leader sees: the same object loses, whoever plans.
    const lostClaims = this.options.claims?.lostBy(api) ?? [];
    const implementation = api.implementation ? this.readiness?.implementation(api.namespace, api.implementation) : undefined;
    const ctx = { now: new Date(), operatorNamespace: this.options.config.operatorNamespace, lastCreated: this.lastCreated.get(key), lostClaims, retry: this.options.config.retry, ...(implementation ? { implementation } : {}), ...this.targetContext(api) };
    let plan = planFor(api, jobs, ctx);
    if (plan.refresh) {
      // A Job succeeded but the cache does not show its result yet (the two watches are not ordered): ask the source.
      const fresh = await this.writes.read(api);
      if (!fresh) return;
      api = dispatchSummary(fresh);
      plan = planFor(api, jobs, { ...ctx, ...this.targetContext(api), fresh: true });
    }
    for (const name of plan.deleteJobs) await this.deleteJob(key, name);
    if (plan.releaseFinalizer) {
      const result = await this.writes.releaseFinalizer(api);
      if (result === 'conflict') return this.enqueue(key, 100);
      this.log.info('detach-on-delete: finalizer released without cleaning up APIM', { exposedapi: key });
      this.queue.cancel(key);
      this.updateGauges();
      return;
    }
    if (plan.status) {
      const result = await this.writes.writeStatus(api, plan.status);
      if (result === 'gone') return;
      // Planned from an older version; the cache brings the newer one, and its plan decides.
      if (result === 'conflict') return this.enqueue(key, 100);
    }
    if (plan.event) {
      await this.events.record(api, plan.event).catch((err: unknown) => this.log.warn('could not record an Event', { exposedapi: key, error: errorText(err) }));
    }
    if (plan.want) {
      // A retry waits for its backoff in the queue; the pump's timer starts it when due (and a new leader, planning
      // from the same failed Job, queues it for the same time).
      if (plan.notBeforeMs !== undefined && plan.notBeforeMs > Date.now() && !this.queue.waitingFor(key)) {
        this.log.info('executor Job failed for a transient reason; retry scheduled', { exposedapi: key, attempt: plan.want.attempt, at: new Date(plan.notBeforeMs).toISOString() });
      }
      this.queue.want(plan.want, plan.notBeforeMs ?? 0);
    } else this.queue.cancel(key);
    this.pump(); // before the readiness write: a new change should not wait for it
    if (this.readiness) await this.syncReadiness(key, api);
  }

  private async syncReadiness(key: string, api: DispatchSummary): Promise<void> {
    const before = { ...this.readiness!.stats };
    const result = await this.readiness!.sync(api);
    const after = this.readiness!.stats;
    if (after.statusWrites > before.statusWrites) this.options.metrics.readinessWrites.inc({ target: 'exposedapi' });
    if (after.componentWrites > before.componentWrites) this.options.metrics.readinessWrites.inc({ target: 'component' });
    if (result === 'done') this.componentRetries.delete(key);
    else {
      const n = (this.componentRetries.get(key) ?? 0) + 1;
      this.componentRetries.set(key, n);
      if (n <= COMPONENT_RETRIES) this.enqueue(key, COMPONENT_RETRY_MS);
    }
  }

  private async deleteJob(key: string, name: string): Promise<void> {
    try {
      // Background: the Job object goes at once (its name is free for the new Job), its pods after it.
      await this.batch.deleteNamespacedJob({ name, namespace: this.options.config.operatorNamespace, propagationPolicy: 'Background' });
      this.log.info('deleted a Job left over from an earlier change of the same content', { job: name, exposedapi: key });
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
    this.jobsByKey.get(key)?.delete(name);
    this.queue.markInactive(name);
  }

  private pump(): void {
    if (!this.ready || this.stopped) return;
    const now = Date.now();
    const cap = jobCapAt(this.cap, now, this.capSettings);
    if (cap !== this.queue.maxActive) {
      this.queue.maxActive = cap;
      this.options.metrics.jobCap.set(cap);
    }
    for (const change of this.queue.take(now, jobName)) void this.create(change);
    let due = this.queue.nextDueMs(now);
    // The end of a hold raises the cap by itself: the pump must run then, even if no Job event comes.
    if (this.cap.holdUntilMs > now && this.queue.depth > 0) due = Math.min(due ?? Infinity, this.cap.holdUntilMs);
    clearTimeout(this.pumpTimer);
    if (due !== undefined) {
      this.pumpTimer = setTimeout(() => this.pump(), Math.max(10, due - now));
      this.pumpTimer.unref();
    }
    this.updateGauges();
  }

  private updateGauges(): void {
    this.options.metrics.queueDepth.set(this.queue.depth);
    this.options.metrics.activeJobs.set(this.queue.activeCount);
  }

  private async create(change: Change): Promise<void> {
    const key = DispatchQueue.key(change);
    const name = jobName(change);
    const namespace = this.options.config.operatorNamespace;
    // Recorded before the call: a Job that finishes before the create returns is still known as this change's.
    const previous = this.lastCreated.get(key);
    this.lastCreated.set(key, name);
    this.createdAt.set(name, Date.now());
    try {
      await this.batch.createNamespacedJob({ namespace, body: buildJob(change, this.options.config.job, namespace) });
    } catch (err) {
      // Not this create's Job (409: created earlier, maybe by the previous leader) or none at all: no run time of ours.
      this.createdAt.delete(name);
      if (this.stopped) return;
      if (statusCode(err) === 409) {
        // Created before (by this replica a moment ago, or by the previous leader): the same Job, nothing to do.
        const existing = this.jobsByKey.get(key)?.get(name);
        if (existing && !isActive(existing)) this.queue.markInactive(name);
        this.enqueue(key);
        this.pump();
        return;
      }
      if (previous === undefined) this.lastCreated.delete(key);
      else this.lastCreated.set(key, previous);
      this.queue.markInactive(name);
      // Retry later, unless a newer change has replaced this one meanwhile.
      if (!this.queue.waitingFor(key)) this.queue.want(change, Date.now() + 2000);
      this.log.warn('could not create the executor Job; retrying in 2 s', { job: name, exposedapi: key, error: errorText(err) });
      this.pump();
      return;
    }
    this.options.metrics.jobsCreated.inc({ action: change.action });
    const seen = this.owner.seen.get(key);
    if (seen?.id === `${change.action}:${change.specHash}`) {
      this.options.metrics.dispatchLatency.observe({ action: change.action }, (performance.now() - seen.at) / 1000);
      this.owner.seen.delete(key);
    }
    this.log.info('created executor Job', { job: name, exposedapi: key, action: change.action, specHash: change.specHash });
    if (this.stopped) return;
    // Until the watch shows it, the Job is known from here: it counts as running for the plan and the cap.
    let byName = this.jobsByKey.get(key);
    if (!byName) this.jobsByKey.set(key, (byName = new Map()));
    if (!byName.has(name)) {
      byName.set(name, { name, namespace: change.namespace, apiName: change.name, apiUid: change.uid, specHash: change.specHash, action: change.action, attempt: change.attempt ?? 0, ...(change.repair !== undefined ? { repair: change.repair } : {}), deleting: false });
      this.watchedRunning.add(name);
    }
    this.enqueue(key);
  }
}
