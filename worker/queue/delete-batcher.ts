/**
 * Deletes finished messages ten to a request. A message whose work is done waits at most `windowMs`
 * for company, then goes out in one DeleteMessageBatch with whatever else finished meanwhile: one SDK
 * request instead of up to ten, on a worker whose small files cost mostly SDK requests.
 *
 * A delete that fails leaves its message to reappear after its visibility timeout and be processed
 * again, into the same output keys, as when a worker dies before deleting.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { errorMessage } from '../common/error-message.ts';
import { deleteMessageBatch } from '../common/sqs-delete-batch.ts';
import { SQS_MAX_BATCH_ENTRIES } from '../common/sqs-limits.ts';

export interface DeleteBatcherOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** How long a finished message may wait for others before its delete is sent alone. */
  readonly windowMs: number;
  readonly events: {
    deleted(count: number): void;
    deleteFailed(messageIds: readonly string[], error: string): void;
  };
}

export class DeleteBatcher {
  private readonly options: DeleteBatcherOptions;
  private waiting: Message[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly sending = new Set<Promise<void>>();

  constructor(options: DeleteBatcherOptions) {
    this.options = options;
  }

  /** Queues the delete of a message whose work is done. */
  add(message: Message): void {
    this.waiting.push(message);
    if (this.waiting.length >= SQS_MAX_BATCH_ENTRIES) this.sendWaiting();
    else this.timer ??= setTimeout(() => this.sendWaiting(), this.options.windowMs);
  }

  /** Sends every queued delete now and resolves when all deletes so far have been answered; never rejects. */
  async flush(): Promise<void> {
    this.sendWaiting();
    await Promise.all(this.sending);
  }

  private sendWaiting(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, SQS_MAX_BATCH_ENTRIES);
      const sent = this.send(batch).finally(() => this.sending.delete(sent));
      this.sending.add(sent);
    }
  }

  private async send(batch: readonly Message[]): Promise<void> {
    const { sqs, queueUrl, events } = this.options;
    try {
      const { deleted, failed } = await deleteMessageBatch(sqs, queueUrl, batch);
      if (deleted.length > 0) events.deleted(deleted.length);
      if (failed.length > 0) {
        events.deleteFailed(
          failed.map(({ message }) => message.MessageId ?? '?'),
          failed.map(({ code, detail }) => `${code}: ${detail}`.trim()).join('; '),
        );
      }
    } catch (error) {
      events.deleteFailed(
        batch.map((message) => message.MessageId ?? '?'),
        errorMessage(error),
      );
    }
  }
}
