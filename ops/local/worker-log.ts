/**
 * The JSON log lines (pino) of a worker running as a child process: every line kept, with the
 * monotonic time it arrived, and bounded waits for the first line that matches.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isRunning, withTimeout } from './child-processes.ts';

export type LogLine = Record<string, unknown>;

export interface LogEntry {
  readonly line: LogLine;
  /** performance.now() when the line arrived. */
  readonly atMs: number;
}

export interface WorkerLog {
  /** Every line so far, in order. */
  readonly entries: readonly LogEntry[];
  /** Resolves with the first entry whose line matches (an earlier one included); rejects if the worker exits first. */
  waitFor(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogEntry>;
}

/** Follows `stdout` of `child`; a line that is not JSON is kept as `{ msg: text, unparsed: true }`. */
export function followWorkerLog(child: ChildProcess, stdout: NodeJS.ReadableStream, stderrTail: () => string): WorkerLog {
  const entries: LogEntry[] = [];
  const waiters = new Set<(entry: LogEntry) => void>();
  createInterface({ input: stdout }).on('line', (text) => {
    const atMs = performance.now();
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text, unparsed: true };
    }
    const entry = { line, atMs };
    entries.push(entry);
    for (const waiter of waiters) waiter(entry);
  });
  return {
    entries,
    waitFor(predicate, timeoutMs, what) {
      const earlier = entries.find((entry) => predicate(entry.line));
      if (earlier !== undefined) return Promise.resolve(earlier);
      let waiter: ((entry: LogEntry) => void) | undefined;
      let onExit: (() => void) | undefined;
      const found = new Promise<LogEntry>((resolveEntry, reject) => {
        waiter = (entry) => {
          if (predicate(entry.line)) resolveEntry(entry);
        };
        waiters.add(waiter);
        onExit = () => reject(new Error(`the worker exited (code ${child.exitCode}, signal ${child.signalCode}) while waiting for ${what}\n${stderrTail()}`));
        if (!isRunning(child)) onExit();
        else child.once('exit', onExit);
      });
      return withTimeout(found, timeoutMs, `waiting for ${what}`).finally(() => {
        if (waiter !== undefined) waiters.delete(waiter);
        if (onExit !== undefined) child.off('exit', onExit);
      });
    },
  };
}
