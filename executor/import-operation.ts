// A running import, found again. An import of a few hundred KB runs for minutes (Azure/apiops-cli #251: over 7.5
// minutes), longer than one Job's retry budget; while it runs, APIM answers writes to the API with 409 "Operation on
// the API is in progress" and a new API with 404. So the Location URL APIM answers the import PUT with is recorded in
// the ExposedAPI's status (status.apim.import) and polled: by this run until the import ends, and by the next Job
// when this one runs out of budget, instead of starting the import again.
//
// status is writable by tenants (the ODA CRD has no status subresource), so a recorded URL is only polled when it is
// APIM's own polling URL for this API: https, on the configured ARM endpoint, below this subscription, resource group
// and service, path /apis/<apiId>, carrying an asyncId. Polling it sends the executor's token only to ARM, and the
// asyncId APIM generated is unguessable, so a success answer proves an import of this very API happened.
import type { ImportRecord } from '../core/exposedapi-status.ts';
import type { Apim } from './apim-client.ts';

/** A record older than this is not polled: APIM forgets finished operations, and the Job chain ended long ago. */
export const IMPORT_RECORD_MAX_AGE_MS = 6 * 60 * 60 * 1000;

export interface ServiceCoordinates {
  armEndpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
}

/** The URL path of an API below the service, as ARM spells it. */
export function apiResourcePath(s: ServiceCoordinates, apiId: string): string {
  return `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/Microsoft.ApiManagement/service/${s.serviceName}/apis/${apiId}`;
}

/** Why a polling URL is not APIM's for this API, or undefined when it is. */
export function pollingUrlProblem(url: string, s: ServiceCoordinates, apiId: string): string | undefined {
  let u: URL;
  let arm: URL;
  try {
    u = new URL(url);
    arm = new URL(s.armEndpoint);
  } catch {
    return `${JSON.stringify(url)} is not an absolute URL`;
  }
  if (u.protocol !== 'https:') return `${u.protocol} is not https`;
  if (u.username !== '' || u.password !== '') return 'it carries credentials';
  if (u.origin !== arm.origin) return `${u.origin} is not the ARM endpoint ${arm.origin} (ARM_ENDPOINT)`;
  const basePath = arm.pathname.replace(/\/+$/, '');
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return 'its path is not valid percent-encoding';
  }
  // ARM compares resource ids case-insensitively.
  if (path.toLowerCase() !== `${basePath}${apiResourcePath(s, apiId)}`.toLowerCase()) return `its path ${u.pathname} is not API '${apiId}' of APIM service '${s.serviceName}'`;
  if (u.hash !== '') return 'it has a fragment';
  if (!/^[0-9A-Za-z-]{1,64}$/.test(u.searchParams.get('asyncId') ?? '')) return 'it has no asyncId';
  return undefined;
}

/**
 * The recorded import a Job may poll for API `apiId`: undefined when none is recorded (or it names another API, whose
 * import this run does not care about), else the record or why it is refused.
 */
export function resumableImport(recorded: unknown, s: ServiceCoordinates, apiId: string, nowMs: number): { record: ImportRecord } | { refused: string } | undefined {
  if (recorded === null || recorded === undefined) return undefined;
  if (typeof recorded !== 'object') return { refused: 'status.apim.import is not an object' };
  const r = recorded as Record<string, unknown>;
  if (typeof r['apiId'] !== 'string' || r['apiId'].toLowerCase() !== apiId.toLowerCase()) return undefined;
  const { operationUrl, startedAt, fingerprint } = r;
  if (typeof operationUrl !== 'string') return { refused: 'status.apim.import.operationUrl is not a string' };
  const problem = pollingUrlProblem(operationUrl, s, apiId);
  if (problem) return { refused: `status.apim.import.operationUrl is not APIM's polling URL for API '${apiId}': ${problem}` };
  const started = typeof startedAt === 'string' ? Date.parse(startedAt) : NaN;
  if (Number.isNaN(started)) return { refused: `status.apim.import.startedAt=${JSON.stringify(startedAt)} is not a time` };
  // A minute of clock skew between the Job's node and the one that wrote the record is tolerated.
  if (started > nowMs + 60_000) return { refused: `status.apim.import.startedAt=${startedAt} is in the future` };
  if (nowMs - started > IMPORT_RECORD_MAX_AGE_MS) return { refused: `status.apim.import.startedAt=${startedAt} is more than ${IMPORT_RECORD_MAX_AGE_MS / 3_600_000} h ago` };
  if (typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint)) return { refused: 'status.apim.import.fingerprint is not an import fingerprint' };
  return { record: { apiId: r['apiId'], operationUrl, startedAt: new Date(started).toISOString(), fingerprint } };
}

