/**
 * Many small files through fresh production workers on one queue: the workers start first, then the
 * files are put with bounded concurrency while they run (the same way in every run); the time runs
 * from the first put to the last 'file processed' line. The workers may talk to AWS through the
 * latency proxy (the bench's own puts do not), which then counts their requests.
 */
import { availableParallelism } from 'node:os';
import type { BenchContext } from '../context.ts';
import { waitForFilesProcessed, type FileOutcome } from '../file-outcomes.ts';
import { countsBetween } from '../latency-proxy/request-counts.ts';
import type { LatencyProxyProcess } from '../latency-proxy/process.ts';
import type { ProxiedFigures } from '../latency-results.ts';
import { cpuDelta, cpuSecondsOf } from '../process-stats.ts';
import { profiling } from '../profiling.ts';
import type { SmallFilesRun } from '../results.ts';
import { putObjects } from '../s3-objects.ts';
import { mostAtOnce } from '../statistics.ts';
import type { SmallFile } from '../test-data.ts';
import { stopBenchWorkers, warningLines } from '../worker-process.ts';

export interface SmallFilesRunOptions {
  readonly label: string;
  readonly pipelineName: string;
  readonly workers: number;
  /** Changed from production defaults for this run. */
  readonly settings: Readonly<Record<string, string>>;
  /** Run the (single) worker under --cpu-prof when the bench was given a profile folder. */
  readonly profiled?: boolean;
  /** These files instead of all of the context's small files. */
  readonly files?: readonly SmallFile[];
  /** The workers' AWS endpoint: the proxy's requests and CPU are then part of the run's figures. */
  readonly proxy?: LatencyProxyProcess;
}

/**
 * After the last file, how long its delete may take to reach the proxy and end: the worker's delete
 * batching window and a few delays, with room to spare.
 */
function deleteSettleMs(delayMs: number): number {
  return 250 + 3 * delayMs;
}

/** The most files in flight at once, from each 'file processed' line's arrival and the worker's durationMs. */
function mostFilesInFlight(outcomes: ReadonlyMap<string, FileOutcome>): number {
  return mostAtOnce(
    [...outcomes.values()].map(({ entry }) => ({ startMs: entry.atMs - Number(entry.line['durationMs']), endMs: entry.atMs })),
  );
}

function sumOrNull(values: ReadonlyArray<number | null>): number | null {
  return values.some((value) => value === null) ? null : values.reduce<number>((sum, value) => sum + (value as number), 0);
}

export async function runSmallFiles(context: BenchContext, options: SmallFilesRunOptions): Promise<SmallFilesRun> {
  const files = options.files ?? context.smallFiles();
  const { proxy } = options;
  const resources = await context.scratchStack(options.pipelineName);
  context.progress(`   ${options.label}: ${files.length} files of ${context.sizes.smallFileRecords} records`);
  const profile = profiling(options.profiled ? context.cpuProfileDir : undefined, options.pipelineName, `the ${options.label} worker (small files)`);
  const endpoint: Record<string, string> = proxy === undefined ? {} : { AWS_ENDPOINT_URL: proxy.url };
  const workers = await context.startWorkers(resources, options.workers, { ...options.settings, ...endpoint }, profile.nodeFlags);
  try {
    const objects = files.map((file) => ({ key: `small/${file.name}`, body: file.body }));
    const workerCpuBefore = workers.map((worker) => cpuSecondsOf(worker.pid));
    const emulatorCpuBefore = cpuSecondsOf(context.emulator.child.pid);
    const proxyCpuBefore = cpuSecondsOf(proxy?.pid);
    const proxyBefore = await proxy?.read();
    const benchCpuBefore = process.cpuUsage();

    const puts = await putObjects(context.clients, resources.rawBucket, objects, context.sizes.putConcurrency);
    const delayMs = proxy?.options.delayMs ?? 0;
    const outcomes = await waitForFilesProcessed(
      workers,
      objects.map(({ key }) => key),
      60_000 + files.length * (100 + 10 * delayMs),
    );

    const workerCpuSeconds = sumOrNull(workers.map((worker, index) => cpuDelta(workerCpuBefore[index] ?? null, cpuSecondsOf(worker.pid))));
    const emulatorCpuSeconds = cpuDelta(emulatorCpuBefore, cpuSecondsOf(context.emulator.child.pid));
    const proxyCpuSeconds = cpuDelta(proxyCpuBefore, cpuSecondsOf(proxy?.pid));
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const lastLineMs = Math.max(...[...outcomes.values()].map(({ entry }) => entry.atMs));
    const filesPerWorker = workers.map((_, index) => [...outcomes.values()].filter((outcome) => outcome.worker === index).length);
    const warnings = workers.reduce((sum, worker) => sum + warningLines(worker), 0);
    // Read once the last deletes have ended, and before the stop: a worker that runs on would have had
    // its idle long polls answered with the next files, not cut short by the shutdown.
    let proxied: ProxiedFigures | undefined;
    if (proxy !== undefined && proxyBefore !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, deleteSettleMs(delayMs)));
      const proxyAfter = await proxy.read();
      proxied = {
        delayMs,
        bytesPerSecond: proxy.options.bytesPerSecond,
        cpuSeconds: proxyCpuSeconds,
        requests: countsBetween(proxyBefore.counts, proxyAfter.counts),
      };
    }
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
      mostFilesInFlight: mostFilesInFlight(outcomes),
      ...(cpuProfile ? { cpuProfile } : {}),
      ...(proxied ? { proxy: proxied } : {}),
    };
  } finally {
    await stopBenchWorkers(workers).catch(() => undefined);
  }
}
