// Ordering and pacing of changes, pure (no timers, no I/O; the caller passes the time):
// - at most one active Job per ExposedAPI: a change for an object whose Job runs waits, and a newer change replaces
//   the waiting one (only the newest runs after);
// - at most `maxActive` Jobs at once in total, because every Job writes to APIM and ARM throttles writes per
//   subscription: a burst of 500 changes must trickle, not stampede;
// - fairness: namespaces take turns (round-robin), so one team's burst cannot starve another team's single change.
import type { Change } from './job-manifest.ts';

interface Waiting {
  change: Change;
  /** Not before this time (a failed create is retried with a delay). */
  notBeforeMs: number;
}

export class DispatchQueue {
  maxActive: number;
  /** Waiting changes per namespace, in arrival order (a replaced change keeps its place). */
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  /** Namespaces with waiting changes, in turn order; `cursor` is whose turn it is. */
  private ring: string[] = [];
  private cursor = 0;
  /** Active Jobs: Job name → object key, and the reverse. */
  private readonly activeJobs = new Map<string, string>();
  private readonly activeByKey = new Map<string, Set<string>>();

  constructor(maxActive: number) {
    this.maxActive = maxActive;
  }

  static key(change: Pick<Change, 'namespace' | 'name'>): string {
    return `${change.namespace}/${change.name}`;
  }

  /** The newest change wanted for its object; replaces a waiting one. */
  want(change: Change, notBeforeMs = 0): void {
    const ns = change.namespace;
    let items = this.waiting.get(ns);
    if (!items) {
      items = new Map();
      this.waiting.set(ns, items);
      // A namespace joining the ring waits for its turn after everyone already waiting.
      this.ring.splice(this.cursor, 0, ns);
      this.cursor = (this.cursor + 1) % this.ring.length;
    }
    items.set(DispatchQueue.key(change), { change, notBeforeMs });
  }

  /** Nothing is wanted for the object any more (done, failed, gone). */
  cancel(key: string): void {
    const ns = key.slice(0, key.indexOf('/'));
    const items = this.waiting.get(ns);
    if (!items?.delete(key) || items.size > 0) return;
    this.waiting.delete(ns);
    const i = this.ring.indexOf(ns);
    this.ring.splice(i, 1);
    if (i < this.cursor) this.cursor--;
    if (this.cursor >= this.ring.length) this.cursor = 0;
  }

  waitingFor(key: string): Change | undefined {
    const ns = key.slice(0, key.indexOf('/'));
    return this.waiting.get(ns)?.get(key)?.change;
  }

  markActive(key: string, jobName: string): void {
    if (this.activeJobs.get(jobName) === key) return;
    this.activeJobs.set(jobName, key);
    let set = this.activeByKey.get(key);
    if (!set) this.activeByKey.set(key, (set = new Set()));
    set.add(jobName);
  }

  markInactive(jobName: string): void {
    const key = this.activeJobs.get(jobName);
    if (key === undefined) return;
    this.activeJobs.delete(jobName);
    const set = this.activeByKey.get(key);
    set?.delete(jobName);
    if (set?.size === 0) this.activeByKey.delete(key);
  }

  isActive(key: string): boolean {
    return this.activeByKey.has(key);
  }

  get activeCount(): number {
    return this.activeJobs.size;
  }

  /** Waiting changes (the queue depth). */
  get depth(): number {
    let n = 0;
    for (const items of this.waiting.values()) n += items.size;
    return n;
  }

  /**
   * The changes to start now, in order. Each is removed from the queue and counted active under its Job name
   * (`jobNameOf`) at once, so the cap holds before the Job watch confirms anything.
   */
  take(nowMs: number, jobNameOf: (change: Change) => string): Change[] {
    const out: Change[] = [];
    let idleTurns = 0; // consecutive namespaces with nothing startable: a full round of them means stop
    while (this.activeJobs.size < this.maxActive && this.ring.length > 0 && idleTurns < this.ring.length) {
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const ns = this.ring[this.cursor]!;
      const items = this.waiting.get(ns)!;
      let picked: Waiting | undefined;
      for (const [key, w] of items) {
        if (w.notBeforeMs <= nowMs && !this.activeByKey.has(key)) {
          picked = w;
          break;
        }
      }
      if (!picked) {
        idleTurns++;
        this.cursor = (this.cursor + 1) % this.ring.length;
        continue;
      }
      idleTurns = 0;
      const key = DispatchQueue.key(picked.change);
      this.markActive(key, jobNameOf(picked.change));
      out.push(picked.change);
      items.delete(key);
      if (items.size === 0) {
        this.waiting.delete(ns);
        this.ring.splice(this.cursor, 1); // the next namespace slides into this turn
      } else {
        this.cursor++;
      }
      if (this.ring.length > 0) this.cursor %= this.ring.length;
      else this.cursor = 0;
    }
    return out;
  }

  /**
   * A waiting change could start now but for the cap: due, and its object has no running Job. (Changes waiting for a
   * retry's backoff or for their object's Job are no demand for a higher cap.)
   */
  startable(nowMs: number): boolean {
    for (const items of this.waiting.values()) {
      for (const [key, w] of items) if (w.notBeforeMs <= nowMs && !this.activeByKey.has(key)) return true;
    }
    return false;
  }

  /** When the earliest delayed change becomes startable (for a timer), if any waits on time alone. */
  nextDueMs(nowMs: number): number | undefined {
    let due: number | undefined;
    for (const items of this.waiting.values()) {
      for (const [key, w] of items) {
        if (w.notBeforeMs > nowMs && !this.activeByKey.has(key)) due = Math.min(due ?? Infinity, w.notBeforeMs);
      }
    }
    return due;
  }
}
