/**
 * The local stack refuses what AWS refuses, with AWS's own error, where fauxqs alone would accept:
 * each rule is proved with the request AWS refuses and with the edge AWS still accepts, through the
 * real SDK clients against the emulator every test runs on (ops/local/emulator.ts, started by globalSetup).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type CompletedPart,
  type Tag,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { readObjectText, testClients, uniqueName } from '../../../../support/emulator.ts';
import { refusal } from '../../../../support/refusal.ts';

const MIB = 1024 * 1024;
const TWELVE_HOURS_SECONDS = 43_200;

/** A key of exactly `bytes` UTF-8 bytes, with multi-byte characters in it: the limit is on bytes, not characters. */
function keyOfBytes(bytes: number): string {
  const stem = 'strict/ü温/';
  return stem + 'k'.repeat(bytes - Buffer.byteLength(stem));
}

function attributes(count: number): Record<string, MessageAttributeValue> {
  return Object.fromEntries(Array.from({ length: count }, (_, index) => [`attribute-${index}`, { DataType: 'String', StringValue: 'v' }]));
}

describe('strict local stack: S3 refuses what AWS refuses', () => {
  let clients: AwsClients;
  let bucket: string;

  beforeAll(async () => {
    clients = testClients();
    bucket = uniqueName('strict');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  async function uploadParts(key: string, sizes: readonly number[]): Promise<{ uploadId: string; parts: CompletedPart[] }> {
    const { UploadId: uploadId = '' } = await clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts: CompletedPart[] = [];
    for (const [index, size] of sizes.entries()) {
      const PartNumber = index + 1;
      const { ETag } = await clients.s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: Buffer.alloc(size, 'x') }),
      );
      parts.push({ PartNumber, ETag });
    }
    return { uploadId, parts };
  }

  function complete(key: string, uploadId: string, parts: CompletedPart[]) {
    return clients.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  }

  it('refuses CompleteMultipartUpload with EntityTooSmall when a part but the last is under 5 MiB', async () => {
    const { uploadId, parts } = await uploadParts('small-first-part.bin', [5 * MIB - 1, 10]);

    await expect(refusal(complete('small-first-part.bin', uploadId, parts))).resolves.toMatchObject({
      name: 'EntityTooSmall',
      $metadata: { httpStatusCode: 400 },
    });
    await clients.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'small-first-part.bin', UploadId: uploadId }));
  });

  it('completes an upload whose parts are 5 MiB but the last, which may be any size', async () => {
    const { uploadId, parts } = await uploadParts('small-last-part.bin', [5 * MIB, 10]);

    await complete('small-last-part.bin', uploadId, parts);

    expect((await readObjectText(clients.s3, bucket, 'small-last-part.bin'))?.length).toBe(5 * MIB + 10);
  });

  it('refuses UploadPart with InvalidArgument for part numbers outside 1..10,000, and takes 1 and 10,000', async () => {
    const key = 'part-numbers.bin';
    const { UploadId } = await clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const uploadPart = (PartNumber: number) =>
      clients.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: 'x' }));

    for (const partNumber of [0, 10_001]) {
      await expect(refusal(uploadPart(partNumber))).resolves.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } });
    }
    await expect(uploadPart(1)).resolves.toMatchObject({ ETag: expect.any(String) });
    await expect(uploadPart(10_000)).resolves.toMatchObject({ ETag: expect.any(String) });
    await clients.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
  });

  it('refuses a key over 1,024 UTF-8 bytes with KeyTooLongError, in PutObject and CreateMultipartUpload, and takes 1,024', async () => {
    const tooLong = keyOfBytes(1025);
    const longest = keyOfBytes(1024);

    await expect(refusal(clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: tooLong, Body: 'x' })))).resolves.toMatchObject({
      name: 'KeyTooLongError',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(refusal(clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: tooLong })))).resolves.toMatchObject({
      name: 'KeyTooLongError',
    });
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: longest, Body: 'longest' }));
    expect(await readObjectText(clients.s3, bucket, longest)).toBe('longest');
    expect(await readObjectText(clients.s3, bucket, tooLong)).toBeUndefined();
  });

  it('refuses more than 2 KB of user metadata (names and values) with MetadataTooLarge, and takes exactly 2,048 bytes', async () => {
    // Two entries: 'a' + 1,000 bytes and 'b' + 1,046 bytes make 2,048.
    const atLimit = { a: 'v'.repeat(1000), b: 'w'.repeat(1046) };
    const overLimit = { ...atLimit, b: 'w'.repeat(1047) };

    await expect(refusal(clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta.txt', Body: 'x', Metadata: overLimit })))).resolves.toMatchObject({
      name: 'MetadataTooLarge',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(refusal(clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'meta.bin', Metadata: overLimit })))).resolves.toMatchObject({
      name: 'MetadataTooLarge',
    });
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta.txt', Body: 'x', Metadata: atLimit }));
    expect(await readObjectText(clients.s3, bucket, 'meta.txt')).toBe('x');
  });

  it('refuses more than 10 tags (BadRequest) and tag keys over 128 or values over 256 characters (InvalidTag), and takes the limits', async () => {
    const tagging = (tags: ReadonlyArray<readonly [string, string]>) => new URLSearchParams(tags.map(([key, value]): [string, string] => [key, value])).toString();
    const ten = Array.from({ length: 10 }, (_, index) => [`tag${index}`, 'v'] as const);
    const put = (Tagging: string) => clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged.txt', Body: 'x', Tagging }));

    await expect(refusal(put(tagging([...ten, ['tag10', 'v']])))).resolves.toMatchObject({ name: 'BadRequest', $metadata: { httpStatusCode: 400 } });
    await expect(refusal(put(tagging([['温'.repeat(129), 'v']])))).resolves.toMatchObject({ name: 'InvalidTag', $metadata: { httpStatusCode: 400 } });
    await expect(refusal(put(tagging([['k', 'ü'.repeat(257)]])))).resolves.toMatchObject({ name: 'InvalidTag' });
    await expect(
      refusal(clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'tagged.bin', Tagging: tagging([...ten, ['tag10', 'v']]) }))),
    ).resolves.toMatchObject({ name: 'BadRequest' });

    await put(tagging([...ten.slice(1), ['温'.repeat(128), 'ü'.repeat(256)]]));
    expect(await readObjectText(clients.s3, bucket, 'tagged.txt')).toBe('x');
  });

  it('checks PutObjectTagging as S3 does, and stores a tag set at the limits without touching the object', async () => {
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tag-api.txt', Body: 'content' }));
    const tagSet = (count: number): Tag[] => Array.from({ length: count }, (_, index) => ({ Key: `tag${index}`, Value: 'v' }));
    const putTagging = (TagSet: Tag[]) => clients.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tag-api.txt', Tagging: { TagSet } }));
    const atLimits = [...tagSet(9), { Key: '温'.repeat(128), Value: 'ü'.repeat(256) }];

    await expect(refusal(putTagging(tagSet(11)))).resolves.toMatchObject({ name: 'BadRequest', $metadata: { httpStatusCode: 400 } });
    await expect(refusal(putTagging([{ Key: 'k'.repeat(129), Value: 'v' }]))).resolves.toMatchObject({ name: 'InvalidTag' });
    await expect(refusal(putTagging([{ Key: 'k', Value: 'v'.repeat(257) }]))).resolves.toMatchObject({ name: 'InvalidTag' });
    await expect(clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tag-api.txt' }))).resolves.toMatchObject({ TagSet: [] });
    await putTagging(atLimits);
    await expect(clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tag-api.txt' }))).resolves.toMatchObject({ TagSet: atLimits });
    expect(await readObjectText(clients.s3, bucket, 'tag-api.txt')).toBe('content');
  });
});

