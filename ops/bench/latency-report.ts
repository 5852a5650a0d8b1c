/**
 * Scenarios 10 and 11 in the report: the latency table (a row per delay, a column per bound, files/s in
 * each cell) and their lines in the figures table. Pure.
 */
import { bestFixedCell, cellAt, defaultVsBestFixed, requestsPerFile } from './latency-figures.ts';
import { boundLabel } from './latency-plan.ts';
import { SQS_FILE_OPERATIONS, type RequestCounts } from './latency-proxy/request-counts.ts';
import type { CappedFileRun, LatencyCell, ManyFilesFigures, RequestLatencyFigures } from './latency-results.ts';

const fixed = (value: number, digits = 2) => value.toFixed(digits);
const orNa = (value: number | null, show: (value: number) => string) => (value === null ? 'n/a' : show(value));
const megabytes = (bytes: number | null) => orNa(bytes, (value) => `${fixed(value / 1e6, 1)} MB`);
const seconds = (value: number | null) => orNa(value, (known) => `${fixed(known)} s`);
const integer = (value: number) => Math.round(value).toLocaleString('en-US');

export function latencyTableHeaders(figures: RequestLatencyFigures): string[] {
  return ['delay per request', ...figures.bounds.map(boundLabel), 'default ÷ best fixed'];
}

/** files/s in each cell; the best fixed bound of a row marked with *. */
export function latencyTableRows(figures: RequestLatencyFigures): string[][] {
  return figures.delaysMs.map((delayMs) => {
    const best = bestFixedCell(figures, delayMs);
    const cells = figures.bounds.map((bound) => {
      const cell = cellAt(figures, delayMs, bound);
      if (cell === undefined) return 'n/a';
      return `${fixed(cell.run.filesPerSecond, 1)}${cell === best ? '*' : ''}`;
    });
    return [`${delayMs} ms`, ...cells, orNa(defaultVsBestFixed(figures, delayMs), (value) => `${fixed(value)}×`)];
  });
}

/** The caption under the table. */
export const LATENCY_TABLE_NOTE =
  'small files/s with every request of the worker delayed by the latency proxy (scenario 10); * the best fixed bound of its row';

/** Requests per file by operation, the file's SQS ones first. */
function operationsPerFile(counts: Readonly<Record<string, number>>, files: number): string {
  const order = (operation: string) => {
    const index = (SQS_FILE_OPERATIONS as readonly string[]).indexOf(operation);
    return index === -1 ? SQS_FILE_OPERATIONS.length : index;
  };
  return Object.entries(counts)
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(([operation, count]) => `${operation} ${fixed(count / files)}`)
    .join(', ');
}

function requestsText(cell: LatencyCell, requests: RequestCounts): string {
  const { sqs, s3 } = requestsPerFile(cell);
  const files = cell.run.files;
  return `SQS ${orNa(sqs, (value) => fixed(value))} (${operationsPerFile(requests.sqs, files)}), S3 ${orNa(s3, (value) => fixed(value))} (${operationsPerFile(requests.s3, files)})`;
}

function perFileMs(cpuSeconds: number | null, files: number): string {
  return orNa(cpuSeconds, (value) => `${fixed((value * 1000) / files, 1)} ms`);
}

function defaultCellRows(cell: LatencyCell): string[][] {
  const { run } = cell;
  const rows = [
    [
      '',
      `default at ${cell.delayMs} ms: CPU per file`,
      `worker ${perFileMs(run.workerCpuSeconds, run.files)}, emulator ${perFileMs(run.emulatorCpuSeconds, run.files)}, proxy ${perFileMs(run.proxy?.cpuSeconds ?? null, run.files)}; most files in flight ${run.mostFilesInFlight ?? 'n/a'}`,
    ],
  ];
  if (run.proxy !== undefined) rows.unshift(['', `default at ${cell.delayMs} ms: requests per file`, requestsText(cell, run.proxy.requests)]);
  return rows;
}

function cappedFileRow(run: CappedFileRun): string[] {
  const { figures } = run;
  const cap = run.bytesPerSecond === null ? 'no cap' : `${fixed(run.bytesPerSecond / 1e6, 0)} MB/s cap per connection`;
  const inputMegabytesPerSecond = figures.inputBytes / 1e6 / figures.seconds;
  return [
    '',
    `large file ${megabytes(figures.inputBytes)} at ${run.delayMs} ms, ${cap}`,
    `${integer(figures.recordsPerSecond)} records/s = ${fixed(inputMegabytesPerSecond, 1)} MB/s of input (${seconds(figures.seconds)}; CPU worker ${seconds(figures.workerCpuSeconds)}, proxy ${seconds(run.proxyCpuSeconds)}; peak RSS ${megabytes(figures.peakRssBytes)})`,
  ];
}

export function requestLatencyRows(figures: RequestLatencyFigures): string[][] {
  const counts = figures.cells.map((cell) => cell.run.files);
  const proxyCpu = figures.cells.reduce<number | null>((sum, cell) => {
    const cpuSeconds = cell.run.proxy?.cpuSeconds ?? null;
    return sum === null || cpuSeconds === null ? null : sum + cpuSeconds;
  }, 0);
  const rows: string[][] = [
    [
      '10 latency per request',
      'small files per cell',
      `${Math.min(...counts)} to ${Math.max(...counts)} (fewer where a file takes longer; files/s in the latency table)`,
    ],
    ['', 'proxy CPU, all cells', seconds(proxyCpu)],
  ];
  for (const cell of figures.cells.filter((candidate) => candidate.bound === 'default')) rows.push(...defaultCellRows(cell));
  rows.push(...figures.cappedFile.map(cappedFileRow));
  return rows;
}

export function manyLargeFilesRows(figures: ManyFilesFigures): string[][] {
  return [
    [
      '11 many large files at once',
      'input',
      `${figures.files} files of ${megabytes(figures.fileBytes)}, all queued before the worker starts; default settings, ${figures.delayMs} ms per request`,
    ],
    ['', 'files/s (most in flight at once)', `${fixed(figures.filesPerSecond, 1)} (${figures.mostFilesInFlight})`],
    ['', 'worker peak RSS (RSS at start)', `${megabytes(figures.peakRssBytes)} (${megabytes(figures.idleRssBytes)})`],
    ['', 'CPU worker / emulator / proxy', `${seconds(figures.workerCpuSeconds)} / ${seconds(figures.emulatorCpuSeconds)} / ${seconds(figures.proxyCpuSeconds)}`],
  ];
}
