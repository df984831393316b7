// Long-running operations as APIM runs them: an id (24 hex digits, like APIM's asyncId), a status, the status code the
// finished operation answers with (asyncCode: 201 created, 200 updated, 204 deleted) and, on failure, the error the
// poll returns. Two ways to poll, as the real service offers:
// - `location`: the resource URL plus `asyncId`/`asyncCode` (what recorded traffic shows): 202 while running, then
//   asyncCode with the resource, or the error's own status;
// - `azure-async-operation`: `…/tenant/operationResults/{asyncId}` answering `{status: InProgress|Succeeded|Failed}`.
import { randomBytes } from 'node:crypto';
import type { ArmError } from './arm-errors.ts';

export type AsyncMode = 'location' | 'azure-async-operation';
export type LroStatus = 'InProgress' | 'Succeeded' | 'Failed';

export interface LongRunningOperation {
  id: string;
  status: LroStatus;
  /** The status the resource URL answers with once the operation succeeded (asyncCode). */
  code: 200 | 201 | 204;
  /** Resource path below the service, e.g. `/apis/petstore`. */
  resourcePath: string;
  startTime: string;
  endTime?: string;
  error?: ArmError;
  /** Imports: the document's size and when the import is due to end (shown by GET /_emulator/imports). */
  documentBytes?: number;
  expectedEndTime?: string;
}

const KEEP_MS = 30 * 60 * 1000;
const KEEP_MAX = 10_000;

export class LongRunningOperations {
  readonly #ops = new Map<string, LongRunningOperation>();
  readonly #finishedAt = new Map<string, number>();

  start(resourcePath: string, code: 200 | 201 | 204): LongRunningOperation {
    this.#prune();
    const op: LongRunningOperation = {
      id: randomBytes(12).toString('hex'),
      status: 'InProgress',
      code,
      resourcePath,
      startTime: new Date().toISOString(),
    };
    this.#ops.set(op.id, op);
    return op;
  }

  get(id: string): LongRunningOperation | undefined {
    return this.#ops.get(id);
  }

  succeed(op: LongRunningOperation): void {
    op.status = 'Succeeded';
    op.endTime = new Date().toISOString();
    this.#finishedAt.set(op.id, Date.now());
  }

  fail(op: LongRunningOperation, error: ArmError): void {
    op.status = 'Failed';
    op.error = error;
    op.endTime = new Date().toISOString();
    this.#finishedAt.set(op.id, Date.now());
  }

  running(): LongRunningOperation[] {
    return [...this.#ops.values()].filter((o) => o.status === 'InProgress');
  }

  clear(): void {
    this.#ops.clear();
    this.#finishedAt.clear();
  }

  /** Finished operations stay pollable for a while (clients may poll late), then are forgotten. */
  #prune(): void {
    const now = Date.now();
    for (const [id, at] of this.#finishedAt) {
      if (now - at > KEEP_MS || this.#finishedAt.size > KEEP_MAX) {
        this.#finishedAt.delete(id);
        this.#ops.delete(id);
      } else break;
    }
  }
}

/** The URLs a client polls, built on the host the client used (so they work behind any DNS name). */
export function pollingHeaders(
  mode: AsyncMode,
  op: LongRunningOperation,
  serviceUrl: string,
  apiVersion: string,
  extraQuery = '',
): Record<string, string> {
  const location = `${serviceUrl}${op.resourcePath}?api-version=${apiVersion}${extraQuery}&asyncId=${op.id}&asyncCode=${op.code}`;
  if (mode === 'location') return { location };
  return {
    location,
    'azure-asyncoperation': `${serviceUrl}/tenant/operationResults/${op.id}?api-version=${apiVersion}`,
  };
}
