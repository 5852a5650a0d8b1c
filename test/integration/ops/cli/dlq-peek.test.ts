/** `dlq peek` shows what is in the DLQ and why, and consumes nothing. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DeadLetterDescription } from '../../../../ops/cli/dead-letter-description.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { objectMessage } from '../../../../worker/common/object-message.ts';
import { createTestStack, receiveAll, testClients, waitFor } from '../../../support/emulator.ts';
import { pipelineEnv, runOps, seedQueue, text } from '../../../support/cli-harness.ts';

let clients: AwsClients;

beforeAll(() => {
  clients = testClients();
});

afterAll(() => {
  destroyAwsClients(clients);
});

interface PeekJson {
  dlqUrl: string;
  messages: DeadLetterDescription[];
}

describe('dlq peek', () => {
  it('lists distinct messages with their objects and reasons, and leaves the DLQ exactly as it was', async () => {
    const resources = await createTestStack(clients, { maxReceiveCount: 2 });
    await receiveAll(clients.sqs, resources.queueUrl);
    const bodies = ['x.jsonl', 'y.jsonl', 'z.jsonl'].map((key) => JSON.stringify(objectMessage({ bucket: resources.rawBucket, key })));
    await seedQueue(clients.sqs, resources.dlqUrl, [
      { body: bodies[0] ?? '', attributes: { 'ingest-failure-reason': text('corrupt_gzip'), 'ingest-failure-detail': text('bad gzip') } },
      { body: bodies[1] ?? '' },
      { body: 'not json at all', attributes: { 'ingest-failure-reason': text('not_json') } },
    ]);
    // One message dead-lettered by SQS's redrive policy, as after repeated transient failures.
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: bodies[2] }));
    await waitFor(
      async () => {
        await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: resources.queueUrl, VisibilityTimeout: 0 }));
        const { Attributes = {} } = await clients.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: resources.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
        return Attributes.ApproximateNumberOfMessages === '4' ? true : undefined;
      },
      { what: 'the redrive policy to move the message' },
    );

    const all = await runOps(['dlq', 'peek', '--json'], { env: pipelineEnv(resources) });
    const few = await runOps(['dlq', 'peek', '-n', '2', '--json'], { env: pipelineEnv(resources) });
    const human = await runOps(['dlq', 'peek'], { env: pipelineEnv(resources) });

    expect(few.exitCode).toBe(0);
    expect(few.json<PeekJson>().messages).toHaveLength(2);
    const messages = all.json<PeekJson>().messages;
    expect(new Set(messages.map((message) => message.messageId)).size).toBe(4);
    const byBody = (key: string) => messages.find((message) => message.content.kind === 'objects' && message.content.objects[0]?.key === key);
    expect(byBody('x.jsonl')?.failure).toEqual({ by: 'worker', reason: 'corrupt_gzip', detail: 'bad gzip' });
    // Put straight into the DLQ: never received before, so SQS counts only this peek's receive.
    expect(byBody('y.jsonl')).toMatchObject({ receiveCount: 1, failure: { by: 'redrive-policy' } });
    // Moved by SQS after two receives from the ingest queue: those count too, and so does the peek's.
    expect(byBody('z.jsonl')?.failure).toEqual({ by: 'redrive-policy' });
    expect(byBody('z.jsonl')?.receiveCount).toBeGreaterThanOrEqual(3);
    expect(byBody('z.jsonl')?.content).toEqual({ kind: 'objects', objects: [{ bucket: resources.rawBucket, key: 'z.jsonl' }] });
    expect(messages.find((message) => message.content.kind === 'unreadable')?.failure).toMatchObject({ by: 'worker', reason: 'not_json' });
    expect(human.stdout).toContain(`s3://${resources.rawBucket}/x.jsonl`);
    expect(human.stdout).toContain('why: worker: corrupt_gzip (bad gzip)');
    expect(human.stdout).toContain('why: no reason recorded: most likely moved by SQS after maxReceiveCount receives');

    const { Attributes = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: resources.dlqUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '4', ApproximateNumberOfMessagesNotVisible: '0' });
    expect((await receiveAll(clients.sqs, resources.dlqUrl)).sort()).toEqual([...bodies, 'not json at all'].sort());
  });

  it('shows in text and in --json the receive count SQS returned to that very peek', async () => {
    const resources = await createTestStack(clients);
    await receiveAll(clients.sqs, resources.queueUrl);
    await seedQueue(clients.sqs, resources.dlqUrl, [{ body: 'dead', attributes: { 'ingest-failure-reason': text('not_json') } }]);

    // Each peek is one more receive: text, then JSON, then text again, then a plain SDK receive.
    const firstText = await runOps(['dlq', 'peek'], { env: pipelineEnv(resources) });
    const json = await runOps(['dlq', 'peek', '--json'], { env: pipelineEnv(resources) });
    const secondText = await runOps(['dlq', 'peek'], { env: pipelineEnv(resources) });
    const { Messages: [direct] = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: resources.dlqUrl, VisibilityTimeout: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );

    const [peeked] = json.json<PeekJson>().messages;
    expect(firstText.stdout).toContain(`${peeked?.messageId}  (receive count 1,`);
    expect(peeked?.receiveCount).toBe(2);
    expect(JSON.stringify(peeked)).not.toMatch(/"receiveCount":(?!2)/);
    expect(secondText.stdout).toContain('(receive count 3,');
    expect(direct?.Attributes?.ApproximateReceiveCount).toBe('4');
  });

  it('says so when the DLQ is empty', async () => {
    const resources = await createTestStack(clients);

    const run = await runOps(['dlq', 'peek'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('0 messages');
    expect(run.stdout).toContain('(empty)');
  });
});
