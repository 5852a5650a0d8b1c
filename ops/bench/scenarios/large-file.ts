/**
 * Scenario 3: the production worker on the large file, plain or (--gzip) gzip-compressed, in which case
 * it writes gzip too; its outputs' digests are kept for scenario 4's check.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { BenchContext } from '../context.ts';
import { profiling } from '../profiling.ts';
import type { LargeFileFigures } from '../results.ts';
import { objectDigest } from '../s3-objects.ts';
import { runWorkerOnOneFile } from './worker-file-run.ts';

const gzipBuffer = promisify(gzip);

/** Where the 'file processed' line says an output went: `outputs.processed` lists objects (one for JSON Lines). */
function outputLocation(outcome: Record<string, unknown>, output: 'processed' | 'rejected'): { bucket: string; key: string } {
  const named = (outcome['outputs'] as Record<string, unknown> | undefined)?.[output];
  const location = (Array.isArray(named) ? named[0] : named) as { bucket?: unknown; key?: unknown } | undefined;
  if (typeof location?.bucket !== 'string' || typeof location.key !== 'string') {
    throw new Error(`the 'file processed' line does not say where the ${output} output went`);
  }
  return { bucket: location.bucket, key: location.key };
}

export async function measureLargeFile(context: BenchContext): Promise<LargeFileFigures> {
  const input = context.largeInput();
  const profile = profiling(context.cpuProfileDir, 'large-file', 'the large-file worker (scenario 3)');
  const compression = context.gzipLargeFile ? ', gzip-compressed' : '';
  context.progress(`3 worker, one large file: ${input.records.toLocaleString('en-US')} records${compression}${profile.nodeFlags.length > 0 ? ' (under --cpu-prof)' : ''}`);
  const body = context.gzipLargeFile ? await gzipBuffer(input.body) : input.body;
  const timeoutMs = 60_000 + input.records / 2;
  const { figures, outcome } = await runWorkerOnOneFile(context, {
    pipelineName: 'large',
    key: `bench/large-${input.records}.jsonl${context.gzipLargeFile ? '.gz' : ''}`,
    input: { kind: 'buffer', body, records: input.records },
    timeoutMs,
    nodeFlags: profile.nodeFlags,
  });
  if (!figures.countsAddUp) throw new Error(`the worker's counts ${JSON.stringify(figures.counts)} do not add up to the ${input.records} lines`);
  const processed = outputLocation(outcome, 'processed');
  const rejected = outputLocation(outcome, 'rejected');
  const outputs = {
    processed: await objectDigest(context.clients, processed.bucket, processed.key, timeoutMs),
    rejected: await objectDigest(context.clients, rejected.bucket, rejected.key, timeoutMs),
  };
  const cpuProfile = profile.collect();
  return {
    ...figures,
    inputBytes: input.body.length,
    ...(context.gzipLargeFile ? { gzipBytes: body.length } : {}),
    outputs,
    ...(cpuProfile ? { cpuProfile } : {}),
  };
}