/** What one poll of an import's Location URL says (202 running, 2xx done; errors are thrown by the caller). */
export type PollAnswer = 'running' | 'succeeded' | 'not-found';

export function pollAnswerOf(status: number): PollAnswer | undefined {
  if (status === 202) return 'running';
  if (status === 404) return 'not-found';
  if (status >= 200 && status < 300) return 'succeeded';
  return undefined;
}

/** "4m 12s": how long an import has run, for the condition people read. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h ${m}m ${rest}s` : m > 0 ? `${m}m ${rest}s` : `${rest}s`;
}

/** The longest wait between two polls of a running import. */
const MAX_POLL_INTERVAL_MS = 5000;

export interface ImportProgress {
  record: ImportRecord;
  /** Since the import PUT was accepted (record.startedAt). */
  elapsedMs: number;
}

export interface PollOptions {
  coordinates: ServiceCoordinates;
  pollIntervalMs: number;
  /** IMPORT_NOT_FOUND_WINDOW_SECONDS: how long a run of 404 answers is APIM settling rather than the end. */
  notFoundWindowMs: number;
  /** Told now and then while the import runs (status: how long it has run). */
  progress?: (p: ImportProgress) => Promise<void>;
  progressEveryMs?: number;
}

/**
 * Polls an import's Location URL until it ends: 'succeeded' (2xx other than 202), 'not-found' (404 for longer than
 * the window; APIM forgot the operation, or the API is gone), or the error APIM answered (thrown as the SDK would,
 * for the retry loop to classify: a failed import's 400 is permanent, a 5xx transient). Waits grow ×1.5 up to 5 s.
 */
export async function pollImport(apim: Apim, record: ImportRecord, poll: PollOptions): Promise<'succeeded' | 'not-found'> {
  let url = record.operationUrl;
  let interval = poll.pollIntervalMs;
  let notFoundSince: number | undefined;
  let reportedAt = Date.now();
  const started = Date.parse(record.startedAt);
  for (let polls = 1; ; polls++) {
    const answer = await apim.rawGet(url);
    const state = pollAnswerOf(answer.status);
    // APIM's answer ends the import with its error (a failed import's 400, or a 5xx); the caller starts afresh.
    if (state === undefined) throw Object.assign(answer.error(), { importEnded: true });
    if (state === 'succeeded') {
      apim.log.debug('import done', { apiId: record.apiId, polls, elapsedMs: Date.now() - started });
      return state;
    }
    if (state === 'not-found') {
      notFoundSince ??= Date.now();
      if (Date.now() - notFoundSince >= poll.notFoundWindowMs) return state;
      apim.log.debug('the import answers 404; APIM may still be settling', { apiId: record.apiId, sinceMs: Date.now() - notFoundSince });
    } else {
      notFoundSince = undefined;
      // APIM may move the polling URL; a new one is followed only when it is APIM's for this same API.
      const next = answer.header('location');
      if (next && pollingUrlProblem(next, poll.coordinates, record.apiId) === undefined) url = next;
    }
    if (poll.progress && Date.now() - reportedAt >= (poll.progressEveryMs ?? 15_000)) {
      reportedAt = Date.now();
      await poll.progress({ record: { ...record, operationUrl: url }, elapsedMs: Date.now() - started });
    }
    await apim.budget.sleep(interval);
    interval = Math.min(MAX_POLL_INTERVAL_MS, Math.round(interval * 1.5));
  }
}
