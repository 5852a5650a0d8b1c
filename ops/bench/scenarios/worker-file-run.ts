/**
 * One file through a fresh production worker: put it (multipart, from a Buffer or made as a stream),
 * time from the put completing to the worker's 'file processed' line, and read the worker's CPU time
 * for the file and its peak RSS from /proc. Shared by the large-file, memory-growth and Parquet writer
 * scenarios.
 */
import type { LocalResources } from '../../local/resources.ts';
import type { LogLine } from '../../local/worker-log.ts';
import type { BenchContext } from '../context.ts';
import { loggedRecordCounts, waitForFilesProcessed } from '../file-outcomes.ts';
import { cpuDelta, cpuSecondsOf, statusBytesOf } from '../process-stats.ts';
import type { WorkerFileFigures } from '../results.ts';
import { uploadInput } from '../s3-objects.ts';
import { cpuSecondsPerMillion } from '../statistics.ts';
import { streamJsonl } from '../test-data.ts';
import { stopBenchWorker, warningLines } from '../worker-process.ts';

export type FileInput =
  | { readonly kind: 'buffer'; readonly body: Buffer; readonly records: number }
  | { readonly kind: 'stream'; readonly targetBytes: number; readonly seed: number };

export interface WorkerFileRunOptions {
  readonly pipelineName: string;
  readonly key: string;
  readonly input: FileInput;
  /** Bounds the put and, separately, the wait for the worker. */
  readonly timeoutMs: number;
  /** Settings the run changes from the production defaults, e.g. OUTPUT_FORMAT. */
  readonly settings?: Record<string, string>;
  readonly nodeFlags?: string[];
}

export interface WorkerFileRun {
  readonly figures: WorkerFileFigures;
  /** The worker's 'file processed' line. */
  readonly outcome: LogLine;
  /** The scratch pipeline the file went through, for reading its outputs. */
  readonly resources: LocalResources;
}

export async function runWorkerOnOneFile(context: BenchContext, options: WorkerFileRunOptions): Promise<WorkerFileRun> {
  const resources = await context.scratchStack(options.pipelineName);
  const [worker] = await context.startWorkers(resources, 1, options.settings, options.nodeFlags);
  if (worker === undefined) throw new Error('no worker started');
  try {
    const idleRssBytes = statusBytesOf(worker.pid, 'VmRSS');
    const workerCpuBefore = cpuSecondsOf(worker.pid);
    let records: number;
    let inputBytes: number;
    if (options.input.kind === 'buffer') {
      await uploadInput(context.clients, resources.rawBucket, options.key, options.input.body, options.timeoutMs);
      ({ records } = options.input);
      inputBytes = options.input.body.length;
    } else {
      const streamed = streamJsonl(options.input.targetBytes, options.input.seed);
      await uploadInput(context.clients, resources.rawBucket, options.key, streamed.stream, options.timeoutMs);
      ({ lines: records, bytes: inputBytes } = streamed.produced());
    }
    const putEndMs = performance.now();
    const emulatorCpuBefore = cpuSecondsOf(context.emulator.child.pid);

    const outcomes = await waitForFilesProcessed([worker], [options.key], options.timeoutMs);
    const { entry } = outcomes.get(options.key) as { entry: { line: LogLine; atMs: number } };
    // Read before the worker stops: VmHWM is its peak over its whole life, this one file included.
    const workerCpuSeconds = cpuDelta(workerCpuBefore, cpuSecondsOf(worker.pid));
    const peakRssBytes = statusBytesOf(worker.pid, 'VmHWM');
    const emulatorCpuSeconds = cpuDelta(emulatorCpuBefore, cpuSecondsOf(context.emulator.child.pid));
    const warnings = warningLines(worker);
    await stopBenchWorker(worker);

    const counts = loggedRecordCounts(entry.line);
    const seconds = (entry.atMs - putEndMs) / 1000;
    return {
      outcome: entry.line,
      resources,
      figures: {
        records,
        inputBytes,
        seconds,
        recordsPerSecond: records / seconds,
        workerDurationMs: Number(entry.line['durationMs']),
        workerCpuSeconds,
        cpuSecondsPerMillionRecords: cpuSecondsPerMillion(workerCpuSeconds, records),
        peakRssBytes,
        idleRssBytes,
        emulatorCpuSeconds,
        counts,
        countsAddUp: counts.processed + counts.filtered + counts.rejected === records,
        warningLines: warnings,
      },
    };
  } finally {
    await stopBenchWorker(worker).catch(() => undefined);
  }
}
