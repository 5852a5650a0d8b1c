/**
 * kill -9 of the production worker in the middle of a large file (300,000 records, multipart output):
 * once the visibility timeout runs out another worker takes the message and completes the file; the
 * outputs are byte-identical to the pure pipeline's, and neither output key exists before the second
 * worker completes it. fauxqs has no ListMultipartUploads: the fault proxy's record of the first
 * worker's CreateMultipartUpload/UploadPart, never completed nor aborted, shows the stray upload (on AWS
 * the buckets' AbortIncompleteMultipartUpload lifecycle rule removes it).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Upload } from '@aws-sdk/lib-storage';
import { generateJsonl } from '../../../../ops/local/synthetic-data.ts';
import { createTestStack } from '../../../support/emulator.ts';
import { useFaultTest } from '../../../support/fault-test.ts';
import type { ProxiedRequest } from '../../../support/fault-proxy.ts';
import {
  expectedOutputs,
  objectBytes,
  objectExists,
  processEnvironment,
  startWorkerProcess,
  type ExpectedOutputs,
} from '../../../support/worker-process.ts';

const RECORDS = 300_000;
const KEY = 'large-300k.jsonl';
const REJECTED_KEY = `rejected/${KEY}`;

const fault = useFaultTest();
let body: Buffer;
let expected: ExpectedOutputs;

beforeAll(() => {
  body = generateJsonl({ records: RECORDS, devices: 40, seed: 9_042, malformedRatio: 0.01 });
  expected = expectedOutputs(body);
});

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

interface HeadPoll {
  readonly endMs: number;
  readonly processed: boolean;
  readonly rejected: boolean;
}

describe('kill -9 in the middle of a large file', () => {
  it('another worker completes it after the visibility timeout; byte-identical outputs, none before', async () => {
    const resources = await createTestStack(fault.clients, { maxReceiveCount: 3 });
    const isOutputPart = (request: ProxiedRequest) =>
      request.operation === 'UploadPart' && request.bucket === resources.processedBucket && request.key === KEY;
    // Worker A's processed output stalls from its second part on: A is certainly in the middle of the file.
    const proxyA = await fault.startProxy((request) =>
      isOutputPart(request) && (request.partNumber ?? 0) >= 2 ? { kind: 'delay', ms: 120_000 } : undefined,
    );
    const settings = { VISIBILITY_TIMEOUT_SECONDS: '3', HEARTBEAT_INTERVAL_SECONDS: '1', MAX_FILES_IN_FLIGHT: '1' };
    const [workerA] = await Promise.all([
      startWorkerProcess(processEnvironment(resources, proxyA.url, settings)),
      new Upload({ client: fault.clients.s3, params: { Bucket: resources.rawBucket, Key: KEY, Body: body } }).done(),
    ]);

    await proxyA.waitForRequest((request) => isOutputPart(request) && request.partNumber === 1 && request.status === 200, 60_000, 'part 1 stored');
    const stalled = await proxyA.waitForRequest((request) => isOutputPart(request) && request.partNumber === 2, 30_000, 'part 2 sent');
    // A keeps its message while stalled: a heartbeat answered after the stall began.
    await proxyA.waitForRequest(
      (request) => request.operation === 'ChangeMessageVisibilityBatch' && request.status === 200 && request.atMs > stalled.atMs,
      10_000,
      'a heartbeat during the stall',
    );
    workerA.child.kill('SIGKILL');
    const killedAtMs = performance.now();
    expect(await workerA.waitForExit(5_000)).toEqual({ code: null, signal: 'SIGKILL' });

    // What A leaves: a multipart upload with a stored part, neither completed nor aborted; no output object.
    expect(proxyA.uploads.filter((upload) => upload.key === KEY)).toEqual([
      expect.objectContaining({ bucket: resources.processedBucket, partsStored: 1, completed: false, aborted: false }),
    ]);
    expect(workerA.fileLines('file processed', KEY)).toEqual([]);
    expect(await objectExists(fault.clients.s3, resources.processedBucket, KEY)).toBe(false);
    expect(await objectExists(fault.clients.s3, resources.processedBucket, REJECTED_KEY)).toBe(false);

    // Worker B, undisturbed, through a proxy that only watches. Meanwhile: are the output keys there yet?
    const proxyB = await fault.startProxy();
    const polls: HeadPoll[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const [processed, rejected] = await Promise.all([
          objectExists(fault.clients.s3, resources.processedBucket, KEY),
          objectExists(fault.clients.s3, resources.processedBucket, REJECTED_KEY),
        ]);
        polls.push({ endMs: performance.now(), processed, rejected });
        await sleep(100);
      }
    })();
    const workerB = await startWorkerProcess(processEnvironment(resources, proxyB.url, settings));
    const done = await workerB.waitForProcessed(KEY, 60_000).finally(() => (polling = false));
    await poller;

    // B got the message back only through the visibility timeout: its second receive, not before ~2 s.
    const receivedByA = proxyA.received.filter((message) => message.body.includes(KEY));
    const receivedByB = proxyB.received.filter((message) => message.body.includes(KEY));
    expect(receivedByA.map((message) => message.receiveCount)).toEqual([1]);
    expect(receivedByB.map((message) => message.receiveCount)).toEqual([2]);
    expect(receivedByB[0]?.messageId).toBe(receivedByA[0]?.messageId);
    expect((receivedByB[0]?.atMs ?? 0) - killedAtMs).toBeGreaterThan(1_000);

    // No output key existed before B's own write of it.
    const processedWrite = proxyB.requests.find(
      (request) => request.operation === 'CompleteMultipartUpload' && request.bucket === resources.processedBucket && request.key === KEY,
    );
    const rejectedWrite = proxyB.requests.find(
      (request) => ['PutObject', 'CompleteMultipartUpload'].includes(request.operation) && request.key === REJECTED_KEY,
    );
    expect(processedWrite).toBeDefined();
    expect(rejectedWrite).toBeDefined();
    const beforeProcessedWrite = polls.filter((poll) => poll.endMs < (processedWrite?.atMs ?? 0));
    const beforeRejectedWrite = polls.filter((poll) => poll.endMs < (rejectedWrite?.atMs ?? 0));
    expect(beforeProcessedWrite.length).toBeGreaterThan(5);
    expect(beforeProcessedWrite.filter((poll) => poll.processed)).toEqual([]);
    expect(beforeRejectedWrite.filter((poll) => poll.rejected)).toEqual([]);

    // Complete and byte-identical to the pure pipeline.
    const { processed, filtered, rejected } = expected.tally;
    expect(done['records']).toEqual({ processed, filtered, rejected });
    const processedBytes = await objectBytes(fault.clients.s3, resources.processedBucket, KEY);
    const rejectedBytes = await objectBytes(fault.clients.s3, resources.processedBucket, REJECTED_KEY);
    expect(processedBytes?.length).toBe(Buffer.byteLength(expected.processed));
    expect(sha256(processedBytes ?? '')).toBe(sha256(expected.processed));
    expect(rejectedBytes?.length).toBe(Buffer.byteLength(expected.rejected));
    expect(sha256(rejectedBytes ?? '')).toBe(sha256(expected.rejected));
    expect(proxyB.uploads.filter((upload) => upload.key === KEY)).toEqual([
      expect.objectContaining({ completed: true, aborted: false }),
    ]);
    expect(Buffer.byteLength(expected.processed)).toBeGreaterThan(10 * 1024 * 1024); // several parts
  }, 90_000);
});
