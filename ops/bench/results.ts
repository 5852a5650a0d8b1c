/** The figures each scenario produces: what the table shows, the targets judge and the JSON keeps. */
import type { ProfileSummary } from './profiling.ts';
import type { ManyFilesFigures, ProxiedFigures, RequestLatencyFigures } from './latency-results.ts';
import type { ListedObject, ObjectDigest } from './s3-objects.ts';

export interface RecordCounts {
  readonly processed: number;
  readonly filtered: number;
  readonly rejected: number;
}

export interface ComputeFloorFigures {
  readonly records: number;
  readonly inputBytes: number;
  readonly outputBytes: { readonly processed: number; readonly rejected: number };
  /** Every pass, the first one cold; the fastest is the floor. */
  readonly passes: ReadonlyArray<{ readonly wallSeconds: number; readonly cpuSeconds: number }>;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly cpuSecondsPerMillionRecords: number;
}

export interface IoFloorFigures {
  readonly readBytes: number;
  readonly writtenBytes: number;
  /** GetObject and the upload run at once, as the worker runs them; each one's time from the common start. */
  readonly readSeconds: number;
  readonly writeSeconds: number;
  readonly seconds: number;
  /** (read + written) / seconds. */
  readonly megabytesPerSecond: number;
  readonly partSizeBytes: number;
  readonly uploadQueueSize: number;
  /** The bench process's CPU for the I/O: what the SDK costs without any processing. */
  readonly clientCpuSeconds: number;
  readonly emulatorCpuSeconds: number | null;
}

export interface WorkerFileFigures {
  readonly records: number;
  readonly inputBytes: number;
  /** From the put completing to the 'file processed' line arriving. */
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** durationMs from the worker's own log line. */
  readonly workerDurationMs: number;
  readonly workerCpuSeconds: number | null;
  readonly cpuSecondsPerMillionRecords: number | null;
  readonly peakRssBytes: number | null;
  readonly idleRssBytes: number | null;
  readonly emulatorCpuSeconds: number | null;
  readonly counts: RecordCounts;
  readonly countsAddUp: boolean;
  readonly warningLines: number;
}

export interface LargeFileFigures extends WorkerFileFigures {
  /** Set when the file was put gzip-compressed (--gzip): the bytes put; `inputBytes` is the plain size, and the outputs are gzip. */
  readonly gzipBytes?: number;
  readonly outputs: { readonly processed: ObjectDigest; readonly rejected: ObjectDigest };
  /** Set when the worker ran under --cpu-prof: its figures then include the profiler's cost. */
  readonly cpuProfile?: ProfileSummary;
}

export interface NaiveFigures {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly cpuSeconds: number | null;
  readonly cpuSecondsPerMillionRecords: number | null;
  readonly peakRssBytes: number | null;
  readonly counts: RecordCounts;
  readonly outputs: { readonly processed: ObjectDigest; readonly rejected: ObjectDigest };
  /** Same processed and rejected bytes as the worker's (size and SHA-256); null when the worker did not run. */
  readonly matchesWorker: boolean | null;
}

export interface SmallFilesRun {
  readonly label: string;
  /** Settings changed from production defaults for this run. */
  readonly settings: Readonly<Record<string, string>>;
  readonly workers: number;
  readonly files: number;
  /** From the first put to the last 'file processed' line. */
  readonly seconds: number;
  readonly filesPerSecond: number;
  /** How long the puts took (they run while the workers do). */
  readonly putSeconds: number;
  readonly filesPerWorker: readonly number[];
  readonly workerCpuSeconds: number | null;
  readonly emulatorCpuSeconds: number | null;
  readonly benchCpuSeconds: number;
  /** The machine's cores, which the CPU above shares. */
  readonly cores: number;
  readonly warningLines: number;
  /** Set when the worker ran under --cpu-prof: its figures then include the profiler's cost. */
  readonly cpuProfile?: ProfileSummary;
  /** The most files the workers' logs show in flight at one moment (summed over workers). */
  readonly mostFilesInFlight?: number;
  /** Set when the workers talked to AWS through the latency proxy. */
  readonly proxy?: ProxiedFigures;
}

export interface SmallFilesFigures {
  readonly oneAtATime: SmallFilesRun;
  readonly defaultBound: SmallFilesRun;
  readonly speedup: number;
}

export interface ScaleOutFigures {
  readonly oneProcess: SmallFilesRun;
  readonly twoProcesses: SmallFilesRun;
  readonly speedup: number;
}

