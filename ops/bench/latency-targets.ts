/** The targets on scenarios 10 and 11, judged with the others by targets.ts. Pure. */
import { defaultVsBestFixed, defaultVsFixed, worstDefaultRequestsPerFile } from './latency-figures.ts';
import { sizeLabel, type BenchSizes } from './sizes.ts';
import type { TargetDefinition } from './targets.ts';

/** The worker's peak RSS, whatever it holds at once. */
const PEAK_RSS_LIMIT_MB = 200;
/** Today's S3 requests for a small file: its GetObject and the two outputs' puts. */
const S3_REQUESTS_PER_SMALL_FILE = 3;

export function latencyTargets(sizes: BenchSizes): readonly TargetDefinition[] {
  return [
    {
      id: 'latency-20ms-default-vs-best-fixed',
      description: 'files/s at 20 ms per request, default ÷ best fixed bound',
      scenarios: [10],
      bound: 'at least',
      required: 0.9,
      unit: 'ratio',
      measure: (r) => defaultVsBestFixed(r.requestLatency, 20),
    },
    {
      id: 'latency-60ms-default-vs-best-fixed',
      description: 'files/s at 60 ms per request, default ÷ best fixed bound',
      scenarios: [10],
      bound: 'at least',
      required: 0.9,
      unit: 'ratio',
      measure: (r) => defaultVsBestFixed(r.requestLatency, 60),
    },
    {
      id: 'latency-0ms-default-vs-fixed-8',
      description: 'files/s at 0 ms, default ÷ fixed 8 (the old default)',
      scenarios: [10],
      bound: 'at least',
      required: 0.95,
      unit: 'ratio',
      measure: (r) => defaultVsFixed(r.requestLatency, 0, 8),
    },
    {
      id: 'latency-60ms-default-vs-one',
      description: 'files/s at 60 ms per request, default ÷ fixed 1',
      scenarios: [10],
      bound: 'at least',
      required: 10,
      unit: 'ratio',
      measure: (r) => defaultVsFixed(r.requestLatency, 60, 1),
    },
    {
      id: 'sqs-requests-per-file',
      description: 'SQS requests per small file, default (receive, delete, visibility; most at any delay)',
      scenarios: [10],
      bound: 'at most',
      required: 1.3,
      unit: 'per file',
      measure: (r) => worstDefaultRequestsPerFile(r.requestLatency, 'sqs'),
    },
    {
      id: 's3-requests-per-file',
      description: 'S3 requests per small file, default (most at any delay)',
      scenarios: [10],
      bound: 'at most',
      required: S3_REQUESTS_PER_SMALL_FILE,
      unit: 'per file',
      measure: (r) => worstDefaultRequestsPerFile(r.requestLatency, 's3'),
    },
    {
      id: 'rss-many-large-files',
      description: `worker peak RSS, many ${sizeLabel(sizes.manyLargeFileBytes)} files put at once (11)`,
      scenarios: [11],
      bound: 'at most',
      required: PEAK_RSS_LIMIT_MB,
      unit: 'MB',
      measure: (r) => (r.manyLargeFiles?.peakRssBytes === null || r.manyLargeFiles === undefined ? null : r.manyLargeFiles.peakRssBytes / 1e6),
    },
  ];
}
