/**
 * Moves DLQ messages back to the source queue from this process, for endpoints without
 * StartMessageMoveTask. Per batch: receive from the DLQ, send what the journal does not know
 * (same body and attributes, minus the worker's ingest-failure-* ones), journal the sent ids
 * (fsynced), then delete from the DLQ and journal the deletion. A message whose id is in the
 * journal was sent by an earlier, interrupted run: it is deleted without being sent again.
 *
 * Never loses a message: nothing is deleted before its copy is on the source queue. The one window
 * for a duplicate is a crash between a send and its journal write; the worker's processing is
 * idempotent, so a duplicate costs only work.
 *
 * The pass over the DLQ is ops/cli/dead-letter-scan.ts: only messages that were in the DLQ when the
 * run started, and that `select` takes, are moved; the others stay, visible again at the end.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { RetryOptions } from '../../../worker/common/send-batches.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import type { RedriveJournal } from './journal.ts';
import { releaseMessages } from '../peek-messages.ts';
import { sendToSourceQueue } from './send.ts';
import { errorMessage } from '../../../worker/common/error-message.ts';
import { deleteMessageBatch } from '../../../worker/common/sqs-delete-batch.ts';
import { scanDeadLetterQueue, SCAN_ENDINGS, type ScanEnding } from '../dead-letter-scan.ts';

export interface ClientSideRedriveOptions {
  readonly dlqUrl: string;
  readonly destinationUrl: string;
  /** Messages to move at most; all when undefined. */
  readonly limit: number | undefined;
  /** Which messages to move (by default all). */
  readonly select?: (message: Message) => boolean;
  /** Bound on receives from the DLQ: ops/cli/dead-letter-scan.ts `receiveBudget`. */
  readonly maxReceives: number;
  readonly journal: RedriveJournal;
  readonly rateLimiter: RateLimiter;
  readonly retry: RetryOptions;
  /** Checked between batches: a batch in hand is always finished first. */
  readonly signal: AbortSignal;
  /** When the run started (epoch ms): a message with a later SentTimestamp arrived during the run and stays. */
  readonly startedAtMs: number;
  /** How long a received batch stays hidden; far above the time one batch takes. */
  readonly visibilityTimeoutSeconds?: number;
  readonly receiveWaitSeconds?: number;
  readonly onBatch?: (tally: RedriveTally) => void;
}

export interface RedriveTally {
  /** Deleted from the DLQ, their copy on the source queue. */
  moved: number;
  /** Of those, sent by this run. */
  sent: number;
  /** Of those, sent by an earlier run (found in the journal) and only deleted now. */
  finishedFromJournal: number;
  /** Sent to the DLQ after the run started, and left there. */
  arrivedDuringRun: number;
  /** In the DLQ at the start but not selected (`--reason`), and left there. */
  notSelected: number;
}

export const STOP_REASONS = SCAN_ENDINGS;
export type StopReason = ScanEnding;

export interface ClientSideRedriveResult {
  readonly tally: RedriveTally;
  readonly stoppedBy: StopReason;
}

/** A batch could not be moved whole; the tally says what was done before. Rerunning is safe. */
export class RedriveError extends Error {
  readonly tally: RedriveTally;

  constructor(message: string, tally: RedriveTally, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RedriveError';
    this.tally = tally;
  }
}


/** Deletes the messages; returns the ids deleted and a description of any that were not. */
async function deleteBatch(sqs: SQSClient, dlqUrl: string, messages: readonly Message[]): Promise<{ deletedIds: string[]; problem?: string }> {
  const { deleted, failed } = await deleteMessageBatch(sqs, dlqUrl, messages);
  const deletedIds = deleted.map((message) => message.MessageId ?? '');
  if (failed.length === 0) return { deletedIds };
  const codes = [...new Set(failed.map(({ code }) => code))].join(', ');
  return { deletedIds, problem: `${failed.length} message(s) could not be deleted from the DLQ (${codes})` };
}

