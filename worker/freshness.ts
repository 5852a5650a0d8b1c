/**
 * Freshness: how long after S3 announced an object its outputs were stored. Operators promise "data
 * within N minutes of upload"; this is that N, measured per file, against FRESHNESS_OBJECTIVE_SECONDS.
 */

/** FRESHNESS_OBJECTIVE_SECONDS when unset: 15 minutes. */
export const DEFAULT_FRESHNESS_OBJECTIVE_SECONDS = 900;

/** Bucket bounds from 1 s to 2 h, for objectives of minutes. */
const FRESHNESS_BUCKETS_SECONDS = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 7200] as const;

/**
 * The histogram's bucket bounds: the defaults plus the objective and twice it. With the objective a bound,
 * "p99 above the objective" (histogram_quantile) is true exactly when more than 1 % of the files were later
 * than it; a bound above it keeps such a p99 from being reported as the objective itself.
 */
export function freshnessBuckets(objectiveSeconds: number): number[] {
  return [...new Set([...FRESHNESS_BUCKETS_SECONDS, objectiveSeconds, objectiveSeconds * 2])].sort((a, b) => a - b);
}

/**
 * Seconds from the event's time to `nowMs`, or undefined when the event has no time that Date.parse reads
 * (backfilled objects, hand-made messages). A time a little ahead of this clock (skew) counts as 0.
 */
export function freshnessSeconds(eventTime: string | undefined, nowMs: number): number | undefined {
  if (eventTime === undefined) return undefined;
  const eventMs = Date.parse(eventTime);
  return Number.isFinite(eventMs) ? Math.max(0, nowMs - eventMs) / 1000 : undefined;
}
