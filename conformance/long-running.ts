// Following an ARM long-running operation to its end, from the first answer, the way the Azure SDK's core-lro does:
// Azure-AsyncOperation (or Operation-Location) first, whose top-level `status` says when it is done; otherwise the
// Location URL, 202 while running and any other status as the outcome. Kept raw so a check can report each step.
import type { ArmResponse, ArmTarget } from './arm-target.ts';

export interface LroOutcome {
  /** How the operation was followed. */
  via: 'azure-async-operation' | 'location' | 'none';
  /** The answer that ended it: the Location poll's final answer, or the resource GET after a Succeeded status. */
  final: ArmResponse;
  /** For Azure-AsyncOperation: the terminal status document. */
  status?: { status: string; error?: { code?: string; message?: string } };
  polls: number;
  durationMs: number;
  /**
   * Set when the operation ended in 404 and the resource appeared afterwards: how long it stayed "not found". Seen for
   * real after imports (hashicorp/terraform-provider-azurerm #23322, #28201); the emulator's notFoundAfterImportMs.
   */
  notFoundForMs?: number;
}

export interface PollOptions {
  /** First wait between polls, grown ×1.5 up to 10 s; a Retry-After header wins. */
  intervalMs: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('interrupted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Error('interrupted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function pollUrls(res: ArmResponse): { asyncOperation?: string; location?: string } {
  const asyncOperation = res.headers['azure-asyncoperation'] ?? res.headers['operation-location'];
  const location = res.headers['location'];
  return { ...(asyncOperation ? { asyncOperation } : {}), ...(location ? { location } : {}) };
}

/** True when the first answer leaves work to follow: 202, or a 200/201 carrying a polling header. */
export function isAccepted(res: ArmResponse): boolean {
  const urls = pollUrls(res);
  return res.status === 202 || ((res.status === 200 || res.status === 201) && urls.asyncOperation !== undefined);
}

function retryAfterMs(res: ArmResponse): number | undefined {
  const v = res.headers['retry-after'];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v) * 1000;
}

/**
 * Follows the operation started by `first` on `resourcePath` (below the service). A first answer that is already
 * final (200/201/204 without Azure-AsyncOperation) is returned as is.
 */
export async function followOperation(target: ArmTarget, first: ArmResponse, resourcePath: string, poll: PollOptions): Promise<LroOutcome> {
  const started = Date.now();
  if (!isAccepted(first)) return { via: 'none', final: first, polls: 0, durationMs: 0 };
  const urls = pollUrls(first);
  let interval = poll.intervalMs;
  let polls = 0;
  let wait = retryAfterMs(first) ?? interval;
  const deadline = started + poll.timeoutMs;
  for (;;) {
    if (Date.now() + wait > deadline) throw new Error(`the operation on ${resourcePath} did not finish within ${Math.round(poll.timeoutMs / 1000)} s (${polls} polls)`);
    await sleep(wait, poll.signal);
    interval = Math.min(10_000, Math.round(interval * 1.5));
    polls++;
    if (urls.asyncOperation) {
      const res = await target.request('GET', urls.asyncOperation);
      const status = typeof res.json?.status === 'string' ? (res.json.status as string) : undefined;
      if (res.status === 200 && status !== undefined && ['succeeded', 'failed', 'canceled'].includes(status.toLowerCase())) {
        const final = status.toLowerCase() === 'succeeded' ? await target.request('GET', resourcePath) : res;
        return { via: 'azure-async-operation', final, status: { status, ...(res.json.error ? { error: res.json.error } : {}) }, polls, durationMs: Date.now() - started };
      }
      if (res.status !== 200 && res.status !== 202) {
        return { via: 'azure-async-operation', final: res, polls, durationMs: Date.now() - started };
      }
      wait = retryAfterMs(res) ?? interval;
    } else if (urls.location) {
      const res = await target.request('GET', urls.location);
      if (res.status !== 202) return { via: 'location', final: res, polls, durationMs: Date.now() - started };
      wait = retryAfterMs(res) ?? interval;
    } else {
      throw new Error(`a ${first.status} answer on ${resourcePath} has neither Azure-AsyncOperation nor Location to follow`);
    }
  }
}

/** One status check of a running operation: true while it still runs. */
export async function stillRunning(target: ArmTarget, first: ArmResponse): Promise<boolean> {
  const urls = pollUrls(first);
  if (urls.asyncOperation) {
    const res = await target.request('GET', urls.asyncOperation);
    const status = String(res.json?.status ?? '').toLowerCase();
    return res.status === 200 && !['succeeded', 'failed', 'canceled'].includes(status);
  }
  if (urls.location) return (await target.request('GET', urls.location)).status === 202;
  return false;
}

/** `code: message` of an ARM error body (and its details), for the report. */
export function describeError(res: ArmResponse): string {
  const e = res.json?.error ?? res.json;
  if (!e || typeof e !== 'object') return res.text.slice(0, 200);
  const details = Array.isArray(e.details)
    ? e.details.map((d: { code?: string; target?: string; message?: string }) => `[${d.target ?? ''}] ${d.message ?? d.code ?? ''}`).join('; ')
    : '';
  return `${e.code ?? '?'}: ${e.message ?? ''}${details ? ` ${details}` : ''}`;
}

/** The error an operation ended with (a 4xx/5xx final answer, or a Failed/Canceled status), or undefined. */
export function outcomeError(outcome: LroOutcome): string | undefined {
  if (outcome.status && outcome.status.status.toLowerCase() !== 'succeeded') {
    return `${outcome.status.status}: ${outcome.status.error?.code ?? '?'}: ${outcome.status.error?.message ?? ''}`;
  }
  return outcome.final.status >= 400 ? describeError(outcome.final) : undefined;
}
