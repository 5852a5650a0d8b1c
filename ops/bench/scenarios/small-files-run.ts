/**
 * Many small files through fresh production workers on one queue: the workers start first, then the
 * files are put with bounded concurrency while they run (the same way in every run); the time runs
 * from the first put to the last 'file processed' line.
 */
import { availableParallelism } from 'node:os';
import type { BenchContext } from '../context.ts';
import { waitForFilesProcessed } from '../file-outcomes.ts';
import { cpuDelta, cpuSecondsOf } from '../process-stats.ts';
import { profiling } from '../profiling.ts';
import type { SmallFilesRun } from '../results.ts';
import { putObjects } from '../s3-objects.ts';
import { stopBenchWorkers, warningLines } from '../worker-process.ts';

export interface SmallFilesRunOptions {
  readonly label: string;
  readonly pipelineName: string;
  readonly workers: number;
  /** Changed from production defaults for this run. */
  readonly settings: Readonly<Record<string, string>>;
  /** Run the (single) worker under --cpu-prof when the bench was given a profile folder. */
  readonly profiled?: boolean;
}

function sumOrNull(values: ReadonlyArray<number | null>): number | null {
  return values.some((value) => value === null) ? null : values.reduce<number>((sum, value) => sum + (value as number), 0);
}

export async function runSmallFiles(context: BenchContext, options: SmallFilesRunOptions): Promise<SmallFilesRun> {
  const files = context.smallFiles();
  const resources = await context.scratchStack(options.pipelineName);
  context.progress(`   ${options.label}: ${files.length} files of ${context.sizes.smallFileRecords} records`);
  const profile = profiling(options.profiled ? context.cpuProfileDir : undefined, options.pipelineName, `the ${options.label} worker (small files)`);
  const workers = await context.startWorkers(resources, options.workers, { ...options.settings }, profile.nodeFlags);
  try {
    const objects = files.map((file) => ({ key: `small/${file.name}`, body: file.body }));
    const workerCpuBefore = workers.map((worker) => cpuSecondsOf(worker.pid));
    const emulatorCpuBefore = cpuSecondsOf(context.emulator.child.pid);
    const benchCpuBefore = process.cpuUsage();

    const puts = await putObjects(context.clients, resources.rawBucket, objects, context.sizes.putConcurrency);
    const outcomes = await waitForFilesProcessed(
      workers,
      objects.map(({ key }) => key),
      60_000 + files.length * 100,
    );

    const workerCpuSeconds = sumOrNull(workers.map((worker, index) => cpuDelta(workerCpuBefore[index] ?? null, cpuSecondsOf(worker.pid))));
    const emulatorCpuSeconds = cpuDelta(emulatorCpuBefore, cpuSecondsOf(context.emulator.child.pid));
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const lastLineMs = Math.max(...[...outcomes.values()].map(({ entry }) => entry.atMs));
    const filesPerWorker = workers.map((_, index) => [...outcomes.values()].filter((outcome) => outcome.worker === index).length);
    const warnings = workers.reduce((sum, worker) => sum + warningLines(worker), 0);
    await stopBenchWorkers(workers);

    const seconds = (lastLineMs - puts.firstStartMs) / 1000;
    const cpuProfile = profile.collect();
    return {
      label: options.label,
      settings: options.settings,
      workers: options.workers,
      files: files.length,
      seconds,
      filesPerSecond: files.length / seconds,
      putSeconds: (puts.lastEndMs - puts.firstStartMs) / 1000,
      filesPerWorker,
      workerCpuSeconds,
      emulatorCpuSeconds,
      benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
      cores: availableParallelism(),
      warningLines: warnings,
      ...(cpuProfile ? { cpuProfile } : {}),
    };
  } finally {
    await stopBenchWorkers(workers).catch(() => undefined);
  }
}
