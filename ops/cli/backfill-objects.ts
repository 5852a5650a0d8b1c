/**
 * Enqueues object messages for objects already in the raw bucket, on the shared sweep engine
 * (ops/cli/object-sweep/): list pages (ListObjectsV2), keep the keys with a wanted suffix, optionally
 * skip those whose processed output exists, send the rest in batches of 10 at the given rate.
 */
import type { _Object, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ObjectMessage } from '../../worker/common/object-message.ts';
import type { RetryOptions } from '../../worker/common/send-batches.ts';
import type { OutputLocation } from '../../worker/output/output-keys.ts';
import { listedPages } from './object-sweep/list-source.ts';
import { processedOutputsExist } from './object-sweep/processed-output.ts';
import { DEFAULT_SUFFIXES, inScope, wantedKey } from './object-sweep/scope.ts';
import { sweep, SweepError, type Decide, type SweepTally } from './object-sweep/sweep.ts';
import { fromListing, sweepMessage } from './object-sweep/sweep-object.ts';
import type { RateLimiter } from './rate-limiter.ts';

export { DEFAULT_SUFFIXES, wantedKey };

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

/** Backfill's outcomes: everything in scope is sent, unless --skip-processed finds its processed output. */
export const BACKFILL_OUTCOMES = { send: 'send', processed: 'processed' } as const;

export function messageFor(bucket: string, object: _Object): ObjectMessage {
  return sweepMessage(bucket, fromListing(object));
}

function backfillDecide(s3: S3Client, skipProcessed: OutputLocation | undefined): Decide {
  const send = { send: true, outcome: BACKFILL_OUTCOMES.send };
  if (skipProcessed === undefined) return (objects) => Promise.resolve(objects.map(() => send));
  return async (objects) => {
    const done = await processedOutputsExist(s3, skipProcessed, objects);
    return done.map((processed) => (processed ? { send: false, outcome: BACKFILL_OUTCOMES.processed } : send));
  };
}

function backfillTally(tally: SweepTally): BackfillTally {
  return {
    listed: tally.listed,
    matched: tally.matched,
    skippedProcessed: tally.outcomes[BACKFILL_OUTCOMES.processed] ?? 0,
    sent: tally.sent,
    lastSentKey: tally.lastSentKey,
  };
}

export async function backfill(clients: { s3: S3Client; sqs: SQSClient }, options: BackfillOptions): Promise<BackfillResult> {
  try {
    const { tally, interrupted } = await sweep(clients.sqs, {
      pages: listedPages(clients.s3, { bucket: options.rawBucket, prefix: options.prefix, pageSize: options.pageSize, startAfter: options.startAfter }),
      inScope: (object) => inScope(object, { prefix: '', suffixes: options.suffixes }),
      decide: backfillDecide(clients.s3, options.skipProcessed),
      send: { rawBucket: options.rawBucket, queueUrl: options.queueUrl, dryRun: options.dryRun, rateLimiter: options.rateLimiter, retry: options.retry },
      signal: options.signal,
      ...(options.dryRun && options.onWouldSend ? { onBatch: (batch) => options.onWouldSend?.(batch.map(({ object }) => object.key)) } : {}),
      ...(options.onProgress ? { onProgress: (tally) => options.onProgress?.(backfillTally(tally)) } : {}),
    });
    return { tally: backfillTally(tally), interrupted };
  } catch (error) {
    if (error instanceof SweepError) throw new BackfillError(error.message, backfillTally(error.tally), { cause: error.cause });
    throw error;
  }
}
