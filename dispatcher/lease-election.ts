// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it (client-node has none):
// every replica tries to acquire or renew every retry period; a lease counts as expired when its record has not
// changed for leaseDuration by OUR clock (never by comparing clocks across machines); a leader that has not renewed
// within renewDeadline stops leading on its own, before anyone else may take over; a leader that shuts down
// releases the lease, so the next replica takes over at its next retry instead of after the full duration.
// Updates carry the resourceVersion they read, so two candidates can never both win.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { errorMessage, statusCode } from '../core/kube/errors.ts';
import type { Log } from '../core/log.ts';

export interface LeaseElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  durationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: Log;
}

export class LeaseElection {
  private readonly options: LeaseElectionOptions;
  private readonly api: CoordinationV1Api;
  private leading = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** The last record we saw and when (our clock): the basis of expiry. */
  private observed: { holder: string; renew: string; at: number } | undefined;
  private lastRenewAt = 0;
  /** Counts for tests and metrics. */
  readonly stats = { acquired: 0, lost: 0, renewals: 0, errors: 0 };

  constructor(options: LeaseElectionOptions) {
    this.options = options;
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops campaigning; a leader steps down and releases the lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      await this.release().catch((err: unknown) => this.options.log?.warn('could not release the dispatcher lease; the next replica takes over when it expires', { error: String(err) }));
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.tryAcquireOrRenew().catch((err: unknown) => {
        this.stats.errors++;
        this.options.log?.warn('dispatcher lease request failed', { error: errorMessage(err) });
        return false;
      });
      if (this.stopped) return;
      const now = Date.now();
      if (ok) {
        this.lastRenewAt = now;
        if (!this.leading) {
          this.stats.acquired++;
          this.setLeading(true);
        } else {
          this.stats.renewals++;
        }
      } else if (this.leading && now - this.lastRenewAt >= this.options.renewDeadlineMs) {
        this.stats.lost++;
        this.setLeading(false);
      }
      // Candidates jitter so that they do not hit the apiserver in lockstep; a leader renews on the beat.
      const delay = this.leading ? this.options.retryPeriodMs : this.options.retryPeriodMs * (1 + Math.random() * 0.2);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.options.log?.info(leading ? 'became the dispatcher leader' : 'stopped leading the dispatcher', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity });
    try {
      if (leading) this.options.onStartedLeading();
      else this.options.onStoppedLeading();
    } catch (err) {
      this.options.log?.warn('leadership callback failed', { error: String(err) });
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new V1MicroTime();
    const durationSeconds = Math.ceil(this.options.durationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        });
        this.observed = { holder: identity, renew: now.toISOString(), at: Date.now() };
        return true;
      } catch (e) {
        if (statusCode(e) === 409) return false; // another replica created it first
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renew = spec.renewTime ? new Date(spec.renewTime).toISOString() : '';
    if (!this.observed || this.observed.holder !== holder || this.observed.renew !== renew) {
      this.observed = { holder, renew, at: Date.now() };
    }
    const heldByOther = holder !== '' && holder !== identity;
    const observedDurationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && Date.now() - this.observed.at < observedDurationMs) return false;
    const acquiring = holder !== identity;
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: now,
        ...(acquiring ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body });
    } catch (err) {
      if (statusCode(err) === 409) return false; // someone else updated it since we read it
      throw err;
    }
    this.observed = { holder: identity, renew: now.toISOString(), at: Date.now() };
    return true;
  }

  /** Gives the lease up: no holder and a one-second duration, as client-go does. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    const now = new V1MicroTime();
    await this.api.replaceNamespacedLease({
      name,
      namespace,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now } },
    });
  }
}
