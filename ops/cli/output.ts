/**
 * How a command reports: human lines by default, one JSON document with --json, and a progress bar
 * on stderr only when stderr is a terminal and the output is not JSON.
 */
import { SingleBar } from 'cli-progress';
import type { CliContext, OutputStream } from './context.ts';
import { formatBytes } from './format.ts';

export interface Report<T> {
  readonly data: T;
  readonly human: () => readonly string[];
}

export function writeLines(stream: OutputStream, lines: readonly string[]): void {
  if (lines.length > 0) stream.write(`${lines.join('\n')}\n`);
}

/** The result on stdout: `data` as JSON with --json, else the human lines. */
export function printReport<T>(context: CliContext, json: boolean, report: Report<T>): void {
  if (json) context.stdout.write(`${JSON.stringify(report.data, null, 2)}\n`);
  else writeLines(context.stdout, report.human());
}

/** A note for people (which method was used, where the journal is): stderr, so stdout stays parseable. */
export function note(context: CliContext, json: boolean, line: string): void {
  if (!json) context.stderr.write(`${line}\n`);
}

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

export const PROGRESS_UNITS = { messages: 'messages', objects: 'objects', records: 'records', bytes: 'bytes' } as const;
export type ProgressUnit = (typeof PROGRESS_UNITS)[keyof typeof PROGRESS_UNITS];

export function startProgress(context: CliContext, json: boolean, total: number, unit: ProgressUnit): Progress {
  if (json || context.stderr.isTTY !== true) return NO_PROGRESS;
  const bytes = unit === PROGRESS_UNITS.bytes;
  const bar = new SingleBar({
    stream: context.stderr as NodeJS.WritableStream,
    format: bytes ? ' {bar} {percentage}% | {doneBytes} of {totalBytes}' : ` {bar} {percentage}% | {value}/{total} ${unit} | eta {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  let currentTotal = Math.max(total, 1);
  const sizes = (done: number) => (bytes ? { doneBytes: formatBytes(done), totalBytes: formatBytes(currentTotal) } : {});
  bar.start(currentTotal, 0, sizes(0));
  return {
    update(done, newTotal) {
      // SQS counts are approximate: never let the bar claim more than 100 %.
      const wanted = Math.max(newTotal ?? currentTotal, done, 1);
      if (wanted !== currentTotal) {
        currentTotal = wanted;
        bar.setTotal(currentTotal);
      }
      bar.update(done, sizes(done));
    },
    stop: () => bar.stop(),
  };
}
