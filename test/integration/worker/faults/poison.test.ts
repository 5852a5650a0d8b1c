/**
 * A message that fails transiently every time (the fault proxy answers 503 to every GetObject of one key)
 * reaches the DLQ after maxReceiveCount receives (moved by the worker on the last one, see
 * last-receive.test.ts), while other files go through. Once the fault is fixed, `node ops/cli/main.ts redrive` moves it back and the worker processes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { createTestStack, waitFor } from '../../../support/emulator.ts';
import { emulatorEndpoint, useFaultTest } from '../../../support/fault-test.ts';
import type { ProxiedRequest } from '../../../support/fault-proxy.ts';
import {
  expectedOutputs,
  objectBytes,
  objectExists,
  processEnvironment,
  queueCounts,
  runOpsCli,
  startWorkerProcess,
} from '../../../support/worker-process.ts';

const POISON = 'poison.jsonl';
const HEALTHY = 'healthy.jsonl';
const MAX_RECEIVE_COUNT = 3;

const fault = useFaultTest();
let journalDirectory: string;

beforeAll(async () => {
  journalDirectory = await mkdtemp(join(tmpdir(), 'faults-poison-'));
});

afterAll(async () => {
  await rm(journalDirectory, { recursive: true, force: true });
});

describe('a message that fails transiently every time', () => {
  it('reaches the DLQ after maxReceiveCount receives; after the fix, ops redrive brings it back and it is processed', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: MAX_RECEIVE_COUNT });
    const isPoisonRead = (request: ProxiedRequest) => request.operation === 'GetObject' && request.key === POISON;
    const proxy = await fault.startProxy((request) => (isPoisonRead(request) ? { kind: 'status', status: 503 } : undefined));
    const worker = await startWorkerProcess(processEnvironment(resources, proxy.url, { RETRY_BACKOFF_BASE_SECONDS: '0' }));
    const bodies = {
      [POISON]: generateJsonl({ records: 3_000, devices: 10, seed: 31, malformedRatio: 0.05 }),
      [HEALTHY]: generateJsonl({ records: 3_000, devices: 10, seed: 32, malformedRatio: 0.05 }),
    };
    await Promise.all(
      Object.entries(bodies).map(([key, body]) => fault.clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: body }))),
    );

    await worker.waitForProcessed(HEALTHY, 15_000);
    await waitFor(async () => ((await queueCounts(fault.clients.sqs, resources.dlqUrl)).visible === 1 ? true : undefined), {
      what: 'the poison message in the DLQ',
      timeoutMs: 30_000,
      intervalMs: 200,
    });

    // It failed once per receive, transiently, with nothing written; every read of it was answered 503.
    expect(worker.fileLines('file failed', POISON).map((line) => line['outcome'])).toEqual(
      Array.from({ length: MAX_RECEIVE_COUNT }, () => 'failed_transient'),
    );
    expect(proxy.received.filter((message) => message.body.includes(POISON)).map((message) => message.receiveCount)).toEqual([1, 2, 3]);
    const poisonReads = proxy.requests.filter(isPoisonRead);
    expect(poisonReads.length).toBeGreaterThanOrEqual(MAX_RECEIVE_COUNT);
    expect(poisonReads.filter((request) => request.status !== 503)).toEqual([]);
    expect(await objectExists(fault.clients.s3, resources.processedBucket, POISON)).toBe(false);
    expect(await objectExists(fault.clients.s3, resources.processedBucket, `rejected/${POISON}`)).toBe(false);
    expect(await queueCounts(fault.clients.sqs, resources.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });

    // The fault is fixed; the operator redrives.
    proxy.setRule(undefined);
    const redrive = await runOpsCli(
      ['redrive', '--json', '--journal', join(journalDirectory, 'redrive.journal')],
      { AWS_ENDPOINT_URL: emulatorEndpoint(), AWS_REGION: process.env['IOT_TEST_REGION'] ?? 'us-east-1', QUEUE_URL: resources.queueUrl, DLQ_URL: resources.dlqUrl },
      30_000,
    );
    expect({ code: redrive.code, stderr: redrive.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(JSON.parse(redrive.stdout)).toEqual(expect.objectContaining({ moved: 1 }));

    await worker.waitForProcessed(POISON, 20_000);
    const expected = expectedOutputs(bodies[POISON]);
    expect((await objectBytes(fault.clients.s3, resources.processedBucket, POISON))?.toString('utf8')).toBe(expected.processed);
    expect((await objectBytes(fault.clients.s3, resources.processedBucket, `rejected/${POISON}`))?.toString('utf8')).toBe(expected.rejected);
    expect(await queueCounts(fault.clients.sqs, resources.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    await waitFor(
      async () => {
        const counts = await queueCounts(fault.clients.sqs, resources.queueUrl);
        return counts.visible + counts.inFlight + counts.delayed === 0 ? true : undefined;
      },
      { what: 'the redriven message to be deleted', timeoutMs: 5_000, intervalMs: 100 },
    );
  }, 60_000);
});
