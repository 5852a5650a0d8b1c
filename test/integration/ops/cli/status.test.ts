/** `status` reports the counts of the ingest queue and its DLQ, and how they are linked. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { IngestStatus } from '../../../../ops/cli/queue-status.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { createTestStack, receiveAll, testClients } from '../../../support/emulator.ts';
import { pipelineEnv, runOps, seedQueue } from '../../../support/cli-harness.ts';

let clients: AwsClients;

beforeAll(() => {
  clients = testClients();
});

afterAll(() => {
  destroyAwsClients(clients);
});

describe('status', () => {
  it('reports visible, in-flight and delayed messages, the redrive policy, and the DLQ oldest message as an estimate', async () => {
    const resources = await createTestStack(clients, { maxReceiveCount: 4 });
    await receiveAll(clients.sqs, resources.queueUrl);
    await seedQueue(clients.sqs, resources.queueUrl, [{ body: 'one' }, { body: 'two' }, { body: 'three' }]);
    await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: resources.queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 60 }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: 'later', DelaySeconds: 60 }));
    await seedQueue(clients.sqs, resources.dlqUrl, [{ body: 'dead 1' }, { body: 'dead 2' }]);

    const run = await runOps(['status', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const status = run.json<IngestStatus>();
    expect(status.queue).toMatchObject({ url: resources.queueUrl, visible: 2, inFlight: 1, delayed: 1 });
    expect(status.queue.redrivePolicy).toEqual({ deadLetterTargetArn: resources.dlqArn, maxReceiveCount: 4 });
    expect(status.queue.oldestMessage).toMatchObject({ source: 'not-measured' });
    expect(status.queueRedrivesToDeadLetterQueue).toBe(true);
    expect(status.deadLetterQueue).toMatchObject({ url: resources.dlqUrl, visible: 2, inFlight: 0, delayed: 0 });
    expect(status.deadLetterQueue.oldestMessage).toMatchObject({ source: 'estimate', sampledMessages: 2 });
    expect(status.deadLetterQueue.redriveSources).toEqual({ reported: false, reason: 'the endpoint has no ListDeadLetterSourceQueues' });
  });

  it('counts the DLQ as visible + in flight + delayed, first line and JSON, so a peek, a held or a delayed message does not hide any', async () => {
    const resources = await createTestStack(clients);
    await receiveAll(clients.sqs, resources.queueUrl);
    await seedQueue(clients.sqs, resources.dlqUrl, [{ body: 'dead 1' }, { body: 'dead 2' }, { body: 'dead 3' }, { body: 'dead 4' }]);
    const peek = await runOps(['dlq', 'peek'], { env: pipelineEnv(resources) });
    const afterPeek = await runOps(['status', '--json'], { env: pipelineEnv(resources) });
    // Someone (a peek in progress, a redrive) holds one of them for a minute.
    await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: resources.dlqUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 60 }));

    const json = await runOps(['status', '--json'], { env: pipelineEnv(resources) });
    const human = await runOps(['status'], { env: pipelineEnv(resources) });

    expect(peek.stdout).toContain('4 messages from');
    expect(afterPeek.json<IngestStatus>().deadLetterQueue).toMatchObject({ messages: 4 });
    expect(json.json<IngestStatus>().deadLetterQueue).toMatchObject({ messages: 4, visible: 3, inFlight: 1 });
    expect(human.stdout.split('\n')[0]).toBe('DLQ: 4 messages (3 visible, 1 in flight); `dlq peek` shows why they failed');
    expect(human.stdout).toMatch(/dead-letter queue: .*\n {2}messages +4 \(visible \+ in flight \+ delayed\)\n {2}visible +3\n {2}in flight +1/);

    // A message sent to the DLQ by hand with a delay is in it too, as the alarm and the alert count it.
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.dlqUrl, MessageBody: 'dead 5', DelaySeconds: 300 }));
    const withDelayed = await runOps(['status'], { env: pipelineEnv(resources) });
    expect(withDelayed.stdout.split('\n')[0]).toBe('DLQ: 5 messages (3 visible, 1 in flight, 1 delayed); `dlq peek` shows why they failed');
  });

  it('samples the ingest queue too with --sample-age, and finds the DLQ through the redrive policy when DLQ_URL is unset', async () => {
    const resources = await createTestStack(clients);
    await receiveAll(clients.sqs, resources.queueUrl);
    await seedQueue(clients.sqs, resources.queueUrl, [{ body: 'waiting' }]);
    const withoutDlq = Object.fromEntries(Object.entries(pipelineEnv(resources)).filter(([name]) => name !== 'DLQ_URL'));

    const run = await runOps(['status', '--sample-age'], { env: withoutDlq });

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`dead-letter queue: ${resources.dlqUrl.split('/').pop()}`);
    expect(run.stdout).toMatch(/oldest message +~\d+ s \(estimate from 1 sampled message\)/);
    expect(run.stdout).toContain('after maxReceiveCount 3 receives');
  });
});
