/**
 * Scenario 8: the worker's peak RSS on a small and on a very large file, each made as a stream and
 * uploaded as it is made, each with a fresh worker so each peak is that file's.
 */
import type { BenchContext } from '../context.ts';
import type { MemoryGrowthFigures, WorkerFileFigures } from '../results.ts';
import { ratio } from '../statistics.ts';
import { DATA_SEED } from '../test-data.ts';
import { runWorkerOnOneFile } from './worker-file-run.ts';

async function runOne(context: BenchContext, name: string, targetBytes: number): Promise<WorkerFileFigures> {
  context.progress(`   ${name}: ${(targetBytes / 1e6).toFixed(1)} MB, generated and uploaded as a stream`);
  const { figures } = await runWorkerOnOneFile(context, {
    pipelineName: `memory-${name}`,
    key: `bench/memory-${targetBytes}.jsonl`,
    input: { kind: 'stream', targetBytes, seed: DATA_SEED },
    // The put and the wait are each bounded by this: generous for 1 GB on a slow machine.
    timeoutMs: 120_000 + targetBytes / 20_000,
  });
  if (!figures.countsAddUp) throw new Error(`the worker's counts for the ${name} file do not add up to its ${figures.records} lines`);
  return figures;
}

export async function measureMemoryGrowth(context: BenchContext): Promise<MemoryGrowthFigures> {
  context.progress('8 memory growth');
  const small = await runOne(context, 'small', context.sizes.memorySmallFileBytes);
  const large = await runOne(context, 'large', context.sizes.memoryLargeFileBytes);
  return { small, large, growth: ratio(large.peakRssBytes, small.peakRssBytes) };
}
