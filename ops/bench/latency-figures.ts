/** What scenario 10's table says: cells by delay and bound, the best fixed bound, requests per file. Pure. */
import type { FileBound } from './latency-plan.ts';
import { s3RequestsPerFile, sqsRequestsPerFile } from './latency-proxy/request-counts.ts';
import type { LatencyCell, RequestLatencyFigures } from './latency-results.ts';
import { ratio } from './statistics.ts';

export function cellAt(figures: RequestLatencyFigures | undefined, delayMs: number, bound: FileBound): LatencyCell | undefined {
  return figures?.cells.find((cell) => cell.delayMs === delayMs && cell.bound === bound);
}

export function filesPerSecondAt(figures: RequestLatencyFigures | undefined, delayMs: number, bound: FileBound): number | null {
  return cellAt(figures, delayMs, bound)?.run.filesPerSecond ?? null;
}

/** The fixed bound with the most files/s at a delay, or undefined when none ran there. */
export function bestFixedCell(figures: RequestLatencyFigures | undefined, delayMs: number): LatencyCell | undefined {
  const fixed = figures?.cells.filter((cell) => cell.delayMs === delayMs && cell.bound !== 'default') ?? [];
  return fixed.reduce<LatencyCell | undefined>((best, cell) => (best === undefined || cell.run.filesPerSecond > best.run.filesPerSecond ? cell : best), undefined);
}

/** Default files/s ÷ the best fixed bound's, at a delay. */
export function defaultVsBestFixed(figures: RequestLatencyFigures | undefined, delayMs: number): number | null {
  return ratio(filesPerSecondAt(figures, delayMs, 'default'), bestFixedCell(figures, delayMs)?.run.filesPerSecond);
}

/** Default files/s ÷ one fixed bound's, at a delay. */
export function defaultVsFixed(figures: RequestLatencyFigures | undefined, delayMs: number, bound: number): number | null {
  return ratio(filesPerSecondAt(figures, delayMs, 'default'), filesPerSecondAt(figures, delayMs, bound));
}

export interface RequestsPerFile {
  readonly sqs: number | null;
  readonly s3: number | null;
}

export function requestsPerFile(cell: LatencyCell): RequestsPerFile {
  const requests = cell.run.proxy?.requests;
  if (requests === undefined) return { sqs: null, s3: null };
  return { sqs: sqsRequestsPerFile(requests, cell.run.files), s3: s3RequestsPerFile(requests, cell.run.files) };
}

/** The most requests per file the default settings needed at any delay: the target holds at every one. */
export function worstDefaultRequestsPerFile(figures: RequestLatencyFigures | undefined, service: keyof RequestsPerFile): number | null {
  const values = (figures?.cells ?? [])
    .filter((cell) => cell.bound === 'default')
    .map((cell) => requestsPerFile(cell)[service])
    .filter((value) => value !== null);
  return values.length === 0 ? null : Math.max(...values);
}
