/**
 * Sends DLQ messages back to their source queue through worker/common/send-batches.ts, which owns the
 * batching and the retry of failed entries. That module sends object messages, so each entry goes in
 * as a placeholder whose key is the DLQ message id; the sender below swaps in the DLQ message's own
 * body and attributes, and notes which entries SQS accepted, so that exactly those are journaled.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { sendObjectMessages, type BatchSender, type RetryOptions } from '../../../worker/common/send-batches.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../worker/queue/dead-letter.ts';
import { objectMessage } from '../../../worker/common/object-message.ts';
import { SQS_MAX_BATCH_ENTRIES } from '../../../worker/common/sqs-delete-batch.ts';
import { SQS_MAX_PAYLOAD_BYTES, sqsMessageBytes } from '../../../worker/common/sqs-message-size.ts';

export interface RedriveSendResult {
  /** DLQ message ids now on the source queue. */
  readonly sentIds: readonly string[];
  /** Why the others were not sent; undefined when all were. */
  readonly error: unknown;
}

const PLACEHOLDER_BUCKET = 'redrive-placeholder';
const WORKER_ATTRIBUTES: ReadonlySet<string> = new Set(Object.values(DEAD_LETTER_ATTRIBUTES));

/** The attributes to send again: the worker's record of why it dead-lettered the message is dropped. */
export function redrivenAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  const kept = Object.entries(attributes ?? {})
    .filter(([name]) => !WORKER_ATTRIBUTES.has(name))
    .map(([name, value]): [string, MessageAttributeValue] => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
        ...(value.BinaryValue === undefined ? {} : { BinaryValue: value.BinaryValue }),
      },
    ]);
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

/**
 * Groups of at most 10 messages and 1 MiB in all, as SendMessageBatch takes them: ten DLQ messages of
 * 200 KB each would be refused whole (BatchRequestTooLong).
 */
export function batchesWithinLimits(messages: readonly Message[]): Message[][] {
  const batches: Message[][] = [];
  let batch: Message[] = [];
  let batchBytes = 0;
  for (const message of messages) {
    const bytes = sqsMessageBytes(message.Body ?? '', redrivenAttributes(message.MessageAttributes));
    if (batch.length === SQS_MAX_BATCH_ENTRIES || (batch.length > 0 && batchBytes + bytes > SQS_MAX_PAYLOAD_BYTES)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(message);
    batchBytes += bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function placeholderKey(body: string | undefined): string {
  const { key } = JSON.parse(body ?? '{}') as { key?: unknown };
  if (typeof key !== 'string') throw new Error('a redrive entry lost its placeholder');
  return key;
}

export async function sendToSourceQueue(
  sqs: BatchSender,
  queueUrl: string,
  messages: readonly Message[],
  retry: RetryOptions,
): Promise<RedriveSendResult> {
  const byId = new Map(messages.map((message) => [message.MessageId ?? '', message]));
  const sentIds: string[] = [];
  const sender: BatchSender = {
    async send(command) {
      const messageIdOfEntry = new Map<string, string>();
      const entries = (command.input.Entries ?? []).map((entry): SendMessageBatchRequestEntry => {
        const messageId = placeholderKey(entry.MessageBody);
        const original = byId.get(messageId);
        if (original === undefined) throw new Error(`a redrive entry names an unknown DLQ message ${messageId}`);
        messageIdOfEntry.set(entry.Id ?? '', messageId);
        const attributes = redrivenAttributes(original.MessageAttributes);
        return { Id: entry.Id, MessageBody: original.Body ?? '', ...(attributes ? { MessageAttributes: attributes } : {}) };
      });
      const output = await sqs.send(new SendMessageBatchCommand({ QueueUrl: command.input.QueueUrl, Entries: entries }));
      for (const { Id } of output.Successful ?? []) {
        const messageId = messageIdOfEntry.get(Id ?? '');
        if (messageId !== undefined) sentIds.push(messageId);
      }
      return output;
    },
  };
  // One call per batch that fits, so that the sender's own batches of 10 never exceed SQS's 1 MiB.
  let firstError: unknown;
  for (const batch of batchesWithinLimits([...byId.values()])) {
    const placeholders = batch.map((message) => objectMessage({ bucket: PLACEHOLDER_BUCKET, key: message.MessageId ?? '' }));
    try {
      await sendObjectMessages(sender, queueUrl, placeholders, retry);
    } catch (error) {
      firstError ??= error;
    }
  }
  return { sentIds, error: firstError };
}
