/** One DeleteMessageBatch request and what came of each message in it. */
import { DeleteMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

export interface DeleteBatchOutcome {
  readonly deleted: readonly Message[];
  readonly failed: ReadonlyArray<{ readonly message: Message; readonly code: string; readonly detail: string }>;
}

/** Deletes at most SQS_MAX_BATCH_ENTRIES (sqs-limits.ts) messages in one request; throws only when the request as a whole fails. */
export async function deleteMessageBatch(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<DeleteBatchOutcome> {
  if (messages.length === 0) return { deleted: [], failed: [] };
  const output = await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      // Entry ids only need to be unique within the request.
      Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
    }),
  );
  const succeeded = new Set((output.Successful ?? []).map(({ Id }) => Id));
  return {
    deleted: messages.filter((_, index) => succeeded.has(String(index))),
    failed: (output.Failed ?? []).flatMap((entry) => {
      const message = messages[Number(entry.Id)];
      return message === undefined ? [] : [{ message, code: entry.Code ?? 'unknown', detail: entry.Message ?? '' }];
    }),
  };
}
