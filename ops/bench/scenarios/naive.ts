/**
 * Scenario 4: the original system's approach (children/naive-baseline.ts) on the same object from the
 * same emulator, in a child of its own; its outputs must be byte for byte the worker's.
 */
import type { NaiveBaselineResult } from '../children/naive-baseline.ts';
import { COMPILED } from '../build.ts';
import type { BenchContext } from '../context.ts';
import { runMeasuredChild } from '../measured-child.ts';
import type { NaiveFigures } from '../results.ts';
import { objectDigest, type ObjectDigest } from '../s3-objects.ts';
import { cpuSecondsPerMillion } from '../statistics.ts';

function sameBytes(a: ObjectDigest, b: ObjectDigest): boolean {
  return a.bytes === b.bytes && a.sha256 === b.sha256;
}

export async function measureNaiveBaseline(context: BenchContext): Promise<NaiveFigures> {
  const input = context.largeInput();
  const source = await context.referenceObject();
  const processed = { bucket: source.bucket, key: `naive/processed/${source.key}` };
  const rejected = { bucket: source.bucket, key: `naive/rejected/${source.key}` };
  context.progress(`4 naive baseline: ${input.records.toLocaleString('en-US')} records, whole object and outputs in memory`);
  const timeoutMs = 60_000 + input.records / 2;
  const run = await runMeasuredChild<NaiveBaselineResult>({
    script: COMPILED.naiveBaseline,
    argument: { endpoint: context.emulator.endpoint, region: context.emulator.region, source, processed, rejected },
    readyTimeoutMs: 30_000,
    workTimeoutMs: timeoutMs,
  });
  const { result } = run;
  if (result.lines !== input.records) throw new Error(`the naive baseline counted ${result.lines} lines of ${input.records}`);
  const outputs = {
    processed: await objectDigest(context.clients, processed.bucket, processed.key, timeoutMs),
    rejected: await objectDigest(context.clients, rejected.bucket, rejected.key, timeoutMs),
  };
  const worker = context.results.largeFile?.outputs;
  return {
    records: input.records,
    seconds: run.wallSeconds,
    recordsPerSecond: input.records / run.wallSeconds,
    cpuSeconds: run.cpuSeconds,
    cpuSecondsPerMillionRecords: cpuSecondsPerMillion(run.cpuSeconds, input.records),
    peakRssBytes: run.peakRssBytes,
    counts: { processed: result.processed, filtered: result.filtered, rejected: result.rejected },
    outputs,
    matchesWorker: worker === undefined ? null : sameBytes(worker.processed, outputs.processed) && sameBytes(worker.rejected, outputs.rejected),
  };
}
