// Deleting what a run created, and finding what an earlier run left behind. Only ids with a run prefix are ever
// deleted (owned-names.ts); everything else on the service is only read.
import type { ArmResponse, ArmTarget } from './arm-target.ts';
import { followOperation, sleep } from './long-running.ts';
import { isRunObject } from './owned-names.ts';
import type { CreatedObject } from './run-context.ts';
import { listAll } from './run-context.ts';

export interface CleanupOptions {
  pollIntervalMs: number;
  timeoutMs: number;
  /** Not the run's signal: cleanup must go on after an interrupt. */
  signal: AbortSignal;
}

function deletePath(o: CreatedObject): string {
  const id = encodeURIComponent(o.id);
  switch (o.kind) {
    // All revisions with the API; products with their subscriptions (none are created, but a product that has any
    // cannot be deleted without this).
    case 'api':
      return `/apis/${id}?deleteRevisions=true`;
    case 'product':
      return `/products/${id}?deleteSubscriptions=true`;
    case 'tag':
      return `/tags/${id}`;
  }
}

/** Deletes one object; done when the service says it is gone (200/202 then done, 204, or 404 already gone). */
export async function deleteObject(target: ArmTarget, o: CreatedObject, opts: CleanupOptions): Promise<void> {
  if (!isRunObject(o.id)) throw new Error(`refusing to delete ${o.kind} '${o.id}': not a conformance object`);
  const path = deletePath(o);
  const deadline = Date.now() + opts.timeoutMs;
  let interval = opts.pollIntervalMs;
  for (;;) {
    const res: ArmResponse = await target.request('DELETE', path, { headers: { 'if-match': '*' } });
    // An import still running on the API refuses the delete with 409 until it ends.
    if (res.status === 409 && Date.now() + interval < deadline) {
      await sleep(interval, opts.signal);
      interval = Math.min(10_000, Math.round(interval * 1.5));
      continue;
    }
    if (res.status === 404 || res.status === 204) return;
    if (res.status >= 400) throw new Error(`DELETE ${path} answered ${res.status} ${res.text.slice(0, 200)}`);
    const outcome = await followOperation(target, res, path.split('?')[0]!, { intervalMs: opts.pollIntervalMs, timeoutMs: Math.max(1000, deadline - Date.now()), signal: opts.signal });
    const final = outcome.final.status;
    if (outcome.status && outcome.status.status.toLowerCase() !== 'succeeded') throw new Error(`DELETE ${path} ended ${outcome.status.status}: ${outcome.status.error?.message ?? ''}`);
    if (final >= 400 && final !== 404) throw new Error(`DELETE ${path} ended with ${final} ${outcome.final.text.slice(0, 200)}`);
    return;
  }
}

/** Deletes in reverse creation order; reports each object as deleted or failed (with why), never throws. */
export async function deleteAll(target: ArmTarget, objects: readonly CreatedObject[], opts: CleanupOptions): Promise<{ deleted: string[]; failed: string[] }> {
  const deleted: string[] = [];
  const failed: string[] = [];
  for (const o of [...objects].reverse()) {
    try {
      await deleteObject(target, o, opts);
      deleted.push(`${o.kind} ${o.id}`);
    } catch (err) {
      failed.push(`${o.kind} ${o.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { deleted, failed };
}

/** Objects of earlier runs still on the service (APIs with their revisions, products, tags). */
export async function findLeftovers(target: ArmTarget): Promise<CreatedObject[]> {
  const found: CreatedObject[] = [];
  for (const [kind, path] of [['tag', '/tags'], ['product', '/products'], ['api', '/apis']] as const) {
    for (const item of await listAll(target, path)) {
      const id = String(item.name).split(';')[0]!;
      if (isRunObject(id) && !found.some((f) => f.kind === kind && f.id === id)) found.push({ kind, id });
    }
  }
  return found;
}