async function releaseQuietly(sqs: SQSClient, dlqUrl: string, messages: readonly Message[]): Promise<void> {
  // Only to let a rerun see them at once; otherwise they return after their visibility timeout.
  await releaseMessages(sqs, dlqUrl, messages).catch(() => undefined);
}

async function moveBatch(sqs: SQSClient, options: ClientSideRedriveOptions, batch: readonly Message[], tally: RedriveTally): Promise<void> {
  const { journal, dlqUrl } = options;
  const idOf = (message: Message) => message.MessageId ?? '';
  const sentBefore = batch.filter((message) => journal.has(idOf(message)));
  const fresh = batch.filter((message) => !journal.has(idOf(message)));

  const { sentIds, error: sendError } = await sendToSourceQueue(sqs, options.destinationUrl, fresh, options.retry);
  try {
    await journal.recordSent(sentIds);
  } catch (error) {
    await releaseQuietly(sqs, dlqUrl, batch);
    throw new RedriveError(
      `could not write the journal ${journal.path} (${errorMessage(error)}); ${sentIds.length} message(s) were sent but stay in the DLQ, and a rerun sends them again`,
      tally,
      { cause: error },
    );
  }

  const sentNow = new Set(sentIds);
  const toDelete = [...sentBefore, ...fresh.filter((message) => sentNow.has(idOf(message)))];
  let deletion: { deletedIds: string[]; problem?: string };
  try {
    deletion = await deleteBatch(sqs, dlqUrl, toDelete);
  } catch (error) {
    deletion = { deletedIds: [], problem: `deleting from the DLQ failed (${errorMessage(error)})` };
  }
  await journal.recordDeleted(deletion.deletedIds);
  const deleted = new Set(deletion.deletedIds);
  tally.moved += deleted.size;
  tally.sent += sentIds.filter((id) => deleted.has(id)).length;
  tally.finishedFromJournal += sentBefore.filter((message) => deleted.has(idOf(message))).length;

  const leftInDlq = batch.filter((message) => !deleted.has(idOf(message)));
  if (leftInDlq.length === 0) return;
  await releaseQuietly(sqs, dlqUrl, leftInDlq);
  const problems = [
    sendError === undefined ? undefined : `${fresh.length - sentIds.length} message(s) could not be sent (${errorMessage(sendError)}); they stay in the DLQ`,
    deletion.problem === undefined ? undefined : `${deletion.problem}; they are in the journal, and a rerun deletes them without sending them again`,
  ].filter((problem) => problem !== undefined);
  throw new RedriveError(problems.join('; '), tally, { cause: sendError });
}

export async function redriveClientSide(sqs: SQSClient, options: ClientSideRedriveOptions): Promise<ClientSideRedriveResult> {
  const tally: RedriveTally = { moved: 0, sent: 0, finishedFromJournal: 0, arrivedDuringRun: 0, notSelected: 0 };
  let handled = 0;
  const scan = await scanDeadLetterQueue(
    sqs,
    {
      dlqUrl: options.dlqUrl,
      select: options.select ?? (() => true),
      startedAtMs: options.startedAtMs,
      signal: options.signal,
      maxReceives: options.maxReceives,
      ...(options.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
      ...(options.receiveWaitSeconds === undefined ? {} : { receiveWaitSeconds: options.receiveWaitSeconds }),
      nextBatchSize: () => (options.limit ?? Infinity) - handled,
      beforeReceive: (count) => options.rateLimiter.take(count, options.signal),
    },
    async (batch) => {
      handled += batch.length;
      await moveBatch(sqs, options, batch, tally);
      options.onBatch?.(tally);
      return [];
    },
  );
  tally.arrivedDuringRun = scan.arrivedDuringRun;
  tally.notSelected = scan.notSelected;
  return { tally, stoppedBy: scan.stoppedBy };
}
