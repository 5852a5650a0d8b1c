/**
 * Scenario 7: small files put at a steady low rate into an idle worker; for each, the time from its put
 * completing to the worker's 'file processed' line arriving.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../context.ts';
import { waitForFilesProcessed } from '../file-outcomes.ts';
import type { LatencyFigures } from '../results.ts';
import { putObject } from '../s3-objects.ts';
import { mean, percentile } from '../statistics.ts';
import { generateSmallFiles } from '../test-data.ts';
import { stopBenchWorker } from '../worker-process.ts';

export async function measureLatency(context: BenchContext): Promise<LatencyFigures> {
  const { latencyFiles, latencyFilesPerSecond, smallFileRecords } = context.sizes;
  context.progress(`7 latency: ${latencyFiles} files of ${smallFileRecords} records at ${latencyFilesPerSecond}/s`);
  const files = generateSmallFiles(latencyFiles, smallFileRecords);
  const resources = await context.scratchStack('latency');
  const [worker] = await context.startWorkers(resources, 1);
  if (worker === undefined) throw new Error('no worker started');
  try {
    const intervalMs = 1000 / latencyFilesPerSecond;
    const putDoneMs = new Map<string, number>();
    const start = performance.now();
    const puts: Array<Promise<void>> = [];
    for (const [index, file] of files.entries()) {
      const dueMs = start + index * intervalMs;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await sleep(waitMs);
      const key = `latency/${file.name}`;
      puts.push(putObject(context.clients, resources.rawBucket, key, file.body).then(() => void putDoneMs.set(key, performance.now())));
    }
    await Promise.all(puts);
    const outcomes = await waitForFilesProcessed([worker], putDoneMs.keys(), 60_000);
    await stopBenchWorker(worker);

    const latenciesMs = [...outcomes].map(([key, { entry }]) => entry.atMs - (putDoneMs.get(key) as number));
    const durationsMs = [...outcomes.values()].map(({ entry }) => Number(entry.line['durationMs']));
    return {
      files: files.length,
      filesPerSecond: latencyFilesPerSecond,
      p50Ms: percentile(latenciesMs, 50),
      p99Ms: percentile(latenciesMs, 99),
      maxMs: Math.max(...latenciesMs),
      meanMs: mean(latenciesMs),
      workerDurationP50Ms: percentile(durationsMs, 50),
    };
  } finally {
    await stopBenchWorker(worker).catch(() => undefined);
  }
}
