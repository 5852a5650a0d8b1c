/**
 * Limits with clear reasons: a file over MAX_OBJECT_BYTES (stored or decompressed) or MAX_RECORDS_PER_FILE
 * goes to the DLQ at once with its reason, and leaves no output.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { readObjectText, waitFor } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const running: StackWithWorker[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((pipeline) => pipeline.stop()));
});

const LINE = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n';

async function deadLetterReason(pipeline: StackWithWorker): Promise<string | undefined> {
  const message = await waitFor(
    async () => {
      const { Messages } = await pipeline.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: pipeline.resources.dlqUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      return Messages?.[0];
    },
    { what: 'a message in the DLQ', timeoutMs: 15_000 },
  );
  return message.MessageAttributes?.['ingest-failure-reason']?.StringValue;
}

async function runWith(env: Record<string, string>, key: string, body: string | Buffer) {
  const pipeline = await startStackWithWorker({ env });
  running.push(pipeline);
  await pipeline.clients.s3.send(new PutObjectCommand({ Bucket: pipeline.resources.rawBucket, Key: key, Body: body }));
  const reason = await deadLetterReason(pipeline);
  const outcomes = pipeline.harness.reports.filter((report) => report.ref.key === key).map((report) => report.outcome);
  const output = await readObjectText(pipeline.clients.s3, pipeline.resources.processedBucket, key);
  return { reason, outcomes, output };
}

describe('file limits', () => {
  it('sends an object over MAX_OBJECT_BYTES to the DLQ at once as object_too_large', async () => {
    const result = await runWith({ MAX_OBJECT_BYTES: '1000' }, 'big.jsonl', LINE.repeat(100));

    expect(result).toEqual({ reason: 'object_too_large', outcomes: ['failed_permanent'], output: undefined });
  });

  it('catches a gzip object that decompresses past MAX_OBJECT_BYTES (a gzip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(100_000);

    const result = await runWith({ MAX_OBJECT_BYTES: '1000000' }, 'bomb.jsonl.gz', bomb);

    expect(result).toEqual({ reason: 'object_too_large', outcomes: ['failed_permanent'], output: undefined });
  });

  it('sends a file with more than MAX_RECORDS_PER_FILE lines to the DLQ at once as too_many_records', async () => {
    const result = await runWith({ MAX_RECORDS_PER_FILE: '50' }, 'many.jsonl', LINE.repeat(51));

    expect(result).toEqual({ reason: 'too_many_records', outcomes: ['failed_permanent'], output: undefined });
  });

  it('processes a file exactly at the limits', async () => {
    const pipeline = await startStackWithWorker({ env: { MAX_RECORDS_PER_FILE: '50', MAX_OBJECT_BYTES: String(LINE.length * 50) } });
    running.push(pipeline);
    await pipeline.clients.s3.send(new PutObjectCommand({ Bucket: pipeline.resources.rawBucket, Key: 'exact.jsonl', Body: LINE.repeat(50) }));

    const report = await pipeline.harness.waitForReport((candidate) => candidate.ref.key === 'exact.jsonl', 'the file');

    expect(report.outcome).toBe('succeeded');
  });
});
