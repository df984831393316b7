// A few document checker processes side by side, so new documents admitted at the same time are checked in parallel
// instead of queueing on one child (issue 12). Each member is an IsolatedDocumentChecker with its own time budget,
// crash containment, memory recycling and idle exit; the pool only decides which member gets the next document.
//
// Dispatch: a document goes to a member that has none in hand, one with a running child first (no start-up cost);
// when every member is busy it waits in the pool's one queue and goes to whichever member answers first. So a small
// document never waits behind a large one on a busy member while another member is free, and under a trickle of
// one document at a time the same warm member serves them all while the others stay stopped: an idle webhook holds
// at most the one child that served last, until its idle time passes too.
import type { DocumentChecker, DocumentVerdict } from '../core/spec-document.ts';
import { IsolatedDocumentChecker, type IsolatedCheckerOptions } from './document-check-process.ts';

export interface DocumentCheckerPoolOptions extends IsolatedCheckerOptions {
  /** Members, i.e. at most this many checker processes at once (DOCUMENT_CHECKERS, else the usable CPUs). */
  size: number;
}

interface Waiting {
  text: string;
  resolve: (v: DocumentVerdict) => void;
}

const SHUTTING_DOWN: DocumentVerdict = { problems: ['could not be checked: the webhook is shutting down'], transient: true };

export class DocumentCheckerPool implements DocumentChecker {
  readonly members: readonly IsolatedDocumentChecker[];
  private readonly waiting: Waiting[] = [];
  private closed = false;

  constructor(opts: DocumentCheckerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new Error(`document checker pool size ${opts.size} is invalid: must be a whole number ≥ 1`);
    const { size, ...member } = opts;
    this.members = Array.from({ length: size }, () => new IsolatedDocumentChecker(member));
  }

  get size(): number {
    return this.members.length;
  }

  /** The per-document budget of every member (adjustable at runtime, e.g. by tests). */
  get timeoutMs(): number {
    return this.members[0]!.timeoutMs;
  }
  set timeoutMs(ms: number) {
    for (const m of this.members) m.timeoutMs = ms;
  }

  /** The running checker processes (a stopped member has none). */
  get childPids(): number[] {
    return this.members.flatMap((m) => (m.childPid === undefined ? [] : [m.childPid]));
  }

  /** The members' counters summed. */
  get stats(): IsolatedDocumentChecker['stats'] {
    const sum = { spawned: 0, recycled: 0, timeouts: 0, crashes: 0, checks: 0 };
    for (const m of this.members) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += m.stats[k];
    return sum;
  }

  check(text: string): Promise<DocumentVerdict> {
    if (this.closed) return Promise.resolve(SHUTTING_DOWN);
    return new Promise((resolve) => {
      this.waiting.push({ text, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (!this.closed && this.waiting.length > 0) {
      const member = this.freeMember();
      if (!member) return; // every member is busy: the first to answer takes the next document
      const next = this.waiting.shift()!;
      // A member answers every document (a timeout or crash is an answer, marked transient), so this always settles.
      void member.check(next.text).then((verdict) => {
        next.resolve(verdict);
        this.dispatch();
      });
    }
  }

  private freeMember(): IsolatedDocumentChecker | undefined {
    let free: IsolatedDocumentChecker | undefined;
    for (const m of this.members) {
      if (m.load > 0) continue;
      if (m.childPid !== undefined) return m; // warm: no process start before the check
      free ??= m;
    }
    return free;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.resolve(SHUTTING_DOWN);
    await Promise.all(this.members.map((m) => m.close()));
  }
}
