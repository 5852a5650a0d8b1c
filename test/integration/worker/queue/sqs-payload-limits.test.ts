/**
 * Messages near SQS's 1 MiB limit, against the local stack, which refuses what SQS refuses: a client-side
 * redrive of large DLQ messages, and dead-lettering a large message with its reason attached.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { sendToSourceQueue } from '../../../../ops/cli/redrive/send.ts';
import { DEAD_LETTER_ATTRIBUTES, sendToDeadLetterQueue } from '../../../../worker/queue/dead-letter.ts';
import { SQS_MAX_PAYLOAD_BYTES } from '../../../../worker/common/sqs-limits.ts';
import { createTestStack, receiveAll, testClients } from '../../../support/emulator.ts';

const clients = testClients();
const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleep: () => Promise.resolve() };

afterAll(() => {
  clients.s3.destroy();
  clients.sqs.destroy();
});

describe('messages near SQS’s 1 MiB limit', () => {
  it('redrives ten DLQ messages of 200 KB each client-side in batches that stay within 1 MiB', async () => {
    // Prepare: ten of them in one SendMessageBatch would be 2 MB, which SQS refuses whole.
    const resources = await createTestStack(clients);
    const dead: Message[] = Array.from({ length: 10 }, (_, index) => ({
      MessageId: `dead-${index}`,
      Body: JSON.stringify({ index, padding: 'x'.repeat(200_000) }),
      MessageAttributes: { [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: 'unexpected_error' } },
    }));
    // Act
    const result = await sendToSourceQueue(clients.sqs, resources.queueUrl, dead, retry);
    // Assess
    expect(result.error).toBeUndefined();
    expect([...result.sentIds].sort()).toEqual(dead.map((message) => message.MessageId).sort());
    const bodies = await receiveAll(clients.sqs, resources.queueUrl);
    expect(bodies.map((body) => (JSON.parse(body) as { index: number }).index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('dead-letters a message of almost 1 MiB, keeping its reason and leaving out the detail that does not fit', async () => {
    // Prepare
    const resources = await createTestStack(clients);
    const body = 'x'.repeat(SQS_MAX_PAYLOAD_BYTES - 100);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: body }));
    // The pipeline's own s3:TestEvent is on the queue too.
    const { Messages: messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: resources.queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
    );
    const received = messages.find((message) => message.Body === body);
    expect(received).toBeDefined();
    // Act
    await sendToDeadLetterQueue(clients.sqs, resources.dlqUrl, received!, 'not_json', 'not_json: the body is not JSON '.repeat(20));
    // Assess
    const { Messages: [dead] = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: resources.dlqUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    expect(dead?.Body === body).toBe(true);
    expect(dead?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('not_json');
    expect(dead?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.detail]).toBeUndefined();
  });
});
