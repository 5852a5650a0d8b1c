/** Scenario 1: the record pipeline alone over the large file in memory, in a child with the production flags. */
import type { RecordPipelinePass } from '../children/record-pipeline.ts';
import { COMPILED } from '../build.ts';
import type { BenchContext } from '../context.ts';
import { runMeasuredChild } from '../measured-child.ts';
import type { ComputeFloorFigures } from '../results.ts';

const READY_TIMEOUT_MS = 60_000;

export async function measureComputeFloor(context: BenchContext): Promise<ComputeFloorFigures> {
  const input = context.largeInput();
  const { computeFloorPasses: passes } = context.sizes;
  context.progress(`1 compute floor: ${passes} passes of the record pipeline over ${(input.body.length / 1e6).toFixed(1)} MB`);
  const run = await runMeasuredChild<{ passes: RecordPipelinePass[] }>({
    script: COMPILED.recordPipeline,
    argument: { inputFile: input.file, passes },
    readyTimeoutMs: READY_TIMEOUT_MS,
    workTimeoutMs: passes * (30_000 + input.records / 10),
  });
  const results = run.result.passes;
  const best = results.reduce((fastest, pass) => (pass.wallSeconds < fastest.wallSeconds ? pass : fastest));
  if (best.lines !== input.records) throw new Error(`the record pipeline counted ${best.lines} lines of ${input.records}`);
  return {
    records: input.records,
    inputBytes: input.body.length,
    outputBytes: { processed: best.processedBytes, rejected: best.rejectedBytes },
    passes: results.map(({ wallSeconds, cpuSeconds }) => ({ wallSeconds, cpuSeconds })),
    seconds: best.wallSeconds,
    recordsPerSecond: input.records / best.wallSeconds,
    cpuSecondsPerMillionRecords: (best.cpuSeconds / input.records) * 1e6,
  };
}
