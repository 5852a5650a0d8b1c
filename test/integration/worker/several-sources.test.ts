/**
 * SOURCES on the local stack: two raw buckets feed one queue, one of them with two prefixes, each source with
 * its own output prefix and owner. The real worker, the real SDK, the emulator's S3 and SQS. The emulator
 * ignores ExpectedBucketOwner, so what the worker sends is recorded on its own S3 client, as the headers go
 * on the wire: the recording is the proof that every call on a raw bucket names the owner.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { Environment } from '../../../worker/config.ts';
import { isObjectMissing } from '../../../worker/errors.ts';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import type { LocalResources } from '../../../ops/local/resources.ts';
import { createTestStack, readObjectText, testClients, uniqueName, waitFor } from '../../support/emulator.ts';
import { startTestWorker, type TestWorker } from '../../support/worker-harness.ts';

const OWNER_A = '111122223333';
const OWNER_B = '444455556666';

const reading = (device: string, temperature: number) => JSON.stringify({ device_id: device, temperature, humidity: 40, timestamp: '2025-07-11T11:00:00Z' });

const clients: AwsClients = testClients();
const running: TestWorker[] = [];

afterEach(async () => {
  for (const harness of running.splice(0)) await harness.stop();
});

afterAll(() => {
  clients.s3.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
});

/** One S3 call the worker sent: its command, the bucket and key it named, and the owner headers on the wire. */
interface SentCall {
  readonly command: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly expectedBucketOwner: string | undefined;
  readonly expectedSourceBucketOwner: string | undefined;
}

function recordCalls(sent: SentCall[]): (s3: S3Client) => void {
  return (s3) => {
    s3.middlewareStack.add(
      (next, context) => (args) => {
        const input = args.input as { Bucket?: string; Key?: string };
        const given = (args.request as { headers?: Record<string, string> }).headers ?? {};
        const headers = Object.fromEntries(Object.entries(given).map(([name, value]) => [name.toLowerCase(), value]));
        sent.push({
          command: String(context.commandName).replace(/Command$/, ''),
          bucket: input.Bucket,
          key: input.Key,
          expectedBucketOwner: headers['x-amz-expected-bucket-owner'],
          expectedSourceBucketOwner: headers['x-amz-source-expected-bucket-owner'],
        });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordOwnerHeaders' },
    );
  };
}

async function createBucket(prefix: string): Promise<string> {
  const bucket = uniqueName(prefix);
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Uploads the object and sends its S3 event to the queue: these buckets notify nobody by themselves. */
async function uploadAndAnnounce(resources: LocalResources, bucket: string, key: string, body: string): Promise<void> {
  const { ETag } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const record = {
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    s3: { bucket: { name: bucket }, object: { key, size: Buffer.byteLength(body), eTag: (ETag ?? '').replace(/"/g, '') } },
  };
  await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: JSON.stringify({ Records: [record] }) }));
}

async function keysIn(bucket: string): Promise<string[]> {
  const { Contents } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (Contents ?? []).map(({ Key }) => Key ?? '').sort();
}

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (isObjectMissing(error)) return false;
    throw error;
  }
}

/** Waits for `count` messages in the DLQ (bounded). */
async function deadLetters(resources: LocalResources, count: number): Promise<Message[]> {
  const found: Message[] = [];
  return waitFor(
    async () => {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: resources.dlqUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 60 }),
      );
      found.push(...Messages);
      return found.length >= count ? found : undefined;
    },
    { what: `${count} messages in the DLQ`, timeoutMs: 20_000 },
  );
}

/** Whether the local stack has the object tagging API (SOURCE_AFTER_SUCCESS=tag needs it). */
const taggingSupported = await (async () => {
  const probe = await createBucket('probe');
  await clients.s3.send(new PutObjectCommand({ Bucket: probe, Key: 'k', Body: 'v' }));
  return clients.s3.send(new GetObjectTaggingCommand({ Bucket: probe, Key: 'k' })).then(
    () => true,
    () => false,
  );
})();

const devicesIn = (text: string | undefined) => (text ?? '').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { device_id: string }).device_id);
const rejectedReasonsIn = (text: string | undefined) => (text ?? '').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { reason: string }).reason);

interface Sources {
  readonly resources: LocalResources;
  readonly rawA: string;
  readonly rawB: string;
  readonly harness: TestWorker;
  readonly sent: SentCall[];
}

