// Serving certificates rotate (cert-manager renews them in place; a Secret volume swaps a symlink). The files are
// polled and the server's secure context replaced, so rotation never needs a restart.
import { readFileSync, statSync } from 'node:fs';

export interface TlsMaterial {
  cert: string;
  key: string;
}

export function readTls(certFile: string, keyFile: string): TlsMaterial {
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

function fingerprint(file: string): string {
  const s = statSync(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

export class TlsReloader {
  private timer?: NodeJS.Timeout;
  private last: string;
  reloads = 0;
  private readonly certFile: string;
  private readonly keyFile: string;
  private readonly apply: (tls: TlsMaterial) => void;
  private readonly onError: (e: unknown) => void;

  constructor(certFile: string, keyFile: string, apply: (tls: TlsMaterial) => void, onError: (e: unknown) => void) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.apply = apply;
    this.onError = onError;
    this.last = this.current();
  }

  private current(): string {
    return `${fingerprint(this.certFile)}|${fingerprint(this.keyFile)}`;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  /** Reloads when either file changed; a half-written pair fails to load and is retried on the next tick. */
  check(): boolean {
    try {
      const now = this.current();
      if (now === this.last) return false;
      this.apply(readTls(this.certFile, this.keyFile));
      this.last = now;
      this.reloads++;
      return true;
    } catch (e) {
      this.onError(e);
      return false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
