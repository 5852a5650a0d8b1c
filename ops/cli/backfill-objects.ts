/**
 * Enqueues object messages for objects already in the raw bucket: list a page (ListObjectsV2), keep
 * the keys with a wanted suffix, optionally skip those whose processed output exists, send the rest
 * in batches of 10 at the given rate. One page at a time, so memory does not grow with the bucket.
 */
import { HeadObjectCommand, ListObjectsV2Command, type _Object, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { sendObjectMessages, type RetryOptions } from '../../worker/common/send-batches.ts';
import { inGroupsOf } from '../../worker/common/in-groups.ts';
import { SQS_MAX_BATCH_ENTRIES } from '../../worker/common/sqs-limits.ts';
import { isObjectMissing } from '../../worker/errors.ts';
import { objectMessage, type ObjectMessage } from '../../worker/common/object-message.ts';
import { outputKeys, type OutputLocation } from '../../worker/output/output-keys.ts';
import type { RateLimiter } from './rate-limiter.ts';

export const DEFAULT_SUFFIXES = ['.jsonl', '.jsonl.gz'] as const;

export interface BackfillOptions {
  readonly rawBucket: string;
  readonly prefix: string;
  readonly suffixes: readonly string[];
  /** ListObjectsV2 MaxKeys (1..1000). */
  readonly pageSize: number;
  /** Resume after this key (ListObjectsV2 StartAfter). */
  readonly startAfter: string | undefined;
  readonly queueUrl: string;
  /** Skip objects whose processed output exists there. */
  readonly skipProcessed: OutputLocation | undefined;
  /** List and select only: nothing is sent; the selected keys go to `onWouldSend`. */
  readonly dryRun: boolean;
  /** With `dryRun`, each batch of keys that a real run would send, in order. */
  readonly onWouldSend?: (keys: readonly string[]) => void;
  readonly rateLimiter: RateLimiter;
  readonly retry: RetryOptions;
  readonly signal: AbortSignal;
  readonly onProgress?: (tally: BackfillTally) => void;
}

export interface BackfillTally {
  listed: number;
  matched: number;
  skippedProcessed: number;
  /** Sent to the queue; always 0 on a dry run. */
  sent: number;
  /** The last key sent: with --start-after, where a rerun resumes. Never set on a dry run. */
  lastSentKey: string | undefined;
}

export interface BackfillResult {
  readonly tally: BackfillTally;
  readonly interrupted: boolean;
}

/** A send failed; the tally says what was sent before. */
export class BackfillError extends Error {
  readonly tally: BackfillTally;

  constructor(message: string, tally: BackfillTally, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackfillError';
    this.tally = tally;
  }
}

const HEAD_CONCURRENCY = 16;

/** A key the worker would process: ends in a wanted suffix, and is not a folder marker. */
export function wantedKey(key: string, suffixes: readonly string[]): boolean {
  return !key.endsWith('/') && suffixes.some((suffix) => key.endsWith(suffix));
}

export function messageFor(bucket: string, object: _Object): ObjectMessage {
  return objectMessage({
    bucket,
    key: object.Key ?? '',
    ...(object.Size === undefined ? {} : { size: object.Size }),
    ...(object.ETag === undefined ? {} : { eTag: object.ETag.replace(/"/g, '') }),
  });
}

async function hasProcessedOutput(s3: S3Client, location: OutputLocation, key: string): Promise<boolean> {
  let processed;
  try {
    ({ processed } = outputKeys(location, key));
  } catch {
    // The worker refuses such a key (output_key_collision): it can have no output.
    return false;
  }
  try {
    await s3.send(new HeadObjectCommand({ Bucket: processed.bucket, Key: processed.key }));
    return true;
  } catch (error) {
    if (isObjectMissing(error)) return false;
    throw error;
  }
}

async function unprocessed(s3: S3Client, location: OutputLocation | undefined, objects: readonly _Object[]): Promise<_Object[]> {
  if (location === undefined) return [...objects];
  const limit = pLimit(HEAD_CONCURRENCY);
  const done = await Promise.all(objects.map((object) => limit(() => hasProcessedOutput(s3, location, object.Key ?? ''))));
  return objects.filter((_, index) => !done[index]);
}

async function sendPage(sqs: SQSClient, options: BackfillOptions, objects: readonly _Object[], tally: BackfillTally): Promise<boolean> {
  for (const batch of inGroupsOf(objects, SQS_MAX_BATCH_ENTRIES)) {
    if (options.dryRun) {
      options.onWouldSend?.(batch.map((object) => object.Key ?? ''));
    } else {
      await options.rateLimiter.take(batch.length, options.signal);
      if (options.signal.aborted) return false;
      try {
        await sendObjectMessages(sqs, options.queueUrl, batch.map((object) => messageFor(options.rawBucket, object)), options.retry);
      } catch (error) {
        throw new BackfillError(`${error instanceof Error ? error.message : String(error)}`, tally, { cause: error });
      }
      tally.sent += batch.length;
      tally.lastSentKey = batch.at(-1)?.Key;
    }
    options.onProgress?.(tally);
    if (options.signal.aborted) return false;
  }
  return true;
}

export async function backfill(clients: { s3: S3Client; sqs: SQSClient }, options: BackfillOptions): Promise<BackfillResult> {
  const tally: BackfillTally = { listed: 0, matched: 0, skippedProcessed: 0, sent: 0, lastSentKey: undefined };
  let continuationToken: string | undefined;
  do {
    if (options.signal.aborted) return { tally, interrupted: true };
    const page = await clients.s3.send(
      new ListObjectsV2Command({
        Bucket: options.rawBucket,
        Prefix: options.prefix,
        MaxKeys: options.pageSize,
        ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
        ...(continuationToken === undefined && options.startAfter !== undefined ? { StartAfter: options.startAfter } : {}),
      }),
    );
    const objects = page.Contents ?? [];
    tally.listed += objects.length;
    const matched = objects.filter((object) => object.Key !== undefined && wantedKey(object.Key, options.suffixes));
    tally.matched += matched.length;
    const toSend = await unprocessed(clients.s3, options.skipProcessed, matched);
    tally.skippedProcessed += matched.length - toSend.length;
    options.onProgress?.(tally);
    if (!(await sendPage(clients.sqs, options, toSend, tally))) return { tally, interrupted: true };
    continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (continuationToken !== undefined);
  return { tally, interrupted: false };
}
