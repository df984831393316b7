// After a burst of large AdmissionReviews (inline OpenAPI documents of hundreds of kilobytes each), V8 keeps the
// heap it grew and does not always shrink it on its own. Once the burst is over, a full collection returns those
// pages, so the webhook's footprint goes back to its resting size instead of ratcheting up with every large apply.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

function obtainGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

export class IdleCompactor {
  private readonly gc = obtainGc();
  private pendingBytes = 0;
  private timer?: NodeJS.Timeout;
  private readonly thresholdBytes: number;
  private readonly idleMs: number;
  compactions = 0;

  constructor(thresholdBytes = 32 * 1024 * 1024, idleMs = 2000) {
    this.thresholdBytes = thresholdBytes;
    this.idleMs = idleMs;
  }

  /** Records a request body; once enough has passed through, compacts after the next idle period. */
  note(bytes: number): void {
    if (!this.gc) return;
    this.pendingBytes += bytes;
    if (this.pendingBytes < this.thresholdBytes) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.pendingBytes = 0;
      this.compactions++;
      this.gc!();
    }, this.idleMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
