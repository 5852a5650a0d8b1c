/**
 * The consumer pool carries out each fate on a real queue (the emulator): delete removes the message,
 * retry hides it for the backoff, deadLetter copies it to the DLQ with the reason and removes it,
 * release makes it receivable again at once. The handler is a stub that returns the fate under test;
 * it stops the pool as it does, so exactly one message is handled, and a stopping pool must still
 * carry out the fate of the message in hand.
 *
 * Pausing receiving (what the task protection hold limit does): a long poll in progress is not cut
 * short, the file it brings is handled before the pause is complete, nothing is received while paused,
 * and receiving resumes; stop() ends a pause at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { ConsumerPool, type ConsumerPoolEvents } from '../../../../worker/queue/consumer-pool.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../../worker/queue/dead-letter.ts';
import { FATE_KINDS, type MessageFate } from '../../../../worker/queue/message-fate.ts';
import { createTelemetry } from '../../../../worker/telemetry.ts';
import { testClients, uniqueName, waitFor } from '../../../support/emulator.ts';

/** Far above any wait in these tests: a message seen again came back through its fate, not through this. */
const VISIBILITY_TIMEOUT_SECONDS = 30;
const RETRY_POLICY = { backoffBaseSeconds: 2, backoffMaxSeconds: 2 };

let clients: AwsClients;
const pools: ConsumerPool[] = [];

beforeAll(() => {
  clients = testClients();
});

afterEach(async () => {
  for (const pool of pools.splice(0)) {
    pool.stop();
    await pool.whenIdle();
  }
});

afterAll(() => {
  destroyAwsClients(clients);
});

async function createQueue(prefix: string): Promise<string> {
  const { QueueUrl: queueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName(prefix) }));
  if (queueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
  return queueUrl;
}

async function messagesOn(queueUrl: string): Promise<number> {
  const { Attributes: attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.ApproximateNumberOfMessages) + Number(attributes.ApproximateNumberOfMessagesNotVisible);
}

/** What ReceiveMessage hands out now, without waiting. */
async function receiveNow(queueUrl: string): Promise<Message | undefined> {
  const { Messages: [message] = [] } = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return message;
}

/** Every event and hold call, in order, with its arguments. */
function recorder() {
  const calls: Array<{ readonly name: string; readonly args: readonly unknown[] }> = [];
  const record =
    (name: string) =>
    (...args: unknown[]): void => {
      calls.push({ name, args });
    };
  const events: ConsumerPoolEvents = {
    messagesDeleted: record('messagesDeleted'),
    messageDeletesFailed: record('messageDeletesFailed'),
    messageRetried: record('messageRetried'),
    messageReleased: record('messageReleased'),
    messageDeadLettered: record('messageDeadLettered'),
    receiveFailed: record('receiveFailed'),
    receiveRecovered: record('receiveRecovered'),
  };
  const hold = { acquire: record('hold.acquire'), release: record('hold.release') };
  return { calls, events, hold, names: () => calls.map((call) => call.name) };
}

interface Handled {
  readonly message: Message;
  readonly atMs: number;
}

/**
 * Sends one message, runs a pool whose handler returns `fate` for it, and resolves once the fate is
 * carried out and the pool is idle.
 */
async function carryOut(fate: MessageFate, queues: { queueUrl: string; deadLetterQueueUrl: string }) {
  const body = `body for ${fate.kind}`;
  await clients.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
  const observed = recorder();
  const handled: Handled[] = [];
  const pool: ConsumerPool = new ConsumerPool({
    sqs: clients.sqs,
    ...queues,
    pollers: 1,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    heartbeatIntervalSeconds: 10,
    handleMessage: (message) => {
      handled.push({ message, atMs: Date.now() });
      observed.calls.push({ name: 'handled', args: [] });
      pool.stop();
      return Promise.resolve(fate);
    },
    retryPolicy: RETRY_POLICY,
    hold: observed.hold,
    events: observed.events,
  });
  pools.push(pool);
  pool.start();
  const [first] = await waitFor(() => Promise.resolve(handled.length > 0 ? handled : undefined), { what: 'the message to be handled', timeoutMs: 5_000 });
  await pool.whenIdle();
  expect(handled).toHaveLength(1);
  expect(first?.message.Body).toBe(body);
  return { ...observed, handled: first!, body };
}

