/**
 * SIGTERM to the production worker while a long file runs (the fault proxy trickles its GetObject body):
 * with a long grace period the file completes before the process exits 0; with a 1 s grace the file is
 * aborted and its message released (visibility 0): it is visible again at once, not after the 60 s
 * visibility timeout, and a second worker completes it on its second receive.
 */
import { describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { createTestStack, waitFor } from '../../../support/emulator.ts';
import { useFaultTest } from '../../../support/fault-test.ts';
import { type FaultRule, type ProxiedRequest } from '../../../support/fault-proxy.ts';
import {
  expectedOutputs,
  objectBytes,
  objectExists,
  processEnvironment,
  queueCounts,
  startWorkerProcess,
} from '../../../support/worker-process.ts';

const KEY = 'long.jsonl';
/** ~1.5 MB: at 400 kB/s, about 4 s to read. */
const BODY = generateJsonl({ records: 10_000, devices: 20, seed: 4_711, malformedRatio: 0.02 });
const BYTES_PER_SECOND = 400_000;

const fault = useFaultTest();

const isLongRead = (request: ProxiedRequest) => request.operation === 'GetObject' && request.key === KEY;
const slowRead: FaultRule = (request) => (isLongRead(request) ? { kind: 'slow-body', bytesPerSecond: BYTES_PER_SECOND } : undefined);

async function expectExactOutputs(processedBucket: string): Promise<void> {
  const expected = expectedOutputs(BODY);
  expect((await objectBytes(fault.clients.s3, processedBucket, KEY))?.toString('utf8')).toBe(expected.processed);
  expect((await objectBytes(fault.clients.s3, processedBucket, `rejected/${KEY}`))?.toString('utf8')).toBe(expected.rejected);
}

describe('SIGTERM while a long file runs', () => {
  it('with a long grace period: the file completes, the message is deleted, then the process exits 0', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const proxy = await fault.startProxy(slowRead);
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url, { SHUTDOWN_GRACE_SECONDS: '60' }));
    await fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: KEY, Body: BODY }));
    const read = await proxy.waitForRequest((request) => isLongRead(request) && request.status === 200, 15_000, 'the slow GetObject');

    worker.child.kill('SIGTERM');
    // Draining: not ready, while the file still runs.
    const draining = await waitFor(
      async () => {
        const answer = await worker.readiness();
        return answer.status === 503 ? answer : undefined;
      },
      { what: '/readyz 503 while draining', timeoutMs: 5_000, intervalMs: 100 },
    );
    expect(JSON.parse(draining.body)).toEqual({ status: 'not_ready', reason: 'draining: shutting down' });
    expect(read.doneAtMs).toBeUndefined(); // the body is still trickling
    const exit = await worker.waitForExit(30_000);

    expect(exit).toEqual({ code: 0, signal: null });
    const messages = worker.log.entries.map(({ line }) => line['msg']);
    expect(messages.indexOf('file processed')).toBeGreaterThan(messages.indexOf('shutdown requested'));
    expect(messages.indexOf('worker stopped')).toBeGreaterThan(messages.indexOf('file processed'));
    expect(messages).not.toContain('grace period over: aborting files in flight and releasing their messages');
    await expectExactOutputs(resources.processedBucket);
    expect(await queueCounts(fault.clients.sqs, resources.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await queueCounts(fault.clients.sqs, resources.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  }, 60_000);

  it('with a 1 s grace period: the file is released at once and a second worker completes it', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const proxyA = await fault.startProxy(slowRead);
    // A visibility timeout far beyond this test: the message can only come back early by being released.
    const settings = { VISIBILITY_TIMEOUT_SECONDS: '60', SHUTDOWN_GRACE_SECONDS: '1', MAX_FILES_IN_FLIGHT: '1' };
    const workerA = await startWorkerProcess(processEnvironment(resources, proxyA.url, settings));
    await fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: KEY, Body: BODY }));
    await proxyA.waitForRequest((request) => isLongRead(request) && request.status === 200, 15_000, 'the slow GetObject');

    workerA.child.kill('SIGTERM');
    const signalledAtMs = performance.now();
    const exit = await workerA.waitForExit(15_000);
    const exitedAfterMs = performance.now() - signalledAtMs;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(8_000); // grace 1 s + the release bound (5 s)
    const messages = workerA.log.entries.map(({ line }) => line['msg']);
    expect(messages).toContain('grace period over: aborting files in flight and releasing their messages');
    expect(messages).toContain('message released for another worker (shutting down)');
    expect(workerA.fileLines('file failed', KEY)).toEqual([expect.objectContaining({ outcome: 'released' })]);
    expect(workerA.fileLines('file processed', KEY)).toEqual([]);
    expect(await objectExists(fault.clients.s3, resources.processedBucket, KEY)).toBe(false);
    expect(await objectExists(fault.clients.s3, resources.processedBucket, `rejected/${KEY}`)).toBe(false);
    // Visible again at once: released, not waiting out its 60 s.
    expect(await queueCounts(fault.clients.sqs, resources.queueUrl)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });

    const proxyB = await fault.startProxy();
    const workerB = await startWorkerProcess(processEnvironment(resources, proxyB.url, settings));
    await workerB.waitForProcessed(KEY, 20_000);

    const receivedByA = proxyA.received.filter((message) => message.body.includes(KEY));
    const receivedByB = proxyB.received.filter((message) => message.body.includes(KEY));
    expect(receivedByA.map((message) => message.receiveCount)).toEqual([1]);
    expect(receivedByB.map((message) => message.receiveCount)).toEqual([2]);
    expect(receivedByB[0]?.messageId).toBe(receivedByA[0]?.messageId);
    expect((receivedByB[0]?.atMs ?? Infinity) - signalledAtMs).toBeLessThan(30_000);
    await expectExactOutputs(resources.processedBucket);
    await waitFor(
      async () => {
        const counts = await queueCounts(fault.clients.sqs, resources.queueUrl);
        return counts.visible + counts.inFlight + counts.delayed === 0 ? true : undefined;
      },
      { what: 'the message to be deleted', timeoutMs: 5_000, intervalMs: 100 },
    );
  }, 60_000);
});