describe('strict local stack: SQS refuses what AWS refuses', () => {
  let clients: AwsClients;

  beforeAll(() => {
    clients = testClients();
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  async function newQueue(): Promise<string> {
    const { QueueUrl = '' } = await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('strict') }));
    return QueueUrl;
  }

  async function receiveOne(queueUrl: string, visibilityTimeoutSeconds: number): Promise<Message> {
    const { Messages: [message] = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: visibilityTimeoutSeconds, WaitTimeSeconds: 1 }),
    );
    if (message === undefined) throw new Error(`no message on ${queueUrl}`);
    return message;
  }

  it('refuses a message over 1 MiB, body and attributes counted together, and takes exactly 1 MiB', async () => {
    const queueUrl = await newQueue();
    // 'k' + 'String' + 'v' = 8 bytes of attribute.
    const attribute = { k: { DataType: 'String', StringValue: 'v' } };
    const send = (bodyBytes: number) =>
      clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(bodyBytes), MessageAttributes: attribute }));

    await expect(refusal(send(MIB - 8 + 1))).resolves.toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } });
    await expect(send(MIB - 8)).resolves.toMatchObject({ MessageId: expect.any(String) });
  });

  it('refuses batches of more than 10 entries, with duplicate ids or over 1 MiB in all, and takes 10 entries', async () => {
    const queueUrl = await newQueue();
    const entries = (count: number, body = 'x') => Array.from({ length: count }, (_, index) => ({ Id: `m${index}`, MessageBody: body }));
    const sendBatch = (Entries: Array<{ Id: string; MessageBody: string }>) => clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }));

    await expect(refusal(sendBatch(entries(11)))).resolves.toMatchObject({ name: 'TooManyEntriesInBatchRequest', $metadata: { httpStatusCode: 400 } });
    await expect(refusal(sendBatch([{ Id: 'same', MessageBody: 'a' }, { Id: 'same', MessageBody: 'b' }]))).resolves.toMatchObject({
      name: 'BatchEntryIdsNotDistinct',
    });
    await expect(refusal(sendBatch(entries(2, 'x'.repeat(MIB / 2 + 1))))).resolves.toMatchObject({ name: 'BatchRequestTooLong' });
    const tooManyDeletes = entries(11).map(({ Id }) => ({ Id, ReceiptHandle: 'h' }));
    await expect(refusal(clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: tooManyDeletes })))).resolves.toMatchObject({
      name: 'TooManyEntriesInBatchRequest',
    });
    const tooManyChanges = tooManyDeletes.map((entry) => ({ ...entry, VisibilityTimeout: 0 }));
    await expect(
      refusal(clients.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: tooManyChanges }))),
    ).resolves.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });

    const sent = await sendBatch(entries(10));
    expect(sent.Successful).toHaveLength(10);
  });

  it('refuses more than 10 message attributes with InvalidParameterValue, per message and per batch entry, and takes 10', async () => {
    const queueUrl = await newQueue();

    await expect(
      refusal(clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: attributes(11) }))),
    ).resolves.toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 }, message: expect.stringContaining('[11]') });
    await expect(clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: attributes(10) }))).resolves.toMatchObject({
      MessageId: expect.any(String),
    });

    const batch = await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'ten', MessageBody: 'ten', MessageAttributes: attributes(10) },
          { Id: 'eleven', MessageBody: 'eleven', MessageAttributes: attributes(11) },
        ],
      }),
    );
    expect(batch.Successful?.map((entry) => entry.Id)).toEqual(['ten']);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'eleven', SenderFault: true, Code: 'InvalidParameterValue' })]);
    const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages.map((message) => message.Body).sort()).toEqual(['ten', 'x']);
  });

  it('refuses a visibility timeout reaching past 12 hours after the receive, however it is extended, and takes what fits', async () => {
    const queueUrl = await newQueue();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'long job' }));
    const message = await receiveOne(queueUrl, 60);
    await delay(1100);
    const change = (VisibilityTimeout: number) =>
      clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout }));

    // More than a second has passed since the receive, so 12 hours from now ends after 12 hours from the receive.
    await expect(refusal(change(TWELVE_HOURS_SECONDS))).resolves.toMatchObject({
      name: 'InvalidParameterValue',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining('Total VisibilityTimeout for the message is beyond the limit [43200 seconds]'),
    });
    await change(TWELVE_HOURS_SECONDS - 60);
    await change(TWELVE_HOURS_SECONDS - 60);
    const batch = await clients.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: [{ Id: 'beyond', ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: TWELVE_HOURS_SECONDS }],
      }),
    );
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'beyond', Code: 'InvalidParameterValue' })]);
  });

  it('treats a receipt handle as stale once its message was received again: delete succeeds without deleting, visibility change fails', async () => {
    const queueUrl = await newQueue();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'received twice' }));
    const first = await receiveOne(queueUrl, 1);
    await delay(1100);
    const second = await receiveOne(queueUrl, 30);
    expect(second.MessageId).toBe(first.MessageId);
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);

    await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first.ReceiptHandle }));
    const batch = await clients.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'stale', ReceiptHandle: first.ReceiptHandle }] }),
    );
    expect(batch.Successful).toEqual([{ Id: 'stale' }]);
    await expect(
      refusal(clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0 }))),
    ).resolves.toMatchObject({
      name: 'InvalidParameterValue',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining('Message does not exist or is not available for visibility timeout change'),
    });

    // Still there: the latest handle releases it, and it comes back a third time.
    await clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: second.ReceiptHandle, VisibilityTimeout: 0 }));
    const third = await receiveOne(queueUrl, 30);
    expect(third.MessageId).toBe(first.MessageId);
    await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: third.ReceiptHandle }));
    await expect(
      refusal(clients.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: third.ReceiptHandle, VisibilityTimeout: 10 }))),
    ).resolves.toMatchObject({ name: 'InvalidParameterValue' });
    const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(Messages).toEqual([]);
  });
});
