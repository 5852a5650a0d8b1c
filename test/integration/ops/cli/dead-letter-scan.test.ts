/**
 * The pass over a DLQ that `dlq drop` and the client-side `redrive` share ends on every path: at its
 * receive budget, when receives bring back only messages it has seen, and on Ctrl-C; and whatever
 * it held is visible again at once when it ends.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { scanDeadLetterQueue } from '../../../../ops/cli/dead-letter-scan.ts';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { createTestStack, receiveAll, testClients } from '../../../support/emulator.ts';
import { seedQueue } from '../../../support/cli-harness.ts';

let clients: AwsClients;

beforeAll(() => {
  clients = testClients();
});

afterAll(() => {
  destroyAwsClients(clients);
});

async function dlqWith(count: number): Promise<LocalResources> {
  const resources = await createTestStack(clients);
  await seedQueue(clients.sqs, resources.dlqUrl, Array.from({ length: count }, (_, index) => ({ body: `dead ${index}` })));
  return resources;
}

async function visibleAndInFlight(resources: LocalResources): Promise<[number, number]> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: resources.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return [Number(Attributes.ApproximateNumberOfMessages), Number(Attributes.ApproximateNumberOfMessagesNotVisible)];
}

const base = (resources: LocalResources) => ({
  dlqUrl: resources.dlqUrl,
  startedAtMs: Date.now() + 1_000,
  signal: new AbortController().signal,
  receiveWaitSeconds: 0,
});

describe('scanDeadLetterQueue', () => {
  it('stops at its receive budget and releases what it held at once', async () => {
    const resources = await dlqWith(25);
    const handled: string[] = [];

    const result = await scanDeadLetterQueue(clients.sqs, { ...base(resources), select: () => true, maxReceives: 1 }, (batch) => {
      handled.push(...batch.map((message) => message.Body ?? ''));
      return Promise.resolve(batch);
    });

    expect(result).toMatchObject({ stoppedBy: 'receive-budget', selected: 10, receives: 1 });
    expect(handled).toHaveLength(10);
    expect(await visibleAndInFlight(resources)).toEqual([25, 0]);
  });

  it('ends when receives bring back only messages already seen, even though the queue is not empty', async () => {
    const resources = await dlqWith(5);
    let calls = 0;

    // Visibility 0: everything received is at once receivable again, as when a long pass outlives its timeout.
    const result = await scanDeadLetterQueue(
      clients.sqs,
      { ...base(resources), select: () => false, maxReceives: 50, visibilityTimeoutSeconds: 0 },
      () => {
        calls += 1;
        return Promise.resolve([]);
      },
    );

    expect(result.stoppedBy).toBe('completed');
    expect(result.notSelected).toBe(5);
    expect(result.receives).toBeLessThan(50);
    expect(calls).toBe(0);
    expect((await receiveAll(clients.sqs, resources.dlqUrl)).sort()).toEqual(['dead 0', 'dead 1', 'dead 2', 'dead 3', 'dead 4']);
  });

  it('leaves messages sent after its start alone, and receives nothing once interrupted', async () => {
    const resources = await dlqWith(3);
    const interrupted = new AbortController();
    interrupted.abort();

    const late = await scanDeadLetterQueue(clients.sqs, { ...base(resources), startedAtMs: 0, select: () => true, maxReceives: 10 }, () =>
      Promise.reject(new Error('nothing present at the start should be handed over')),
    );
    const stopped = await scanDeadLetterQueue(clients.sqs, { ...base(resources), signal: interrupted.signal, select: () => true, maxReceives: 10 }, () =>
      Promise.reject(new Error('nothing should be received')),
    );

    expect(late).toMatchObject({ stoppedBy: 'completed', selected: 0, arrivedDuringRun: 3 });
    expect(stopped).toMatchObject({ stoppedBy: 'interrupted', receives: 0 });
    expect(await visibleAndInFlight(resources)).toEqual([3, 0]);
  });
});
