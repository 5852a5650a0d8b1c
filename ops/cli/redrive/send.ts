/**
 * Sends DLQ messages back to their source queue through worker/common/send-batches.ts, which owns the
 * batching within SQS's limits and the retry of failed entries.
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { SendBatchesError, sendMessageBatches, type BatchSender, type RetryOptions } from '../../../worker/common/send-batches.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../worker/queue/dead-letter.ts';

export interface RedriveSendResult {
  /** DLQ message ids now on the source queue. */
  readonly sentIds: readonly string[];
  /** Why the others were not sent; undefined when all were. */
  readonly error: unknown;
}

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
 * Sends the DLQ messages to the source queue with their own bodies and attributes, in batches within
 * SQS's limits; reports which were sent, so that exactly those are journaled.
 */
export async function sendToSourceQueue(
  sqs: BatchSender,
  queueUrl: string,
  messages: readonly Message[],
  retry: RetryOptions,
): Promise<RedriveSendResult> {
  const unique = [...new Map(messages.map((message) => [message.MessageId ?? '', message])).values()];
  const outgoing = unique.map((message) => ({ body: message.Body ?? '', attributes: redrivenAttributes(message.MessageAttributes) }));
  const ids = unique.map((message) => message.MessageId ?? '');
  try {
    await sendMessageBatches(sqs, queueUrl, outgoing, retry);
    return { sentIds: ids, error: undefined };
  } catch (error) {
    const unsent = new Set<number>(error instanceof SendBatchesError ? error.unsentIndexes : ids.keys());
    return { sentIds: ids.filter((_, index) => !unsent.has(index)), error };
  }
}
