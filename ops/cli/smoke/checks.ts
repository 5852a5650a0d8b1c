/**
 * The smoke test's verdicts: each check's result as data (pass, fail or skip, with a one-line detail),
 * the judgements that produce them from what was read, the exit code and the table. Pure.
 */
import { EXIT_CODES, type ExitCode } from '../exit-codes.ts';
import type { ExpectedRejection } from './file.ts';

export const CHECK_RESULTS = { pass: 'pass', fail: 'fail', skip: 'skip' } as const;
export type CheckResult = (typeof CHECK_RESULTS)[keyof typeof CHECK_RESULTS];

/** The checks, in the order they run and are printed. */
export const CHECKS = {
  upload: 'upload',
  processed: 'processed output',
  rejected: 'rejected output',
  deadLetterQueue: 'dead-letter queue',
  metrics: 'metrics',
  alarm: 'alarm',
  cleanup: 'cleanup',
} as const;
export type CheckName = (typeof CHECKS)[keyof typeof CHECKS];

export interface CheckRow {
  readonly check: CheckName;
  readonly result: CheckResult;
  readonly detail: string;
}

export const pass = (check: CheckName, detail: string): CheckRow => ({ check, result: CHECK_RESULTS.pass, detail });
export const fail = (check: CheckName, detail: string): CheckRow => ({ check, result: CHECK_RESULTS.fail, detail });
export const skip = (check: CheckName, detail: string): CheckRow => ({ check, result: CHECK_RESULTS.skip, detail });

const EXCERPT_CHARS = 40;

function excerpt(text: string, from: number): string {
  const part = text.slice(from, from + EXCERPT_CHARS);
  return JSON.stringify(part) + (text.length > from + EXCERPT_CHARS ? '…' : '');
}

/** Where two texts first differ, for a detail line: `at character 57: expected "…" got "…"`. */
export function firstDifference(expected: string, actual: string): string {
  let index = 0;
  while (index < expected.length && index < actual.length && expected[index] === actual[index]) index += 1;
  return `at character ${index + 1}: expected ${excerpt(expected, index)}, got ${excerpt(actual, index)}`;
}

/** What was read from an output location: its text, or why there is none. */
export type OutputRead = { readonly found: true; readonly text: string } | { readonly found: false; readonly lastError?: string };

function notThere(check: CheckName, where: string, waitedSeconds: number, read: OutputRead & { found: false }): CheckRow {
  const last = read.lastError === undefined ? '' : ` (last answer: ${read.lastError})`;
  return fail(check, `${where} not there after ${waitedSeconds} s${last}: is a worker running and consuming the queue?`);
}

export function judgeProcessedJsonl(expected: string, read: OutputRead, where: string, waitedSeconds: number): CheckRow {
  if (!read.found) return notThere(CHECKS.processed, where, waitedSeconds, read);
  if (read.text === expected) return pass(CHECKS.processed, `${where}: the processed line, location_id and temp_fahrenheit appended, as expected`);
  return fail(CHECKS.processed, `${where} differs from the expected record ${firstDifference(expected, read.text)}`);
}

const PARQUET_MAGIC = 'PAR1';

/** Parquet is judged by its frame only (magic at both ends): the CLI carries no Parquet reader. */
export function judgeProcessedParquet(bytes: Uint8Array, where: string): CheckRow {
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  if (bytes.length > 2 * PARQUET_MAGIC.length && text(0, 4) === PARQUET_MAGIC && text(bytes.length - 4, bytes.length) === PARQUET_MAGIC) {
    return pass(CHECKS.processed, `${where}: a Parquet object of ${bytes.length} bytes (OUTPUT_FORMAT=parquet; its rows are not compared)`);
  }
  return fail(CHECKS.processed, `${where} is not a Parquet object (${bytes.length} bytes, no PAR1 magic at both ends)`);
}

export function judgeRejected(expected: readonly ExpectedRejection[], read: OutputRead, where: string, waitedSeconds: number): CheckRow {
  if (!read.found) return notThere(CHECKS.rejected, where, waitedSeconds, read);
  const lines = read.text.split('\n').filter((line) => line !== '');
  if (lines.length !== expected.length) {
    return fail(CHECKS.rejected, `${where} holds ${lines.length} line(s), expected ${expected.length}: ${excerpt(read.text, 0)}`);
  }
  for (const [index, line] of lines.entries()) {
    const want = expected[index];
    if (want === undefined) break;
    let got: Record<string, unknown>;
    try {
      got = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return fail(CHECKS.rejected, `${where} line ${index + 1} is not JSON: ${excerpt(line, 0)}`);
    }
    // The message is free text for people; the contract fixes the rest.
    for (const field of ['line', 'reason', 'field', 'text'] as const) {
      if (got[field] !== want[field]) {
        return fail(CHECKS.rejected, `${where} line ${index + 1}: ${field} is ${JSON.stringify(got[field])}, expected ${JSON.stringify(want[field])}`);
      }
    }
  }
  const described = expected.map((want) => `line ${want.line} ${want.reason} (${want.field})`).join(', ');
  return pass(CHECKS.rejected, `${where}: ${described}, as expected`);
}

