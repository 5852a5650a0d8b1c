/**
 * Scenario 13: the production worker on the large file put gzip-compressed, then zstd-compressed (each at
 * its library's default level), each through a fresh pipeline and worker: throughput, CPU and peak RSS
 * side by side on the same records. Each run's outputs are compressed as its input was.
 */
import { promisify } from 'node:util';
import { gzip, zstdCompress } from 'node:zlib';
import type { BenchContext } from '../context.ts';
import type { CompressedInputFigures, CompressedRunFigures } from '../results.ts';
import { ratio } from '../statistics.ts';
import { runWorkerOnOneFile } from './worker-file-run.ts';

const COMPRESSORS = {
  gzip: { compress: promisify(gzip), suffix: '.gz' },
  zstd: { compress: promisify(zstdCompress), suffix: '.zst' },
} as const;

/** The processed output's bytes, from the 'file processed' line. */
function processedOutputBytes(outcome: Record<string, unknown>): number {
  const bytes = (outcome['bytesWritten'] as { processed?: unknown } | undefined)?.processed;
  if (typeof bytes !== 'number') throw new Error("the 'file processed' line does not say the bytes written");
  return bytes;
}

async function measureOne(context: BenchContext, compression: keyof typeof COMPRESSORS): Promise<CompressedRunFigures> {
  const input = context.largeInput();
  const { compress, suffix } = COMPRESSORS[compression];
  context.progress(`13 compressed input: ${input.records.toLocaleString('en-US')} records, ${compression}-compressed`);
  const body = await compress(input.body);
  const { figures, outcome } = await runWorkerOnOneFile(context, {
    pipelineName: `compressed-${compression}`,
    key: `bench/large-${input.records}.jsonl${suffix}`,
    input: { kind: 'buffer', body, records: input.records },
    timeoutMs: 60_000 + input.records / 2,
  });
  if (!figures.countsAddUp) throw new Error(`the worker's counts ${JSON.stringify(figures.counts)} do not add up to the ${input.records} lines (${compression})`);
  return { ...figures, inputBytes: input.body.length, compressedBytes: body.length, processedOutputBytes: processedOutputBytes(outcome) };
}

export async function measureCompressedInput(context: BenchContext): Promise<CompressedInputFigures> {
  const gzipRun = await measureOne(context, 'gzip');
  const zstdRun = await measureOne(context, 'zstd');
  return {
    gzip: gzipRun,
    zstd: zstdRun,
    zstdVsGzip: {
      recordsPerSecond: ratio(zstdRun.recordsPerSecond, gzipRun.recordsPerSecond),
      cpuSecondsPerMillionRecords: ratio(zstdRun.cpuSecondsPerMillionRecords, gzipRun.cpuSecondsPerMillionRecords),
      peakRss: ratio(zstdRun.peakRssBytes, gzipRun.peakRssBytes),
      compressedBytes: ratio(zstdRun.compressedBytes, gzipRun.compressedBytes),
    },
  };
}