/** Raw bucket A with the prefixes east/ and west/, raw bucket B whole, each with an output prefix and an owner. */
async function startWithSources(env: Environment = {}): Promise<Sources> {
  const resources = await createTestStack(clients);
  const [rawA, rawB] = await Promise.all([createBucket('raw-a'), createBucket('raw-b')]);
  const sources = [
    { bucket: rawA, prefix: 'east/', outputPrefix: 'a-east/', expectedBucketOwner: OWNER_A },
    { bucket: rawA, prefix: 'west/', outputPrefix: 'a-west/', expectedBucketOwner: OWNER_A },
    { bucket: rawB, outputPrefix: 'b/', expectedBucketOwner: OWNER_B },
  ];
  const sent: SentCall[] = [];
  const harness = await startTestWorker(resources, { SOURCES: JSON.stringify(sources), ...env }, recordCalls(sent));
  running.push(harness);
  return { resources, rawA, rawB, harness, sent };
}

/** Waits (bounded) until the worker has reported `count` files succeeded. */
function filesSucceeded(harness: TestWorker, count: number): Promise<true> {
  const succeeded = () => harness.reports.filter((report) => report.outcome === 'succeeded').length;
  return waitFor(() => Promise.resolve(succeeded() >= count ? true : undefined), { what: `${count} files processed`, timeoutMs: 20_000 });
}

/** Waits (bounded) until the worker has counted a source action done. */
function actionDone(harness: TestWorker, action: 'tag' | 'move'): Promise<true> {
  return waitFor(async () => ((await harness.metric('iot_ingest_source_actions_total', { action, result: 'done' })) >= 1 ? true : undefined), {
    what: `the ${action} done`,
    timeoutMs: 20_000,
  });
}

/** Every call the worker made on a raw bucket, with the owner it named. */
function callsOnRawBuckets(sent: readonly SentCall[], rawA: string, rawB: string) {
  return sent.filter((call) => call.bucket === rawA || call.bucket === rawB || call.expectedSourceBucketOwner !== undefined);
}

