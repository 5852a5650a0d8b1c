/** The figures of scenarios 10 (files/s with a delay per request) and 11 (many large files at once). */
import type { FileBound } from './latency-plan.ts';
import type { RequestCounts } from './latency-proxy/request-counts.ts';
import type { SmallFilesRun, WorkerFileFigures } from './results.ts';

/** What the latency proxy saw and spent while a run's workers ran (from the first put until they stopped). */
export interface ProxiedFigures {
  readonly delayMs: number;
  /** Cap per connection and direction; null for none. */
  readonly bytesPerSecond: number | null;
  readonly cpuSeconds: number | null;
  readonly requests: RequestCounts;
}

/** One cell of the table: the small files at one delay with one bound; `run.proxy` is set. */
export interface LatencyCell {
  readonly delayMs: number;
  readonly bound: FileBound;
  readonly run: SmallFilesRun;
}

/** The large file of a size through a capped connection, at a delay. */
export interface CappedFileRun {
  readonly delayMs: number;
  readonly bytesPerSecond: number | null;
  readonly figures: WorkerFileFigures;
  readonly proxyCpuSeconds: number | null;
}

export interface RequestLatencyFigures {
  readonly delaysMs: readonly number[];
  readonly bounds: readonly FileBound[];
  readonly cells: readonly LatencyCell[];
  readonly cappedFile: readonly CappedFileRun[];
}

export interface ManyFilesFigures {
  readonly files: number;
  readonly fileBytes: number;
  /** The delay the proxy added to each of the worker's requests. */
  readonly delayMs: number;
  /** From the worker's start (every file already queued) to the last 'file processed' line. */
  readonly seconds: number;
  readonly filesPerSecond: number;
  /** The most files the worker's log shows in flight at one moment. */
  readonly mostFilesInFlight: number;
  readonly peakRssBytes: number | null;
  readonly idleRssBytes: number | null;
  readonly workerCpuSeconds: number | null;
  readonly emulatorCpuSeconds: number | null;
  readonly proxyCpuSeconds: number | null;
  readonly warningLines: number;
}
