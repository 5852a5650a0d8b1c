/**
 * Waits, with a bound, until the workers have logged 'file processed' for every one of a set of keys,
 * and says when each line arrived. Several workers may share the queue; a key that ends in any other
 * outcome, or a worker that exits, fails the wait at once.
 */
import type { LogEntry } from '../local/worker-log.ts';
import { isRunning } from '../local/child-processes.ts';
import type { BenchWorker } from './worker-process.ts';

export interface FileOutcome {
  readonly entry: LogEntry;
  /** Index of the worker that processed it. */
  readonly worker: number;
}

const POLL_INTERVAL_MS = 10;

function numberField(value: unknown, field: string): number | undefined {
  const found = (value as Record<string, unknown> | undefined)?.[field];
  return typeof found === 'number' ? found : undefined;
}

/** Records counted in a 'file processed' line. */
export function loggedRecordCounts(line: Record<string, unknown>): { processed: number; filtered: number; rejected: number } {
  const records = line['records'];
  const processed = numberField(records, 'processed');
  const filtered = numberField(records, 'filtered');
  const rejected = numberField(records, 'rejected');
  if (processed === undefined || filtered === undefined || rejected === undefined) {
    throw new Error(`a 'file processed' line without its record counts: ${JSON.stringify(line)}`);
  }
  return { processed, filtered, rejected };
}

export async function waitForFilesProcessed(
  workers: readonly BenchWorker[],
  keys: Iterable<string>,
  timeoutMs: number,
): Promise<Map<string, FileOutcome>> {
  const pending = new Set(keys);
  const total = pending.size;
  const done = new Map<string, FileOutcome>();
  const scanned = workers.map(() => 0);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    workers.forEach((worker, index) => {
      const { entries } = worker.log;
      for (let position = scanned[index] as number; position < entries.length; position += 1) {
        const entry = entries[position] as LogEntry;
        const key = entry.line['key'];
        if (typeof key !== 'string' || !pending.has(key)) continue;
        const msg = String(entry.line['msg']);
        if (msg === 'file processed') {
          pending.delete(key);
          done.set(key, { entry, worker: index });
        } else if (msg === 'file failed' || msg.startsWith('file skipped')) {
          throw new Error(`worker ${index + 1} did not process ${key}: ${JSON.stringify(entry.line)}`);
        }
      }
      scanned[index] = entries.length;
    });
    if (pending.size === 0) return done;
    const stopped = workers.findIndex((worker) => !isRunning(worker.child));
    if (stopped !== -1) {
      const worker = workers[stopped] as BenchWorker;
      throw new Error(`worker ${stopped + 1} exited (code ${worker.child.exitCode}) with ${pending.size} of ${total} files left\n${worker.stderr()}`);
    }
    if (performance.now() > deadline) {
      throw new Error(`only ${done.size} of ${total} files were processed within ${Math.round(timeoutMs / 1000)} s`);
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, POLL_INTERVAL_MS));
  }
}
