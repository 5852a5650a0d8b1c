/**
 * The production worker where every request takes tens of milliseconds, as on AWS: the fault proxy
 * delays each S3 and SQS request. Small files cost few SQS requests each (receives of up to ten
 * messages, batched deletes), and every failure behaviour still holds at that latency: a file held
 * longer than the visibility timeout keeps its message (heartbeats), SIGTERM releases a file in flight
 * at once, a poison message goes to the DLQ at once, a transient failure comes back after its backoff,
 * and a queue that cannot be reached is retried with backoff until it answers again.
 */
import { describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { createTestStack, waitFor } from '../../../support/emulator.ts';
import { useFaultTest } from '../../../support/fault-test.ts';
import type { Fault, FaultRule, ProxiedRequest } from '../../../support/fault-proxy.ts';
import { processEnvironment, queueCounts, startWorkerProcess } from '../../../support/worker-process.ts';

const fault = useFaultTest();
const DELAY_MS = 40;
const DELAYED: Fault = { kind: 'delay', ms: DELAY_MS };
/** Every request delayed; `rule` may answer some otherwise. */
const delayedExcept =
  (rule: FaultRule = () => undefined): FaultRule =>
  (request) =>
    rule(request) ?? DELAYED;

const smallFile = (seed: number) => generateJsonl({ records: 20, devices: 3, seed, malformedRatio: 0.1 });

async function putFile(bucket: string, key: string, body: Buffer): Promise<void> {
  await fault.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function waitForEmptyQueue(queueUrl: string, what: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      const counts = await queueCounts(fault.clients.sqs, queueUrl);
      return counts.visible + counts.inFlight + counts.delayed === 0 ? true : undefined;
    },
    { what, timeoutMs, intervalMs: 100 },
  );
}

describe('small files where every request takes 40 ms', () => {
  it('cost at most 1.3 SQS requests each, receives and deletes together', async () => {
    const files = 40;
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const keys = Array.from({ length: files }, (_, index) => `small/${index}.jsonl`);
    await Promise.all(keys.map((key, index) => putFile(resources.rawBucket, key, smallFile(index))));
    // Queued before the worker starts (with the s3:TestEvent the stack begins with).
    await waitFor(async () => ((await queueCounts(fault.clients.sqs, resources.queueUrl)).visible >= files + 1 ? true : undefined), {
      what: 'every message queued',
      timeoutMs: 10_000,
    });
    const proxy = await fault.startProxy(delayedExcept());

    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url, { MAX_FILES_IN_FLIGHT: '32' }));
    for (const key of keys) await worker.waitForProcessed(key, 30_000);
    await waitForEmptyQueue(resources.queueUrl, 'every message deleted');

    const perFile = ['ReceiveMessage', 'DeleteMessageBatch', 'DeleteMessage', 'ChangeMessageVisibility', 'ChangeMessageVisibilityBatch'];
    const sqsRequests = proxy.requests.filter((request) => request.service === 'sqs' && perFile.includes(request.operation));
    expect(sqsRequests.length / files).toBeLessThanOrEqual(1.3);
    // Free slots are filled several messages to a receive, not one message per receive.
    const messagesPerReceive = new Map<number, number>();
    for (const { requestId } of proxy.received) messagesPerReceive.set(requestId, (messagesPerReceive.get(requestId) ?? 0) + 1);
    expect(Math.max(...messagesPerReceive.values())).toBeGreaterThanOrEqual(5);
  }, 60_000);
});

