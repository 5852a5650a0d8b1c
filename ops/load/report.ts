/** The load run's figures and their summary table. Pure. */
import type { LedgerResult } from './ledger.ts';
import type { ReadBackFigures } from './read-back.ts';

export interface InputFigures {
  readonly files: number;
  readonly gzipFiles: number;
  readonly crlfFiles: number;
  readonly bomFiles: number;
  readonly noFinalNewlineFiles: number;
  /** Bytes put into the raw bucket (compressed where gzip). */
  readonly bytes: number;
  readonly smallestFileRecords: number;
  readonly largestFileRecords: number;
}

export interface WorkerFigures {
  readonly files: number;
  readonly cpuSeconds: number | null;
  readonly peakRssBytes: number | null;
  readonly warningLines: number;
}

export interface LoadFigures {
  readonly date: string;
  readonly machine: string;
  readonly workerRuntime: string;
  readonly inputs: InputFigures;
  /** From the first put to the last 'file processed' line. */
  readonly seconds: number;
  readonly putSeconds: number;
  readonly filesPerSecond: number;
  /** Non-blank input lines per second. */
  readonly recordsPerSecond: number;
  readonly workers: readonly WorkerFigures[];
  readonly emulatorCpuSeconds: number | null;
  readonly reprocessedFiles: number;
  readonly failedFileLines: number;
  readonly deadLetterMessages: number | null;
  readonly readBack: ReadBackFigures;
  readonly ledger: LedgerResult;
  readonly clean: boolean;
}

const integer = (value: number) => value.toLocaleString('en-US');
const megabytes = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1e6).toFixed(0)} MB`);
const seconds = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} s`);

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n');
}

export function renderLoadReport(figures: LoadFigures): string {
  const { inputs, ledger } = figures;
  const records = ledger.lines - ledger.blankLines;
  const reasons = Object.entries(ledger.expected.rejectedByReason)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, count]) => `${reason} ${integer(count)}`)
    .join(', ');
  const rows: Array<readonly [string, string]> = [
    ['files', `${integer(inputs.files)} (${integer(inputs.gzipFiles)} gzip, ${integer(inputs.crlfFiles)} CRLF, ${integer(inputs.bomFiles)} BOM, ${integer(inputs.noFinalNewlineFiles)} without final newline; ${integer(inputs.smallestFileRecords)}–${integer(inputs.largestFileRecords)} records each)`],
    ['input', `${megabytes(inputs.bytes)} put`],
    ['lines', `${integer(ledger.lines)} (${integer(records)} records, ${integer(ledger.blankLines)} blank)`],
    ['processed', `${integer(ledger.expected.processed)} expected, ${integer(ledger.found.processed)} found`],
    ['filtered', `${integer(ledger.expected.filtered)} expected (no output; per-file logged counts checked)`],
    ['rejected', `${integer(ledger.expected.rejected)} expected, ${integer(ledger.found.rejected)} found: ${reasons}`],
    ['lost', integer(ledger.lost)],
    ['duplicated', integer(ledger.duplicated)],
    ['misclassified', integer(ledger.misclassified)],
    ['misplaced', integer(ledger.misplaced)],
    ['altered text', integer(ledger.altered)],
    ['unmatched output lines', integer(ledger.unmatched)],
    ['files with wrong counts', integer(ledger.countMismatches)],
    ['output objects', `${integer(figures.readBack.objects)} read (${megabytes(figures.readBack.bytes)}), ${integer(figures.readBack.missingObjects)} missing, ${integer(figures.readBack.unexpectedObjects)} unexpected`],
    ['files processed again', integer(figures.reprocessedFiles)],
    ["'file failed' lines", integer(figures.failedFileLines)],
    ['DLQ messages at the end', figures.deadLetterMessages === null ? 'n/a' : integer(figures.deadLetterMessages)],
    ['wall time', `${seconds(figures.seconds)} (puts took ${seconds(figures.putSeconds)})`],
    ['files/s', figures.filesPerSecond.toFixed(1)],
    ['records/s', integer(Math.round(figures.recordsPerSecond))],
    ...figures.workers.map(
      (worker, index) =>
        [`worker ${index + 1}`, `${integer(worker.files)} files, CPU ${seconds(worker.cpuSeconds)}, peak RSS ${megabytes(worker.peakRssBytes)}, ${worker.warningLines} warn/error lines`] as const,
    ),
    ['emulator CPU', seconds(figures.emulatorCpuSeconds)],
  ];
  const verdict = figures.clean
    ? 'LEDGER CLEAN: every input line accounted for exactly once'
    : `LEDGER NOT CLEAN\n${ledger.examples.map((text) => `  ${text}`).join('\n')}`;
  return `load run ${figures.date}\n  ${figures.machine}\n  ${figures.workerRuntime}\n${table(rows)}\n${verdict}`;
}
