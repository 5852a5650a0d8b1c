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
};

export const QUICK_DIVISOR = 20;

/**
 * Counts and file sizes shrink; the shape of each file, the rates and the concurrency stay.
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
  };
}
