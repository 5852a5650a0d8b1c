/**
 * How the worker treats what cannot be processed: test events, poison messages, vanished and replaced
 * objects, transient failures and a file that fails half-way. Each test has its own queue and buckets.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import { readObjectText, waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const RECORD = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n';

const running: Array<{ stop(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.stop()));
});

async function setUp(options: Parameters<typeof startStackWithWorker>[0] = {}): Promise<StackWithWorker> {
  const pipeline = await startStackWithWorker(options);
  running.push(pipeline);
  return pipeline;
}

async function receiveOne(clients: AwsClients, queueUrl: string) {
  return waitFor(
    async () => {
      const { Messages } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      return Messages?.[0];
    },
    { what: `a message on ${queueUrl}`, timeoutMs: 20_000 },
  );
}

function s3Event(bucket: string, key: string, eTag?: string): string {
  return JSON.stringify({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key), size: 1, ...(eTag ? { eTag } : {}) } },
      },
    ],
  });
}

describe('messages that carry no work', () => {
  it('acknowledges the s3:TestEvent that S3 sends when notifications are configured', async () => {
    const { harness } = await setUp();

    await waitFor(async () => ((await harness.metric('iot_ingest_messages_ignored_total', { kind: 'test_event' })) >= 1 ? true : undefined), {
      what: 'the test event to be acknowledged',
    });
    // Deletes are batched (up to 20 ms after the first): wait for the delete itself, not for the ignore.
    await waitFor(async () => ((await harness.metric('iot_ingest_messages_deleted_total')) >= 1 ? true : undefined), {
      what: 'the test event to be deleted',
    });

    expect(await harness.metric('iot_ingest_messages_deleted_total')).toBe(1);
    expect(await harness.metric('iot_ingest_messages_ignored_total', { kind: 'test_event' })).toBe(1);
    expect(await harness.metric('iot_ingest_messages_failed_total', { action: 'dead_letter' })).toBe(0);
  });

  it('acknowledges and counts an event for an object that no longer exists', async () => {
    const { clients, resources, harness } = await setUp();

    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: s3Event(resources.rawBucket, 'gone.jsonl') }));
    const report = await harness.waitForReport((candidate) => candidate.ref.key === 'gone.jsonl', 'the missing file');

    expect(report.outcome).toBe('missing');
    expect(await harness.metric('iot_ingest_files_total', { outcome: 'missing' })).toBe(1);
    expect(await readObjectText(clients.s3, resources.processedBucket, 'gone.jsonl')).toBeUndefined();
  });

  it('acknowledges an event whose object was replaced since (ETag mismatch) without processing the new version', async () => {
    const { clients, resources, harness } = await setUp();
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'replaced.jsonl', Body: RECORD }));
    await harness.waitForReport((candidate) => candidate.ref.key === 'replaced.jsonl', 'the current version');

    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: s3Event(resources.rawBucket, 'replaced.jsonl', 'feedbeef') }),
    );
    const report = await harness.waitForReport(
      (candidate) => candidate.ref.key === 'replaced.jsonl' && candidate.outcome !== 'succeeded',
      'the stale event',
    );

    expect(report.outcome).toBe('stale');
    expect(await harness.metric('iot_ingest_files_total', { outcome: 'stale' })).toBe(1);
  });
});

describe('failures', () => {
  it('moves a poison message to the DLQ at once, with its reason attached', async () => {
    const { clients, resources } = await setUp();

    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: '{"hello":"world"}' }));
    const dead = await receiveOne(clients, resources.dlqUrl);

    expect(dead.Body).toBe('{"hello":"world"}');
    expect(dead.MessageAttributes?.['ingest-failure-reason']?.StringValue).toBe('not_an_s3_event');
    expect(dead.Attributes?.ApproximateReceiveCount).toBe('1');
  });

  it('retries a message that fails transiently every time, then dead-letters it itself on its last allowed receive', async () => {
    const throttleWrites = (s3: S3Client) => {
      s3.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'PutObjectCommand' || context.commandName === 'CreateMultipartUploadCommand') {
            throw Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $fault: 'client', $metadata: { httpStatusCode: 503 } });
          }
          return next(args);
        },
        { step: 'initialize', name: 'throttleWrites' },
      );
    };
    const { clients, resources, harness } = await setUp({ maxReceiveCount: 3, prepareS3: throttleWrites });

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'retried.jsonl', Body: RECORD }));
    const dead = await receiveOne(clients, resources.dlqUrl);

    expect(dead.Body).toContain('"key":"retried.jsonl"');
    expect(dead.MessageAttributes?.['ingest-failure-reason']?.StringValue).toBe('retries_exhausted');
    expect(harness.reports.filter((report) => report.ref.key === 'retried.jsonl').map((report) => report.outcome)).toEqual([
      'failed_transient',
      'failed_transient',
      'failed_transient',
    ]);
  });

  it('dead-letters at once, as unexpected_error, a file that fails with an error not known to be transient', async () => {
    const { clients, resources, harness } = await setUp({ maxReceiveCount: 3, env: { PROCESSED_BUCKET: 'no-such-bucket-for-output' } });

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'misconfigured.jsonl', Body: RECORD }));
    const dead = await receiveOne(clients, resources.dlqUrl);

    expect(dead.Body).toContain('"key":"misconfigured.jsonl"');
    expect(dead.MessageAttributes?.['ingest-failure-reason']?.StringValue).toBe('unexpected_error');
    expect(dead.MessageAttributes?.['ingest-failure-detail']?.StringValue).toMatch(/^NoSuchBucket: /);
    expect(dead.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(harness.reports.filter((report) => report.ref.key === 'misconfigured.jsonl').map((report) => report.outcome)).toEqual(['failed_permanent']);
  });

  it('leaves no partial output when a multipart upload fails half-way, and succeeds on the retry', async () => {
    let uploadPartCalls = 0;
    const failSecondPartOnce = (s3: S3Client) => {
      s3.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'UploadPartCommand' && ++uploadPartCalls === 2) {
            throw Object.assign(new Error('injected: connection reset'), { name: 'InternalError', $fault: 'server' });
          }
          return next(args);
        },
        { step: 'initialize', name: 'failSecondPartOnce' },
      );
    };
    const { clients, resources, harness } = await setUp({
      env: { UPLOAD_PART_SIZE_MIB: '5', RETRY_BACKOFF_BASE_SECONDS: '2' },
      prepareS3: failSecondPartOnce,
    });
    const line = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5,"note":"' + 'x'.repeat(100) + '"}\n';
    const body = line.repeat(Math.ceil((12 * 1024 * 1024) / line.length));

    // Past the emulator's 11 MiB request cap, a big object needs a multipart upload, as on S3.
    await new Upload({ client: clients.s3, params: { Bucket: resources.rawBucket, Key: 'big.jsonl', Body: body } }).done();
    const failed = await harness.waitForReport((report) => report.ref.key === 'big.jsonl', 'the failed attempt', 30_000);
    const headAfterFailure = await clients.s3
      .send(new HeadObjectCommand({ Bucket: resources.processedBucket, Key: 'big.jsonl' }))
      .then(() => 'exists', (error: { name?: string }) => error.name);
    const succeeded = await harness.waitForReport(
      (report) => report.ref.key === 'big.jsonl' && report.outcome === 'succeeded',
      'the retry',
      30_000,
    );

    expect(failed.outcome).toBe('failed_transient');
    expect(headAfterFailure).toBe('NotFound');
    expect(succeeded.result?.outcome === 'succeeded' && succeeded.result.tally.processed).toBe(body.length / line.length);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: resources.processedBucket, Key: 'big.jsonl' }));
    expect(head.ContentLength).toBeGreaterThan(12 * 1024 * 1024);
  });
});
