/**
 * Scenario 10: the small files with every request of the worker delayed by the latency proxy, as on
 * AWS, at each delay with each fixed bound on files in flight and with the default settings (a table:
 * delays by bounds, files/s in each cell); then a large file through a connection with and without a
 * bandwidth cap, to show where it becomes network-bound. Each delay has a proxy process of its own.
 */
import type { BenchContext } from '../context.ts';
import { boundLabel, boundSettings, filesForCell, latencyColumns } from '../latency-plan.ts';
import { startLatencyProxyProcess } from '../latency-proxy/process.ts';
import type { CappedFileRun, LatencyCell, RequestLatencyFigures } from '../latency-results.ts';
import { cpuDelta, cpuSecondsOf } from '../process-stats.ts';
import { DATA_SEED } from '../test-data.ts';
import { runSmallFiles } from './small-files-run.ts';
import { runWorkerOnOneFile } from './worker-file-run.ts';

/** The large file goes through at an AWS-like delay; what changes from line to line is the cap. */
const CAPPED_FILE_DELAY_MS = 20;

async function measureCells(context: BenchContext, delayMs: number): Promise<LatencyCell[]> {
  const { fixedFileBounds, latencyCellSeconds } = context.sizes;
  const files = context.smallFiles();
  const proxy = await startLatencyProxyProcess({ target: context.emulator.endpoint, delayMs, bytesPerSecond: null });
  const cells: LatencyCell[] = [];
  try {
    for (const bound of latencyColumns(fixedFileBounds)) {
      const count = filesForCell(delayMs, bound, latencyCellSeconds, files.length);
      const run = await runSmallFiles(context, {
        label: `${delayMs} ms, ${boundLabel(bound)}`,
        pipelineName: `delay-${delayMs}-${bound}`,
        workers: 1,
        settings: boundSettings(bound),
        files: files.slice(0, count),
        proxy,
      });
      cells.push({ delayMs, bound, run });
    }
  } finally {
    await proxy.stop();
  }
  return cells;
}

async function measureCappedFile(context: BenchContext, bytesPerSecond: number | null): Promise<CappedFileRun> {
  const targetBytes = context.sizes.cappedFileBytes;
  const cap = bytesPerSecond === null ? 'no cap' : `${(bytesPerSecond / 1e6).toFixed(0)} MB/s per connection`;
  context.progress(`   large file, ${(targetBytes / 1e6).toFixed(1)} MB at ${CAPPED_FILE_DELAY_MS} ms, ${cap}`);
  const proxy = await startLatencyProxyProcess({ target: context.emulator.endpoint, delayMs: CAPPED_FILE_DELAY_MS, bytesPerSecond });
  try {
    const cpuBefore = cpuSecondsOf(proxy.pid);
    const { figures } = await runWorkerOnOneFile(context, {
      pipelineName: `capped-${bytesPerSecond ?? 'none'}`,
      key: `bench/capped-${targetBytes}.jsonl`,
      input: { kind: 'stream', targetBytes, seed: DATA_SEED },
      timeoutMs: 120_000 + (bytesPerSecond === null ? 0 : (4 * targetBytes * 1000) / bytesPerSecond),
      settings: { AWS_ENDPOINT_URL: proxy.url },
    });
    if (!figures.countsAddUp) throw new Error(`the worker's counts for the capped-bandwidth file do not add up to its ${figures.records} lines`);
    return { delayMs: CAPPED_FILE_DELAY_MS, bytesPerSecond, figures, proxyCpuSeconds: cpuDelta(cpuBefore, cpuSecondsOf(proxy.pid)) };
  } finally {
    await proxy.stop();
  }
}

export async function measureRequestLatency(context: BenchContext): Promise<RequestLatencyFigures> {
  const { requestDelaysMs, fixedFileBounds, bandwidthCapsBytesPerSecond } = context.sizes;
  context.progress(`10 latency per request: delays ${requestDelaysMs.join(', ')} ms × fixed bounds ${fixedFileBounds.join(', ')} and the default`);
  const cells: LatencyCell[] = [];
  for (const delayMs of requestDelaysMs) cells.push(...(await measureCells(context, delayMs)));
  const cappedFile: CappedFileRun[] = [];
  for (const bytesPerSecond of bandwidthCapsBytesPerSecond) cappedFile.push(await measureCappedFile(context, bytesPerSecond));
  return { delaysMs: requestDelaysMs, bounds: latencyColumns(fixedFileBounds), cells, cappedFile };
}
