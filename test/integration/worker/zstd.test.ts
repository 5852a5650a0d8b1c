/**
 * zstd input end to end on the emulator with the real worker: a .zst file, or one with the zstd magic
 * bytes under any key, gives zstd outputs; broken zstd and a zstd bomb go to the DLQ at once with their
 * reasons, leaving no output.
 */
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const MAX_OBJECT_BYTES = 1_000_000;
const READING = (index: number) => `{"device_id":"sensor-${index}","temperature":${20 + (index % 10)},"humidity":50,"timestamp":"2025-07-11T11:00:00Z"}`;
const BAD_LINE = '{"device_id":';
const TEXT = [...Array.from({ length: 500 }, (_, index) => READING(index)), BAD_LINE].join('\n') + '\n';

let pipeline: StackWithWorker;
const deadLetters: Message[] = [];

beforeAll(async () => {
  pipeline = await startStackWithWorker({ env: { MAX_OBJECT_BYTES: String(MAX_OBJECT_BYTES) } });
});

afterAll(async () => {
  await pipeline.stop();
});

async function put(key: string, body: Buffer): Promise<void> {
  await pipeline.clients.s3.send(new PutObjectCommand({ Bucket: pipeline.resources.rawBucket, Key: key, Body: body }));
}

async function output(key: string): Promise<{ body: Buffer; contentType: string | undefined } | undefined> {
  try {
    const response = await pipeline.clients.s3.send(new GetObjectCommand({ Bucket: pipeline.resources.processedBucket, Key: key }));
    return { body: Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()), contentType: response.ContentType };
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

function keyOf(message: Message): string | undefined {
  const encoded = (JSON.parse(message.Body ?? '{}') as { Records?: Array<{ s3?: { object?: { key?: string } } }> }).Records?.[0]?.s3?.object?.key;
  return encoded === undefined ? undefined : decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** The reason the DLQ message announcing `key` carries; every DLQ message received is kept. */
async function deadLetterReasonOf(key: string): Promise<string | undefined> {
  const { clients, resources } = pipeline;
  const message = await waitFor(
    async () => {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: resources.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      for (const received of Messages) {
        deadLetters.push(received);
        await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: resources.dlqUrl, ReceiptHandle: received.ReceiptHandle }));
      }
      return deadLetters.find((candidate) => keyOf(candidate) === key);
    },
    { what: `the DLQ message of ${key}`, timeoutMs: 25_000 },
  );
  return message.MessageAttributes?.['ingest-failure-reason']?.StringValue;
}

const outcomesOf = (key: string) => pipeline.harness.reports.filter((report) => report.ref.key === key).map((report) => report.outcome);

describe('zstd input', () => {
  it.each([
    ['a .zst key', 'zstd/readings.jsonl.zst'],
    ['the zstd magic bytes under a key without .zst', 'zstd/readings-by-magic.jsonl'],
  ])('processes a file recognised by %s, writing both outputs as zstd under the same key', async (_how, key) => {
    await put(key, zstdCompressSync(TEXT));

    const report = await pipeline.harness.waitForReport((candidate) => candidate.ref.key === key, `the outcome of ${key}`, 20_000);

    expect(report.outcome).toBe('succeeded');
    const processed = await output(key);
    const rejected = await output(`rejected/${key}`);
    expect({ processed: processed?.contentType, rejected: rejected?.contentType }).toEqual({ processed: 'application/zstd', rejected: 'application/zstd' });
    const processedLines = zstdDecompressSync(processed?.body ?? Buffer.alloc(0)).toString('utf8').split('\n').filter(Boolean);
    expect(processedLines).toHaveLength(500);
    expect(JSON.parse(processedLines[0] ?? '{}')).toMatchObject({ device_id: 'sensor-0', temp_fahrenheit: 68 });
    const rejectedLines = zstdDecompressSync(rejected?.body ?? Buffer.alloc(0)).toString('utf8').split('\n').filter(Boolean);
    expect(rejectedLines.map((line) => JSON.parse(line) as unknown)).toEqual([expect.objectContaining({ line: 501, reason: 'invalid_json', text: BAD_LINE })]);
  });

  it.each([
    ['truncated zstd', 'zstd/truncated.jsonl.zst', () => { const zstd = zstdCompressSync(TEXT); return zstd.subarray(0, zstd.length >> 1); }, 'corrupt_zstd'],
    ['a zstd bomb (a few kB that decompress past MAX_OBJECT_BYTES)', 'zstd/bomb.jsonl.zst', () => zstdCompressSync(Buffer.alloc(50 * MAX_OBJECT_BYTES, 0x20)), 'object_too_large'],
  ])('sends %s to the DLQ at once with its reason, leaving no output', async (_what, key, body, reason) => {
    const bytes = body();
    if (reason === 'object_too_large') expect(bytes.length).toBeLessThan(MAX_OBJECT_BYTES / 100);
    await put(key, bytes);

    expect(await deadLetterReasonOf(key)).toBe(reason);
    expect(outcomesOf(key)).toEqual(['failed_permanent']);
    expect({ processed: await output(key), rejected: await output(`rejected/${key}`) }).toEqual({ processed: undefined, rejected: undefined });
  });
});
