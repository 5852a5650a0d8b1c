/** The bench's table: figures per scenario, then the targets. Pure. */
import type { CpuProfileEntry } from './cpu-profile.ts';
import type { ProfileSummary } from './profiling.ts';
import { cpuBoundFilesPerSecond, cpuVsComputeAndIo } from './bounds.ts';
import { LATENCY_TABLE_NOTE, latencyTableHeaders, latencyTableRows, manyLargeFilesRows, requestLatencyRows } from './latency-report.ts';
import type { BenchResults, CompressedInputFigures, LargeFileFigures, NpmStartFigures, ParquetWriterFigures, ScenarioLoad, SmallFilesRun, WorkerFileFigures } from './results.ts';
import type { TargetResult } from './targets.ts';
import { floorRecordsPerSecond, floorSeconds } from './targets.ts';
import { ratio } from './statistics.ts';

export interface RunDescription {
  readonly mode: 'full' | 'quick';
  /** The command as typed, e.g. `npm run bench -- --only 3 --gzip`. */
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  readonly workerRuntime: string;
  readonly changedSettings: readonly string[];
  readonly failures: ReadonlyArray<{ readonly scenario: string; readonly error: string }>;
}

/** Left-aligned columns, two spaces apart, with a rule under the header. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number, digits = 2) => value.toFixed(digits);
const seconds = (value: number | null) => (value === null ? 'n/a' : `${fixed(value)} s`);
const megabytes = (bytes: number | null) => (bytes === null ? 'n/a' : `${fixed(bytes / 1e6, 1)} MB`);
const perMillion = (value: number | null) => (value === null ? 'n/a' : `${fixed(value)} CPU s / 1M records`);

function workerFileRows(scenario: string, figures: WorkerFileFigures, inputNote = ''): string[][] {
  return [
    [scenario, 'input', `${integer(figures.records)} lines, ${megabytes(figures.inputBytes)}${inputNote}`],
    ['', 'put done → file processed', `${seconds(figures.seconds)} (worker's durationMs ${integer(figures.workerDurationMs)})`],
    ['', 'records/s', integer(figures.recordsPerSecond)],
    ['', 'worker CPU', `${seconds(figures.workerCpuSeconds)} = ${perMillion(figures.cpuSecondsPerMillionRecords)}`],
    ['', 'worker peak RSS (idle RSS)', `${megabytes(figures.peakRssBytes)} (${megabytes(figures.idleRssBytes)})`],
    ['', 'emulator CPU meanwhile', seconds(figures.emulatorCpuSeconds)],
  ];
}

function smallFilesRow(run: SmallFilesRun): string[] {
  const perWorker = run.workers > 1 ? `, per worker ${run.filesPerWorker.join(' / ')}` : '';
  return [
    '',
    run.label,
    `${fixed(run.filesPerSecond, 1)} files/s (${seconds(run.seconds)}; puts ${seconds(run.putSeconds)}; CPU worker ${seconds(run.workerCpuSeconds)}, emulator ${seconds(run.emulatorCpuSeconds)}, bench ${seconds(run.benchCpuSeconds)}${perWorker})`,
  ];
}

/** Scenario 3, with the size put when the file went in gzip-compressed. */
export function largeFileRows(figures: LargeFileFigures): string[][] {
  if (figures.gzipBytes === undefined) return workerFileRows('3 worker, large file', figures);
  return workerFileRows('3 worker, large file, gzip', figures, `, put gzip-compressed as ${megabytes(figures.gzipBytes)} (outputs gzip)`);
}

const times = (value: number | null) => (value === null ? 'n/a' : `${fixed(value)}×`);

/** The files/s the cores allow at the faster run's CPU per file, and what that makes the best ratio to the slower run. */
function cpuBoundRow(slower: SmallFilesRun, faster: SmallFilesRun): string[] {
  const bound = cpuBoundFilesPerSecond(faster);
  const label = `files/s ${faster.cores} cores allow at the 2nd run's CPU per file (all processes)`;
  if (bound === null) return ['', label, 'n/a'];
  return ['', label, `${fixed(bound, 1)}, at most ${times(ratio(bound, slower.filesPerSecond))} the first run`];
}

