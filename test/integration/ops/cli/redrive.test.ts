/**
 * `redrive` against the emulator (which has no StartMessageMoveTask, so the client-side move runs):
 * exactly the DLQ's messages move, an interrupted or failed run followed by a rerun loses and
 * duplicates nothing, --dry-run changes nothing, and a running worker then processes what moved.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { RETRIES_EXHAUSTED } from '../../../../ops/cli/dead-letter-reasons.ts';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { objectMessage } from '../../../../worker/common/object-message.ts';
import { createTestStack, readObjectText, receiveAll, testClients, uniqueName, waitFor } from '../../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../../support/worker-harness.ts';
import { pipelineEnv, runOps, seedQueue, text, type SeededMessage } from '../../../support/cli-harness.ts';

let clients: AwsClients;
let journalDirectory: string;
const running: StackWithWorker[] = [];

beforeAll(async () => {
  clients = testClients();
  journalDirectory = await mkdtemp(join(tmpdir(), 'cli-redrive-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((pipeline) => pipeline.stop()));
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(journalDirectory, { recursive: true, force: true });
});

interface RedriveJson {
  method: string;
  methodReason: string;
  moved: number;
  sent: number;
  finishedFromJournal: number;
  notSelected?: number;
  stoppedBy: string;
  journal?: string;
  wouldMove?: number;
  wouldFailAgain?: number;
  dlqAfter?: { messages: number; visible: number; inFlight: number };
  messages?: Array<{ messageId: string; willFailAgain: boolean; failure: { by: string; reason?: string } }>;
}

/** A fresh pipeline whose queue is empty (the s3:TestEvent drained) and whose DLQ holds `count` messages. */
async function pipelineWithDeadLetters(count: number): Promise<{ resources: LocalResources; seeded: SeededMessage[] }> {
  const resources = await createTestStack(clients);
  await receiveAll(clients.sqs, resources.queueUrl);
  const seeded = Array.from({ length: count }, (_, index): SeededMessage => {
    const body = JSON.stringify(objectMessage({ bucket: resources.rawBucket, key: `dead/file-${String(index).padStart(3, '0')}.jsonl` }));
    // Every third one as the worker dead-letters; every message keeps an attribute of its own.
    const attributes: Record<string, MessageAttributeValue> =
      index % 3 === 0
        ? { 'ingest-failure-reason': text('corrupt_gzip'), 'ingest-failure-detail': text('bad bytes'), origin: text(`o-${index}`) }
        : { origin: text(`o-${index}`) };
    return { body, attributes };
  });
  await seedQueue(clients.sqs, resources.dlqUrl, seeded);
  return { resources, seeded };
}

/** Receives and deletes everything, with message attributes. */
async function drain(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let round = 0; round < 200; round += 1) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }),
    );
    if (messages.length === 0) break;
    all.push(...messages);
    await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })) }),
    );
  }
  return all;
}

function sortedBodies(messages: ReadonlyArray<{ Body?: string; body?: string }>): string[] {
  return messages.map((message) => message.Body ?? message.body ?? '').sort();
}

