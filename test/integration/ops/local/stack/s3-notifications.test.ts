import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import type { LocalResources } from '../../../../../ops/local/resources.ts';
import { destroyAwsClients } from '../../../../../worker/common/aws-clients.ts';
import type { AwsClients } from '../../../../../worker/common/aws-clients.ts';
import {
  createTestStack,
  readObjectText,
  receiveAll,
  receiveUntilQuiet,
  testClients,
  uniqueName,
  waitFor,
} from '../../../../support/emulator.ts';
import type { TestStackOptions } from '../../../../support/emulator.ts';

interface TestEvent {
  readonly Service: string;
  readonly Event: string;
  readonly Time: string;
  readonly Bucket: string;
  readonly RequestId: string;
  readonly HostId: string;
}

interface S3EventRecord {
  readonly eventVersion: string;
  readonly eventSource: string;
  readonly awsRegion: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly s3: {
    readonly s3SchemaVersion: string;
    readonly configurationId: string;
    readonly bucket: { readonly name: string; readonly arn: string };
    readonly object: { readonly key: string; readonly size: number; readonly eTag: string; readonly sequencer: string };
  };
}

type Notification = TestEvent | { readonly Records: readonly S3EventRecord[] };

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MIB = 1024 * 1024;

function parseNotifications(bodies: readonly string[]): Notification[] {
  return bodies.map((body) => JSON.parse(body) as Notification);
}

function testEventsIn(bodies: readonly string[]): TestEvent[] {
  return parseNotifications(bodies).filter((message): message is TestEvent => 'Event' in message);
}

function recordsIn(bodies: readonly string[]): S3EventRecord[] {
  return parseNotifications(bodies).flatMap((message) => ('Records' in message ? message.Records : []));
}

function decodeNotificationKey(key: string): string {
  return decodeURIComponent(key.replaceAll('+', ' '));
}