/** Scenario 9: no target, figures only, with its ratios to scenario 3 (the JSON Lines writer) of the same run. */
export function parquetWriterRows(figures: ParquetWriterFigures): string[][] {
  const { parquet, vsJsonLines } = figures;
  const partitions = `${parquet.partitions} dt= partition${parquet.partitions === 1 ? '' : 's'}`;
  const rows = [
    ...workerFileRows('9 parquet writer, large file', figures),
    ['', 'Parquet output', `${megabytes(parquet.bytes)} in ${parquet.objects.length} object${parquet.objects.length === 1 ? '' : 's'} under ${parquet.prefix} (${partitions})`],
  ];
  if (vsJsonLines === null) return [...rows, ['', '÷ JSON Lines writer', 'not compared (scenario 3 did not run)']];
  const profiled = vsJsonLines.jsonLinesProfiled ? [['', '(scenario 3 ran under --cpu-prof)', 'the ratios below include the profiler’s cost on its side']] : [];
  return [
    ...rows,
    ...profiled,
    ['', 'records/s ÷ JSON Lines writer (3)', times(vsJsonLines.recordsPerSecond)],
    ['', 'CPU s per 1M records ÷ JSON Lines writer', times(vsJsonLines.cpuSecondsPerMillionRecords)],
    ['', 'peak RSS ÷ JSON Lines writer', times(vsJsonLines.peakRss)],
    ['', 'Parquet bytes ÷ JSON Lines processed bytes', `${times(vsJsonLines.processedBytes)} (${megabytes(parquet.bytes)} vs ${megabytes(vsJsonLines.jsonLinesProcessedBytes)})`],
  ];
}

/** Scenario 12: the large file through `npm start`, and its time against the production worker's (3) in the same run. */
export function npmStartRows(figures: NpmStartFigures): string[][] {
  const versus =
    figures.vsProductionWorker === null
      ? 'not compared (scenario 3 did not run)'
      : `${times(figures.vsProductionWorker)}${figures.productionWorkerProfiled ? ' (scenario 3 ran under --cpu-prof)' : ''}`;
  return [
    ...workerFileRows('12 npm start, large file', figures),
    ['', 'emulator in a process of its own', figures.emulatorInOwnProcess === null ? 'not checked (no /proc)' : 'yes (a child of npm start)'],
    ['', 'npm start to ready (sample file processed)', seconds(figures.startSeconds)],
    ['', 'put done → file processed ÷ production worker (3)', versus],
    ...(figures.cpuVsProductionWorker === null ? [] : [['', 'CPU s per 1M records ÷ production worker (3)', times(figures.cpuVsProductionWorker)]]),
  ];
}

/** Scenario 13: gzip and zstd on the same records, each run's figures, then zstd's ÷ gzip's. */
export function compressedInputRows(figures: CompressedInputFigures): string[][] {
  const { gzip, zstd, zstdVsGzip } = figures;
  const run = (name: 'gzip' | 'zstd', run: CompressedInputFigures['gzip']) =>
    workerFileRows(`13 compressed input, ${name}`, run, `, put ${name}-compressed as ${megabytes(run.compressedBytes)} (processed output ${name}, ${megabytes(run.processedOutputBytes)})`);
  return [
    ...run('gzip', gzip),
    ...run('zstd', zstd),
    ['', 'records/s zstd ÷ gzip', times(zstdVsGzip.recordsPerSecond)],
    ['', 'CPU s per 1M records zstd ÷ gzip', times(zstdVsGzip.cpuSecondsPerMillionRecords)],
    ['', 'peak RSS zstd ÷ gzip', times(zstdVsGzip.peakRss)],
    ['', 'bytes put zstd ÷ gzip', times(zstdVsGzip.compressedBytes)],
  ];
}

export const FIGURE_HEADERS = ['scenario', 'figure', 'value'] as const;

