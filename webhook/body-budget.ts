// A budget for large AdmissionReview bodies being received and judged at once. Each one costs its size several times
// over while it is buffered, parsed and validated (the text, the parsed object, the inline document), and the memory
// V8 and malloc grow for it is not all returned afterwards. Forty connections sending 7 MB bodies slowly took the
// webhook from 251 MB to 478 MB RSS, past its 384 Mi limit. With a budget, a large body that does not fit is refused
// at once, from its Content-Length, before a byte of it is read: the apiserver gets an error and the user retries,
// instead of the pod being killed for everyone. Small bodies (ExposedAPIs that reference their document by URL,
// i.e. nearly all) never wait for the budget, so admission keeps working during such an attack.

export interface BodyBudgetOptions {
  /** Bodies of at least this many bytes count against the budget. */
  largeBodyBytes: number;
  /** The most bytes of large bodies in flight at once. */
  maxInflightBytes: number;
  /** Reserved for a body without Content-Length (chunked): its size is unknown until read, so the largest allowed. */
  unknownLengthBytes: number;
}

export type Reservation = { ok: true; bytes: number; release: () => void } | { ok: false; inflightBytes: number };

export class BodyBudget {
  private readonly opts: BodyBudgetOptions;
  private inflight = 0;
  /** Bodies refused for want of budget since start (for metrics and tests). */
  refused = 0;

  constructor(opts: BodyBudgetOptions) {
    this.opts = opts;
  }

  get inflightBytes(): number {
    return this.inflight;
  }

  /** Reserves room for a body of `contentLength` bytes (undefined: unknown). `release` is idempotent. */
  reserve(contentLength: number | undefined): Reservation {
    const bytes = contentLength === undefined ? this.opts.unknownLengthBytes : contentLength;
    if (bytes < this.opts.largeBodyBytes) return { ok: true, bytes: 0, release: () => {} };
    if (this.inflight + bytes > this.opts.maxInflightBytes) {
      this.refused++;
      return { ok: false, inflightBytes: this.inflight };
    }
    this.inflight += bytes;
    let released = false;
    return {
      ok: true,
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.inflight -= bytes;
      },
    };
  }
}

/** The Content-Length header as a number, or undefined when absent or malformed. */
export function contentLengthOf(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