describe('several sources feeding one queue (SOURCES)', () => {
  it("writes each source's outputs under its output prefix, the same raw key apart in each, and names each bucket's owner on every raw call", async () => {
    // Prepare
    const { resources, rawA, rawB, harness, sent } = await startWithSources();
    const files = [
      { bucket: rawA, key: 'east/r.jsonl', body: [reading('sensor-alpha', 20), 'not json'].join('\n') },
      { bucket: rawA, key: 'west/r.jsonl', body: [reading('sensor-beta', 21), reading('sensor-beta', 22)].join('\n') },
      { bucket: rawB, key: 'east/r.jsonl', body: [reading('sensor-gamma', 23), '{"device_id":"x"}'].join('\n') },
    ];

    // Act
    for (const file of files) await uploadAndAnnounce(resources, file.bucket, file.key, file.body);
    await filesSucceeded(harness, 3);

    // Assess: the outputs, under each source's prefix, with each file's own records.
    const processed = resources.processedBucket;
    expect(await keysIn(processed)).toStrictEqual([
      'a-east/east/r.jsonl',
      'a-west/west/r.jsonl',
      'b/east/r.jsonl',
      'rejected/a-east/east/r.jsonl',
      'rejected/a-west/west/r.jsonl',
      'rejected/b/east/r.jsonl',
    ]);
    expect(devicesIn(await readObjectText(clients.s3, processed, 'a-east/east/r.jsonl'))).toStrictEqual(['sensor-alpha']);
    expect(devicesIn(await readObjectText(clients.s3, processed, 'a-west/west/r.jsonl'))).toStrictEqual(['sensor-beta', 'sensor-beta']);
    expect(devicesIn(await readObjectText(clients.s3, processed, 'b/east/r.jsonl'))).toStrictEqual(['sensor-gamma']);
    expect(rejectedReasonsIn(await readObjectText(clients.s3, processed, 'rejected/a-east/east/r.jsonl'))).toStrictEqual(['invalid_json']);
    expect(await readObjectText(clients.s3, processed, 'rejected/a-west/west/r.jsonl')).toBe('');
    expect(rejectedReasonsIn(await readObjectText(clients.s3, processed, 'rejected/b/east/r.jsonl'))).toStrictEqual(['missing_field']);

    // Assess: every call on a raw bucket named that bucket's owner; none on the processed bucket named one.
    const rawCalls = callsOnRawBuckets(sent, rawA, rawB);
    expect(rawCalls.map(({ command, bucket }) => `${command} ${bucket === rawA ? 'A' : 'B'}`).sort()).toStrictEqual(['GetObject A', 'GetObject A', 'GetObject B']);
    for (const call of rawCalls) expect(call.expectedBucketOwner).toBe(call.bucket === rawA ? OWNER_A : OWNER_B);
    const outputCalls = sent.filter((call) => call.bucket === processed);
    expect(outputCalls.length).toBeGreaterThan(0);
    expect(outputCalls.every((call) => call.expectedBucketOwner === undefined)).toBe(true);
  });

  it('dead-letters an object of an unlisted prefix or bucket as unknown_source, reading and writing nothing', async () => {
    // Prepare
    const { resources, rawA, harness, sent } = await startWithSources();
    const unlisted = await createBucket('raw-c');

    // Act
    await uploadAndAnnounce(resources, rawA, 'north/a.jsonl', reading('sensor-alpha', 20));
    await uploadAndAnnounce(resources, unlisted, 'east/a.jsonl', reading('sensor-alpha', 20));
    const dead = await deadLetters(resources, 2);

    // Assess
    const details = dead.map((message) => [
      message.MessageAttributes?.['ingest-failure-reason']?.StringValue,
      message.MessageAttributes?.['ingest-failure-detail']?.StringValue,
    ]);
    expect(details.sort()).toStrictEqual(
      [
        ['unknown_source', `s3://${rawA}/north/a.jsonl is not in SOURCES: no source lists the bucket ${rawA} with a prefix of the key`],
        ['unknown_source', `s3://${unlisted}/east/a.jsonl is not in SOURCES: no source lists the bucket ${unlisted} with a prefix of the key`],
      ].sort(),
    );
    expect(sent.filter((call) => call.bucket === rawA || call.bucket === unlisted)).toStrictEqual([]);
    expect(await keysIn(resources.processedBucket)).toStrictEqual([]);
    expect(harness.reports).toStrictEqual([]);
    expect(await harness.metric('iot_ingest_messages_failed_total', { action: 'dead_letter' })).toBe(2);
  });

  it('Parquet: keeps the dt= partition right after PARQUET_PREFIX, the output prefix before the raw key', async () => {
    const { resources, rawA, rawB, harness } = await startWithSources({ OUTPUT_FORMAT: 'parquet' });

    await uploadAndAnnounce(resources, rawA, 'east/r.jsonl', reading('sensor-alpha', 20));
    await uploadAndAnnounce(resources, rawB, 'east/r.jsonl', reading('sensor-gamma', 23));
    await filesSucceeded(harness, 2);

    expect(await keysIn(resources.processedBucket)).toStrictEqual([
      'parquet/dt=2025-07-11/a-east/east/r.parquet',
      'parquet/dt=2025-07-11/b/east/r.parquet',
      'rejected/a-east/east/r.jsonl',
      'rejected/b/east/r.jsonl',
    ]);
  });

  it('move: the copy names the raw owner as its source and destination owner (an archive in the raw bucket), the delete names it too', async () => {
    const { resources, rawA, rawB, harness, sent } = await startWithSources({ SOURCE_AFTER_SUCCESS: 'move' });
    const body = reading('sensor-alpha', 20);

    await uploadAndAnnounce(resources, rawA, 'east/m.jsonl', body);
    await actionDone(harness, 'move');

    expect(await readObjectText(clients.s3, rawA, 'archive/east/m.jsonl')).toBe(body);
    expect(await exists(rawA, 'east/m.jsonl')).toBe(false);
    expect(callsOnRawBuckets(sent, rawA, rawB).map(({ command, key, expectedBucketOwner, expectedSourceBucketOwner }) => ({ command, key, expectedBucketOwner, expectedSourceBucketOwner }))).toStrictEqual([
      { command: 'GetObject', key: 'east/m.jsonl', expectedBucketOwner: OWNER_A, expectedSourceBucketOwner: undefined },
      { command: 'CopyObject', key: 'archive/east/m.jsonl', expectedBucketOwner: OWNER_A, expectedSourceBucketOwner: OWNER_A },
      { command: 'DeleteObject', key: 'east/m.jsonl', expectedBucketOwner: OWNER_A, expectedSourceBucketOwner: undefined },
    ]);
  });

  (taggingSupported ? it : it.skip)('tag: the check, the tag read and the tag write on the raw object each name its owner', async () => {
    const { resources, rawA, rawB, harness, sent } = await startWithSources({ SOURCE_AFTER_SUCCESS: 'tag' });

    await uploadAndAnnounce(resources, rawB, 'whole/t.jsonl', reading('sensor-alpha', 20));
    await actionDone(harness, 'tag');

    const rawCalls = callsOnRawBuckets(sent, rawA, rawB);
    expect(rawCalls.map(({ command }) => command)).toStrictEqual(['GetObject', 'HeadObject', 'GetObjectTagging', 'PutObjectTagging']);
    expect(rawCalls.every((call) => call.bucket === rawB && call.expectedBucketOwner === OWNER_B)).toBe(true);
  });
});