describe('local stack: fauxqs with S3 event notifications, in a child process', () => {
  let clients: AwsClients;

  beforeAll(() => {
    clients = testClients();
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  /** A pipeline whose queue has had its s3:TestEvent taken off, so that it starts empty. */
  async function emptyStack(options: TestStackOptions = {}): Promise<LocalResources> {
    const pipeline = await createTestStack(clients, options);
    const bodies = await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the s3:TestEvent', quietSeconds: 0 });
    expect(testEventsIn(bodies)).toHaveLength(1);
    return pipeline;
  }

  async function putText(bucket: string, key: string, text: string): Promise<void> {
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
  }

  it('sends an s3:TestEvent when notifications are configured, and answers the configuration back', async () => {
    const pipeline = await createTestStack(clients, { suffixes: ['.jsonl'] });

    const bodies = await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the s3:TestEvent' });

    expect(bodies).toHaveLength(1);
    const [testEvent] = testEventsIn(bodies);
    expect(testEvent).toEqual({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: expect.stringMatching(ISO_TIME),
      Bucket: pipeline.rawBucket,
      RequestId: expect.any(String),
      HostId: expect.any(String),
    });
    const configuration = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: pipeline.rawBucket }));
    expect(configuration.QueueConfigurations).toEqual([
      expect.objectContaining({
        QueueArn: pipeline.queueArn,
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'Suffix', Value: '.jsonl' }] } },
      }),
    ]);
  });

  it('sends exactly one notification for a PutObject, in S3 format, once the object is readable', async () => {
    const pipeline = await emptyStack();
    const key = 'devices/sensor-alpha/2025-07-11.jsonl';
    const text = '{"device_id":"sensor-alpha","temperature":20}\n';

    await putText(pipeline.rawBucket, key, text);
    const bodies = await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the PutObject notification' });

    expect(bodies).toHaveLength(1);
    const records = recordsIn(bodies);
    expect(records).toHaveLength(1);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: pipeline.rawBucket, Key: key }));
    expect(records[0]).toEqual({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: process.env['IOT_TEST_REGION'],
      eventTime: expect.stringMatching(ISO_TIME),
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: expect.any(String) },
      requestParameters: { sourceIPAddress: expect.any(String) },
      responseElements: { 'x-amz-request-id': expect.any(String), 'x-amz-id-2': expect.any(String) },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: expect.any(String),
        bucket: {
          name: pipeline.rawBucket,
          ownerIdentity: { principalId: expect.any(String) },
          arn: `arn:aws:s3:::${pipeline.rawBucket}`,
        },
        object: {
          key,
          size: Buffer.byteLength(text),
          eTag: head.ETag?.replaceAll('"', ''),
          sequencer: expect.stringMatching(/^[0-9A-F]+$/),
        },
      },
    });
    expect(await readObjectText(clients.s3, pipeline.rawBucket, key)).toBe(text);
  });

  it('encodes the key as S3 does: form-urlencoded, "/" kept, and it decodes back to the original', async () => {
    const pipeline = await emptyStack();
    const key = 'site 7/temp+humidity 100%/café 😀 (v2).jsonl';

    await putText(pipeline.rawBucket, key, '{}\n');
    const [record] = recordsIn(await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the notification' }));

    expect(record?.s3.object.key).toBe('site+7/temp%2Bhumidity+100%25/caf%C3%A9+%F0%9F%98%80+%28v2%29.jsonl');
    expect(decodeNotificationKey(record?.s3.object.key ?? '')).toBe(key);
    expect(await readObjectText(clients.s3, pipeline.rawBucket, key)).toBe('{}\n');
  });

  it('sends one CompleteMultipartUpload notification for a multipart upload, none for its parts', async () => {
    const pipeline = await emptyStack();
    const key = 'bulk/large upload.jsonl';
    const body = Buffer.alloc(12 * MIB, '{"device_id":"d","temperature":11}\n');

    await new Upload({ client: clients.s3, params: { Bucket: pipeline.rawBucket, Key: key, Body: body }, partSize: 5 * MIB }).done();
    const bodies = await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the multipart notification' });

    const records = recordsIn(bodies);
    expect(bodies).toHaveLength(1);
    expect(records).toHaveLength(1);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: pipeline.rawBucket, Key: key }));
    expect(records[0]).toMatchObject({
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      s3: {
        bucket: { name: pipeline.rawBucket },
        object: { key: 'bulk/large+upload.jsonl', size: 12 * MIB, eTag: head.ETag?.replaceAll('"', '') },
      },
    });
    expect(records[0]?.s3.object.eTag).toMatch(/^[0-9a-f]{32}-3$/);
  });

  it('sends ObjectCreated:Copy for a CopyObject and ObjectCreated:Post for a browser form upload', async () => {
    const pipeline = await emptyStack();
    await putText(pipeline.rawBucket, 'original.jsonl', '{}\n');
    await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the PutObject notification', quietSeconds: 0 });

    await clients.s3.send(
      new CopyObjectCommand({ Bucket: pipeline.rawBucket, Key: 'copied.jsonl', CopySource: `${pipeline.rawBucket}/original.jsonl` }),
    );
    const form = new FormData();
    form.append('key', 'posted/${filename}');
    form.append('file', new Blob(['{}\n']), 'form upload.jsonl');
    const posted = await fetch(`${process.env['IOT_TEST_ENDPOINT']}/${pipeline.rawBucket}`, { method: 'POST', body: form });
    expect(posted.status).toBe(204);
    const records = recordsIn(await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { atLeast: 2, what: 'two notifications' }));

    expect(records.map((record) => [record.eventName, record.s3.object.key]).sort()).toEqual([
      ['ObjectCreated:Copy', 'copied.jsonl'],
      ['ObjectCreated:Post', 'posted/form+upload.jsonl'],
    ]);
  });

  it('gives a later write of the same key a greater sequencer', async () => {
    const pipeline = await emptyStack();

    await putText(pipeline.rawBucket, 'same.jsonl', 'first\n');
    const [first] = recordsIn(await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { quietSeconds: 0 }));
    await putText(pipeline.rawBucket, 'same.jsonl', 'second\n');
    const [second] = recordsIn(await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { quietSeconds: 0 }));

    // S3 compares sequencers of one key as strings of equal length.
    const [earlier = '', later = ''] = [first?.s3.object.sequencer, second?.s3.object.sequencer];
    expect(later).toHaveLength(earlier.length);
    expect(later > earlier).toBe(true);
  });

  it('notifies only for keys that match a suffix filter', async () => {
    const pipeline = await emptyStack({ suffixes: ['.jsonl', '.jsonl.gz'] });

    for (const key of ['a.jsonl', 'b.csv', 'c.jsonl.gz', 'd.jsonl.tmp', 'e.gz']) {
      await putText(pipeline.rawBucket, key, 'x\n');
    }
    const records = recordsIn(await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { atLeast: 2, what: 'two notifications' }));

    expect(records.map((record) => record.s3.object.key).sort()).toEqual(['a.jsonl', 'c.jsonl.gz']);
  });

  it('sends nothing for a bucket without notification configuration', async () => {
    const pipeline = await emptyStack();
    const unconfiguredBucket = uniqueName('quiet');
    await clients.s3.send(new CreateBucketCommand({ Bucket: unconfiguredBucket }));

    await putText(unconfiguredBucket, 'ignored.jsonl', 'x\n');
    await putText(pipeline.rawBucket, 'marker.jsonl', 'x\n');
    const records = recordsIn(await receiveUntilQuiet(clients.sqs, pipeline.queueUrl, { what: 'the marker notification' }));

    expect(records.map((record) => `${record.s3.bucket.name}/${record.s3.object.key}`)).toEqual([
      `${pipeline.rawBucket}/marker.jsonl`,
    ]);
  });

  it('stops notifying once the configuration is replaced by an empty one', async () => {
    const pipeline = await emptyStack();

    await clients.s3.send(
      new PutBucketNotificationConfigurationCommand({ Bucket: pipeline.rawBucket, NotificationConfiguration: {} }),
    );
    await putText(pipeline.rawBucket, 'unannounced.jsonl', 'x\n');

    expect(await receiveAll(clients.sqs, pipeline.queueUrl, { waitTimeSeconds: 1 })).toEqual([]);
    const configuration = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: pipeline.rawBucket }));
    expect(configuration.QueueConfigurations ?? []).toEqual([]);
  });

  it('refuses, as S3 does, a missing destination queue and ambiguous filters', async () => {
    const pipeline = await emptyStack();
    const missingQueueArn = pipeline.queueArn.replace(/[^:]+$/, uniqueName('missing'));
    const configure = (QueueConfigurations: { QueueArn: string; suffix: string }[]) =>
      clients.s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: pipeline.rawBucket,
          NotificationConfiguration: {
            QueueConfigurations: QueueConfigurations.map(({ QueueArn, suffix }) => ({
              QueueArn,
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }] } },
            })),
          },
        }),
      );

    await expect(configure([{ QueueArn: missingQueueArn, suffix: '.jsonl' }])).rejects.toMatchObject({ name: 'InvalidArgument' });
    await expect(
      configure([
        { QueueArn: pipeline.queueArn, suffix: '.gz' },
        { QueueArn: pipeline.queueArn, suffix: '.jsonl.gz' },
      ]),
    ).rejects.toMatchObject({ name: 'InvalidArgument' });
    expect(await receiveAll(clients.sqs, pipeline.queueUrl)).toEqual([]);
  });

  it('moves a notification to the DLQ after maxReceiveCount receives', async () => {
    const maxReceiveCount = 2;
    const pipeline = await emptyStack({ maxReceiveCount });
    await putText(pipeline.rawBucket, 'poison.jsonl', 'x\n');
    const receiveOnce = async () => {
      const { Messages } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: pipeline.queueUrl,
          VisibilityTimeout: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      return Messages?.[0];
    };

    const receives = [];
    for (let attempt = 1; attempt <= maxReceiveCount; attempt += 1) {
      receives.push(await waitFor(receiveOnce, { what: `receive ${attempt} of the notification` }));
    }
    const afterLastAllowedReceive = await receiveOnce();
    const deadLetters = await waitFor(
      async () => {
        const bodies = await receiveAll(clients.sqs, pipeline.dlqUrl);
        return bodies.length > 0 ? bodies : undefined;
      },
      { what: 'the message on the DLQ' },
    );

    expect(receives.map((message) => message.Attributes?.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(afterLastAllowedReceive).toBeUndefined();
    expect(deadLetters).toEqual([receives[0]?.Body]);
    expect(recordsIn(deadLetters)[0]?.s3.object.key).toBe('poison.jsonl');
    expect(await receiveAll(clients.sqs, pipeline.queueUrl)).toEqual([]);
  });
});
