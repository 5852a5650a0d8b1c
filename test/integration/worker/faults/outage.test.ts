/**
 * The emulator unreachable for ~10 s: the fault proxy between the production worker and the emulator
 * resets every open and every new connection (S3 and SQS alike). The worker process stays up (same pid,
 * one start), /readyz answers 503 while it cannot receive and 200 after, and processing resumes without
 * a restart: files put before, during (by the test, straight to the emulator) and after the outage, and
 * one the outage cuts in the middle of its read, are all processed exactly as expected, and nothing is
 * left in the queue or the DLQ.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createTestStack, waitFor } from '../../../support/emulator.ts';
import { useFaultTest } from '../../../support/fault-test.ts';
import {
  expectedOutputs,
  objectBytes,
  processEnvironment,
  queueCounts,
  startWorkerProcess,
  type WorkerProcess,
} from '../../../support/worker-process.ts';
import { isRunning } from '../../../../ops/local/child-processes.ts';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';

const OUTAGE_MS = 10_000;

const fault = useFaultTest();

async function readinessStatus(worker: WorkerProcess): Promise<number> {
  return (await worker.readiness()).status;
}

describe('the emulator unavailable for ~10 s', () => {
  it('keeps the worker up, not ready during the outage, ready after; every file processed, none lost', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 5 });
    // edge.jsonl is read slowly, so that the outage catches it in the middle of the file.
    const proxy = await fault.startProxy((request) =>
      request.operation === 'GetObject' && request.key === 'edge.jsonl' ? { kind: 'slow-body', bytesPerSecond: 100_000 } : undefined,
    );
    const worker = await startWorkerProcess(
      processEnvironment(resources, proxy.url, { VISIBILITY_TIMEOUT_SECONDS: '5', RETRY_BACKOFF_BASE_SECONDS: '1' }),
    );
    const files = new Map(
      ['before', 'edge', 'during', 'after'].map((name, index) => [
        `${name}.jsonl`,
        generateJsonl({ records: 2_000 + index * 500, devices: 5, seed: 700 + index, malformedRatio: 0.05 }),
      ]),
    );
    const put = (key: string) => fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: files.get(key) }));
    await waitFor(async () => ((await readinessStatus(worker)) === 200 ? true : undefined), { what: 'ready', timeoutMs: 10_000 });

    await put('before.jsonl');
    await worker.waitForProcessed('before.jsonl', 15_000);

    // One more file, and the line is cut while the worker is in the middle of reading it.
    await put('edge.jsonl');
    const edgeRead = await proxy.waitForRequest(
      (request) => request.operation === 'GetObject' && request.key === 'edge.jsonl' && request.status === 200,
      15_000,
      'the slow read of edge.jsonl',
    );
    proxy.startOutage();
    expect(edgeRead.doneAtMs).toBeUndefined();
    const outageStartedMs = performance.now();
    await waitFor(async () => ((await readinessStatus(worker)) === 503 ? true : undefined), {
      what: '/readyz to answer 503 during the outage',
      timeoutMs: 8_000,
      intervalMs: 200,
    });
    const notReady = await worker.readiness();
    expect(JSON.parse(notReady.body)).toEqual({ status: 'not_ready', reason: expect.stringContaining('the queue is not reachable') });
    await put('during.jsonl');
    // The outage lasts its 10 s whatever happens: sample readiness meanwhile; it must stay 503.
    const samples: number[] = [];
    while (performance.now() - outageStartedMs < OUTAGE_MS) {
      samples.push(await readinessStatus(worker));
      await sleep(500);
    }
    proxy.endOutage();
    proxy.setRule(undefined); // edge.jsonl's next read at full speed
    expect(samples.length).toBeGreaterThan(5);
    expect(samples.filter((status) => status !== 503)).toEqual([]);
    expect(proxy.outageResets()).toBeGreaterThan(3);
    expect(isRunning(worker.child)).toBe(true);

    await waitFor(async () => ((await readinessStatus(worker)) === 200 ? true : undefined), {
      what: '/readyz to answer 200 after the outage',
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    await Promise.all([worker.waitForProcessed('edge.jsonl', 30_000), worker.waitForProcessed('during.jsonl', 30_000)]);
    await put('after.jsonl');
    await worker.waitForProcessed('after.jsonl', 15_000);

    // The same process all along.
    expect(isRunning(worker.child)).toBe(true);
    expect(worker.log.entries.filter(({ line }) => line['msg'] === 'worker started')).toHaveLength(1);
    expect(worker.log.entries.some(({ line }) => line['msg'] === 'cannot receive from the queue; retrying with backoff')).toBe(true);
    expect(worker.log.entries.some(({ line }) => line['msg'] === 'receiving from the queue again')).toBe(true);
    // edge.jsonl failed in the middle, transiently, and came back on a later receive.
    expect(worker.fileLines('file failed', 'edge.jsonl').map((line) => line['outcome'])).toEqual(['failed_transient']);
    expect(proxy.received.filter((message) => message.body.includes('edge.jsonl')).map((message) => message.receiveCount)).toEqual([1, 2]);

    // Every file exactly as expected; nothing left on the queue, nothing dead-lettered.
    for (const [key, body] of files) {
      const expected = expectedOutputs(body);
      expect((await objectBytes(fault.clients.s3, resources.processedBucket, key))?.toString('utf8')).toBe(expected.processed);
      expect((await objectBytes(fault.clients.s3, resources.processedBucket, `rejected/${key}`))?.toString('utf8')).toBe(expected.rejected);
    }
    await waitFor(
      async () => {
        const counts = await queueCounts(fault.clients.sqs, resources.queueUrl);
        return counts.visible + counts.inFlight + counts.delayed === 0 ? true : undefined;
      },
      { what: 'the queue to be empty', timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(await queueCounts(fault.clients.sqs, resources.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 80_000);
});
