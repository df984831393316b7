// What a check works with: the target behind a guard that lets it write only to objects with this run's prefix, the
// names it may use, the service's tier, long-running operations followed to their end, and a record of everything it
// created so the runner can delete it all at the end, whatever happened.
import type { HttpMethods } from '@azure/core-rest-pipeline';
import type { ArmResponse, ArmTarget, RequestOptions } from './arm-target.ts';
import type { LroOutcome } from './long-running.ts';
import { followOperation, sleep } from './long-running.ts';
import { writeRefusal } from './owned-names.ts';

export type CreatedKind = 'api' | 'product' | 'tag';

export interface CreatedObject {
  kind: CreatedKind;
  id: string;
}

export interface ContextOptions {
  target: ArmTarget;
  prefix: string;
  signal: AbortSignal;
  pollIntervalMs: number;
  operationTimeoutMs: number;
  log: (line: string) => void;
}

export class ConformanceContext {
  readonly target: ArmTarget;
  readonly prefix: string;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
  /** In creation order; the runner deletes them in reverse. */
  readonly created: CreatedObject[] = [];
  readonly #options: ContextOptions;
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(o: ContextOptions) {
    this.target = o.target;
    this.prefix = o.prefix;
    this.signal = o.signal;
    this.log = o.log;
    this.#options = o;
  }

  /** An object id of this run: `conformance-<hex>-<name>`. */
  id(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** An API path of this run (no leading slash, as APIM stores it): `conformance-<hex>/<name>`. */
  path(name: string): string {
    return `${this.prefix.replace(/-$/, '')}/${name}`;
  }

  ownsId(id: string): boolean {
    return id.toLowerCase().startsWith(this.prefix.toLowerCase());
  }

  /** Reads go anywhere below the service (and to the polling URLs it hands out). */
  read(path: string, headers?: Record<string, string>): Promise<ArmResponse> {
    return this.target.request('GET', path, headers ? { headers } : {});
  }

  /** Writes only to this run's objects; anything else is a bug in a check and is refused before it leaves. */
  write(method: Exclude<HttpMethods, 'GET' | 'HEAD'>, path: string, options: RequestOptions = {}): Promise<ArmResponse> {
    const refusal = writeRefusal(path, (id) => this.ownsId(id));
    if (refusal !== undefined) return Promise.reject(new Error(`conformance refuses to write: ${refusal}`));
    return this.target.request(method, path, options);
  }

  /** Records an object for deletion at the end; called before the request that creates it, so a crash cannot leak it. */
  track(kind: CreatedKind, id: string): void {
    if (!this.created.some((c) => c.kind === kind && c.id.toLowerCase() === id.toLowerCase())) this.created.push({ kind, id });
  }

  follow(first: ArmResponse, resourcePath: string): Promise<LroOutcome> {
    return followOperation(this.target, first, resourcePath, {
      intervalMs: this.#options.pollIntervalMs,
      timeoutMs: this.#options.operationTimeoutMs,
      signal: this.signal,
    });
  }

  /** Starts an import (PUT with format and value) of a new or existing API of this run. */
  startImport(apiId: string, properties: Record<string, unknown>): Promise<ArmResponse> {
    this.track('api', apiId);
    return this.write('PUT', `/apis/${encodeURIComponent(apiId)}`, { body: { properties } });
  }

  /** An import followed to its end. */
  async importApi(apiId: string, properties: Record<string, unknown>): Promise<{ accepted: ArmResponse; outcome: LroOutcome }> {
    const accepted = await this.startImport(apiId, properties);
    if (accepted.status >= 400) return { accepted, outcome: { via: 'none', final: accepted, polls: 0, durationMs: 0 } };
    const resource = `/apis/${encodeURIComponent(apiId)}`;
    const outcome = await this.follow(accepted, resource);
    // A finished import may answer 404 for a while before the API shows (terraform-provider-azurerm #23322): wait for
    // it before calling the import failed, and say how long it took.
    if (outcome.final.status === 404 && outcome.final.json?.error?.code === 'ResourceNotFound') {
      const started = Date.now();
      const later = await this.readAfterImport(resource);
      if (later.status === 200) return { accepted, outcome: { ...outcome, final: later, notFoundForMs: Date.now() - started } };
    }
    return { accepted, outcome };
  }

  /**
   * A GET right after an import: a 404 is retried for up to two minutes, since the real service may answer "Api not
   * found." for a while after a completed import (hashicorp/terraform-provider-azurerm #23322, #28201).
   */
  async readAfterImport(path: string): Promise<ArmResponse> {
    const deadline = Date.now() + Math.min(120_000, this.#options.operationTimeoutMs);
    let wait = this.#options.pollIntervalMs;
    for (;;) {
      const res = await this.read(path);
      if (res.status !== 404 || Date.now() + wait > deadline) return res;
      await sleep(wait, this.signal);
      wait = Math.min(10_000, Math.round(wait * 1.5));
    }
  }

  /** The service's SKU name (`sku.name` of the service GET), read once. */
  sku(): Promise<string> {
    return this.memo('sku', async () => {
      const res = await this.read('');
      const name = res.json?.sku?.name;
      if (res.status !== 200 || typeof name !== 'string') throw new Error(`the service GET answered ${res.status} without sku.name`);
      return name;
    });
  }

  /** One shared scenario per key (e.g. the base API several checks look at), run at most once. */
  memo<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      this.#memo.set(key, p);
    }
    return p;
  }
}

/** Every item of an ARM collection, following nextLink. */
export async function listAll(target: ArmTarget, path: string): Promise<{ name: string; properties?: Record<string, unknown> }[]> {
  const items: { name: string; properties?: Record<string, unknown> }[] = [];
  let next: string | undefined = path;
  for (let pages = 0; next !== undefined && pages < 1000; pages++) {
    const res = await target.request('GET', next);
    if (res.status !== 200) throw new Error(`GET ${next} answered ${res.status}: ${res.text.slice(0, 200)}`);
    for (const item of res.json?.value ?? []) items.push(item);
    next = typeof res.json?.nextLink === 'string' && res.json.nextLink !== '' ? res.json.nextLink : undefined;
  }
  return items;
}
