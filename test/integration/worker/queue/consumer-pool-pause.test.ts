/**
 * Pausing the pool's receiving (what the task protection hold limit does) against the emulator: a long
 * poll in progress is not cut short, the file it brings is handled before the pause is complete,
 * nothing is received while paused, and receiving resumes; stop() ends a pause at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateQueueCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { ConsumerPool } from '../../../../worker/queue/consumer-pool.ts';
import { FATE_KINDS } from '../../../../worker/queue/message-fate.ts';
import { createTelemetry } from '../../../../worker/telemetry.ts';
import { testClients, uniqueName, waitFor } from '../../../support/emulator.ts';

const WAIT_TIME_SECONDS = 2;

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
