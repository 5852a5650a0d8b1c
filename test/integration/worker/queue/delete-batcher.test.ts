import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { DeleteBatcher } from '../../../../worker/queue/delete-batcher.ts';
import { testClients, uniqueName, waitFor } from '../../../support/emulator.ts';

async function queueWith(sqs: SQSClient, count: number): Promise<string> {
  const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('deletes') }));
  if (queueUrl === undefined) throw new Error('no queue URL');
  for (let first = 0; first < count; first += 10) {
    const entries = Array.from({ length: Math.min(10, count - first) }, (_, index) => ({ Id: String(index), MessageBody: `message ${first + index}` }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
  return queueUrl;
}

async function receiveExactly(sqs: SQSClient, queueUrl: string, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let round = 0; round < 20 && messages.length < count; round += 1) {
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
    messages.push(...(received.Messages ?? []));
  }
  expect(messages).toHaveLength(count);
  return messages;
}

async function messagesLeft(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.ApproximateNumberOfMessages) + Number(attributes.ApproximateNumberOfMessagesNotVisible);
}

/** A batcher whose events and DeleteMessageBatch requests the test can read. */
function observedBatcher(sqs: SQSClient, queueUrl: string, windowMs: number) {
  const deleted: number[] = [];
  const failed: Array<{ ids: readonly string[]; error: string }> = [];
  const batcher = new DeleteBatcher({
    sqs,
    queueUrl,
    windowMs,
    events: {
      deleted: (count) => deleted.push(count),
      deleteFailed: (ids, error) => failed.push({ ids, error }),
    },
  });
  return { batcher, deleted, failed };
}

describe('DeleteBatcher on the emulator', () => {
  let clients: AwsClients;
  const requestSizes: number[] = [];

  beforeAll(() => {
    clients = testClients();
    clients.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteMessageBatchCommand') requestSizes.push((args.input as { Entries: unknown[] }).Entries.length);
        return next(args);
      },
      { step: 'initialize' },
    );
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  it('deletes 25 finished messages in three requests of at most ten', async () => {
    const queueUrl = await queueWith(clients.sqs, 25);
    const messages = await receiveExactly(clients.sqs, queueUrl, 25);
    const { batcher, deleted, failed } = observedBatcher(clients.sqs, queueUrl, 60_000);
    requestSizes.length = 0;

    for (const message of messages) batcher.add(message);
    await batcher.flush();

    expect(requestSizes).toStrictEqual([10, 10, 5]);
    expect(deleted.reduce((sum, count) => sum + count, 0)).toBe(25);
    expect(failed).toStrictEqual([]);
    expect(await messagesLeft(clients.sqs, queueUrl)).toBe(0);
  });

  it('sends a lone delete when its window ends, without a flush', async () => {
    const queueUrl = await queueWith(clients.sqs, 1);
    const [message] = await receiveExactly(clients.sqs, queueUrl, 1);
    const { batcher, deleted } = observedBatcher(clients.sqs, queueUrl, 20);

    batcher.add(message as Message);

    await waitFor(() => Promise.resolve(deleted.length > 0 ? true : undefined), { what: 'the delete', timeoutMs: 5_000, intervalMs: 10 });
    expect(deleted).toStrictEqual([1]);
    expect(await messagesLeft(clients.sqs, queueUrl)).toBe(0);
  });

  it('reports every message of a request that failed as a whole, and flush still resolves', async () => {
    const missingQueue = `${(await queueWith(clients.sqs, 0)).replace(/[^/]+$/, '')}${uniqueName('missing')}`;
    const { batcher, deleted, failed } = observedBatcher(clients.sqs, missingQueue, 60_000);

    batcher.add({ MessageId: 'm-1', ReceiptHandle: 'r-1' });
    batcher.add({ MessageId: 'm-2', ReceiptHandle: 'r-2' });
    await batcher.flush();

    expect(deleted).toStrictEqual([]);
    expect(failed.map(({ ids }) => ids)).toStrictEqual([['m-1', 'm-2']]);
  });
});
