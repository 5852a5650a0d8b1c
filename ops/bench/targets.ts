/**
 * The targets, judged on one run's figures: met, not met, or n/a when a scenario they need
 * did not run (or /proc was missing). Pure.
 */
import { latencyTargets } from './latency-targets.ts';
import type { BenchResults } from './results.ts';
import type { ScenarioId } from './options.ts';
import { sizeLabel, type BenchSizes } from './sizes.ts';
import { ratio } from './statistics.ts';

export type TargetUnit = 'ratio' | 'ms' | 'MB' | 'per file';
export type TargetStatus = 'met' | 'not met' | 'n/a';

export interface TargetResult {
  readonly id: string;
  readonly description: string;
  readonly scenarios: readonly ScenarioId[];
  readonly measured: number | null;
  readonly bound: 'at most' | 'at least';
  readonly required: number;
  readonly unit: TargetUnit;
  readonly status: TargetStatus;
}

export type TargetDefinition = Omit<TargetResult, 'measured' | 'status'> & { readonly measure: (results: BenchResults) => number | null | undefined };

/** Seconds the slower floor takes for the large file: the worker reads, processes and writes at once, so the slower one bounds it. */
export function floorSeconds(results: BenchResults): number | null {
  const { computeFloor, ioFloor } = results;
  if (computeFloor === undefined || ioFloor === undefined) return null;
  return Math.max(computeFloor.seconds, ioFloor.seconds);
}

/** Records/s the slower floor allows for the large file. */
export function floorRecordsPerSecond(results: BenchResults): number | null {
  const seconds = floorSeconds(results);
  return seconds === null || results.computeFloor === undefined ? null : ratio(results.computeFloor.records, seconds);
}

const MB = 1e6;
/** The worker's peak RSS on any one file, however large. */
const PEAK_RSS_LIMIT_MB = 200;

function megabytes(bytes: number | null | undefined): number | null {
  return bytes === undefined || bytes === null ? null : bytes / MB;
}

/** The targets, their texts naming the file sizes of the run that measured them (a quick run's are 1/20). */
export function benchTargets(sizes: BenchSizes): readonly TargetDefinition[] {
  const large = sizeLabel(sizes.memoryLargeFileBytes);
  const small = sizeLabel(sizes.memorySmallFileBytes);
  return [
    {
      id: 'worker-cpu-vs-compute-floor',
      description: 'worker CPU s per 1M records ÷ compute floor’s',
      scenarios: [1, 3],
      bound: 'at most',
      required: 1.15,
      unit: 'ratio',
      measure: (r) => ratio(r.largeFile?.cpuSecondsPerMillionRecords, r.computeFloor?.cpuSecondsPerMillionRecords),
    },
    {
      id: 'large-file-vs-floors',
      description: 'large-file records/s ÷ what the slower floor allows',
      scenarios: [1, 2, 3],
      bound: 'at least',
      required: 0.8,
      unit: 'ratio',
      measure: (r) => ratio(r.largeFile?.recordsPerSecond, floorRecordsPerSecond(r)),
    },
    {
      id: 'throughput-vs-naive',
      description: 'large-file records/s ÷ naive baseline’s',
      scenarios: [3, 4],
      bound: 'at least',
      required: 2,
      unit: 'ratio',
      measure: (r) => ratio(r.largeFile?.recordsPerSecond, r.naive?.recordsPerSecond),
    },
    {
      id: 'memory-vs-naive',
      description: 'large-file peak RSS ÷ naive baseline’s',
      scenarios: [3, 4],
      bound: 'at most',
      required: 0.2,
      unit: 'ratio',
      measure: (r) => ratio(r.largeFile?.peakRssBytes, r.naive?.peakRssBytes),
    },
    {
      id: 'rss-one-large-file',
      description: 'worker peak RSS on the large file (3)',
      scenarios: [3],
      bound: 'at most',
      required: PEAK_RSS_LIMIT_MB,
      unit: 'MB',
      measure: (r) => megabytes(r.largeFile?.peakRssBytes),
    },
    {
      id: 'small-files-bound',
      description: 'small files/s, default bound ÷ one at a time',
      scenarios: [5],
      bound: 'at least',
      required: 6,
      unit: 'ratio',
      measure: (r) => r.smallFiles?.speedup,
    },
    {
      id: 'scale-out',
      description: 'small files/s, 2 worker processes ÷ 1',
      scenarios: [6],
      bound: 'at least',
      required: 1.6,
      unit: 'ratio',
      measure: (r) => r.scaleOut?.speedup,
    },
    { id: 'latency-p50', description: 'put → output latency, p50', scenarios: [7], bound: 'at most', required: 150, unit: 'ms', measure: (r) => r.latency?.p50Ms },
    { id: 'latency-p99', description: 'put → output latency, p99', scenarios: [7], bound: 'at most', required: 500, unit: 'ms', measure: (r) => r.latency?.p99Ms },
    {
      id: 'rss-large-file',
      description: `worker peak RSS on the ${large} file`,
      scenarios: [8],
      bound: 'at most',
      required: PEAK_RSS_LIMIT_MB,
      unit: 'MB',
      measure: (r) => megabytes(r.memoryGrowth?.large.peakRssBytes),
    },
    {
      id: 'rss-growth',
      description: `peak RSS, ${large} file ÷ ${small} file`,
      scenarios: [8],
      bound: 'at most',
      required: 1.3,
      unit: 'ratio',
      measure: (r) => r.memoryGrowth?.growth,
    },
    {
      id: 'npm-start-vs-production-worker',
      description: 'npm start, large file put → processed ÷ production worker’s (3)',
      scenarios: [3, 12],
      bound: 'at most',
      required: 1.2,
      unit: 'ratio',
      measure: (r) => ratio(r.npmStart?.seconds, r.largeFile?.seconds),
    },
    ...latencyTargets(sizes),
  ];
}

/** Every target judged on `results`; `sizes` are the run's, which the texts name. */
export function evaluateTargets(results: BenchResults, sizes: BenchSizes): TargetResult[] {
  return benchTargets(sizes).map(({ measure, ...target }) => {
    const measured = measure(results) ?? null;
    const status: TargetStatus =
      measured === null ? 'n/a' : (target.bound === 'at most' ? measured <= target.required : measured >= target.required) ? 'met' : 'not met';
    return { ...target, measured, status };
  });
}
