// Every request the emulator received, by method and by `METHOD path`, with a total of writes: the record tests use
// to see a client's retries and polls (e.g. a 429 answered once shows up as two PUTs of the same path). Bounded: at
// most BY_PATH_LIMIT distinct paths (plus one overflow bucket per method).

export interface RequestCountsSnapshot {
  total: number;
  writes: number;
  byMethod: Record<string, number>;
  byPath: Record<string, number>;
}

const WRITE_METHODS = new Set(['PUT', 'PATCH', 'POST', 'DELETE']);

/**
 * Distinct `METHOD path` keys kept; later new paths are counted under `METHOD (other paths)`. Paths carry entity
 * names, so a long session (or a client probing ids) would otherwise grow the map without end.
 */
export const BY_PATH_LIMIT = 5000;

export class RequestCounts {
  #total = 0;
  #writes = 0;
  #byMethod = new Map<string, number>();
  #byPath = new Map<string, number>();

  record(method: string, path: string): void {
    const m = method.toUpperCase();
    this.#total += 1;
    if (WRITE_METHODS.has(m)) this.#writes += 1;
    this.#byMethod.set(m, (this.#byMethod.get(m) ?? 0) + 1);
    let k = `${m} ${path}`;
    if (!this.#byPath.has(k) && this.#byPath.size >= BY_PATH_LIMIT) k = `${m} (other paths)`;
    this.#byPath.set(k, (this.#byPath.get(k) ?? 0) + 1);
  }

  snapshot(): RequestCountsSnapshot {
    return {
      total: this.#total,
      writes: this.#writes,
      byMethod: Object.fromEntries(this.#byMethod),
      byPath: Object.fromEntries(this.#byPath),
    };
  }

  reset(): void {
    this.#total = 0;
    this.#writes = 0;
    this.#byMethod.clear();
    this.#byPath.clear();
  }
}
