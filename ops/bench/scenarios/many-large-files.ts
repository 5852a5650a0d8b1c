/**
 * Scenario 11: many large files in flight at once. Every file is put before the worker starts, so that
 * the queue holds all of them when it begins; the worker runs on default settings behind the latency
 * proxy (an AWS-like delay, so that it has reason to take many files at once) and its peak RSS is read
 * from /proc once the last file is done.
 */
import { Buffer } from 'node:buffer';
import type { BenchContext } from '../context.ts';
import { waitForFilesProcessed } from '../file-outcomes.ts';
import { startLatencyProxyProcess } from '../latency-proxy/process.ts';
import type { ManyFilesFigures } from '../latency-results.ts';
import { cpuDelta, cpuSecondsOf, statusBytesOf } from '../process-stats.ts';
import { putObjects } from '../s3-objects.ts';
import { mostAtOnce } from '../statistics.ts';
import { DATA_SEED, streamJsonl } from '../test-data.ts';
import { stopBenchWorker, warningLines } from '../worker-process.ts';

const DELAY_MS = 20;

/** One file of whole lines, at least `bytes` long; every key gets the same bytes. */
async function fileOfSize(bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of streamJsonl(bytes, DATA_SEED).stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function measureManyLargeFiles(context: BenchContext): Promise<ManyFilesFigures> {
  const { manyLargeFiles: count, manyLargeFileBytes } = context.sizes;
  context.progress(`11 many large files at once: ${count} files of ${(manyLargeFileBytes / 1e6).toFixed(1)} MB, default settings, ${DELAY_MS} ms per request`);
  const body = await fileOfSize(manyLargeFileBytes);
  const width = String(count).length;
  const objects = Array.from({ length: count }, (_, index) => ({ key: `many/file-${String(index + 1).padStart(width, '0')}.jsonl`, body }));
  const resources = await context.scratchStack('many-large');
  await putObjects(context.clients, resources.rawBucket, objects, context.sizes.putConcurrency);

  const proxy = await startLatencyProxyProcess({ target: context.emulator.endpoint, delayMs: DELAY_MS, bytesPerSecond: null });
  try {
    const [worker] = await context.startWorkers(resources, 1, { AWS_ENDPOINT_URL: proxy.url });
    if (worker === undefined) throw new Error('no worker started');
    try {
      const startMs = performance.now();
      const idleRssBytes = statusBytesOf(worker.pid, 'VmRSS');
      const workerCpuBefore = cpuSecondsOf(worker.pid);
      const emulatorCpuBefore = cpuSecondsOf(context.emulator.child.pid);
      const proxyCpuBefore = cpuSecondsOf(proxy.pid);
      // Generous: on two cores the worker parses about 100 MB/s at best.
      const timeoutMs = 120_000 + (count * manyLargeFileBytes) / 10_000;
      const outcomes = await waitForFilesProcessed(
        [worker],
        objects.map(({ key }) => key),
        timeoutMs,
      );
      const peakRssBytes = statusBytesOf(worker.pid, 'VmHWM');
      const workerCpuSeconds = cpuDelta(workerCpuBefore, cpuSecondsOf(worker.pid));
      const emulatorCpuSeconds = cpuDelta(emulatorCpuBefore, cpuSecondsOf(context.emulator.child.pid));
      const proxyCpuSeconds = cpuDelta(proxyCpuBefore, cpuSecondsOf(proxy.pid));
      const entries = [...outcomes.values()].map(({ entry }) => entry);
      const seconds = (Math.max(...entries.map((entry) => entry.atMs)) - startMs) / 1000;
      const warnings = warningLines(worker);
      await stopBenchWorker(worker);
      return {
        files: count,
        fileBytes: body.length,
        delayMs: DELAY_MS,
        seconds,
        filesPerSecond: count / seconds,
        mostFilesInFlight: mostAtOnce(entries.map((entry) => ({ startMs: entry.atMs - Number(entry.line['durationMs']), endMs: entry.atMs }))),
        peakRssBytes,
        idleRssBytes,
        workerCpuSeconds,
        emulatorCpuSeconds,
        proxyCpuSeconds,
        warningLines: warnings,
      };
    } finally {
      await stopBenchWorker(worker).catch(() => undefined);
    }
  } finally {
    await proxy.stop();
  }
}