export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export function judgeDeadLetterQueue(name: string, counts: QueueCounts): CheckRow {
  const held = counts.visible + counts.inFlight;
  const what = `${name}: ${counts.visible} visible, ${counts.inFlight} in flight`;
  if (held === 0) return pass(CHECKS.deadLetterQueue, `${what}, empty`);
  return fail(CHECKS.deadLetterQueue, `${what}: see npm run ops -- dlq peek (README "DLQ is not empty")`);
}

const SUCCEEDED_SERIES = 'iot_ingest_files_total{outcome="succeeded"}';

export function judgeSucceededCounter(url: string, before: number, after: number): CheckRow {
  const counted = `${SUCCEEDED_SERIES} ${before} → ${after} at ${url}`;
  if (after > before) return pass(CHECKS.metrics, counted);
  return fail(CHECKS.metrics, `${counted}: this worker counted no file (with several workers, point --metrics-url at each)`);
}

export function isDrained(counts: QueueCounts): boolean {
  return counts.visible + counts.inFlight + counts.delayed === 0;
}

/** The queue fallback: the ingest queue drained (the smoke message was deleted), or CloudWatch saw deletes. */
export function judgeQueueMetrics(name: string, counts: QueueCounts, cloudWatchDeleted: number | undefined, why: string): CheckRow {
  const sqs = `${name}: ${counts.visible} visible, ${counts.inFlight} in flight, ${counts.delayed} delayed`;
  const cloudWatch = cloudWatchDeleted === undefined ? '' : `; CloudWatch NumberOfMessagesDeleted since the upload: ${cloudWatchDeleted}`;
  if (isDrained(counts)) return pass(CHECKS.metrics, `${why}; ${sqs}: drained, the smoke message was deleted${cloudWatch}`);
  if (cloudWatchDeleted !== undefined && cloudWatchDeleted > 0) return pass(CHECKS.metrics, `${why}; ${sqs}${cloudWatch}`);
  return fail(CHECKS.metrics, `${why}; ${sqs}: not drained${cloudWatch}`);
}

export interface SmokeVerdict {
  readonly passed: boolean;
  readonly exitCode: ExitCode;
}

/** 0 when nothing failed; 1 when a check failed; 3 when Ctrl-C cut the run short (nothing failed before). */
export function verdict(rows: readonly CheckRow[], interrupted: boolean): SmokeVerdict {
  const failed = rows.some((row) => row.result === CHECK_RESULTS.fail);
  if (failed) return { passed: false, exitCode: EXIT_CODES.failed };
  if (interrupted) return { passed: false, exitCode: EXIT_CODES.partial };
  return { passed: true, exitCode: EXIT_CODES.ok };
}

/** The human table: check, result, detail; then one summary line. */
export function smokeTable(rows: readonly CheckRow[], interrupted: boolean): string[] {
  const header = ['check', 'result', 'detail'] as const;
  const checkWidth = Math.max(header[0].length, ...rows.map((row) => row.check.length));
  const resultWidth = Math.max(header[1].length, ...rows.map((row) => row.result.length));
  const line = (check: string, result: string, detail: string) => `${check.padEnd(checkWidth)}  ${result.padEnd(resultWidth)}  ${detail}`;
  const count = (result: CheckResult) => rows.filter((row) => row.result === result).length;
  const { passed } = verdict(rows, interrupted);
  const tally = `${count(CHECK_RESULTS.pass)} passed, ${count(CHECK_RESULTS.fail)} failed, ${count(CHECK_RESULTS.skip)} skipped`;
  const summary = passed ? `smoke test passed: ${tally}` : interrupted && count(CHECK_RESULTS.fail) === 0 ? `smoke test interrupted: ${tally}` : `smoke test FAILED: ${tally}`;
  return [line(...header), ...rows.map((row) => line(row.check, row.result, row.detail)), '', summary];
}
