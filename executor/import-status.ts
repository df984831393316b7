// What the ExposedAPI's status says about a running import, and how the apply step hands the import code its
// earlier record and its way to write a new one. The Imported condition is Unknown with reason ImportInProgress and
// says how long the import has run (the dispatcher's Progressing condition names the Job; this one, the import);
// status.apim.import holds the polling URL a later Job resumes (import-operation.ts).
import type { ImportRecord } from '../core/exposedapi-status.ts';
import { pendingRecord } from './apply-ownership.ts';
import type { ApplyRun } from './apply-run.ts';
import type { ImportContext } from './apim-sync.ts';
import type { ExposedApiObject } from './exposedapi-object.ts';
import { formatElapsed, resumableImport, type ImportProgress } from './import-operation.ts';
import type { StatusChange } from './status-patch.ts';
import { errorMessage } from '../core/kube/errors.ts';

/** The status change for an import that was accepted, still runs, or has ended. Pure. */
export function importProgressChange(obj: ExposedApiObject, serviceName: string, specHash: string, p: ImportProgress, state: 'started' | 'running' | 'ended'): StatusChange {
  const apim = pendingRecord(obj, serviceName, p.record.apiId)!;
  if (state === 'ended') return { conditions: [], apim: { ...apim, import: null } };
  const record: ImportRecord = p.record;
  return {
    conditions: [{
      type: 'Imported',
      status: 'Unknown',
      reason: 'ImportInProgress',
      message: `APIM is importing API '${record.apiId}': running for ${formatElapsed(p.elapsedMs)} (since ${record.startedAt}); large documents take minutes, and a retried Job polls this import again instead of starting another`,
      specHash,
    }],
    apim: { ...apim, import: record },
  };
}

/**
 * The import context of an apply run: the record an earlier run left (when it is APIM's URL for this API; a refused
 * one is reported as a Warning Event and ignored) and a best-effort status writer (a lost write costs the next Job
 * the wait for APIM's 409s to end, not correctness).
 */
export function importContext(s: ApplyRun, apiId: string): ImportContext {
  const { ctx } = s;
  const found = resumableImport(s.obj.status?.apim?.import, ctx.config.apim, apiId, Date.now());
  if (found && 'refused' in found) s.events.warning('ImportRecordIgnored', found.refused);
  // Whether status holds a record to clear: one was there (even a refused one), or this run wrote one.
  let held = s.obj.status?.apim?.import !== undefined && s.obj.status?.apim?.import !== null;
  const write = async (p: ImportProgress, state: 'started' | 'running' | 'ended'): Promise<void> => {
    if (!s.write) return;
    try {
      await s.write(importProgressChange(s.obj, ctx.config.apim.serviceName, ctx.specHash, p, state));
    } catch (e) {
      ctx.log.warn('could not record the import in the ExposedAPI status', { apiId, state, error: errorMessage(e) });
    }
  };
  return {
    ...(found && 'record' in found ? { recorded: found.record } : {}),
    progress: async (p, state) => {
      held = true;
      await write(p, state);
    },
    settled: async () => {
      if (!held) return;
      held = false;
      await write({ record: { apiId, operationUrl: '', startedAt: '', fingerprint: '' }, elapsedMs: 0 }, 'ended');
    },
  };
}
