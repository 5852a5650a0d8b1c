/** Small figures helpers. Pure. */

/** Nearest-rank percentile (p in 0..100) of a non-empty list: p99 of 200 samples is the 198th smallest. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`p must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean of no values');
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** a / b, or null when either is missing or b is not positive. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return a / b;
}

/** CPU seconds per million records. */
export function cpuSecondsPerMillion(cpuSeconds: number | null, records: number): number | null {
  return cpuSeconds === null || records <= 0 ? null : (cpuSeconds / records) * 1e6;
}

/** The most intervals that overlap at any moment (an interval ending as another starts does not overlap it). */
export function mostAtOnce(intervals: ReadonlyArray<{ readonly startMs: number; readonly endMs: number }>): number {
  const events = intervals.flatMap(({ startMs, endMs }) => [
    { atMs: startMs, change: 1 },
    { atMs: endMs, change: -1 },
  ]);
  // Ends before starts at the same moment.
  events.sort((a, b) => a.atMs - b.atMs || a.change - b.change);
  let open = 0;
  let most = 0;
  for (const { change } of events) {
    open += change;
    most = Math.max(most, open);
  }
  return most;
}
