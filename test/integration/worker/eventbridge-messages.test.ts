/**
 * The EventBridge notification path as the worker meets it: S3's "Object Created" events, in the envelope an
 * EventBridge rule delivers to SQS (the whole event as the message body), for objects of a bucket with no S3
 * notifications of its own. With the real worker and the real SDK on the emulator.
 * Event shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { readProvenance } from '../../../worker/common/provenance.ts';
import { readObjectText, uniqueName, waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const RECORDS = ['{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}', '{"device_id":"sensor-beta","temperature":21,"humidity":50}'].join('\n');

const running: StackWithWorker[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((item) => item.stop()));
});

interface EventObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly versionId?: string | undefined;
  readonly sequencer: string;
}

/** An S3 event as EventBridge delivers it to an SQS target. */
function eventBridgeEvent(detailType: string, bucket: string, object: EventObject, time: string): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'aws.s3',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: {
        key: object.key,
        size: object.size,
        etag: object.etag,
        ...(object.versionId === undefined ? {} : { 'version-id': object.versionId }),
        sequencer: object.sequencer,
      },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '000000000000',
      'source-ip-address': '127.0.0.1',
      reason: detailType === 'Object Created' ? 'PutObject' : 'DeleteObject',
    },
  });
}

/** A bucket with no notifications: only the events this test sends announce its objects. */
async function quietBucket(stack: StackWithWorker, versioned: boolean): Promise<string> {
  const bucket = uniqueName('eventbridge-raw');
  await stack.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (versioned) {
    await stack.clients.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  return bucket;
}

async function upload(stack: StackWithWorker, bucket: string, key: string): Promise<EventObject> {
  const put = await stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: RECORDS }));
  return { key, size: Buffer.byteLength(RECORDS), etag: (put.ETag ?? '').replace(/"/g, ''), versionId: put.VersionId, sequencer: '0065A1B2C3D4E5F601' };
}

describe('S3 events through EventBridge', () => {
  it.each([
    ['an unversioned', false],
    ['a versioned', true],
  ])('processes an Object Created event for %s bucket, with the version, sequencer and time the event carries', async (_name, versioned) => {
    const stack = await startStackWithWorker();
    running.push(stack);
    const bucket = await quietBucket(stack, versioned);
    const object = await upload(stack, bucket, 'site-7/readings-0001.jsonl');
    const time = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: eventBridgeEvent('Object Created', bucket, object, time) }));
    const report = await stack.harness.waitForReport((candidate) => candidate.ref.bucket === bucket, 'the EventBridge event processed', 20_000);

    expect(report.outcome).toBe('succeeded');
    expect(report.ref).toMatchObject({ key: object.key, eTag: object.etag, sequencer: object.sequencer, eventTime: time, ...(versioned ? { versionId: object.versionId } : {}) });
    expect(await readObjectText(stack.clients.s3, stack.resources.processedBucket, object.key)).toContain('sensor-beta');
    const head = await stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.resources.processedBucket, Key: object.key }));
    expect(readProvenance(head.Metadata)).toMatchObject({
      sourceBucket: bucket,
      sourceETag: object.etag,
      sourceSequencer: object.sequencer,
      ...(versioned ? { sourceVersionId: object.versionId } : {}),
    });
  });

  it('acknowledges an Object Deleted event without work', async () => {
    const stack = await startStackWithWorker();
    running.push(stack);
    const bucket = await quietBucket(stack, false);
    const object = { key: 'site-7/gone.jsonl', size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0065A1B2C3D4E5F602' };

    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: eventBridgeEvent('Object Deleted', bucket, object, new Date().toISOString()) }));

    await waitFor(async () => ((await stack.harness.metric('iot_ingest_messages_ignored_total', { kind: 'other_event' })) >= 1 ? true : undefined), {
      what: 'the Object Deleted event acknowledged',
      timeoutMs: 20_000,
    });
    expect(stack.harness.reports.filter((report) => report.ref.bucket === bucket)).toStrictEqual([]);
  });
});
