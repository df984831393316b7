// One long-running child process of the harness (etcd, kube-apiserver, kube-controller-manager): output goes to a log
// file in the run directory, and stopping signals only this process's own PID, SIGTERM first and SIGKILL after a grace
// period, then waits until it has really exited so a teardown never returns while a port or file is still held.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ManagedProcess {
  name: string;
  pid: number;
  logPath: string;
  /** Resolves with the exit code (or signal name) when the process ends for any reason. */
  exited: Promise<number | string>;
  hasExited: () => boolean;
  /** The log's last lines, for error messages. */
  logTail: (lines?: number) => string;
  stop: (graceMs?: number) => Promise<void>;
}

export function startProcess(name: string, command: string, args: string[], logPath: string, env?: NodeJS.ProcessEnv): ManagedProcess {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    // detached: its own process group, so a Ctrl-C in the terminal reaches only the supervisor, which then stops the
    // components in order (controller-manager, apiserver, etcd) instead of all of them racing each other.
    child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: true, env: env ?? process.env });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command}): no PID; see ${logPath}`);
  const pid = child.pid;
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      done = true;
      resolve(`spawn error: ${err.message}`);
    });
  });
  const logTail = (lines = 15): string => {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const stop = async (graceMs = 5000): Promise<void> => {
    if (done) return;
    signal(pid, 'SIGTERM');
    const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return { name, pid, logPath, exited, hasExited: () => done, logTail, stop };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