async function sourceAndDeadLetterQueues() {
  return { queueUrl: await createQueue('pool-source'), deadLetterQueueUrl: await createQueue('pool-dlq') };
}

describe('the consumer pool carries out a message’s fate', () => {
  it('delete: removes the message from the queue, through the delete batcher', async () => {
    // Prepare
    const queues = await sourceAndDeadLetterQueues();
    // Act
    const { names, calls } = await carryOut({ kind: FATE_KINDS.delete }, queues);
    // Assess
    expect(await messagesOn(queues.queueUrl)).toBe(0);
    expect(await messagesOn(queues.deadLetterQueueUrl)).toBe(0);
    expect(names()).toStrictEqual(['hold.acquire', 'handled', 'hold.release', 'messagesDeleted']);
    expect(calls.find((call) => call.name === 'messagesDeleted')?.args).toStrictEqual([1]);
  });

  it('retry: hides the message for the backoff, then it is receivable again', async () => {
    // Prepare
    const queues = await sourceAndDeadLetterQueues();
    const fate: MessageFate = { kind: FATE_KINDS.retry, afterSeconds: 2, receiveCount: 1, error: 'SlowDown: Please reduce your request rate.' };
    // Act
    const { handled, body, names, calls } = await carryOut(fate, queues);
    // Assess
    expect(await receiveNow(queues.queueUrl)).toBeUndefined();
    const again = await waitFor(() => receiveNow(queues.queueUrl), { what: 'the retried message', timeoutMs: 8_000, intervalMs: 100 });
    expect(Date.now() - handled.atMs).toBeGreaterThanOrEqual(1_500);
    expect(again.Body).toBe(body);
    expect(again.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(names()).toStrictEqual(['hold.acquire', 'handled', 'messageRetried', 'hold.release']);
    expect(calls.find((call) => call.name === 'messageRetried')?.args).toStrictEqual([handled.message.MessageId, 1, 2, fate.error]);
  }, 20_000);

  it('deadLetter: puts a copy with the reason attributes in the DLQ, then removes the message from the source', async () => {
    // Prepare
    const queues = await sourceAndDeadLetterQueues();
    const fate: MessageFate = { kind: FATE_KINDS.deadLetter, reason: 'corrupt_gzip', detail: 'a.jsonl.gz is not gzip' };
    // Act
    const { handled, body, names } = await carryOut(fate, queues);
    // Assess
    const dead = await waitFor(() => receiveNow(queues.deadLetterQueueUrl), { what: 'the DLQ copy', timeoutMs: 3_000 });
    expect(dead.Body).toBe(body);
    const attribute = (name: string) => dead.MessageAttributes?.[name]?.StringValue;
    expect(attribute(DEAD_LETTER_ATTRIBUTES.reason)).toBe('corrupt_gzip');
    expect(attribute(DEAD_LETTER_ATTRIBUTES.detail)).toBe('a.jsonl.gz is not gzip');
    expect(attribute(DEAD_LETTER_ATTRIBUTES.sourceMessageId)).toBe(handled.message.MessageId);
    expect(await messagesOn(queues.queueUrl)).toBe(0);
    expect(names()).toStrictEqual(['hold.acquire', 'handled', 'messageDeadLettered', 'hold.release', 'messagesDeleted']);
  });

  it('deadLetter to a DLQ that refuses the copy: keeps the message and retries it after the backoff instead', async () => {
    // Prepare
    const queueUrl = await createQueue('pool-source');
    const deadLetterQueueUrl = queueUrl.replace(/[^/]+$/, uniqueName('no-such-dlq'));
    // Act
    const { handled, names, calls } = await carryOut({ kind: FATE_KINDS.deadLetter, reason: 'corrupt_gzip', detail: 'x' }, { queueUrl, deadLetterQueueUrl });
    // Assess
    expect(names()).toStrictEqual(['hold.acquire', 'handled', 'messageRetried', 'hold.release']);
    const [messageId, receiveCount, afterSeconds] = calls.find((call) => call.name === 'messageRetried')?.args ?? [];
    expect([messageId, receiveCount, afterSeconds]).toStrictEqual([handled.message.MessageId, 1, RETRY_POLICY.backoffBaseSeconds]);
    expect(await receiveNow(queueUrl)).toBeUndefined();
    const again = await waitFor(() => receiveNow(queueUrl), { what: 'the retried message', timeoutMs: 8_000, intervalMs: 100 });
    expect(again.MessageId).toBe(handled.message.MessageId);
  }, 20_000);

  it('release: makes the message receivable again at once', async () => {
    // Prepare
    const queues = await sourceAndDeadLetterQueues();
    // Act
    const { handled, names, calls } = await carryOut({ kind: FATE_KINDS.release }, queues);
    // Assess
    const again = await receiveNow(queues.queueUrl);
    expect(again?.MessageId).toBe(handled.message.MessageId);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(names()).toStrictEqual(['hold.acquire', 'handled', 'messageReleased', 'hold.release']);
    expect(calls.find((call) => call.name === 'messageReleased')?.args).toStrictEqual([handled.message.MessageId]);
  });
});

const WAIT_TIME_SECONDS = 2;


async function startPool(): Promise<{ pool: ConsumerPool; queueUrl: string; handled: string[] }> {
  const { QueueUrl: queueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('pause') }));
  if (queueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
  const handled: string[] = [];
  const pool = new ConsumerPool({
    sqs: clients.sqs,
    queueUrl,
    pollers: 2,
    waitTimeSeconds: WAIT_TIME_SECONDS,
    visibilityTimeoutSeconds: 10,
    heartbeatIntervalSeconds: 3,
    deadLetterQueueUrl: queueUrl,
    handleMessage: (message: Message) => {
      handled.push(message.Body ?? '');
      return Promise.resolve({ kind: FATE_KINDS.delete });
    },
    retryPolicy: { backoffBaseSeconds: 1, backoffMaxSeconds: 1 },
    events: createTelemetry(pino({ level: 'silent' }), { defaultMetrics: false }),
  });
  pools.push(pool);
  pool.start();
  await sleep(300); // both pollers are in a long poll
  return { pool, queueUrl, handled };
}