describe('failure behaviours where every request takes 40 ms', () => {
  it('heartbeats: a file held for several visibility timeouts keeps its message, received once, processed once', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const key = 'slow.jsonl';
    const isSlowRead = (request: ProxiedRequest) => request.operation === 'GetObject' && request.key === key;
    // ~300 kB trickled at 40 kB/s: about 8 s, against a visibility timeout of 3 s.
    const body = generateJsonl({ records: 2_000, devices: 5, seed: 5, malformedRatio: 0 });
    const proxy = await fault.startProxy(delayedExcept((request) => (isSlowRead(request) ? { kind: 'slow-body', bytesPerSecond: 40_000 } : undefined)));
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url, { VISIBILITY_TIMEOUT_SECONDS: '3', HEARTBEAT_INTERVAL_SECONDS: '1' }));
    await putFile(resources.rawBucket, key, body);
    const read = await proxy.waitForRequest((request) => isSlowRead(request) && request.status === 200, 15_000, 'the slow read');

    // Another consumer tries to take the message while the file runs.
    const stolen: string[] = [];
    while (read.doneAtMs === undefined) {
      const { Messages: messages = [] } = await fault.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: resources.queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
      stolen.push(...messages.map((message) => message.Body ?? ''));
    }
    await worker.waitForProcessed(key, 15_000);

    expect(stolen.filter((text) => text.includes(key))).toEqual([]);
    expect((read.doneAtMs ?? 0) - read.atMs).toBeGreaterThan(6_000); // longer than two visibility timeouts
    const renewals = proxy.requests.filter((request) => request.operation === 'ChangeMessageVisibilityBatch' && request.atMs > read.atMs);
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(proxy.received.filter((message) => message.body.includes(key)).map((message) => message.receiveCount)).toEqual([1]);
    expect(worker.fileLines('file processed', key)).toHaveLength(1);
    await waitForEmptyQueue(resources.queueUrl, 'the message deleted');
  }, 60_000);

  it('release at shutdown: SIGTERM with a 1 s grace releases the file in flight at once', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const key = 'long.jsonl';
    const isLongRead = (request: ProxiedRequest) => request.operation === 'GetObject' && request.key === key;
    const body = generateJsonl({ records: 5_000, devices: 5, seed: 6, malformedRatio: 0 });
    const proxy = await fault.startProxy(delayedExcept((request) => (isLongRead(request) ? { kind: 'slow-body', bytesPerSecond: 50_000 } : undefined)));
    // A visibility timeout far beyond this test: the message can only come back early by being released.
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url, { VISIBILITY_TIMEOUT_SECONDS: '60', SHUTDOWN_GRACE_SECONDS: '1' }));
    await putFile(resources.rawBucket, key, body);
    await proxy.waitForRequest((request) => isLongRead(request) && request.status === 200, 15_000, 'the slow read');

    worker.child.kill('SIGTERM');
    const exit = await worker.waitForExit(15_000);

    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.fileLines('file failed', key)).toEqual([expect.objectContaining({ outcome: 'released' })]);
    expect(await queueCounts(fault.clients.sqs, resources.queueUrl)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
  }, 60_000);

  it('DLQ at once for poison: a message that is no S3 event goes to the DLQ on its first receive', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const proxy = await fault.startProxy(delayedExcept());
    await startWorkerProcess(processEnvironment(resources, proxy.url));

    await fault.clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: '{"hello":"world"}' }));
    const dead = await waitFor(
      async () => {
        const { Messages: messages = [] } = await fault.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: resources.dlqUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
        );
        return messages[0];
      },
      { what: 'the poison message in the DLQ', timeoutMs: 15_000 },
    );

    expect(dead.Body).toBe('{"hello":"world"}');
    expect(dead.MessageAttributes?.['ingest-failure-reason']?.StringValue).toBe('not_an_s3_event');
    expect(proxy.received.filter((message) => message.body === '{"hello":"world"}').map((message) => message.receiveCount)).toEqual([1]);
    await waitForEmptyQueue(resources.queueUrl, 'the poison message gone from the source queue');
  }, 60_000);

  it('backoff for transient errors: a file whose read fails comes back after the retry backoff and is processed', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const key = 'flaky.jsonl';
    // Every read of it fails (the SDK's own retries included) until the worker's first attempt has failed.
    let failing = true;
    const proxy = await fault.startProxy(
      delayedExcept((request) => (failing && request.operation === 'GetObject' && request.key === key ? { kind: 'status', status: 503 } : undefined)),
    );
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url, { RETRY_BACKOFF_BASE_SECONDS: '2' }));
    await putFile(resources.rawBucket, key, smallFile(7));
    const failed = await worker.log.waitFor((line) => line['msg'] === 'file failed' && line['key'] === key, 15_000, 'the failed attempt');
    failing = false;
    await worker.waitForProcessed(key, 15_000);

    expect(failed.line['outcome']).toBe('failed_transient');
    const receipts = proxy.received.filter((message) => message.body.includes(key));
    expect(receipts.map((message) => message.receiveCount)).toEqual([1, 2]);
    const [first, second] = receipts;
    expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(1_800); // the 2 s backoff, not at once
    await waitForEmptyQueue(resources.queueUrl, 'the message deleted');
  }, 60_000);

  it('backoff for an unreachable queue: receives fail, /readyz answers 503, then the worker receives again', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    let receiving = false;
    const proxy = await fault.startProxy(
      delayedExcept((request) => (!receiving && request.operation === 'ReceiveMessage' ? { kind: 'status', status: 503 } : undefined)),
    );
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url));
    await worker.log.waitFor((line) => line['msg'] === 'cannot receive from the queue; retrying with backoff', 15_000, 'the receive failure');
    const notReady = await worker.readiness();

    receiving = true;
    await worker.log.waitFor((line) => line['msg'] === 'receiving from the queue again', 15_000, 'the recovery');
    await putFile(resources.rawBucket, 'after.jsonl', smallFile(8));
    await worker.waitForProcessed('after.jsonl', 15_000);

    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toEqual({ status: 'not_ready', reason: expect.stringContaining('the queue is not reachable') });
    expect((await worker.readiness()).status).toBe(200);
    expect(worker.log.entries.filter(({ line }) => line['msg'] === 'cannot receive from the queue; retrying with backoff')).toHaveLength(1);
  }, 60_000);
});
