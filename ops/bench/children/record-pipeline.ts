/**
 * Compute floor (child process): the worker's record pipeline alone, LineSplitter → LineOutcomeRouter,
 * over a file already in memory, fed in socket-sized Buffers as GetObject delivers them. No network,
 * no output stream: what processing the records costs at the least. Runs `passes` times and reports
 * each pass's wall and CPU time (process.cpuUsage).
 */
import { readFileSync } from 'node:fs';
import { LineOutcomeRouter, TextLines } from '../../../worker/records/line-outcomes.ts';
import { LineSplitter } from '../../../worker/records/line-splitter.ts';
import { PRODUCTION_CONFIG, productionRecordRules } from '../production-defaults.ts';
import { childArgument, readyThenWaitForGo, reportAndWaitForRelease } from './child-protocol.ts';

export interface RecordPipelineArgument {
  readonly inputFile: string;
  readonly passes: number;
}

export interface RecordPipelinePass {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly lines: number;
  readonly processedBytes: number;
  readonly rejectedBytes: number;
}

/** What an HTTP response body arrives in on Linux loopback. */
const CHUNK_BYTES = 64 * 1024;

function runPass(input: Buffer): RecordPipelinePass {
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const outputs = { processed: new TextLines(), rejected: new TextLines() };
  const lines = new LineOutcomeRouter(productionRecordRules(), outputs);
  const splitter = new LineSplitter(PRODUCTION_CONFIG.inputLimits.maxLineBytes, lines);
  let processedBytes = 0;
  let rejectedBytes = 0;
  for (let offset = 0; offset < input.length; offset += CHUNK_BYTES) {
    splitter.push(input.subarray(offset, offset + CHUNK_BYTES));
    processedBytes += Buffer.byteLength(outputs.processed.take());
    rejectedBytes += Buffer.byteLength(outputs.rejected.take());
  }
  splitter.end();
  processedBytes += Buffer.byteLength(outputs.processed.take());
  rejectedBytes += Buffer.byteLength(outputs.rejected.take());
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const { tally } = lines;
  return {
    wallSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    lines: tally.processed + tally.filtered + tally.rejected,
    processedBytes,
    rejectedBytes,
  };
}

const { inputFile, passes } = childArgument<RecordPipelineArgument>();
const input = readFileSync(inputFile);
await readyThenWaitForGo();
const results: RecordPipelinePass[] = [];
for (let pass = 0; pass < passes; pass += 1) results.push(runPass(input));
await reportAndWaitForRelease({ passes: results });