export function figureRows(results: BenchResults): string[][] {
  const rows: string[][] = [];
  const { computeFloor, ioFloor, largeFile, naive, smallFiles, scaleOut, latency, memoryGrowth, parquetWriter } = results;
  if (computeFloor) {
    const [cold] = computeFloor.passes;
    rows.push(
      ['1 compute floor', 'records/s (fastest pass)', integer(computeFloor.recordsPerSecond)],
      ['', 'seconds, all passes', computeFloor.passes.map((pass) => fixed(pass.wallSeconds)).join(', ') + (cold ? ' (first one cold)' : '')],
      ['', 'CPU', perMillion(computeFloor.cpuSecondsPerMillionRecords)],
      ['', 'output', `${megabytes(computeFloor.outputBytes.processed)} processed, ${megabytes(computeFloor.outputBytes.rejected)} rejected`],
    );
  }
  if (ioFloor) {
    rows.push(
      ['2 I/O floor', 'GetObject + upload at once', `${seconds(ioFloor.seconds)}, ${fixed(ioFloor.megabytesPerSecond, 1)} MB/s`],
      ['', 'read / written', `${megabytes(ioFloor.readBytes)} in ${seconds(ioFloor.readSeconds)} / ${megabytes(ioFloor.writtenBytes)} in ${seconds(ioFloor.writeSeconds)} (${ioFloor.partSizeBytes / 1024 / 1024} MiB parts, ${ioFloor.uploadQueueSize} at once)`],
      ['', 'CPU client / emulator', `${seconds(ioFloor.clientCpuSeconds)} / ${seconds(ioFloor.emulatorCpuSeconds)}`],
    );
  }
  const floorRate = floorRecordsPerSecond(results);
  if (floorRate !== null) rows.push(['', 'records/s the slower floor allows', integer(floorRate)]);
  if (largeFile) rows.push(...largeFileRows(largeFile));
  const cpuVsFloors = cpuVsComputeAndIo(results);
  if (cpuVsFloors !== null) rows.push(['', 'worker CPU ÷ (compute floor + I/O floor client CPU)', times(cpuVsFloors)]);
  if (naive) {
    const matches = naive.matchesWorker === null ? 'not checked (scenario 3 did not run)' : naive.matchesWorker ? 'yes (size and SHA-256, both outputs)' : 'NO';
    rows.push(
      ['4 naive baseline', 'GetObject → outputs stored', seconds(naive.seconds)],
      ['', 'records/s', integer(naive.recordsPerSecond)],
      ['', 'CPU', `${seconds(naive.cpuSeconds)} = ${perMillion(naive.cpuSecondsPerMillionRecords)}`],
      ['', 'peak RSS', megabytes(naive.peakRssBytes)],
      ['', 'same output bytes as the worker', matches],
    );
    const ceiling = ratio(naive.seconds, floorSeconds(results));
    if (ceiling !== null) rows.push(['', 'naive ÷ slower floor (the best ×naive any worker could reach here)', `${fixed(ceiling)}×`]);
  }
  if (smallFiles) {
    rows.push(['5 small files', '', ''], smallFilesRow(smallFiles.oneAtATime), smallFilesRow(smallFiles.defaultBound));
    rows.push(['', 'default ÷ one at a time', `${fixed(smallFiles.speedup)}×`], cpuBoundRow(smallFiles.oneAtATime, smallFiles.defaultBound));
  }
  if (scaleOut) {
    rows.push(['6 scale-out', '', ''], smallFilesRow(scaleOut.oneProcess), smallFilesRow(scaleOut.twoProcesses));
    rows.push(['', '2 processes ÷ 1', `${fixed(scaleOut.speedup)}×`], cpuBoundRow(scaleOut.oneProcess, scaleOut.twoProcesses));
  }
  if (latency) {
    rows.push(
      ['7 latency', 'files, rate', `${latency.files} at ${latency.filesPerSecond}/s`],
      ['', 'put → output p50 / p99 / max', `${integer(latency.p50Ms)} / ${integer(latency.p99Ms)} / ${integer(latency.maxMs)} ms (mean ${integer(latency.meanMs)})`],
      ['', "worker's durationMs p50", `${integer(latency.workerDurationP50Ms)} ms`],
    );
  }
  if (memoryGrowth) {
    rows.push(...workerFileRows('8 memory, small file', memoryGrowth.small), ...workerFileRows('8 memory, large file', memoryGrowth.large));
    rows.push(['', 'peak RSS large ÷ small', times(memoryGrowth.growth)]);
  }
  if (parquetWriter) rows.push(...parquetWriterRows(parquetWriter));
  if (results.requestLatency) rows.push(...requestLatencyRows(results.requestLatency));
  if (results.manyLargeFiles) rows.push(...manyLargeFilesRows(results.manyLargeFiles));
  if (results.npmStart) rows.push(...npmStartRows(results.npmStart));
  if (results.compressedInput) rows.push(...compressedInputRows(results.compressedInput));
  return rows;
}

