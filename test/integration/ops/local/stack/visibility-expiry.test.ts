/**
 * Queue counts on the running local stack are what SQS would report: a message whose visibility
 * timeout has passed counts as visible (ApproximateNumberOfMessages) at once, with no receive in
 * between. fauxqs alone kept counting it as in flight until the next ReceiveMessage, so after a
 * peek at a DLQ its alert read "0 visible" for as long as nobody received.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { testClients, uniqueName } from '../../../../support/emulator.ts';

/** Past a visibility timeout or delay, a margin for the two clocks (the test's and the emulator's) and the request. */
const MARGIN_MS = 300;

interface Counts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

describe('queue counts on the local stack, as SQS reports them', () => {
  let clients: AwsClients;

  beforeAll(() => {
    clients = testClients();
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  async function createQueue(attributes: Record<string, string> = {}): Promise<{ url: string; arn: string; name: string }> {
    const name = uniqueName('counts');
    const { QueueUrl: url = '' } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const { Attributes = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    return { url, arn: Attributes['QueueArn'] ?? '', name };
  }

  async function countsOf(queueUrl: string): Promise<Counts> {
    const { Attributes = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return {
      visible: Number(Attributes['ApproximateNumberOfMessages']),
      inFlight: Number(Attributes['ApproximateNumberOfMessagesNotVisible']),
      delayed: Number(Attributes['ApproximateNumberOfMessagesDelayed']),
    };
  }

  /** Receives with a visibility timeout; resolves with the ids received and when their timeout is certainly over. */
  async function peek(queueUrl: string, visibilityTimeoutSeconds: number): Promise<{ messageIds: string[]; expiredAtMs: number }> {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: visibilityTimeoutSeconds }),
    );
    return { messageIds: Messages.map((message) => message.MessageId ?? ''), expiredAtMs: Date.now() + visibilityTimeoutSeconds * 1000 + MARGIN_MS };
  }

  async function sleepUntil(timeMs: number): Promise<void> {
    await delay(Math.max(0, timeMs - Date.now()));
  }

  it('counts a received message as visible again once its visibility timeout has passed, with no receive in between', async () => {
    // Prepare
    const queue = await createQueue();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'peeked' }));
    const { messageIds, expiredAtMs } = await peek(queue.url, 1);
    expect(messageIds).toHaveLength(1);
    expect(await countsOf(queue.url)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });

    // Act
    await sleepUntil(expiredAtMs);

    // Assess: GetQueueAttributes alone, as a gauge or an alarm reads it.
    expect(await countsOf(queue.url)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    // fauxqs's own inspection endpoint counts the same way.
    const inspected = (await (await fetch(`${process.env['IOT_TEST_ENDPOINT']}/_fauxqs/queues/${queue.name}`)).json()) as {
      messages: { ready: unknown[]; inflight: unknown[] };
    };
    expect({ ready: inspected.messages.ready.length, inflight: inspected.messages.inflight.length }).toEqual({ ready: 1, inflight: 0 });
  });

  it('after a peek at a DLQ, counts its messages as visible again once the peek is over, so an alert on them cannot resolve', async () => {
    // Prepare: a queue whose messages go to the DLQ on their second receive.
    const dlq = await createQueue();
    const source = await createQueue({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }) });
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'poison' }));
    const firstReceive = await peek(source.url, 1);
    expect(firstReceive.messageIds).toHaveLength(1);
    await sleepUntil(firstReceive.expiredAtMs);
    expect(await countsOf(source.url)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    const secondReceive = await peek(source.url, 1);
    expect(secondReceive.messageIds).toEqual([]); // moved to the DLQ instead of delivered
    expect(await countsOf(dlq.url)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });

    // Act: an operator's peek at the DLQ.
    const dlqPeek = await peek(dlq.url, 2);
    expect(dlqPeek.messageIds).toEqual(firstReceive.messageIds);
    expect(await countsOf(dlq.url)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    await sleepUntil(dlqPeek.expiredAtMs);

    // Assess
    expect(await countsOf(dlq.url)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    expect(await countsOf(source.url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('counts a delayed message as visible once its delay is over, with no receive in between', async () => {
    const queue = await createQueue();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'later', DelaySeconds: 1 }));
    const delayOverAtMs = Date.now() + 1000 + MARGIN_MS;
    expect(await countsOf(queue.url)).toEqual({ visible: 0, inFlight: 0, delayed: 1 });

    await sleepUntil(delayOverAtMs);

    expect(await countsOf(queue.url)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
  });
});
