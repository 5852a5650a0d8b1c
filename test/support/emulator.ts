import { setTimeout as delay } from 'node:timers/promises';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createLocalResources } from '../../ops/local/resources.ts';
import type { LocalResources } from '../../ops/local/resources.ts';
import { createAwsClients } from '../../worker/common/aws-clients.ts';
import type { AwsClients } from '../../worker/common/aws-clients.ts';

/** SDK clients for the emulator that test/support/global-setup.ts started. Destroy them in afterAll. */
export function testClients(): AwsClients {
  const endpoint = process.env['IOT_TEST_ENDPOINT'];
  const region = process.env['IOT_TEST_REGION'];
  if (!endpoint || !region) {
    throw new Error('IOT_TEST_ENDPOINT/IOT_TEST_REGION are not set: run through jest, whose globalSetup starts the emulator');
  }
  return createAwsClients({ region, endpoint, forcePathStyle: true });
}

let namesMade = 0;

/**
 * A name valid for S3 buckets and SQS queues alike (lower case, digits, hyphens, at most 63
 * characters), unique across calls, jest workers and runs.
 */
export function uniqueName(prefix: string): string {
  const cleanPrefix = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 28) || 't';
  namesMade += 1;
  const worker = process.env['JEST_WORKER_ID'] ?? '0';
  const random = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  return `${cleanPrefix}-w${worker}-${process.pid.toString(36)}-${namesMade.toString(36)}-${random}`;
}

export interface TestStackOptions {
  /** Default 3. */
  readonly maxReceiveCount?: number;
  /** The SQS default (30 s) when omitted. */
  readonly visibilityTimeoutSeconds?: number;
  /** Notify only for these key suffixes; every key when omitted. */
  readonly suffixes?: readonly string[];
}

/**
 * Buckets, queue and DLQ with fresh names, the raw bucket notifying the queue. As on AWS, the
 * queue starts with one s3:TestEvent message.
 */
export function createTestStack(clients: AwsClients, options: TestStackOptions = {}): Promise<LocalResources> {
  const names = {
    rawBucket: uniqueName('raw'),
    processedBucket: uniqueName('processed'),
    queueName: uniqueName('ingest'),
    dlqName: uniqueName('ingest-dlq'),
  };
  return createLocalResources(clients, names, {
    maxReceiveCount: options.maxReceiveCount ?? 3,
    ...(options.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    ...(options.suffixes === undefined ? {} : { suffixes: options.suffixes }),
  });
}

export interface WaitForOptions {
  /** Default 10 000. */
  readonly timeoutMs?: number;
  /** Default 50. */
  readonly intervalMs?: number;
  /** Named in the timeout error. */
  readonly what?: string;
}

/** Polls `probe` until it returns something other than undefined; throws once timeoutMs have passed. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitForOptions = {}): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 50, what = 'a condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(Math.min(intervalMs, remaining));
  }
}

/** The object's body as UTF-8 text, or undefined when there is no such key. */
export async function readObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await Body?.transformToString('utf8');
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined;
    throw error;
  }
}

export interface ReceiveAllOptions {
  /** Long-poll seconds per receive (default 0: return at once when the queue looks empty). */
  readonly waitTimeSeconds?: number;
  /** VisibilityTimeout for the received messages; the queue's when omitted. */
  readonly visibilityTimeoutSeconds?: number;
  /** Delete what was received (default true). Without deleting, keep the visibility timeout above the time the loop takes. */
  readonly deleteReceived?: boolean;
  /** Receives at most this many batches of up to 10 (default 100). */
  readonly maxRounds?: number;
}

/** Receives batches until a receive comes back empty (or maxRounds), returning the bodies in the order received. */
export async function receiveAll(sqs: SQSClient, queueUrl: string, options: ReceiveAllOptions = {}): Promise<string[]> {
  const { waitTimeSeconds = 0, deleteReceived = true, maxRounds = 100 } = options;
  const bodies: string[] = [];
  for (let round = 0; round < maxRounds; round += 1) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitTimeSeconds,
        ...(options.visibilityTimeoutSeconds === undefined ? {} : { VisibilityTimeout: options.visibilityTimeoutSeconds }),
      }),
    );
    if (messages.length === 0) break;
    bodies.push(...messages.map((message) => message.Body ?? ''));
    if (deleteReceived) {
      const entries = messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle }));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
  }
  return bodies;
}

export interface ReceiveUntilQuietOptions extends WaitForOptions {
  /** Wait (bounded by timeoutMs) until at least this many messages arrived; default 1. */
  readonly atLeast?: number;
  /** Then keep receiving until one long poll of this many seconds brings nothing; default 1. */
  readonly quietSeconds?: number;
}

/**
 * Receives and deletes messages until at least `atLeast` have arrived and the queue then stays
 * quiet for quietSeconds: the way to assert "exactly these messages" about asynchronous delivery.
 */
export async function receiveUntilQuiet(
  sqs: SQSClient,
  queueUrl: string,
  options: ReceiveUntilQuietOptions = {},
): Promise<string[]> {
  const { atLeast = 1, quietSeconds = 1, ...waitOptions } = options;
  const bodies: string[] = [];
  await waitFor(
    async () => {
      bodies.push(...(await receiveAll(sqs, queueUrl)));
      return bodies.length >= atLeast ? true : undefined;
    },
    { what: `${atLeast} message(s) on ${queueUrl}`, ...waitOptions },
  );
  bodies.push(...(await receiveAll(sqs, queueUrl, { waitTimeSeconds: quietSeconds })));
  return bodies;
}