function formatTargetValue(value: number | null, unit: TargetResult['unit']): string {
  if (value === null) return 'n/a';
  if (unit === 'ratio') return `${fixed(value)}×`;
  if (unit === 'per file') return `${fixed(value)} ${unit}`;
  return `${integer(value)} ${unit}`;
}

export const TARGET_HEADERS = ['target', 'measured', 'required', 'result'] as const;

export function targetRows(targets: readonly TargetResult[]): string[][] {
  return targets.map((target) => [
    target.description,
    formatTargetValue(target.measured, target.unit),
    `${target.bound === 'at most' ? '≤' : '≥'} ${formatTargetValue(target.required, target.unit)}`,
    target.status,
  ]);
}

/** Scenario 10's table with its caption and a blank line after it, or nothing when it did not run. */
function renderLatencyTable(results: BenchResults): string[] {
  const figures = results.requestLatency;
  if (figures === undefined) return [];
  return [`${LATENCY_TABLE_NOTE}:`, renderTable(latencyTableHeaders(figures), latencyTableRows(figures)), ''];
}

export function renderReport(description: RunDescription, results: BenchResults, targets: readonly TargetResult[]): string {
  const failures = description.failures.map(({ scenario, error }) => `FAILED ${scenario}: ${error.split('\n')[0] ?? ''}`);
  return [
    `npm run bench (${description.mode}), ${description.date}, ${description.machine}`,
    `worker: ${description.workerRuntime}`,
    ...description.changedSettings.map((setting) => `changed from production defaults: ${setting}`),
    '',
    renderTable(FIGURE_HEADERS, figureRows(results)),
    '',
    ...renderLatencyTable(results),
    renderTable(TARGET_HEADERS, targetRows(targets)),
    ...(failures.length > 0 ? ['', ...failures] : []),
  ].join('\n');
}

/** Where a profiled worker's CPU went (its whole life, start-up included). */
export function renderCpuProfile(profile: ProfileSummary): string {
  const share = (entry: CpuProfileEntry) => [`${fixed(entry.selfMs, 0)} ms`, `${fixed(entry.share * 100, 1)} %`];
  return [
    `CPU profile of ${profile.what}: ${fixed(profile.busyMs / 1000)} s busy, ${fixed(profile.idleMs / 1000)} s idle (${profile.file})`,
    renderTable(['self time by source', 'ms', 'share'], profile.sources.map((entry) => [entry.name, ...share(entry)])),
    '',
    renderTable(['self time by function', 'ms', 'share'], profile.functions.map((entry) => [entry.name, ...share(entry)])),
  ].join('\n');
}

export const LOAD_HEADERS = ['scenario', 'wall', 'CPU used by other processes meanwhile', 'stolen by the hypervisor'] as const;

export function loadRows(loads: readonly ScenarioLoad[]): string[][] {
  return loads.map((load) => [
    load.scenario,
    seconds(load.wallSeconds),
    load.otherCpuSeconds === null ? 'n/a' : `${seconds(load.otherCpuSeconds)} (${fixed((load.otherShare ?? 0) * 100, 0)} % of the cores)`,
    seconds(load.stealSeconds),
  ]);
}

/** Other processes' CPU while each scenario ran: on a shared machine, the figures above are only as good as this is small. */
export function renderLoads(loads: readonly ScenarioLoad[]): string {
  return renderTable(LOAD_HEADERS, loadRows(loads));
}
