/**
 * What the consumer pool's integration tests share: the test's SDK clients, fresh queues, pools that
 * are stopped after each test, queue counts, a peek that leaves messages visible, every event and
 * hold call recorded, and an SQS client of the pool's own whose requests are recorded.
 */
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import type { ConsumerPool, ConsumerPoolEvents } from '../../../../worker/queue/consumer-pool.ts';
import { testClients, uniqueName, waitFor } from '../../../support/emulator.ts';

export interface PoolTest {
  readonly clients: AwsClients;
  /** Stopped (and waited for) after the test. */
  track(pool: ConsumerPool): ConsumerPool;
  /** A new SQS client whose every request is recorded, destroyed after the test. */
  recordingSqs(): { readonly sqs: SQSClient; readonly requests: SqsRequest[] };
  /** A gate that is opened after the test at the latest, so that a failed test leaves no handler waiting. */
  gate(): Gate;
}

/** A promise opened from outside. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

export interface SqsRequest {
  /** e.g. ReceiveMessageCommand */
  readonly command: string;
  readonly input: Record<string, unknown>;
  readonly atMs: number;
}

/** Registers the hooks of a pool test file and returns what its tests use. */
export function usePoolTest(): PoolTest {
  let clients: AwsClients | undefined;
  const pools: ConsumerPool[] = [];
  const ownClients: SQSClient[] = [];
  const gates: Gate[] = [];
  beforeAll(() => {
    clients = testClients();
  });
  afterEach(async () => {
    for (const open of gates.splice(0)) open.open();
    for (const pool of pools.splice(0)) {
      pool.stop();
      await pool.whenIdle();
    }
    for (const sqs of ownClients.splice(0)) sqs.destroy();
  });
  afterAll(() => {
    if (clients) destroyAwsClients(clients);
  });
  return {
    get clients(): AwsClients {
      if (clients === undefined) throw new Error('the clients exist only inside tests');
      return clients;
    },
    track(pool) {
      pools.push(pool);
      return pool;
    },
    recordingSqs() {
      const { sqs, s3 } = testClients();
      s3.destroy();
      ownClients.push(sqs);
      const requests: SqsRequest[] = [];
      sqs.middlewareStack.add(
        (next, context) => (args) => {
          requests.push({ command: context.commandName ?? '?', input: args.input as Record<string, unknown>, atMs: performance.now() });
          return next(args);
        },
        { step: 'initialize', name: 'recordRequests' },
      );
      return { sqs, requests };
    },
    gate() {
      const made = gate();
      gates.push(made);
      return made;
    },
  };
}

export async function createQueue(sqs: SQSClient, prefix: string): Promise<string> {
  const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName(prefix) }));
  if (queueUrl === undefined) throw new Error('CreateQueue returned no QueueUrl');
  return queueUrl;
}

/** Sends the bodies, ten to a request. */
export async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, index) => ({ Id: String(index), MessageBody: body }));
    const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (Failed.length > 0) throw new Error(`SendMessageBatch failed for ${Failed.length} entries`);
  }
}

/** Messages on the queue, visible or not. */
export async function messagesOn(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.ApproximateNumberOfMessages) + Number(attributes.ApproximateNumberOfMessagesNotVisible);
}

/** Resolves once the queue holds exactly `count` messages, visible or not. */
export async function waitForMessagesOn(sqs: SQSClient, queueUrl: string, count: number, what: string, timeoutMs = 5_000): Promise<void> {
  await waitFor(async () => ((await messagesOn(sqs, queueUrl)) === count ? true : undefined), { what, timeoutMs, intervalMs: 50 });
}

/** What ReceiveMessage hands out now, without waiting; with `peek`, the messages stay visible (visibility 0). */
export async function receiveNow(sqs: SQSClient, queueUrl: string, options: { peek?: boolean; max?: number } = {}): Promise<Message[]> {
  const { Messages: messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      WaitTimeSeconds: 0,
      MaxNumberOfMessages: options.max ?? 1,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      ...(options.peek === true ? { VisibilityTimeout: 0 } : {}),
    }),
  );
  return messages;
}

/** Every event and hold call, in order, with its arguments. */
export function recorder() {
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

function gate(): Gate {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open: () => open() };
}
