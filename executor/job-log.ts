// The Job log: one JSON object per line on stdout (what `kubectl logs job/…` shows and log pipelines parse), with
// the ExposedAPI and spec hash on every line. Only what is passed in is written: tokens, keys and documents never are.
// The JSON-lines adapter of the project's one log interface (core/log.ts).
import type { Log } from '../core/log.ts';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LEVELS)[number];

export interface JobLog extends Log {
  child(fields: Record<string, unknown>): JobLog;
}

export function jobLog(level: string, base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(l)): JobLog {
  const min = Math.max(0, LEVELS.indexOf(level as LogLevel));
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS.indexOf(lvl) < min) return;
    // The last line ('done') carries what the process cost — user and system CPU in µs, peak RSS in KiB
    // (process.resourceUsage()) — so a change's cost can be read from any Job's log (bench:e2e sums it).
    const cost = msg === 'done' ? (({ userCPUTime, systemCPUTime, maxRSS }) => ({ resourceUsage: { userCPUTime, systemCPUTime, maxRSS } }))(process.resourceUsage()) : {};
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields, ...cost })}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jobLog(level, { ...base, ...fields }, write),
  };
}
