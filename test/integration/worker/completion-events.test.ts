/**
 * FILE_EVENTS_TOPIC_ARN on the local stack: one completion event per file version, on SNS, read from an
 * SQS queue subscribed to the topic (SNS's envelope, raw message delivery off), with the real worker.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { fileEventId, type FileProcessedEvent } from '../../../worker/after-success/file-event.ts';
import { objectMessage } from '../../../worker/common/object-message.ts';
import { createFileEventsResources, type FileEventsResources } from '../../../ops/local/resources.ts';
import type { Environment } from '../../../worker/config.ts';
import { createTestStack, receiveUntilQuiet, testClients, uniqueName, waitFor } from '../../support/emulator.ts';
import { startTestWorker, type TestWorker } from '../../support/worker-harness.ts';

const clients = testClients();
const running: TestWorker[] = [];

afterEach(async () => {
  for (const harness of running.splice(0)) {
    await harness.stop();
    harness.clients.sns.destroy();
  }
});

afterAll(() => {
  clients.s3.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
});

interface Received {
  readonly event: FileProcessedEvent;
  readonly attributes: Record<string, { Type: string; Value: string }>;
}

/** The events on the subscribed queue, out of SNS's envelope. */
async function receiveEvents(events: FileEventsResources, atLeast: number): Promise<Received[]> {
  const bodies = await receiveUntilQuiet(clients.sqs, events.queueUrl, { atLeast, timeoutMs: 15_000 });
  return bodies.map((body) => {
    const envelope = JSON.parse(body) as { Type: string; Message: string; MessageAttributes?: Received['attributes'] };
    expect(envelope.Type).toBe('Notification');
    return { event: JSON.parse(envelope.Message) as FileProcessedEvent, attributes: envelope.MessageAttributes ?? {} };
  });
}

async function pipelineWithEvents(env: Environment = {}) {
  const resources = await createTestStack(clients);
  const events = await createFileEventsResources(clients, { topicName: uniqueName('file-events'), queueName: uniqueName('file-events') });
  const harness = await startTestWorker(resources, { FILE_EVENTS_TOPIC_ARN: events.topicArn, ...env });
  running.push(harness);
  return { resources, events, harness };
}

