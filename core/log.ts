// The one log interface of the project: a message and its fields, at four levels. Parts that log (the list-watch's
// users, the informer, the dispatcher's watches and lease election, the dispatcher, the dev cluster) take a `Log`;
// the process decides where lines go: pino (fastify's logger) in the webhook process through `pinoLog`, JSON lines
// on stdout in a Job (executor/job-log.ts). Field names are the same in both (`error` for an error's message,
// `exposedapi` for namespace/name, `job`, `namespace`, `backoffMs`, …): log pipelines and the docs rely on them.
export type LogFields = Record<string, unknown>;

export interface Log {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** The part of a pino logger this adapter uses: fields first, message second. */
export interface PinoLike {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** A Log over a pino logger; a function is asked for the logger at each line (one created after the caller). */
export function pinoLog(logger: PinoLike | (() => PinoLike)): Log {
  const get = typeof logger === 'function' ? logger : () => logger;
  return {
    debug: (msg, fields) => get().debug(fields ?? {}, msg),
    info: (msg, fields) => get().info(fields ?? {}, msg),
    warn: (msg, fields) => get().warn(fields ?? {}, msg),
    error: (msg, fields) => get().error(fields ?? {}, msg),
  };
}
