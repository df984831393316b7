// A keyed work queue in the manner of client-go's workqueue: a key is processed by one worker at a time; adding a
// key that is already waiting does nothing; adding one that is being processed runs it once more afterwards (so no
// event is lost and no two workers race on the same ExposedAPI); a failure retries the key with exponential backoff.
export class KeyedWorkQueue {
  private readonly waiting = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly concurrency: number;
  private readonly work: (key: string) => Promise<void>;
  private readonly onError: (key: string, err: unknown, retryInMs: number) => void;
  private readonly maxBackoffMs: number;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(o: { concurrency: number; work: (key: string) => Promise<void>; onError: (key: string, err: unknown, retryInMs: number) => void; maxBackoffMs?: number }) {
    this.concurrency = o.concurrency;
    this.work = o.work;
    this.onError = o.onError;
    this.maxBackoffMs = o.maxBackoffMs ?? 30_000;
  }

  add(key: string, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      const existing = this.timers.get(key);
      if (existing && existing.at <= at) return;
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, delayMs);
      timer.unref();
      this.timers.set(key, { at, timer });
      return;
    }
    if (this.processing.has(key)) {
      this.again.add(key);
      return;
    }
    this.waiting.add(key);
    this.pump();
  }

  get length(): number {
    return this.waiting.size + this.processing.size;
  }

  /** Resolves when nothing waits or runs (delayed keys aside). */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.clear();
    this.again.clear();
  }

  private pump(): void {
    while (!this.stopped && this.processing.size < this.concurrency && this.waiting.size > 0) {
      const key = this.waiting.values().next().value as string;
      this.waiting.delete(key);
      this.processing.add(key);
      void this.run(key);
    }
    if (this.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.work(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(200 * 2 ** (n - 1), this.maxBackoffMs);
      this.onError(key, err, delay);
      this.add(key, delay);
    } finally {
      this.processing.delete(key);
      if (this.again.delete(key)) this.waiting.add(key);
      this.pump();
    }
  }
}
