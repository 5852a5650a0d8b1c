/**
 * The trigger Lambda's handler against the emulator's real SQS over HTTP: what it puts on the
 * queue is what the worker reads back.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { createHandler, type LogLine } from '../../../trigger/handler.ts';
import type * as HandlerModule from '../../../trigger/handler.ts';
import { DEFAULT_SUFFIXES } from '../../../trigger/config.ts';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import { parseMessageBody } from '../../../worker/common/events.ts';
import { objectMessage, type ObjectMessage } from '../../../worker/common/object-message.ts';
import { receiveAll, receiveUntilQuiet, testClients, uniqueName } from '../../support/emulator.ts';

const BUCKET = 'raw-bucket';
const EVENT_TIME = '2026-11-25T18:00:00.000Z';

let clients: AwsClients;
const queues: string[] = [];

beforeAll(() => {
  clients = testClients();
});

afterAll(async () => {
  await Promise.all(queues.map((queueUrl) => clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }))));
  clients.sqs.destroy();
  clients.s3.destroy();
});

async function createQueue(): Promise<string> {
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('trigger') }));
  if (QueueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
  queues.push(QueueUrl);
  return QueueUrl;
}

/** S3 form-encodes keys in notifications: `+` for a space, %XX for the rest. */
function s3EncodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

function record(key: string, index: number, options: { eventName?: string; size?: number } = {}): S3EventRecord {
  const { eventName = 'ObjectCreated:Put', size = 100 + index } = options;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: EVENT_TIME,
    eventName,
    userIdentity: { principalId: 'AWS:EXAMPLE' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': `req-${index}`, 'x-amz-id-2': `id-${index}` },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'raw-objects',
      bucket: { name: BUCKET, ownerIdentity: { principalId: 'EXAMPLE' }, arn: `arn:aws:s3:::${BUCKET}` },
      object: { key: s3EncodeKey(key), size, eTag: `etag${index}`, versionId: `v${index}`, sequencer: `00${index.toString(16).padStart(14, '0')}` },
    },
  };
}

function expectedMessage(key: string, index: number): ObjectMessage {
  return objectMessage({
    bucket: BUCKET,
    key,
    size: 100 + index,
    eTag: `etag${index}`,
    versionId: `v${index}`,
    sequencer: `00${index.toString(16).padStart(14, '0')}`,
    eventTime: EVENT_TIME,
  });
}