const send = (queueUrl: string, body: string) => clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

describe('pausing the consumer pool', () => {
  it('lets the long poll in progress finish and handles what it brings, receives nothing while paused, then resumes', async () => {
    const { pool, queueUrl, handled } = await startPool();

    let drained = false;
    const pausing = pool.pauseReceiving().then(() => {
      drained = true;
    });
    await send(queueUrl, 'arrived during the long poll');
    await waitFor(() => Promise.resolve(drained ? true : undefined), { what: 'the pause to complete', timeoutMs: (WAIT_TIME_SECONDS + 3) * 1000 });
    await pausing;
    expect(handled).toEqual(['arrived during the long poll']);

    await send(queueUrl, 'sent while paused');
    await sleep(WAIT_TIME_SECONDS * 1000 + 500); // longer than any long poll
    expect(handled).toEqual(['arrived during the long poll']);

    pool.resumeReceiving();
    await waitFor(() => Promise.resolve(handled.length === 2 ? true : undefined), { what: 'the message sent while paused', timeoutMs: 5_000 });
    expect(handled).toEqual(['arrived during the long poll', 'sent while paused']);
  }, 20_000);

  it('completes a pause at once on stop(), and stops the pollers without waiting for their long polls', async () => {
    const { pool } = await startPool();
    let drained = false;
    const pausing = pool.pauseReceiving().then(() => {
      drained = true;
    });

    const started = Date.now();
    pool.stop();
    await pausing;
    await pool.whenIdle();

    expect(drained).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  }, 20_000);
});
