/**
 * Enqueues object messages for objects already in the raw bucket (or in each source of SOURCES, one after
 * another), on the shared sweep engine (ops/cli/object-sweep/): list pages (ListObjectsV2), keep the keys with a wanted suffix, optionally
 * skip those whose processed output exists, send the rest in batches of 10 at the given rate.
 */
import type { _Object, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ObjectMessage } from '../../worker/common/object-message.ts';
import type { RetryOptions } from '../../worker/common/send-batches.ts';
import type { OutputLocation } from '../../worker/output/output-keys.ts';
import type { Source } from '../../worker/sources.ts';
import { NO_OWNERS, type BucketOwners } from './object-sweep/bucket-owners.ts';
import { listedPages } from './object-sweep/list-source.ts';
import { processedOutputsExist, type ProcessedLookup } from './object-sweep/processed-output.ts';
import { DEFAULT_SUFFIXES, inScope, wantedKey } from './object-sweep/scope.ts';
import { sweep, type Decide, type SweepResult, type SweepTally } from './object-sweep/sweep.ts';
import { addTally, keptObjects, sweepEach } from './object-sweep/sweep-many.ts';
import { keyPlace, type SweepTarget } from './object-sweep/sweep-plan.ts';
import { fromListing, sweepMessage } from './object-sweep/sweep-object.ts';
import type { RateLimiter } from './rate-limiter.ts';

export { DEFAULT_SUFFIXES, wantedKey };

export interface BackfillOptions {
  /** What to list, in order: the named bucket under the prefix, or each source (ops/cli/object-sweep/sweep-plan.ts). */
  readonly targets: readonly SweepTarget[];
  /** SOURCES, parsed: which source a key is in (its output prefix, or in none: the worker does not take it). */
  readonly sources?: readonly Source[] | undefined;
  /** ExpectedBucketOwner for the buckets that have one (the HeadObject of --skip-processed included). */
  readonly owners?: BucketOwners;
  readonly suffixes: readonly string[];
  /** ListObjectsV2 MaxKeys (1..1000). */
  readonly pageSize: number;
  /** Resume after this key (ListObjectsV2 StartAfter) of the first target. */
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
  /** Listed but in no source of SOURCES (only with --raw-bucket): the worker does not take them; never sent. */
  excluded: number;
  matched: number;
  skippedProcessed: number;
  /** Sent to the queue; always 0 on a dry run. */
  sent: number;
  /** The last key sent: with --start-after, where a rerun resumes. Never set on a dry run. */
  lastSentKey: string | undefined;
}

/** One target's own counts. */
export interface TargetBackfill {
  readonly target: SweepTarget;
  readonly tally: BackfillTally;
}

export interface BackfillResult {
  /** Every target's counts added up. */
  readonly tally: BackfillTally;
  /** Each target listed (those after an interruption are absent). */
  readonly each: readonly TargetBackfill[];
  readonly interrupted: boolean;
}

/** A send failed; the tallies say what was sent before, and in which target it stopped (the last). */
export class BackfillError extends Error {
  readonly tally: BackfillTally;
  readonly each: readonly TargetBackfill[];

  constructor(message: string, result: Pick<BackfillResult, 'tally' | 'each'>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackfillError';
    this.tally = result.tally;
    this.each = result.each;
  }
}

/** Backfill's outcomes: everything in scope is sent, unless --skip-processed finds its processed output. */
export const BACKFILL_OUTCOMES = { send: 'send', processed: 'processed' } as const;

export function messageFor(bucket: string, object: _Object): ObjectMessage {
  return sweepMessage(bucket, fromListing(object));
}

function backfillDecide(s3: S3Client, skipProcessed: ProcessedLookup | undefined): Decide {
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
    excluded: tally.excluded,
    matched: tally.matched,
    skippedProcessed: tally.outcomes[BACKFILL_OUTCOMES.processed] ?? 0,
    sent: tally.sent,
    lastSentKey: tally.lastSentKey,
  };
}

function sweepTarget(sqs: SQSClient, s3: S3Client, options: BackfillOptions, target: SweepTarget, startAfter: string | undefined, before: SweepTally): Promise<SweepResult> {
  const outputPrefixOf = (key: string) => {
    const place = keyPlace(options.sources, target, key);
    return place.kind === 'swept' ? place.outputPrefix : undefined;
  };
  const listed = listedPages(s3, { bucket: target.bucket, prefix: target.prefix, pageSize: options.pageSize, startAfter, expectedBucketOwner: target.expectedBucketOwner });
  const owners = options.owners ?? NO_OWNERS;
  return sweep(sqs, {
    // A nested source's keys are listed here too: its own sweep sends them.
    pages: keptObjects(listed, (object) => keyPlace(options.sources, target, object.key).kind !== 'other-source'),
    excluded: (object) => outputPrefixOf(object.key) === undefined,
    inScope: (object) => inScope(object, { prefix: '', suffixes: options.suffixes }),
    decide: backfillDecide(s3, options.skipProcessed === undefined ? undefined : { location: options.skipProcessed, outputPrefixOf, owners }),
    send: { rawBucket: target.bucket, queueUrl: options.queueUrl, dryRun: options.dryRun, rateLimiter: options.rateLimiter, retry: options.retry },
    signal: options.signal,
    ...(options.dryRun && options.onWouldSend ? { onBatch: (batch) => options.onWouldSend?.(batch.map(({ object }) => object.key)) } : {}),
    ...(options.onProgress ? { onProgress: (tally) => options.onProgress?.(backfillTally(addTally(before, tally))) } : {}),
  });
}

export async function backfill(clients: { s3: S3Client; sqs: SQSClient }, options: BackfillOptions): Promise<BackfillResult> {
  const result = await sweepEach(options.targets, (target, index, before) => sweepTarget(clients.sqs, clients.s3, options, target, index === 0 ? options.startAfter : undefined, before));
  const each = result.each.map(({ target, tally }) => ({ target, tally: backfillTally(tally) }));
  const tally = backfillTally(result.total);
  if (result.error !== undefined) throw new BackfillError(result.error.message, { tally, each }, { cause: result.error.cause });
  return { tally, each, interrupted: result.stoppedBy === 'interrupted' };
}
