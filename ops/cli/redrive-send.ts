/**
 * Sends DLQ messages back to their source queue through trigger/send-batches.ts, which owns the
 * batching and the retry of failed entries. That module sends object messages, so each entry goes in
 * as a placeholder whose key is the DLQ message id; the sender below swaps in the DLQ message's own
 * body and attributes, and notes which entries SQS accepted, so that exactly those are journaled.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { sendObjectMessages, type BatchSender, type RetryOptions } from '../../trigger/send-batches.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../worker/dead-letter.ts';
import { objectMessage } from '../../worker/object-message.ts';

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
  const placeholders = [...byId.keys()].map((messageId) => objectMessage({ bucket: PLACEHOLDER_BUCKET, key: messageId }));
  try {
    await sendObjectMessages(sender, queueUrl, placeholders, retry);
    return { sentIds, error: undefined };
  } catch (error) {
    return { sentIds, error };
  }
}
