/**
 * How many small files each cell of scenario 10 gets, so that every cell takes about the same few
 * seconds: one file at a time at 60 ms per request gets a few dozen, the default at 0 ms hundreds.
 * The cells report files/s, so their counts need not match. Pure.
 */

/** A bound on files in flight: fixed (FILES_IN_FLIGHT_MODE=fixed, MAX_FILES_IN_FLIGHT=n) or the worker's default settings. */
export type FileBound = number | 'default';

/** Round trips a small file costs one after the other: receive, get, the outputs' puts (together), delete. */
const ROUND_TRIPS_PER_FILE = 4;
/** What a file costs without delays, one at a time, on a machine like the bench's. */
const FILE_SECONDS_WITHOUT_DELAY = 0.008;
/** Files/s the cores allow with every process on them: no bound gets past it. */
const CPU_FILES_PER_SECOND = 120;
/** What the default is assumed to reach when planning (its ceiling); an overestimate only makes the cell longer. */
const DEFAULT_PLANNING_BOUND = 128;
const MIN_FILES_PER_CELL = 8;

/** Files/s a bound should reach at a delay, for planning only. */
export function expectedFilesPerSecond(delayMs: number, bound: FileBound): number {
  const files = bound === 'default' ? DEFAULT_PLANNING_BOUND : bound;
  const fileSeconds = (ROUND_TRIPS_PER_FILE * delayMs) / 1000 + FILE_SECONDS_WITHOUT_DELAY;
  return Math.min(CPU_FILES_PER_SECOND, files / fileSeconds);
}

/** Files for one cell: about `cellSeconds` worth, at least a few, at most the files there are. */
export function filesForCell(delayMs: number, bound: FileBound, cellSeconds: number, available: number): number {
  const wanted = Math.round(expectedFilesPerSecond(delayMs, bound) * cellSeconds);
  return Math.min(available, Math.max(MIN_FILES_PER_CELL, wanted));
}

/** The columns of the table: the fixed bounds in order, then the default. */
export function latencyColumns(fixedBounds: readonly number[]): FileBound[] {
  return [...[...fixedBounds].sort((a, b) => a - b), 'default'];
}

export function boundLabel(bound: FileBound): string {
  return bound === 'default' ? 'default' : `fixed ${bound}`;
}

/** The settings a cell changes from the production defaults (none for the default). */
export function boundSettings(bound: FileBound): Record<string, string> {
  return bound === 'default' ? {} : { FILES_IN_FLIGHT_MODE: 'fixed', MAX_FILES_IN_FLIGHT: String(bound) };
}
