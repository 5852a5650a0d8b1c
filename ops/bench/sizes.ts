/** How big each scenario is: the sizes, or 1/20 of them for the quick (CI smoke) run. Pure. */

export interface BenchSizes {
  readonly largeFileRecords: number;
  /** Passes of the compute floor; the fastest one is the floor. */
  readonly computeFloorPasses: number;
  readonly smallFiles: number;
  readonly smallFileRecords: number;
  /** Puts in flight at once while the small files go in. */
  readonly putConcurrency: number;
  readonly latencyFiles: number;
  readonly latencyFilesPerSecond: number;
  readonly memorySmallFileBytes: number;
  readonly memoryLargeFileBytes: number;
  /** Scenario 10: the delays per request (the table's rows) … */
  readonly requestDelaysMs: readonly number[];
  /** … the fixed bounds on files in flight it compares with the default (its columns) … */
  readonly fixedFileBounds: readonly number[];
  /** … and about how long each cell should take: its file count follows from this (see latency-plan.ts). */
  readonly latencyCellSeconds: number;
  /** Scenario 10's large file through a capped connection: its size, and the caps per connection (null: none). */
  readonly cappedFileBytes: number;
  readonly bandwidthCapsBytesPerSecond: ReadonlyArray<number | null>;
  /** Scenario 11: this many files of this size put at once. */
  readonly manyLargeFiles: number;
  readonly manyLargeFileBytes: number;
}

export const FULL_SIZES: BenchSizes = {
  largeFileRecords: 1_000_000,
  computeFloorPasses: 3,
  smallFiles: 2_000,
  smallFileRecords: 100,
  putConcurrency: 8,
  latencyFiles: 200,
  latencyFilesPerSecond: 20,
  memorySmallFileBytes: 10_000_000,
  memoryLargeFileBytes: 1_000_000_000,
  requestDelaysMs: [0, 20, 60],
  fixedFileBounds: [1, 8, 32, 64, 128],
  latencyCellSeconds: 4,
  cappedFileBytes: 40_000_000,
  bandwidthCapsBytesPerSecond: [null, 64_000_000, 16_000_000],
  manyLargeFiles: 200,
  manyLargeFileBytes: 10_000_000,
};

/** The quick run keeps every delay and the bounds the targets compare (1, 8 and one high bound), shorter. */
const QUICK_FIXED_FILE_BOUNDS = [1, 8, 64];
const QUICK_LATENCY_CELL_SECONDS = 1;

export const QUICK_DIVISOR = 20;

/**
 * Counts and file sizes shrink (scenario 11's files keep their size); the shape of each file, the rates,
 * the delays and the concurrency stay; scenario 10 compares fewer bounds, each for a shorter time.
 * `largeFileRecords` (--records), when given, is the large file's size at either scale.
 */
export function benchSizes(quick: boolean, largeFileRecords?: number): BenchSizes {
  if (!quick) return largeFileRecords === undefined ? FULL_SIZES : { ...FULL_SIZES, largeFileRecords };
  const shrink = (value: number) => Math.max(1, Math.round(value / QUICK_DIVISOR));
  return {
    ...FULL_SIZES,
    largeFileRecords: largeFileRecords ?? shrink(FULL_SIZES.largeFileRecords),
    smallFiles: shrink(FULL_SIZES.smallFiles),
    latencyFiles: shrink(FULL_SIZES.latencyFiles),
    memorySmallFileBytes: shrink(FULL_SIZES.memorySmallFileBytes),
    memoryLargeFileBytes: shrink(FULL_SIZES.memoryLargeFileBytes),
    fixedFileBounds: QUICK_FIXED_FILE_BOUNDS,
    latencyCellSeconds: QUICK_LATENCY_CELL_SECONDS,
    cappedFileBytes: shrink(FULL_SIZES.cappedFileBytes),
    // Fewer files, each as large: a file's size is what sets the memory it takes.
    manyLargeFiles: shrink(FULL_SIZES.manyLargeFiles),
  };
}

const DECIMAL_UNITS = [
  ['GB', 1e9],
  ['MB', 1e6],
  ['kB', 1e3],
] as const;

/**
 * A file size as the bench's labels name it, in decimal units with at most three significant digits:
 * 1e9 → "1 GB", 1e7 → "10 MB", 5e7 → "50 MB", 5e5 → "500 kB", 1_250_000 → "1.25 MB".
 */
export function sizeLabel(bytes: number): string {
  const [unit, size] = DECIMAL_UNITS.find(([, unitBytes]) => bytes >= unitBytes) ?? ['B', 1];
  return `${Number((bytes / size).toPrecision(3))} ${unit}`;
}
