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
import { describe, expect, it } from '@jest/globals';
import { SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { ConsumerPool } from '../../../../worker/queue/consumer-pool.ts';
import { DEAD_LETTER_ATTRIBUTES } from '../../../../worker/queue/dead-letter.ts';
import { FATE_KINDS, type MessageFate } from '../../../../worker/queue/message-fate.ts';
import { createTelemetry } from '../../../../worker/telemetry.ts';
import { uniqueName, waitFor } from '../../../support/emulator.ts';
import { createQueue as createQueueWith, messagesOn as messagesOnWith, receiveNow as receiveNowWith, recorder, usePoolTest } from './pool-setup.ts';

/** Far above any wait in these tests: a message seen again came back through its fate, not through this. */
const VISIBILITY_TIMEOUT_SECONDS = 30;
const RETRY_POLICY = { backoffBaseSeconds: 2, backoffMaxSeconds: 2 };

const poolTest = usePoolTest();
const createQueue = (prefix: string) => createQueueWith(poolTest.clients.sqs, prefix);
const messagesOn = (queueUrl: string) => messagesOnWith(poolTest.clients.sqs, queueUrl);
const receiveNow = async (queueUrl: string): Promise<Message | undefined> => (await receiveNowWith(poolTest.clients.sqs, queueUrl))[0];

interface Handled {
  readonly message: Message;
  readonly atMs: number;
}

/**
 * Sends one message, runs a pool whose handler returns `fate` for it, and resolves once the fate is
 * carried out and the pool is idle.
 */
async function carryOut(fate: MessageFate, queues: { queueUrl: string; deadLetterQueueUrl: string }, maxReceiveCount?: number) {
  const body = `body for ${fate.kind}`;
  await poolTest.clients.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
  const observed = recorder();
  const handled: Handled[] = [];
  const pool: ConsumerPool = new ConsumerPool({
    sqs: poolTest.clients.sqs,
    ...queues,
    capacity: () => 1,
    receiveLoops: 1,
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
    ...(maxReceiveCount === undefined ? {} : { maxReceiveCount }),
    hold: observed.hold,
    events: observed.events,
  });
  poolTest.track(pool);
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
    expect(calls.find((call) => call.name === 'messageRetried')?.args).toStrictEqual([handled.message.MessageId, 1, 2, fate.error, undefined]);
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

  it('deadLetter to a DLQ that refuses the copy: keeps the message and retries it after the backoff instead, telling the redrive policy’s maxReceiveCount', async () => {
    // Prepare
    const queueUrl = await createQueue('pool-source');
    const deadLetterQueueUrl = queueUrl.replace(/[^/]+$/, uniqueName('no-such-dlq'));
    // Act
    const { handled, names, calls } = await carryOut({ kind: FATE_KINDS.deadLetter, reason: 'corrupt_gzip', detail: 'x' }, { queueUrl, deadLetterQueueUrl }, 4);
    // Assess
    expect(names()).toStrictEqual(['hold.acquire', 'handled', 'messageRetried', 'hold.release']);
    const [messageId, receiveCount, afterSeconds, , maxReceiveCount] = calls.find((call) => call.name === 'messageRetried')?.args ?? [];
    expect([messageId, receiveCount, afterSeconds, maxReceiveCount]).toStrictEqual([handled.message.MessageId, 1, RETRY_POLICY.backoffBaseSeconds, 4]);
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
  const queueUrl = await createQueue('pause');
  const handled: string[] = [];
  const pool = new ConsumerPool({
    sqs: poolTest.clients.sqs,
    queueUrl,
    capacity: () => 2,
    receiveLoops: 2,
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
  poolTest.track(pool);
  pool.start();
  await sleep(300); // a loop is in a long poll
  return { pool, queueUrl, handled };
}

const send = (queueUrl: string, body: string) => poolTest.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

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

  it('completes a pause at once on stop(), and stops the loops without waiting for their long polls', async () => {
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
