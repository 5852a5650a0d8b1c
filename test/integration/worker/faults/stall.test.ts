/**
 * An S3 request that is accepted and never answered must not hold its file and message for ever: after
 * AWS_IDLE_TIMEOUT_SECONDS of silence the request fails and is retried (by the SDK, or by the worker through
 * the visibility timeout), so the file is processed long before the stalled answer would have come.
 */
import { describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { createTestStack } from '../../../support/emulator.ts';
import { useFaultTest } from '../../../support/fault-test.ts';
import { expectedOutputs, objectBytes, processEnvironment, startWorkerProcess } from '../../../support/worker-process.ts';

const fault = useFaultTest();

describe('a stalled S3 request', () => {
  it('fails after the idle timeout, and the file is processed on a retry', async () => {
    const resources = await createTestStack(fault.clients);
    let stalled = 0;
    const proxy = await fault.startProxy((request) =>
      request.operation === 'GetObject' && stalled++ === 0 ? { kind: 'delay', ms: 60_000 } : undefined,
    );
    const worker = await startWorkerProcess(
      processEnvironment(resources, proxy.url, { AWS_IDLE_TIMEOUT_SECONDS: '2', RETRY_BACKOFF_BASE_SECONDS: '0' }),
    );
    const body = generateJsonl({ records: 500, devices: 5, seed: 41, malformedRatio: 0.05 });

    await fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'stalled.jsonl', Body: body }));
    // Bounded well below the 60 s stall: without the idle timeout this wait fails.
    await worker.waitForProcessed('stalled.jsonl', 20_000);

    expect(proxy.requests.filter((request) => request.operation === 'GetObject').length).toBeGreaterThanOrEqual(2);
    expect((await objectBytes(fault.clients.s3, resources.processedBucket, 'stalled.jsonl'))?.toString('utf8')).toBe(expectedOutputs(body).processed);
  });
});
