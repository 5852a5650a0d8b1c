/**
 * Reads messages without consuming them: receive with a short visibility timeout (so that no message
 * comes back twice while collecting), then set every one's visibility back to 0 at once, even when
 * the collecting failed. Each read still counts as a receive in ApproximateReceiveCount.
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { inGroupsOf } from '../../worker/common/in-groups.ts';

export interface PeekOptions {
  readonly count: number;
  /** Long enough to collect `count` messages; they are released at the end anyway. */
  readonly visibilityTimeoutSeconds?: number;
  /** A long poll finds messages a short poll may miss on SQS's servers. */
  readonly waitTimeSeconds?: number;
  /** Upper bound on ReceiveMessage calls; by default twice what `count` needs, plus one. */
  readonly maxReceives?: number;
}

const MAX_PER_RECEIVE = 10;
/** A pass over a large DLQ may release thousands at the end: a few requests at a time, not all at once. */
const RELEASES_IN_PARALLEL = 8;

export async function peekMessages(sqs: SQSClient, queueUrl: string, options: PeekOptions): Promise<Message[]> {
  const { count, visibilityTimeoutSeconds = 30, waitTimeSeconds = 1 } = options;
  const maxReceives = options.maxReceives ?? 2 * Math.ceil(count / MAX_PER_RECEIVE) + 1;
  const byId = new Map<string, Message>();
  try {
    for (let receives = 0; byId.size < count && receives < maxReceives; receives += 1) {
      const { Messages: messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(MAX_PER_RECEIVE, count - byId.size),
          VisibilityTimeout: visibilityTimeoutSeconds,
          WaitTimeSeconds: waitTimeSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (messages.length === 0) break;
      // A message seen again keeps its latest receipt handle, the one that can release it.
      for (const message of messages) byId.set(message.MessageId ?? message.ReceiptHandle ?? '', message);
    }
  } finally {
    await releaseMessages(sqs, queueUrl, [...byId.values()]);
  }
  return [...byId.values()];
}

/** Makes the messages visible again at once; throws if any could not be released. */
export async function releaseMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  const batches = inGroupsOf(messages, MAX_PER_RECEIVE);
  const limit = pLimit(RELEASES_IN_PARALLEL);
  const release = (batch: readonly Message[]) =>
    sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  const outputs = await Promise.all(batches.map((batch) => limit(() => release(batch))));
  const failed = outputs.flatMap((output) => output.Failed ?? []);
  if (failed.length > 0) {
    const codes = [...new Set(failed.map((entry) => entry.Code ?? 'unknown'))].join(', ');
    throw new Error(`${failed.length} message(s) could not be made visible again (${codes}); they return after their visibility timeout`);
  }
}
