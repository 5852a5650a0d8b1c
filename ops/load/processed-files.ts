/**
 * Waits, with a bound, until the workers have logged 'file processed' for every input key. Unlike the
 * bench, a 'file failed' line does not end the wait: a transient failure is retried by the queue, and the
 * ledger judges the result. Counts what happened on the way: failures, files processed more than once.
 */
import { isRunning } from '../local/child-processes.ts';
import { loggedRecordCounts } from '../bench/file-outcomes.ts';
import type { BenchWorker } from '../bench/worker-process.ts';
import type { LogEntry } from '../local/worker-log.ts';
import type { OutcomeCounts } from './ledger.ts';

export interface ProcessedFile {
  readonly worker: number;
  readonly atMs: number;
  readonly counts: OutcomeCounts;
}

export interface ProcessedFiles {
  /** The last 'file processed' line of each key. */
  readonly byKey: ReadonlyMap<string, ProcessedFile>;
  /** 'file processed' lines beyond the first for a key (a message delivered again). */
  readonly reprocessed: number;
  /** 'file failed' and 'file skipped…' lines. */
  readonly failedLines: number;
  readonly failureExamples: readonly string[];
}

const POLL_INTERVAL_MS = 50;
const PROGRESS_INTERVAL_MS = 10_000;
/** No new 'file processed' line for this long ends the wait early. */
const STALL_MS = 180_000;

export async function waitForAllProcessed(
  workers: readonly BenchWorker[],
  keys: ReadonlySet<string>,
  timeoutMs: number,
  progress: (text: string) => void,
): Promise<ProcessedFiles> {
  const byKey = new Map<string, ProcessedFile>();
  const failureExamples: string[] = [];
  let reprocessed = 0;
  let failedLines = 0;
  const scanned = workers.map(() => 0);
  const started = performance.now();
  let lastProgress = started;
  let lastNewFile = started;

  for (;;) {
    workers.forEach((worker, index) => {
      const { entries } = worker.log;
      for (let position = scanned[index] as number; position < entries.length; position += 1) {
        const { line, atMs } = entries[position] as LogEntry;
        const key = line['key'];
        if (typeof key !== 'string' || !keys.has(key)) continue;
        const msg = String(line['msg']);
        if (msg === 'file processed') {
          if (byKey.has(key)) reprocessed += 1;
          else lastNewFile = atMs;
          byKey.set(key, { worker: index, atMs, counts: loggedRecordCounts(line) });
        } else if (msg === 'file failed' || msg.startsWith('file skipped')) {
          failedLines += 1;
          if (failureExamples.length < 10) failureExamples.push(`worker ${index + 1}: ${JSON.stringify(line)}`);
        }
      }
      scanned[index] = entries.length;
    });
    const now = performance.now();
    if (byKey.size === keys.size) return { byKey, reprocessed, failedLines, failureExamples };
    const stopped = workers.findIndex((worker) => !isRunning(worker.child));
    if (stopped !== -1) {
      throw new Error(`worker ${stopped + 1} exited (code ${workers[stopped]?.child.exitCode}) with ${keys.size - byKey.size} files left\n${workers[stopped]?.stderr()}`);
    }
    if (now - started > timeoutMs || now - lastNewFile > STALL_MS) {
      const why = now - started > timeoutMs ? `within ${Math.round(timeoutMs / 1000)} s` : `: none for ${STALL_MS / 1000} s`;
      throw new Error(`only ${byKey.size} of ${keys.size} files were processed ${why}; failures: ${failureExamples.join('\n')}`);
    }
    if (now - lastProgress > PROGRESS_INTERVAL_MS) {
      lastProgress = now;
      progress(`${byKey.size} of ${keys.size} files processed after ${((now - started) / 1000).toFixed(0)} s`);
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, POLL_INTERVAL_MS));
  }
}
