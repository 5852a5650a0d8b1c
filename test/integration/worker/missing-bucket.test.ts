/**
 * An event that names a bucket that does not exist (S3 answers NoSuchBucket, a 404 like a missing key)
 * is not a vanished object: no later event will fix it, and dropping it would hide a wrong event or a
 * worker looking in the wrong account or endpoint. The real worker, on the emulator, dead-letters it at
 * once as `bucket_not_found`, and its log says which bucket is missing.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { uniqueName, waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const running: StackWithWorker[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((pipeline) => pipeline.stop()));
});

function s3Event(...objects: Array<{ bucket: string; key: string }>): string {
  return JSON.stringify({
    Records: objects.map(({ bucket, key }) => ({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: bucket }, object: { key, size: 1 } },
    })),
  });
}

describe('an event for a bucket that does not exist', () => {
  it('is dead-lettered at once as bucket_not_found, logged as a missing bucket, not as a vanished object', async () => {
    // Prepare
    const pipeline = await startStackWithWorker({ maxReceiveCount: 3 });
    running.push(pipeline);
    const { clients, resources, harness } = pipeline;
    const missingBucket = uniqueName('no-such-raw-bucket');

    // Act
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: s3Event({ bucket: missingBucket, key: 'a.jsonl' }) }));
    const dead = await waitFor(
      async () =>
        (
          await clients.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: resources.dlqUrl,
              WaitTimeSeconds: 1,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            }),
          )
        ).Messages?.[0],
      { what: 'the message in the DLQ', timeoutMs: 15_000 },
    );

    // Assess: in the DLQ after one receive, with the reason and the bucket named.
    expect(dead.Body).toContain(missingBucket);
    expect(dead.MessageAttributes?.['ingest-failure-reason']?.StringValue).toBe('bucket_not_found');
    expect(dead.MessageAttributes?.['ingest-failure-detail']?.StringValue).toBe(
      `the bucket ${missingBucket} named by the event does not exist (S3 answered NoSuchBucket for a.jsonl)`,
    );
    expect(harness.reports.map((report) => [report.ref.bucket, report.outcome])).toEqual([[missingBucket, 'failed_permanent']]);
    expect(await harness.metric('iot_ingest_files_total', { outcome: 'missing' })).toBe(0);
    expect(await harness.metric('iot_ingest_messages_failed_total', { action: 'dead_letter' })).toBe(1);
    expect(await harness.metric('iot_ingest_messages_failed_total', { action: 'retry' })).toBe(0);

    // The log: the file failed because its bucket is missing; nothing says the object no longer exists.
    const lines = harness.logLines();
    expect(lines.filter((line) => String(line['msg']).startsWith('file skipped'))).toEqual([]);
    expect(lines.find((line) => line['msg'] === 'file failed')).toMatchObject({
      bucket: missingBucket,
      key: 'a.jsonl',
      outcome: 'failed_permanent',
      err: expect.stringContaining(`the bucket ${missingBucket} named by the event does not exist`),
    });
    expect(lines.find((line) => String(line['msg']).includes('dead-letter queue'))).toMatchObject({ reason: 'bucket_not_found' });
  });

  it('still acknowledges a missing key in a bucket that exists, as a vanished object', async () => {
    // Prepare
    const pipeline = await startStackWithWorker();
    running.push(pipeline);
    const { clients, resources, harness } = pipeline;

    // Act
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: s3Event({ bucket: resources.rawBucket, key: 'gone.jsonl' }) }));
    const report = await harness.waitForReport((candidate) => candidate.ref.key === 'gone.jsonl', 'the missing file');

    // Assess
    expect(report.outcome).toBe('missing');
    expect(harness.logLines().find((line) => line['key'] === 'gone.jsonl')?.['msg']).toBe(
      'file skipped: the object no longer exists; the message is acknowledged',
    );
    expect(await harness.metric('iot_ingest_messages_failed_total', { action: 'dead_letter' })).toBe(0);
  });

  it('dead-letters a message naming a missing bucket next to a good object, after processing the good one', async () => {
    // Prepare
    const pipeline = await startStackWithWorker();
    running.push(pipeline);
    const { clients, resources, harness } = pipeline;
    const missingBucket = uniqueName('no-such-raw-bucket');
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'good.jsonl', Body: '{"device_id":"d","temperature":20,"humidity":50}\n' }));
    await harness.waitForReport((candidate) => candidate.ref.key === 'good.jsonl', 'the good file from its own event');

    // Act
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: resources.queueUrl,
        MessageBody: s3Event({ bucket: resources.rawBucket, key: 'good.jsonl' }, { bucket: missingBucket, key: 'b.jsonl' }),
      }),
    );
    await waitFor(async () => ((await harness.metric('iot_ingest_messages_failed_total', { action: 'dead_letter' })) === 1 ? true : undefined), {
      what: 'the message to be dead-lettered',
    });

    // Assess: the good object was processed again (idempotent), the missing bucket decided the message's fate.
    expect(harness.reports.filter((report) => report.ref.key === 'good.jsonl').map((report) => report.outcome)).toEqual(['succeeded', 'succeeded']);
    expect(harness.reports.find((report) => report.ref.bucket === missingBucket)?.outcome).toBe('failed_permanent');
  });
});