async function queueCounts(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

function journalArgs(name: string): string[] {
  return ['--journal', join(journalDirectory, `${name}.journal`)];
}

describe('redrive (client-side, as the emulator has no move tasks)', () => {
  it('moves exactly the DLQ messages back, same bodies, without the worker failure attributes', async () => {
    const { resources, seeded } = await pipelineWithDeadLetters(25);

    const run = await runOps(['redrive', '--json', ...journalArgs('exact')], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const report = run.json<RedriveJson>();
    expect(report).toMatchObject({ method: 'client-side', moved: 25, sent: 25, finishedFromJournal: 0, stoppedBy: 'completed' });
    const moved = await drain(clients.sqs, resources.queueUrl);
    expect(sortedBodies(moved)).toEqual(sortedBodies(seeded));
    for (const message of moved) {
      expect(Object.keys(message.MessageAttributes ?? {})).toEqual(['origin']);
    }
    expect(await drain(clients.sqs, resources.dlqUrl)).toEqual([]);
    // Nothing pending: the journal is gone.
    expect(await readdir(journalDirectory)).not.toContain('exact.journal');
  });

  it('--dry-run counts and lists, and changes nothing', async () => {
    const { resources, seeded } = await pipelineWithDeadLetters(12);

    const run = await runOps(['redrive', '--dry-run', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const report = run.json<RedriveJson>();
    expect(report.wouldMove).toBe(12);
    expect(report.messages).toHaveLength(12);
    expect(await queueCounts(clients.sqs, resources.dlqUrl)).toEqual({ visible: 12, inFlight: 0 });
    expect(await drain(clients.sqs, resources.queueUrl)).toEqual([]);
    expect(sortedBodies(await drain(clients.sqs, resources.dlqUrl))).toEqual(sortedBodies(seeded));
  });

  it('--reason moves only the messages with that recorded reason (none: without one), client-side, and says so', async () => {
    const { resources, seeded } = await pipelineWithDeadLetters(12);
    const withoutReason = seeded.filter((_, index) => index % 3 !== 0);

    const run = await runOps(['redrive', '--reason', 'none', ...journalArgs('by-reason')], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('method: client-side (');
    expect(run.stdout).toContain('moved 8 messages with no recorded reason (8 sent now, 0 sent by an earlier run and deleted now)');
    expect(run.stdout).toContain('the DLQ holds 4 messages (4 visible, 0 in flight) now (4 not selected)');
    expect(run.stdout).not.toMatch(/drained|empty/);
    expect(sortedBodies(await drain(clients.sqs, resources.queueUrl))).toEqual(sortedBodies(withoutReason));
    const left = await drain(clients.sqs, resources.dlqUrl);
    expect(left.map((message) => message.MessageAttributes?.['ingest-failure-reason']?.StringValue)).toEqual(['corrupt_gzip', 'corrupt_gzip', 'corrupt_gzip', 'corrupt_gzip']);
  });

  it('--dry-run marks the messages that will fail again (permanent reason) and counts them; --reason narrows it', async () => {
    const resources = await createTestStack(clients);
    await receiveAll(clients.sqs, resources.queueUrl);
    const body = (key: string) => JSON.stringify(objectMessage({ bucket: resources.rawBucket, key }));
    await seedQueue(clients.sqs, resources.dlqUrl, [
      { body: body('gz-1'), attributes: { 'ingest-failure-reason': text('corrupt_gzip') } },
      { body: body('gz-2'), attributes: { 'ingest-failure-reason': text('corrupt_gzip') } },
      { body: 'junk', attributes: { 'ingest-failure-reason': text('not_json') } },
      { body: body('outage'), attributes: { 'ingest-failure-reason': text(RETRIES_EXHAUSTED) } },
      { body: body('moved-by-sqs') },
    ]);

    const json = await runOps(['redrive', '--dry-run', '--json'], { env: pipelineEnv(resources) });
    const human = await runOps(['redrive', '--dry-run'], { env: pipelineEnv(resources) });
    const narrowed = await runOps(['redrive', '--dry-run', '--json', '--reason', RETRIES_EXHAUSTED, 'none'], { env: pipelineEnv(resources) });

    expect(json.exitCode).toBe(0);
    const report = json.json<RedriveJson>();
    expect(report).toMatchObject({ wouldMove: 5, wouldFailAgain: 3 });
    const verdicts = Object.fromEntries((report.messages ?? []).map((message) => [message.failure.reason ?? 'none', message.willFailAgain]));
    expect(verdicts).toEqual({ corrupt_gzip: true, not_json: true, [RETRIES_EXHAUSTED]: false, none: false });
    expect(human.stdout).toContain(
      "dry run: would move 5 of the DLQ's 5 messages (5 visible, 0 in flight); 3 will fail again unless something changed (corrupt_gzip 2, not_json 1)",
    );
    expect(human.stdout.match(/redrive: WILL FAIL AGAIN \(corrupt_gzip is permanent\): fix the cause first, or `dlq drop` it/g)).toHaveLength(2);
    expect(human.stdout.match(/redrive: worth it/g)).toHaveLength(2);
    expect(narrowed.json<RedriveJson>()).toMatchObject({ wouldMove: 2, wouldFailAgain: 0, notSelected: 3 });
    expect(await queueCounts(clients.sqs, resources.dlqUrl)).toEqual({ visible: 5, inFlight: 0 });
    expect(await drain(clients.sqs, resources.queueUrl)).toEqual([]);
  });

  it('does not call the DLQ drained when messages are back in it: it says how many it holds now', async () => {
    const { resources } = await pipelineWithDeadLetters(5);
    let deletes = 0;
    // As a running worker would, dead-lettering a redriven message again while the redrive runs.
    const failAgain = ({ sqs }: AwsClients) => {
      sqs.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'DeleteMessageBatchCommand' && ++deletes === 1) {
            await sqs.send(new SendMessageCommand({ QueueUrl: resources.dlqUrl, MessageBody: 'failed again', MessageAttributes: { 'ingest-failure-reason': text('corrupt_gzip') } }));
          }
          return result;
        },
        { step: 'initialize', name: 'failAgain' },
      );
    };

    const run = await runOps(['redrive', ...journalArgs('came-back')], { env: pipelineEnv(resources), prepareClients: failAgain });
    const json = await runOps(['redrive', '--json', ...journalArgs('came-back-json')], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const [summary] = run.stdout.split('\n');
    expect(summary).toBe(
      'moved 5 messages (5 sent now, 0 sent by an earlier run and deleted now); ' +
        'the DLQ holds 1 message (1 visible, 0 in flight) now (1 dead-lettered again or newly during this run): `dlq peek` shows them',
    );
    // The second run moves the one that came back and finds the DLQ empty.
    expect(json.json<RedriveJson>()).toMatchObject({ moved: 1, stoppedBy: 'completed', dlqAfter: { messages: 0, visible: 0, inFlight: 0 } });
  });

  it('--limit moves no more than asked', async () => {
    const { resources } = await pipelineWithDeadLetters(15);

    const run = await runOps(['redrive', '--limit', '7', '--json', ...journalArgs('limit')], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.json<RedriveJson>()).toMatchObject({ moved: 7, stoppedBy: 'limit' });
    expect(await drain(clients.sqs, resources.queueUrl)).toHaveLength(7);
    expect(await drain(clients.sqs, resources.dlqUrl)).toHaveLength(8);
  });

  it('interrupted after two batches (exit 3), then rerun: every message moved once, none lost', async () => {
    const { resources, seeded } = await pipelineWithDeadLetters(35);
    const interrupt = new AbortController();
    let deletes = 0;
    const abortAfterTwoBatches = ({ sqs }: AwsClients) => {
      sqs.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'DeleteMessageBatchCommand' && ++deletes === 2) interrupt.abort();
          return result;
        },
        { step: 'initialize', name: 'abortAfterTwoBatches' },
      );
    };

    const first = await runOps(['redrive', '--json', ...journalArgs('interrupted')], {
      env: pipelineEnv(resources),
      signal: interrupt.signal,
      prepareClients: abortAfterTwoBatches,
    });
    const second = await runOps(['redrive', '--json', ...journalArgs('interrupted')], { env: pipelineEnv(resources) });

    expect(first.exitCode).toBe(3);
    expect(first.json<RedriveJson>()).toMatchObject({ moved: 20, stoppedBy: 'interrupted' });
    expect(second.exitCode).toBe(0);
    expect(second.json<RedriveJson>()).toMatchObject({ moved: 15, stoppedBy: 'completed' });
    expect(sortedBodies(await drain(clients.sqs, resources.queueUrl))).toEqual(sortedBodies(seeded));
    expect(await drain(clients.sqs, resources.dlqUrl)).toEqual([]);
  });

  it('a delete that fails after the send (exit 1) is finished by the rerun from the journal, without sending again', async () => {
    const { resources, seeded } = await pipelineWithDeadLetters(25);
    let deletes = 0;
    const failSecondDelete = ({ sqs }: AwsClients) => {
      sqs.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'DeleteMessageBatchCommand' && ++deletes === 2) {
            throw Object.assign(new Error('injected: connection reset'), { name: 'NetworkingError' });
          }
          return next(args);
        },
        { step: 'initialize', name: 'failSecondDelete' },
      );
    };

    const first = await runOps(['redrive', '--json', ...journalArgs('fault')], { env: pipelineEnv(resources), prepareClients: failSecondDelete });
    const second = await runOps(['redrive', '--json', ...journalArgs('fault')], { env: pipelineEnv(resources) });

    expect(first.exitCode).toBe(1);
    expect(first.json<RedriveJson>()).toMatchObject({ moved: 10, stoppedBy: 'failed' });
    expect(first.stderr).toContain('a rerun deletes them without sending them again');
    expect(second.exitCode).toBe(0);
    expect(second.json<RedriveJson>()).toMatchObject({ moved: 15, sent: 5, finishedFromJournal: 10 });
    const moved = sortedBodies(await drain(clients.sqs, resources.queueUrl));
    expect(moved).toEqual(sortedBodies(seeded));
    expect(new Set(moved).size).toBe(25);
    expect(await drain(clients.sqs, resources.dlqUrl)).toEqual([]);
  });

  it('with a worker running, the redriven messages are processed', async () => {
    const pipeline = await startStackWithWorker();
    running.push(pipeline);
    const { resources } = pipeline;
    // Objects in a bucket that announces nothing, so only the redriven messages name them.
    const sourceBucket = uniqueName('quiet-raw');
    await clients.s3.send(new CreateBucketCommand({ Bucket: sourceBucket }));
    const keys = ['a.jsonl', 'b.jsonl', 'c.jsonl'];
    const record = '{"device_id":"sensor-alpha","temperature":20,"humidity":50}\n';
    for (const key of keys) await clients.s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: key, Body: record }));
    await seedQueue(
      clients.sqs,
      resources.dlqUrl,
      keys.map((key) => ({ body: JSON.stringify(objectMessage({ bucket: sourceBucket, key })) })),
    );

    const run = await runOps(['redrive', '--json', ...journalArgs('worker')], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.json<RedriveJson>().moved).toBe(3);
    for (const key of keys) {
      const output = await waitFor(() => readObjectText(clients.s3, resources.processedBucket, key), { what: `the output of ${key}`, timeoutMs: 15_000 });
      expect(output).toContain('"location_id":"loc-warehouse-a"');
    }
  });
});