describe('trigger handler on the emulator', () => {
  it('puts exactly one valid object message per selected object of a 23-record event on the queue', async () => {
    const queueUrl = await createQueue();
    const logged: LogLine[] = [];
    const handle = createHandler({ sqs: clients.sqs, settings: { queueUrl, suffixes: DEFAULT_SUFFIXES }, log: (line) => logged.push(line) });

    const wanted = [
      'site 1/readings.jsonl',
      'a b+c.jsonl',
      'données/température été.jsonl',
      '温度/センサー 1.jsonl.gz',
      'emoji 🌡️/probe.jsonl',
      'percent%20literal.jsonl',
      'odd \uFFFF char.jsonl',
      ...Array.from({ length: 8 }, (_, index) => `batch/file-${index}.jsonl`),
    ];
    const records = wanted.map((key, index) => record(key, index));
    const skippedRecords = [
      record('notes.txt', 100),
      record('readings.json', 101),
      record('archive.jsonl.zip', 102),
      record('empty.jsonl', 103, { size: 0 }),
      record('also empty.jsonl.gz', 104, { size: 0 }),
      record('folder/', 105, { size: 0 }),
      record('deleted.jsonl', 106, { eventName: 'ObjectRemoved:Delete' }),
      record('restored.jsonl', 107, { eventName: 'ObjectRestore:Completed' }),
    ];
    // Interleaved, so the batches of 10 mix kept and skipped records.
    const all = [...records];
    skippedRecords.forEach((skipped, index) => all.splice(index * 3 + 1, 0, skipped));
    expect(all).toHaveLength(23);
    const event: S3Event = { Records: all };

    const summary = await handle(event, { awsRequestId: 'request-1' });
    const bodies = await receiveUntilQuiet(clients.sqs, queueUrl, { atLeast: wanted.length, quietSeconds: 1 });

    expect(summary).toStrictEqual({
      received: 23,
      sent: 15,
      skipped: { not_object_created: 2, folder_marker: 1, suffix_not_matched: 3, empty_object: 2 },
      invalid: 0,
      testEvent: false,
    });
    expect(bodies).toHaveLength(wanted.length);
    const received = bodies.map((body) => JSON.parse(body) as ObjectMessage).sort((a, b) => a.key.localeCompare(b.key));
    const expected = wanted.map(expectedMessage).sort((a, b) => a.key.localeCompare(b.key));
    expect(received).toStrictEqual(expected);
    for (const body of bodies) {
      const sent = JSON.parse(body) as ObjectMessage;
      expect(parseMessageBody(body)).toStrictEqual({
        kind: 'objects',
        objects: [{ bucket: BUCKET, key: sent.key, size: sent.size, eTag: sent.eTag, versionId: sent.versionId, sequencer: sent.sequencer, eventTime: sent.eventTime }],
      });
    }
    expect(bodies.some((body) => body.includes('"key":"温度/センサー 1.jsonl.gz"'))).toBe(true);
    expect(bodies.some((body) => body.includes('"key":"a b+c.jsonl"'))).toBe(true);
    expect(bodies.some((body) => body.includes('"key":"données/température été.jsonl"'))).toBe(true);

    expect(logged).toStrictEqual([
      expect.objectContaining({ level: 'info', requestId: 'request-1', received: 23, selected: 15, sent: 15, invalid: 0, skipped: summary.skipped }),
    ]);
  });

  it('sends nothing for the s3:TestEvent', async () => {
    const queueUrl = await createQueue();
    const logged: LogLine[] = [];
    const handle = createHandler({ sqs: clients.sqs, settings: { queueUrl, suffixes: DEFAULT_SUFFIXES }, log: (line) => logged.push(line) });

    const summary = await handle({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: EVENT_TIME, Bucket: BUCKET });

    expect(summary.testEvent).toBe(true);
    expect(summary.sent).toBe(0);
    expect(await receiveAll(clients.sqs, queueUrl, { waitTimeSeconds: 1 })).toEqual([]);
    expect(logged).toStrictEqual([expect.objectContaining({ level: 'info', bucket: BUCKET })]);
  });

  it('fails the invocation, naming the count and the reason, when the queue does not exist', async () => {
    const queueUrl = (await createQueue()).replace(/[^/]+$/, uniqueName('missing'));
    const logged: LogLine[] = [];
    const handle = createHandler({
      sqs: clients.sqs,
      settings: { queueUrl, suffixes: DEFAULT_SUFFIXES },
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleep: () => Promise.resolve() },
      log: (line) => logged.push(line),
    });

    await expect(handle({ Records: [record('a.jsonl', 1), record('b.jsonl', 2)] })).rejects.toThrow(
      /^2 of 2 message\(s\) could not be sent to the ingest queue after 2 attempt\(s\): 2 × /,
    );
    expect(logged).toStrictEqual([expect.objectContaining({ level: 'error', received: 2, sent: 0, failed: 2 })]);
  });

  it('the Lambda entry point reads QUEUE_URL and SUFFIXES and reaches AWS_ENDPOINT_URL through the SDK', async () => {
    const queueUrl = await createQueue();
    const saved = { ...process.env };
    Object.assign(process.env, {
      QUEUE_URL: queueUrl,
      SUFFIXES: '.csv',
      AWS_ENDPOINT_URL: process.env['IOT_TEST_ENDPOINT'],
      AWS_REGION: process.env['IOT_TEST_REGION'],
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const originalLog = console.log;
    console.log = () => undefined;
    try {
      // A fresh instance (the query): the module builds its client when loaded, from the environment.
      const freshEntryPoint = '../../../trigger/handler.ts?entry-point';
      const { handler } = (await import(freshEntryPoint)) as typeof HandlerModule;
      const summary = await handler({ Records: [record('kept.csv', 1), record('dropped.jsonl', 2)] });
      expect(summary.sent).toBe(1);
    } finally {
      console.log = originalLog;
      process.env = saved;
    }
    const bodies = await receiveUntilQuiet(clients.sqs, queueUrl, { atLeast: 1, quietSeconds: 1 });
    expect(bodies.map((body) => (JSON.parse(body) as ObjectMessage).key)).toEqual(['kept.csv']);
  });
});
