/**
 * The engine `backfill` and `reconcile` share: list (a source of pages), decide (which objects in scope
 * to send, and why), send (object messages in batches of 10, fewer when the rate allows fewer a second,
 * with retries). One page at a time, so memory does not grow with the bucket; Ctrl-C stops after the
 * batch in hand.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { inGroupsOf } from '../../../worker/common/in-groups.ts';
import { sendObjectMessages, type RetryOptions } from '../../../worker/common/send-batches.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import { sweepMessage, type SweepObject } from './sweep-object.ts';

/** Objects as listed (in scope or not), in a stable order; `file` is the inventory data file they come from. */
export interface SourcePage {
  readonly objects: readonly SweepObject[];
  readonly file?: number;
}

/** Where a sweep got to: every object up to and including `key` (of inventory file `file`) was handled. */
export interface SweepPosition {
  readonly key: string;
  readonly file?: number;
}

/** What to do with one object: send it or not, and the outcome it is counted under. */
export interface Verdict {
  readonly send: boolean;
  readonly outcome: string;
}

export interface Decided {
  readonly object: SweepObject;
  readonly verdict: Verdict;
}

/** Decides for a page of objects in scope, one verdict each, in order. */
export type Decide = (objects: readonly SweepObject[]) => Promise<readonly Verdict[]>;

export interface SendOptions {
  readonly rawBucket: string;
  readonly queueUrl: string;
  /** Decide only: nothing is sent; each batch a real run would send goes to `onBatch`. */
  readonly dryRun: boolean;
  readonly rateLimiter: RateLimiter;
  readonly retry: RetryOptions;
}

export interface SweepOptions {
  readonly pages: AsyncIterable<SourcePage>;
  /** Objects left out on purpose (--exclude-prefix, the move mode's archive): counted, never decided or sent. */
  readonly excluded?: (object: SweepObject) => boolean;
  readonly inScope: (object: SweepObject) => boolean;
  readonly decide: Decide;
  readonly send: SendOptions;
  readonly signal: AbortSignal;
  /** Each batch sent (or, on a dry run, that would have been), in order. */
  readonly onBatch?: (batch: readonly Decided[]) => void;
  readonly onProgress?: (tally: SweepTally) => void;
  /** After each batch sent and each page: where a rerun may resume. */
  readonly onCheckpoint?: (position: SweepPosition) => void;
}

export interface SweepTally {
  /** Objects listed (or inventory rows read), in scope or not. */
  listed: number;
  /** Objects listed and left out by `excluded`. */
  excluded: number;
  /** Objects in scope: each got a verdict. */
  matched: number;
  /** Verdicts by outcome. */
  outcomes: Record<string, number>;
  /** Sent to the queue; always 0 on a dry run. */
  sent: number;
  /** The last key sent. Never set on a dry run. */
  lastSentKey: string | undefined;
}

export interface SweepResult {
  readonly tally: SweepTally;
  readonly interrupted: boolean;
}

/** A send failed; the tally says what was done before. */
export class SweepError extends Error {
  readonly tally: SweepTally;

  constructor(message: string, tally: SweepTally, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SweepError';
    this.tally = tally;
  }
}

export function emptyTally(): SweepTally {
  return { listed: 0, excluded: 0, matched: 0, outcomes: {}, sent: 0, lastSentKey: undefined };
}

/** Sends the page's chosen objects in batches; false when interrupted. */
async function sendChosen(sqs: SQSClient, options: SweepOptions, chosen: readonly Decided[], tally: SweepTally, file: number | undefined): Promise<boolean> {
  const { send } = options;
  for (const batch of inGroupsOf(chosen, send.rateLimiter.batchSize)) {
    if (!send.dryRun) {
      await send.rateLimiter.take(batch.length, options.signal);
      if (options.signal.aborted) return false;
      try {
        await sendObjectMessages(sqs, send.queueUrl, batch.map(({ object }) => sweepMessage(send.rawBucket, object)), send.retry);
      } catch (error) {
        throw new SweepError(error instanceof Error ? error.message : String(error), tally, { cause: error });
      }
      tally.sent += batch.length;
      tally.lastSentKey = batch.at(-1)?.object.key;
    }
    options.onBatch?.(batch);
    options.onProgress?.(tally);
    const last = batch.at(-1);
    if (!send.dryRun && last !== undefined) options.onCheckpoint?.({ key: last.object.key, ...(file === undefined ? {} : { file }) });
    if (options.signal.aborted) return false;
  }
  return true;
}

export async function sweep(sqs: SQSClient, options: SweepOptions): Promise<SweepResult> {
  const tally = emptyTally();
  if (options.signal.aborted) return { tally, interrupted: true };
  for await (const page of options.pages) {
    tally.listed += page.objects.length;
    const { excluded = () => false } = options;
    const kept = page.objects.filter((object) => !excluded(object));
    tally.excluded += page.objects.length - kept.length;
    const matched = kept.filter(options.inScope);
    tally.matched += matched.length;
    const verdicts = await options.decide(matched);
    const decided = matched.map((object, index): Decided => ({ object, verdict: verdicts[index] ?? { send: false, outcome: 'undecided' } }));
    for (const { verdict } of decided) tally.outcomes[verdict.outcome] = (tally.outcomes[verdict.outcome] ?? 0) + 1;
    options.onProgress?.(tally);
    const chosen = decided.filter(({ verdict }) => verdict.send);
    if (!(await sendChosen(sqs, options, chosen, tally, page.file))) return { tally, interrupted: true };
    const last = page.objects.at(-1);
    if (!options.send.dryRun && last !== undefined) options.onCheckpoint?.({ key: last.key, ...(page.file === undefined ? {} : { file: page.file }) });
    // Before the next page is listed.
    if (options.signal.aborted) return { tally, interrupted: true };
  }
  return { tally, interrupted: false };
}
