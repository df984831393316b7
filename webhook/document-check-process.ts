// Document checks run in a separate, recyclable process. Parsing and dereferencing arbitrary documents is the one
// heavy, input-controlled part of admission: in a child it gets a hard time budget (the child is killed, the request
// answered), a crash or out-of-memory there cannot take the webhook down, and the memory that V8 and malloc keep after
// large documents is returned to the system when an idle or bloated child is recycled.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DocumentChecker, DocumentVerdict } from '../core/spec-document.ts';
import type { CheckReply } from './document-check-worker.ts';

export interface IsolatedCheckerOptions {
  /** Hard budget for one document; beyond it the child is killed and the document reported as uncheckable. */
  timeoutMs: number;
  /** A child with no work for this long exits (and gives its memory back); the next check starts a new one. */
  idleMs: number;
  /** A child whose RSS grows beyond this is replaced once it has no work. */
  maxRssMb: number;
  /** Extra V8 flags for the child (heap caps). */
  execArgv?: string[];
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

interface Pending {
  id: number;
  text: string;
  resolve: (r: DocumentVerdict) => void;
}

// From the sources the worker is a sibling .ts file; in the bundle (dist/) it is its own entry point.
const WORKER = import.meta.url.endsWith('.ts')
  ? fileURLToPath(new URL('./document-check-worker.ts', import.meta.url))
  : fileURLToPath(new URL(import.meta.url.includes('/chunks/') ? '../document-check-worker.mjs' : './document-check-worker.mjs', import.meta.url));

export class IsolatedDocumentChecker implements DocumentChecker {
  private readonly opts: IsolatedCheckerOptions;
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private readonly queue: Pending[] = [];
  private current?: Pending & { timer?: NodeJS.Timeout; child: ChildProcess; sent: boolean };
  private startFailures = 0;
  private idleTimer?: NodeJS.Timeout;
  private nextId = 1;
  private lastRssMb = 0;
  private closed = false;
  /** The per-document budget; starts as opts.timeoutMs (adjustable at runtime, e.g. by tests). */
  timeoutMs: number;
  readonly stats = { spawned: 0, recycled: 0, timeouts: 0, crashes: 0, checks: 0 };

  constructor(opts: IsolatedCheckerOptions) {
    this.opts = opts;
    this.timeoutMs = opts.timeoutMs;
  }

  get childPid(): number | undefined {
    return this.child?.pid;
  }

  /** Documents given to this checker and not yet answered (the pool gives a document only to a member with none). */
  get load(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  // Every answer that says "could not be checked" is transient: it describes this attempt, not the document
  // (DocumentCheckCache never keeps it).
  check(text: string): Promise<DocumentVerdict> {
    if (this.closed) return Promise.resolve({ problems: ['could not be checked: the webhook is shutting down'], transient: true });
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, text, resolve });
      this.pump();
    });
  }

  private spawn(): void {
    this.stats.spawned++;
    const child = fork(WORKER, [], {
      execArgv: this.opts.execArgv ?? ['--max-semi-space-size=4', '--max-old-space-size=768'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.lastRssMb = 0;
    this.ready = new Promise((resolve) => {
      const onReady = (m: unknown) => {
        if (m && typeof m === 'object' && 'ready' in m) {
          child.off('message', onReady);
          resolve();
        }
      };
      child.on('message', onReady);
      child.once('exit', () => resolve());
    });
    child.on('message', (m: CheckReply | { ready: true }) => {
      if (!('id' in m) || !this.current || this.current.child !== child || m.id !== this.current.id) return;
      const done = this.current;
      clearTimeout(done.timer);
      this.current = undefined;
      this.lastRssMb = m.rssMb;
      this.stats.checks++;
      done.resolve({ problems: m.problems, ...(m.transient ? { transient: true } : {}) });
      this.pump();
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.current?.child === child) {
        const failed = this.current;
        clearTimeout(failed.timer);
        this.current = undefined;
        if (!failed.sent && ++this.startFailures < 3) {
          // The child died before it got the document: not the document's fault; try again with a new child.
          this.queue.unshift(failed);
        } else if (!failed.sent) {
          failed.resolve({ problems: [`could not be checked: the document checker process does not start (${signal ?? `exit code ${code}`})`], transient: true });
        } else {
          // The child died under a document (out of memory, a crash): that document is the cause.
          this.stats.crashes++;
          this.opts.log?.('document checker exited while checking a document', { code, signal });
          failed.resolve({ problems: [`could not be checked: checking it exhausted the document checker (${signal ?? `exit code ${code}`}); a document this demanding cannot be imported reliably`], transient: true });
        }
      }
      this.pump();
    });
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const next = this.queue.shift();
    if (!next) {
      this.scheduleIdle();
      return;
    }
    clearTimeout(this.idleTimer);
    if (this.child && this.lastRssMb > this.opts.maxRssMb) this.recycle('memory');
    if (!this.child) this.spawn();
    const child = this.child!;
    this.current = { ...next, child, sent: false };
    void this.ready!.then(() => {
      const current = this.current;
      if (current?.id !== next.id || !child.connected) return; // the exit handler deals with a dead child
      // The budget covers the document only, not the child's start-up.
      current.timer = setTimeout(() => {
        this.stats.timeouts++;
        this.opts.log?.('document check exceeded its budget; restarting the checker', { timeoutMs: this.timeoutMs });
        this.current = undefined;
        if (this.child === child) this.child = undefined; // never hand the next document to the dying child
        child.kill('SIGKILL');
        current.resolve({ problems: [`could not be checked within ${this.timeoutMs} ms (DOCUMENT_CHECK_TIMEOUT_MS); simplify the document or reference a smaller one`], transient: true });
      }, this.timeoutMs);
      current.sent = true;
      this.startFailures = 0;
      child.send({ id: next.id, text: next.text });
    });
  }

  private scheduleIdle(): void {
    clearTimeout(this.idleTimer);
    if (!this.child) return;
    this.idleTimer = setTimeout(() => {
      if (!this.current && this.queue.length === 0) this.recycle('idle');
    }, this.opts.idleMs);
    this.idleTimer.unref();
  }

  private recycle(reason: string): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.stats.recycled++;
    this.opts.log?.('document checker recycled', { reason, rssMb: Math.round(this.lastRssMb) });
    child.disconnect();
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    // The document in hand is answered too (not as a crash of the child we are about to stop), so no caller waits on
    // a checker that is gone.
    const current = this.current;
    this.current = undefined;
    clearTimeout(current?.timer);
    for (const p of [...(current ? [current] : []), ...this.queue.splice(0)]) p.resolve({ problems: ['could not be checked: the webhook is shutting down'], transient: true });
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}