export interface LatencyFigures {
  readonly files: number;
  readonly filesPerSecond: number;
  /** Put completed → 'file processed' line arrived. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** The worker's own durationMs for the file (receive to outputs stored), p50. */
  readonly workerDurationP50Ms: number;
}

export interface MemoryGrowthFigures {
  readonly small: WorkerFileFigures;
  readonly large: WorkerFileFigures;
  /** Peak RSS on the large file ÷ on the small one. */
  readonly growth: number | null;
}

/** Scenario 9's figures over scenario 3's, from the same run; each null when a figure is missing. */
export interface JsonLinesComparison {
  /** Parquet records/s ÷ JSON Lines records/s. */
  readonly recordsPerSecond: number | null;
  /** Parquet worker CPU s per 1M records ÷ JSON Lines'. */
  readonly cpuSecondsPerMillionRecords: number | null;
  /** Parquet worker peak RSS ÷ JSON Lines'. */
  readonly peakRss: number | null;
  /** The JSON Lines processed output of scenario 3. */
  readonly jsonLinesProcessedBytes: number;
  /** Total Parquet bytes ÷ JSON Lines processed bytes. */
  readonly processedBytes: number | null;
  /** Scenario 3 ran under --cpu-prof: its figures, and so these ratios, include the profiler's cost. */
  readonly jsonLinesProfiled: boolean;
}

export interface ParquetWriterFigures extends WorkerFileFigures {
  readonly parquet: {
    /** PARQUET_PREFIX: the objects are listed under it in the processed bucket. */
    readonly prefix: string;
    readonly objects: readonly ListedObject[];
    /** Distinct dt= partitions among the objects. */
    readonly partitions: number;
    readonly bytes: number;
  };
  /** Against scenario 3 (the JSON Lines writer) of the same run; null when scenario 3 did not run. */
  readonly vsJsonLines: JsonLinesComparison | null;
}

/** One compressed run of scenario 13: `inputBytes` is the plain size, `compressedBytes` what was put. */
export interface CompressedRunFigures extends WorkerFileFigures {
  readonly compressedBytes: number;
  /** The processed output's bytes, compressed as the input was. */
  readonly processedOutputBytes: number;
}

/** Scenario 13: the large file put gzip-compressed, then zstd-compressed, each through a fresh worker. */
export interface CompressedInputFigures {
  readonly gzip: CompressedRunFigures;
  readonly zstd: CompressedRunFigures;
  /** zstd's figure ÷ gzip's; null where a figure is missing (no /proc). */
  readonly zstdVsGzip: {
    readonly recordsPerSecond: number | null;
    readonly cpuSecondsPerMillionRecords: number | null;
    readonly peakRss: number | null;
    readonly compressedBytes: number | null;
  };
}

/** Scenario 12: the large file through `npm start` (its worker in its own process, run from source; its emulator a child). */
export interface NpmStartFigures extends WorkerFileFigures {
  /** From spawning `node ops/local/main.ts` to its ready line (its sample file processed). */
  readonly startSeconds: number;
  /** npm start's one child ran ops/local/emulator.ts (the scenario fails otherwise); null where there is no /proc to tell. */
  readonly emulatorInOwnProcess: true | null;
  /** Put done → file processed, ÷ scenario 3's (the production worker) in the same run; null when 3 did not run. */
  readonly vsProductionWorker: number | null;
  /** CPU s per 1M records ÷ scenario 3's: steadier than the times on a shared machine; null when 3 did not run. */
  readonly cpuVsProductionWorker: number | null;
  /** Scenario 3 ran under --cpu-prof: the ratio includes the profiler's cost on its side. */
  readonly productionWorkerProfiled: boolean;
}

export interface BenchResults {
  computeFloor?: ComputeFloorFigures;
  ioFloor?: IoFloorFigures;
  largeFile?: LargeFileFigures;
  naive?: NaiveFigures;
  smallFiles?: SmallFilesFigures;
  scaleOut?: ScaleOutFigures;
  latency?: LatencyFigures;
  memoryGrowth?: MemoryGrowthFigures;
  parquetWriter?: ParquetWriterFigures;
  requestLatency?: RequestLatencyFigures;
  manyLargeFiles?: ManyFilesFigures;
  npmStart?: NpmStartFigures;
  compressedInput?: CompressedInputFigures;
}

/** How busy the rest of the machine was while a scenario ran: figures taken meanwhile are only as good as this is small. */
export interface ScenarioLoad {
  readonly scenario: string;
  readonly wallSeconds: number;
  readonly otherCpuSeconds: number | null;
  /** otherCpuSeconds ÷ (wall × cores). */
  readonly otherShare: number | null;
  readonly stealSeconds: number | null;
}
