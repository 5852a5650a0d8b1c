/** Scenario 10's figures for the unit tests: only what the functions under test read. */
import type { FileBound } from '../../../../ops/bench/latency-plan.ts';
import type { RequestCounts } from '../../../../ops/bench/latency-proxy/request-counts.ts';
import type { LatencyCell, RequestLatencyFigures } from '../../../../ops/bench/latency-results.ts';
import type { SmallFilesRun } from '../../../../ops/bench/results.ts';

export function latencyCell(delayMs: number, bound: FileBound, filesPerSecond: number, requests?: RequestCounts, files = 100): LatencyCell {
  const run = {
    files,
    filesPerSecond,
    ...(requests === undefined ? {} : { proxy: { delayMs, bytesPerSecond: null, cpuSeconds: 0.5, requests } }),
  } as SmallFilesRun;
  return { delayMs, bound, run };
}

export function latencyFigures(cells: LatencyCell[]): RequestLatencyFigures {
  return { delaysMs: [...new Set(cells.map((cell) => cell.delayMs))], bounds: [1, 8, 64, 'default'], cells, cappedFile: [] };
}
