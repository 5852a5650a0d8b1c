/**
 * How the consumer pool receives and holds messages, on a real queue (the emulator): free slots are
 * filled ten messages to a ReceiveMessage, never beyond the capacity; a slow message holds only its own
 * slot; one heartbeat keeps every held message invisible, in batch requests; stop() lets messages that
 * did not start go at once while a file in flight finishes; a failing receive backs off and recovers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { SQSClient, type Message } from '@aws-sdk/client-sqs';
import { ConsumerPool, type ConsumerPoolOptions } from '../../../../worker/queue/consumer-pool.ts';
import { FATE_KINDS, type MessageFate } from '../../../../worker/queue/message-fate.ts';
import { receiveLoopCount } from '../../../../worker/queue/receive-loop.ts';
import { waitFor } from '../../../support/emulator.ts';
import { startFaultProxy } from '../../../support/fault-proxy.ts';
import { emulatorEndpoint } from '../../../support/fault-test.ts';
import { createQueue, receiveNow, recorder, sendBodies, usePoolTest, waitForMessagesOn, type SqsRequest } from './pool-setup.ts';

const poolTest = usePoolTest();
const DELETE: MessageFate = { kind: FATE_KINDS.delete };

type PoolSettings = Pick<ConsumerPoolOptions, 'sqs' | 'queueUrl' | 'capacity' | 'receiveLoops' | 'handleMessage'> & Partial<ConsumerPoolOptions>;

function startPool(settings: PoolSettings): ConsumerPool {
  const pool = new ConsumerPool({
    deadLetterQueueUrl: settings.queueUrl,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 30,
    heartbeatIntervalSeconds: 10,
    retryPolicy: { backoffBaseSeconds: 1, backoffMaxSeconds: 1 },
    events: recorder().events,
    ...settings,
  });
  poolTest.track(pool);
  pool.start();
  return pool;
}

const commands = (requests: readonly SqsRequest[], command: string) => requests.filter((request) => request.command === command);
const bodiesOf = (messages: readonly Message[]) => messages.map((message) => message.Body ?? '').sort();
const until = (condition: () => boolean, what: string, timeoutMs = 5_000) =>
  waitFor(() => Promise.resolve(condition() ? true : undefined), { what, timeoutMs, intervalMs: 20 });

describe('receiving for free slots', () => {
  it('takes 20 queued messages into 20 free slots with at most 3 ReceiveMessage requests, and holds no more than its capacity', async () => {
    // Prepare
    const { sqs: testSqs } = poolTest.clients;
    const queueUrl = await createQueue(testSqs, 'pool-batches');
    await sendBodies(testSqs, queueUrl, Array.from({ length: 25 }, (_, index) => `message ${index}`));
    const { sqs, requests } = poolTest.recordingSqs();
    const finish = poolTest.gate();
    const handled: string[] = [];
    // Act
    startPool({
      sqs,
      queueUrl,
      capacity: () => 20,
      receiveLoops: receiveLoopCount(20),
      handleMessage: async (message) => {
        handled.push(message.Body ?? '');
        await finish.opened;
        return DELETE;
      },
    });
    await until(() => handled.length >= 20, '20 messages held');
    await sleep(500); // the loops keep looking for free slots meanwhile
    // Assess
    const receives = commands(requests, 'ReceiveMessageCommand');
    expect(handled).toHaveLength(20);
    expect(receives.length).toBeLessThanOrEqual(3);
    const asked = receives.map((request) => Number(request.input['MaxNumberOfMessages']));
    expect(asked[0]).toBe(10);
    expect(asked.filter((count) => count > 10)).toEqual([]);
    finish.open();
    await waitForMessagesOn(testSqs, queueUrl, 0, 'every message deleted');
    expect(handled).toHaveLength(25);
  });

  it('a slow message holds only its slot: its batch-mates finish and are deleted, and new messages are received and finished meanwhile', async () => {
    // Prepare
    const { sqs } = poolTest.clients;
    const queueUrl = await createQueue(sqs, 'pool-slow');
    await sendBodies(sqs, queueUrl, ['slow', 'fast 1', 'fast 2']);
    const slow = poolTest.gate();
    const finished: string[] = [];
    const events = recorder();
    // Act
    startPool({
      sqs,
      queueUrl,
      capacity: () => 3,
      receiveLoops: 1,
      events: events.events,
      handleMessage: async (message) => {
        if (message.Body === 'slow') await slow.opened;
        finished.push(message.Body ?? '');
        return DELETE;
      },
    });
    await until(() => finished.length === 2, 'the fast messages');
    await waitForMessagesOn(sqs, queueUrl, 1, 'the fast messages deleted');
    await sendBodies(sqs, queueUrl, ['later 1', 'later 2']);
    await until(() => finished.length === 4, 'the later messages');
    await waitForMessagesOn(sqs, queueUrl, 1, 'the later messages deleted');
    // Assess
    expect(finished.slice().sort()).toEqual(['fast 1', 'fast 2', 'later 1', 'later 2']);
    slow.open();
    await waitForMessagesOn(sqs, queueUrl, 0, 'the slow message deleted');
    expect(finished).toContain('slow');
  });
});

describe('the heartbeat', () => {
  it('keeps held messages invisible past their visibility timeout, renewing them together in batch requests', async () => {
    // Prepare
    const { sqs: testSqs } = poolTest.clients;
    const queueUrl = await createQueue(testSqs, 'pool-heartbeat');
    await sendBodies(testSqs, queueUrl, ['held 1', 'held 2', 'held 3']);
    const { sqs, requests } = poolTest.recordingSqs();
    const finish = poolTest.gate();
    let held = 0;
    startPool({
      sqs,
      queueUrl,
      capacity: () => 3,
      receiveLoops: 1,
      visibilityTimeoutSeconds: 2,
      heartbeatIntervalSeconds: 1,
      handleMessage: async () => {
        held += 1;
        await finish.opened;
        return DELETE;
      },
    });
    await until(() => held === 3, 'three messages held');
    // Act: another consumer tries to take them for 2.5 visibility timeouts.
    const stolen: Message[] = [];
    const endMs = performance.now() + 5_000;
    while (performance.now() < endMs) {
      stolen.push(...(await receiveNow(testSqs, queueUrl, { max: 10 })));
      await sleep(200);
    }
    // Assess
    expect(bodiesOf(stolen)).toEqual([]);
    const renewals = commands(requests, 'ChangeMessageVisibilityBatchCommand');
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(renewals.map((request) => (request.input['Entries'] as unknown[]).length)).toEqual(renewals.map(() => 3));
    expect(commands(requests, 'ChangeMessageVisibilityCommand')).toEqual([]);
    finish.open();
    await waitForMessagesOn(testSqs, queueUrl, 0, 'the held messages deleted');
  }, 20_000);
});

describe('stop()', () => {
  it('lets the messages that did not start go at once and renews them no more, while the file in flight finishes, still renewed', async () => {
    // Prepare
    const { sqs: testSqs } = poolTest.clients;
    const queueUrl = await createQueue(testSqs, 'pool-stop');
    await sendBodies(testSqs, queueUrl, ['running', 'waiting 1', 'waiting 2']);
    const { sqs, requests } = poolTest.recordingSqs();
    const draining = poolTest.gate();
    const running = poolTest.gate();
    const handles = new Map<string, string>();
    const pool = startPool({
      sqs,
      queueUrl,
      capacity: () => 3,
      receiveLoops: 1,
      visibilityTimeoutSeconds: 30,
      heartbeatIntervalSeconds: 1,
      // As the message handler does: a message waiting to start is released once shutdown begins.
      handleMessage: async (message) => {
        handles.set(message.Body ?? '', message.ReceiptHandle ?? '');
        if (message.Body === 'running') {
          await running.opened;
          return DELETE;
        }
        await draining.opened;
        return { kind: FATE_KINDS.release };
      },
    });
    await until(() => handles.size === 3, 'three messages held');
    await sleep(1_500); // renewed at least once
    // Act
    draining.open();
    pool.stop();
    // Assess: visible again at once (a peek leaves them visible), the running one not.
    const released = await waitFor(
      async () => {
        const visible = await receiveNow(testSqs, queueUrl, { peek: true, max: 10 });
        return visible.length >= 2 ? visible : undefined;
      },
      { what: 'the released messages visible', timeoutMs: 2_000, intervalMs: 50 },
    );
    const releasedAtMs = performance.now();
    expect(bodiesOf(released)).toEqual(['waiting 1', 'waiting 2']);
    await sleep(2_500);
    expect(bodiesOf(await receiveNow(testSqs, queueUrl, { peek: true, max: 10 }))).toEqual(['waiting 1', 'waiting 2']);
    // Since then only the running message was renewed, and it was.
    const renewed = commands(requests, 'ChangeMessageVisibilityBatchCommand')
      .filter((request) => request.atMs > releasedAtMs)
      .flatMap((request) => (request.input['Entries'] as Array<{ ReceiptHandle: string }>).map((entry) => entry.ReceiptHandle));
    expect(renewed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(renewed)).toEqual(new Set([handles.get('running')]));
    running.open();
    await pool.whenIdle();
    await waitForMessagesOn(testSqs, queueUrl, 2, 'the running message deleted');
  }, 20_000);
});

describe('a failing receive', () => {
  it('backs off, reports the queue unreachable once, then recovers and receives', async () => {
    // Prepare: the queue answers 503 to every ReceiveMessage until the fault is lifted.
    const { sqs: testSqs } = poolTest.clients;
    const queueUrl = await createQueue(testSqs, 'pool-receive-fails');
    const proxy = await startFaultProxy(emulatorEndpoint(), (request) =>
      request.operation === 'ReceiveMessage' ? { kind: 'status', status: 503, code: 'ServiceUnavailable' } : undefined,
    );
    // No SDK retries: each receive the pool makes is one request.
    const sqs = new SQSClient({
      region: process.env['IOT_TEST_REGION'] ?? 'us-east-1',
      endpoint: proxy.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const events = recorder();
    const handled: string[] = [];
    try {
      const pool = startPool({
        sqs,
        queueUrl,
        capacity: () => 10,
        receiveLoops: 1,
        events: events.events,
        handleMessage: (message) => {
          handled.push(message.Body ?? '');
          return Promise.resolve(DELETE);
        },
      });
      // Act
      await sleep(3_000);
      const failedReceives = proxy.requests.filter((request) => request.operation === 'ReceiveMessage').length;
      const health = pool.receiveHealth;
      proxy.setRule(undefined);
      await sendBodies(testSqs, queueUrl, ['after the fault']);
      await until(() => handled.length === 1, 'the message after the fault', 10_000);
      // Assess: 250 ms, 500 ms, 1 s, 2 s between attempts, not one attempt after another.
      expect(failedReceives).toBeGreaterThanOrEqual(2);
      expect(failedReceives).toBeLessThanOrEqual(6);
      expect(health).toEqual({ ok: false, error: expect.stringContaining('ServiceUnavailable') });
      expect(pool.receiveHealth).toEqual({ ok: true });
      const receiveEvents = events.calls.filter((call) => call.name.startsWith('receive'));
      expect(receiveEvents.map((call) => [call.name, call.args[1]])).toEqual([
        ['receiveFailed', true],
        ...Array.from({ length: receiveEvents.length - 2 }, () => ['receiveFailed', false]),
        ['receiveRecovered', undefined],
      ]);
      pool.stop();
      await pool.whenIdle();
    } finally {
      sqs.destroy();
      await proxy.close();
    }
  }, 20_000);
});
