/**
 * The record of what `dlq drop` deleted, so that nothing leaves the DLQ without a trace: JSON Lines,
 * one object per message with its id, whole body, message attributes (binary values in base64), SQS
 * attributes (ApproximateReceiveCount, SentTimestamp, …), the recorded failure reason and the time.
 * A batch's lines are written and fsynced before the DeleteMessageBatch that drops it; a message that
 * then could not be deleted gets a `notDropped` line after it (it is still in the DLQ).
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { recordedReasonOf } from '../dead-letter-reasons.ts';
import { syncDirectoryOf } from '../sync-directory.ts';

export interface DroppedMessageRecord {
  readonly messageId: string;
  readonly dlqUrl: string;
  /** ISO 8601, UTC: when it was journaled, just before its delete. */
  readonly droppedAt: string;
  /** The worker's `ingest-failure-reason`; null when none was recorded. */
  readonly reason: string | null;
  readonly body: string;
  readonly messageAttributes: Record<string, { readonly DataType: string; readonly StringValue?: string; readonly BinaryValue?: string }>;
  readonly attributes: Record<string, string>;
}

export interface DropJournal {
  readonly path: string;
  /** Appends one line per message; durable (fsynced) when it resolves. */
  recordDropping(messages: readonly Message[], dlqUrl: string, nowMs: number): Promise<void>;
  /** Appends that these were journaled but are still in the DLQ, and why. */
  recordNotDropped(messageIds: readonly string[], why: string): Promise<void>;
  close(): Promise<void>;
}

/** `dlq-dropped-20261202T103339Z.jsonl` in `directory`. */
export function defaultDropJournalPath(directory: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return join(directory, `dlq-dropped-${stamp}.jsonl`);
}

function journaledAttributes(attributes: Record<string, MessageAttributeValue> | undefined): DroppedMessageRecord['messageAttributes'] {
  return Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, value]) => [
      name,
      {
        DataType: value.DataType ?? 'String',
        ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
        ...(value.BinaryValue === undefined ? {} : { BinaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      },
    ]),
  );
}

export function droppedMessageRecord(message: Message, dlqUrl: string, nowMs: number): DroppedMessageRecord {
  return {
    messageId: message.MessageId ?? '',
    dlqUrl,
    droppedAt: new Date(nowMs).toISOString(),
    reason: recordedReasonOf(message) ?? null,
    body: message.Body ?? '',
    messageAttributes: journaledAttributes(message.MessageAttributes),
    attributes: { ...message.Attributes },
  };
}


/** Opens (creating, or appending to) the journal; readable by its owner only, as the bodies may be private. */
export async function openDropJournal(path: string): Promise<DropJournal> {
  const handle = await open(path, 'a', 0o600);
  await syncDirectoryOf(path);
  const append = async (lines: readonly object[]) => {
    if (lines.length === 0) return;
    await handle.write(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    await handle.sync();
  };
  return {
    path,
    recordDropping: (messages, dlqUrl, nowMs) => append(messages.map((message) => droppedMessageRecord(message, dlqUrl, nowMs))),
    recordNotDropped: (messageIds, why) => append(messageIds.length === 0 ? [] : [{ notDropped: messageIds, why }]),
    close: () => handle.close(),
  };
}
