/**
 * Drops the selected DLQ messages, each one journaled (fsynced) before the DeleteMessageBatch that
 * deletes it; with `dryRun`, only lists them. The pass over the DLQ is ops/cli/dead-letter-scan.ts:
 * only messages present at the start are considered, the others are made visible again at the end.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { errorMessage } from '../../../worker/common/error-message.ts';
import { deleteMessageBatch } from '../../../worker/common/sqs-delete-batch.ts';
import type { Clock } from '../context.ts';
import { describeDeadLetter, type DeadLetterDescription } from '../dead-letter-description.ts';
import { scanDeadLetterQueue, type ScanEnding } from '../dead-letter-scan.ts';
import { selects, type DeadLetterSelector } from '../dead-letter-selector.ts';
import { releaseMessages } from '../peek-messages.ts';
import type { DropJournal } from './journal.ts';

export interface DropOptions {
  readonly dlqUrl: string;
  readonly selector: DeadLetterSelector;
  readonly dryRun: boolean;
  readonly startedAtMs: number;
  readonly signal: AbortSignal;
  readonly maxReceives: number;
  readonly clock: Clock;
  /** Opened at the first batch to drop, so that a drop that finds nothing leaves no file. */
  readonly openJournal: () => Promise<DropJournal>;
  readonly receiveWaitSeconds?: number;
}

export interface DropOutcome {
  readonly stoppedBy: ScanEnding | 'failed';
  /** Dropped, or with `dryRun` those that would be. */
  readonly messages: readonly DeadLetterDescription[];
  readonly notSelected: number;
  readonly arrivedDuringRun: number;
  readonly receives: number;
  readonly journal: string | undefined;
  readonly error: string | undefined;
}

/** A batch could not be dropped whole; what was dropped before is in the outcome. */
class DropBatchError extends Error {
  override readonly name = 'DropBatchError';
}

async function releaseQuietly(sqs: SQSClient, dlqUrl: string, messages: readonly Message[]): Promise<void> {
  await releaseMessages(sqs, dlqUrl, messages).catch(() => undefined);
}

export async function dropMessages(sqs: SQSClient, options: DropOptions): Promise<DropOutcome> {
  const { dlqUrl } = options;
  const listed: DeadLetterDescription[] = [];
  let journal: DropJournal | undefined;
  let scanned = { notSelected: 0, arrivedDuringRun: 0, receives: 0 };

  const journalFor = async (batch: readonly Message[]): Promise<DropJournal> => {
    try {
      journal ??= await options.openJournal();
      await journal.recordDropping(batch, dlqUrl, options.clock.now());
      return journal;
    } catch (error) {
      await releaseQuietly(sqs, dlqUrl, batch);
      throw new DropBatchError(`could not write the journal (${errorMessage(error)}); this batch of ${batch.length} was not deleted`, { cause: error });
    }
  };

  const dropBatch = async (batch: readonly Message[]): Promise<readonly Message[]> => {
    if (options.dryRun) {
      listed.push(...batch.map((message) => describeDeadLetter(message)));
      return batch;
    }
    const written = await journalFor(batch);
    let outcome: Awaited<ReturnType<typeof deleteMessageBatch>>;
    try {
      outcome = await deleteMessageBatch(sqs, dlqUrl, batch);
    } catch (error) {
      outcome = { deleted: [], failed: batch.map((message) => ({ message, code: errorMessage(error), detail: '' })) };
    }
    listed.push(...outcome.deleted.map((message) => describeDeadLetter(message)));
    if (outcome.failed.length === 0) return [];
    const codes = [...new Set(outcome.failed.map(({ code }) => code))].join(', ');
    const why = `${outcome.failed.length} message(s) could not be deleted (${codes}); they are still in the DLQ`;
    await written.recordNotDropped(outcome.failed.map(({ message }) => message.MessageId ?? ''), why).catch(() => undefined);
    await releaseQuietly(sqs, dlqUrl, outcome.failed.map(({ message }) => message));
    throw new DropBatchError(`${why}, marked notDropped in the journal`);
  };

  const result = (stoppedBy: DropOutcome['stoppedBy'], error: string | undefined): DropOutcome => ({
    stoppedBy,
    messages: listed,
    ...scanned,
    journal: journal?.path,
    error,
  });
  try {
    const scan = await scanDeadLetterQueue(
      sqs,
      {
        dlqUrl,
        select: (message) => selects(options.selector, message),
        startedAtMs: options.startedAtMs,
        signal: options.signal,
        maxReceives: options.maxReceives,
        ...(options.receiveWaitSeconds === undefined ? {} : { receiveWaitSeconds: options.receiveWaitSeconds }),
      },
      dropBatch,
    );
    scanned = { notSelected: scan.notSelected, arrivedDuringRun: scan.arrivedDuringRun, receives: scan.receives };
    return result(scan.stoppedBy, undefined);
  } catch (error) {
    return result('failed', error instanceof DropBatchError ? error.message : errorMessage(error));
  } finally {
    await journal?.close();
  }
}