async function put(bucket: string, key: string, body: string): Promise<string> {
  const { ETag } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return (ETag ?? '').replace(/"/g, '');
}

const lines = (...records: Array<Record<string, unknown> | string>) => records.map((record) => (typeof record === 'string' ? record : JSON.stringify(record))).join('\n');

describe('completion events', () => {
  it('publishes one event per file with its source version, outputs and counts by outcome and reason', async () => {
    const { resources, events, harness } = await pipelineWithEvents();
    const first = lines({ device_id: 'sensor-alpha', temperature: 21.5, humidity: 40 }, { device_id: 'sensor-beta', temperature: 4, humidity: 40 }, 'not json', {
      device_id: 'x',
      humidity: 40,
    });
    const eTags = {
      'a/first.jsonl': await put(resources.rawBucket, 'a/first.jsonl', first),
      'a/second.jsonl': await put(resources.rawBucket, 'a/second.jsonl', lines({ device_id: 'sensor-alpha', temperature: 30, humidity: 10 })),
    };

    const received = await receiveEvents(events, 2);

    expect(received).toHaveLength(2);
    const byKey = new Map(received.map((item) => [item.event.source.key, item]));
    const { event, attributes } = byKey.get('a/first.jsonl')!;
    const source = { bucket: resources.rawBucket, key: 'a/first.jsonl', eTag: eTags['a/first.jsonl'] };
    expect(event).toMatchObject({
      type: 'iot-ingest.file.processed',
      eventId: fileEventId(source),
      source: { ...source, versionId: null },
      outputs: {
        processed: [{ bucket: resources.processedBucket, key: 'a/first.jsonl', bytes: expect.any(Number) }],
        rejected: { bucket: resources.processedBucket, key: 'rejected/a/first.jsonl', bytes: expect.any(Number) },
      },
      counts: { processed: 1, filtered: 1, rejected: 2, rejectedByReason: { invalid_json: 1, missing_field: 1 } },
      workerVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(event.outputs.processed[0]!.bytes).toBeGreaterThan(0);
    expect(Number.isInteger(event.durationMs)).toBe(true);
    expect(Date.parse(event.completedAt)).not.toBeNaN();
    expect(attributes).toStrictEqual({
      type: { Type: 'String', Value: 'iot-ingest.file.processed' },
      eventId: { Type: 'String', Value: event.eventId },
    });
    expect(byKey.get('a/second.jsonl')?.event.counts).toStrictEqual({ processed: 1, filtered: 0, rejected: 0, rejectedByReason: {} });
    expect(await harness.metric('iot_ingest_file_events_total', { result: 'published' })).toBe(2);
  });

  it('publishes the same event id again when the same object version is processed again (a redelivery)', async () => {
    const { resources, events } = await pipelineWithEvents();
    const eTag = await put(resources.rawBucket, 'again.jsonl', lines({ device_id: 'sensor-alpha', temperature: 21.5, humidity: 40 }));
    const [first] = await receiveEvents(events, 1);

    const redelivered = objectMessage({ bucket: resources.rawBucket, key: 'again.jsonl', eTag });
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: JSON.stringify(redelivered) }));
    const [second] = await receiveEvents(events, 1);

    expect(second!.event.eventId).toBe(first!.event.eventId);
    expect(second!.event.counts).toStrictEqual(first!.event.counts);
    expect(second!.event.outputs).toStrictEqual(first!.event.outputs);
  });

  it('a new version of the object (another ETag) gets another event id', async () => {
    const { resources, events } = await pipelineWithEvents();
    await put(resources.rawBucket, 'changing.jsonl', lines({ device_id: 'sensor-alpha', temperature: 21.5, humidity: 40 }));
    const [first] = await receiveEvents(events, 1);
    await put(resources.rawBucket, 'changing.jsonl', lines({ device_id: 'sensor-alpha', temperature: 22.5, humidity: 40 }));
    const [second] = await receiveEvents(events, 1);

    expect(second!.event.eventId).not.toBe(first!.event.eventId);
    expect(second!.event.source.eTag).not.toBe(first!.event.source.eTag);
  });

  it('a failed publish retries the message: the file is processed again and the event published once, outputs kept', async () => {
    const { resources, events, harness } = await pipelineWithEvents({ SOURCE_AFTER_SUCCESS: 'delete' });
    let failuresLeft = 1;
    harness.clients.sns.middlewareStack.add(
      (next) => (args) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          return Promise.reject(Object.assign(new Error('AuthorizationError: injected'), { name: 'AuthorizationError', $metadata: { httpStatusCode: 403 } }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'failFirstPublish' },
    );
    await put(resources.rawBucket, 'retry.jsonl', lines({ device_id: 'sensor-alpha', temperature: 21.5, humidity: 40 }));

    const received = await receiveEvents(events, 1);

    expect(received).toHaveLength(1);
    expect(received[0]!.event.source.key).toBe('retry.jsonl');
    await waitFor(async () => ((await harness.metric('iot_ingest_source_actions_total', { action: 'delete', result: 'done' })) === 1 ? true : undefined), {
      what: 'the raw object deleted after the event',
    });
    expect(await harness.metric('iot_ingest_file_events_total', { result: 'failed' })).toBe(1);
    expect(await harness.metric('iot_ingest_file_events_total', { result: 'published' })).toBe(1);
    // Processed twice: the first time its event failed, so the raw object stayed for the retry.
    expect(harness.reports.filter((report) => report.ref.key === 'retry.jsonl').map((report) => report.outcome)).toStrictEqual(['succeeded', 'succeeded']);
    expect(await harness.metric('iot_ingest_messages_failed_total', { action: 'retry' })).toBe(1);
  });
});
