/**
 * `dlq drop` through the real CLI against the emulator: by id, by recorded reason (and `none`), all;
 * --dry-run deletes nothing; every dropped message is in the journal, body and attributes included,
 * before it is deleted; only messages present at the start are considered, and the others are
 * visible again at once; Ctrl-C, a failed delete and a missing id say so in the exit code.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetQueueAttributesCommand, SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterDescription } from '../../../../ops/cli/dead-letter-description.ts';
import type { DroppedMessageRecord } from '../../../../ops/cli/drop/journal.ts';
import type { DropReport } from '../../../../ops/cli/drop/report.ts';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { objectMessage } from '../../../../worker/common/object-message.ts';
import { createTestStack, receiveAll, testClients } from '../../../support/emulator.ts';
import { pipelineEnv, runOps, seedQueue, text, type SeededMessage } from '../../../support/cli-harness.ts';

let clients: AwsClients;
let journalDirectory: string;

beforeAll(async () => {
  clients = testClients();
  journalDirectory = await mkdtemp(join(tmpdir(), 'cli-drop-'));
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(journalDirectory, { recursive: true, force: true });
});

const REASONS = ['corrupt_gzip', 'not_json', undefined, 'output_key_collision', undefined] as const;

interface Seeded {
  readonly resources: LocalResources;
  readonly seeded: SeededMessage[];
}

/** A DLQ holding `count` messages: reasons cycle through REASONS (undefined: none recorded), each with an attribute of its own. */
async function dlqWith(count: number): Promise<Seeded> {
  const resources = await createTestStack(clients);
  await receiveAll(clients.sqs, resources.queueUrl);
  const seeded = Array.from({ length: count }, (_, index): SeededMessage => {
    const reason = REASONS[index % REASONS.length];
    const attributes: Record<string, MessageAttributeValue> = { origin: text(`o-${index}`) };
    if (reason !== undefined) attributes['ingest-failure-reason'] = text(reason);
    return { body: JSON.stringify(objectMessage({ bucket: resources.rawBucket, key: `dead/${String(index).padStart(3, '0')}.jsonl` })), attributes };
  });
  await seedQueue(clients.sqs, resources.dlqUrl, seeded);
  return { resources, seeded };
}

async function counts(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

async function journalLines(path: string): Promise<Array<DroppedMessageRecord & { notDropped?: string[] }>> {
  const textContent = await readFile(path, 'utf8');
  return textContent.trim().split('\n').map((line) => JSON.parse(line) as DroppedMessageRecord & { notDropped?: string[] });
}

const journalPath = (name: string) => join(journalDirectory, `${name}.jsonl`);

async function peekIds(resources: LocalResources): Promise<DeadLetterDescription[]> {
  const run = await runOps(['dlq', 'peek', '-n', '50', '--json'], { env: pipelineEnv(resources) });
  return run.json<{ messages: DeadLetterDescription[] }>().messages;
}

function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

describe('dlq drop', () => {
  it('drops by id, journaling body, attributes and reason first, and leaves the others visible', async () => {
    const { resources, seeded } = await dlqWith(4);
    const described = await peekIds(resources);
    const target = described.find((message) => message.failure.by === 'worker' && message.failure.reason === 'corrupt_gzip');
    const journal = journalPath('by-id');

    const run = await runOps(['dlq', 'drop', '--id', target?.messageId ?? '', '--journal', journal], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`dropped 1 message (id ${target?.messageId})`);
    expect(run.stdout).toContain(`journal: ${journal}`);
    expect(run.stdout).toMatch(new RegExp(`${target?.messageId}  s3://${resources.rawBucket}/dead/000\\.jsonl  reason corrupt_gzip  receive count \\d+`));
    expect(run.stdout).toContain('the DLQ holds 3 messages (3 visible, 0 in flight) now (left alone: 3 not selected)');
    const [line, ...rest] = await journalLines(journal);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      messageId: target?.messageId,
      dlqUrl: resources.dlqUrl,
      reason: 'corrupt_gzip',
      body: seeded[0]?.body,
      messageAttributes: { origin: { DataType: 'String', StringValue: 'o-0' }, 'ingest-failure-reason': { StringValue: 'corrupt_gzip' } },
    });
    expect(Number(line?.attributes['ApproximateReceiveCount'])).toBeGreaterThanOrEqual(1);
    expect(line?.attributes['SentTimestamp']).toMatch(/^\d+$/);
    expect(Date.parse(line?.droppedAt ?? '')).not.toBeNaN();
    // Released at once, not after a visibility timeout.
    expect(await counts(clients.sqs, resources.dlqUrl)).toEqual({ visible: 3, inFlight: 0 });
    expect(sorted(await receiveAll(clients.sqs, resources.dlqUrl))).toEqual(sorted(seeded.slice(1).map(({ body }) => body)));
  });

  it('drops by recorded reason, `none` selecting those without one, and reports JSON', async () => {
    const { resources, seeded } = await dlqWith(10);
    const journal = journalPath('by-reason');

    const run = await runOps(['dlq', 'drop', '--reason', 'corrupt_gzip', 'none', '--journal', journal, '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const report = run.json<DropReport>();
    // Of 10, indexes 0 and 5 are corrupt_gzip, 2, 4, 7 and 9 have no reason.
    expect(report).toMatchObject({ dryRun: false, dropped: 6, notSelected: 4, stoppedBy: 'completed', journal, dlqAfter: { messages: 4, visible: 4, inFlight: 0 } });
    expect(sorted(report.messages.map((message) => (message.failure.by === 'worker' ? message.failure.reason : 'none')))).toEqual(
      sorted(['corrupt_gzip', 'corrupt_gzip', 'none', 'none', 'none', 'none']),
    );
    const lines = await journalLines(journal);
    const dropped = [0, 2, 4, 5, 7, 9].map((index) => seeded[index]?.body ?? '');
    expect(sorted(lines.map((line) => line.body))).toEqual(sorted(dropped));
    expect(lines.filter((line) => line.reason === null)).toHaveLength(4);
    expect(sorted(await receiveAll(clients.sqs, resources.dlqUrl))).toEqual(sorted([1, 3, 6, 8].map((index) => seeded[index]?.body ?? '')));
  });

  it('--all --dry-run lists id, object, reason and receive count, deletes nothing, writes no journal and hides nothing', async () => {
    const { resources, seeded } = await dlqWith(12);
    const journal = journalPath('dry');

    const run = await runOps(['dlq', 'drop', '--all', '--dry-run', '--journal', journal], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('dry run: would drop 12 messages (every message)');
    expect(run.stdout).toContain('nothing was deleted');
    expect(run.stdout.match(/^ {2}\S+ {2}s3:\/\/\S+ {2}reason \S+.* {2}receive count \d+$/gm)).toHaveLength(12);
    expect(run.stdout).toContain('reason none (no recorded reason)');
    expect(await readdir(journalDirectory)).not.toContain('dry.jsonl');
    expect(await counts(clients.sqs, resources.dlqUrl)).toEqual({ visible: 12, inFlight: 0 });
    expect(sorted(await receiveAll(clients.sqs, resources.dlqUrl))).toEqual(sorted(seeded.map(({ body }) => body)));
  });

  it('--all drops every message present at the start (several batches) and leaves one that arrives during the run', async () => {
    const { resources, seeded } = await dlqWith(25);
    const journal = journalPath('all');
    let deletes = 0;
    const arriveDuringRun = ({ sqs }: AwsClients) => {
      sqs.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'DeleteMessageBatchCommand' && ++deletes === 1) {
            await sqs.send(new SendMessageCommand({ QueueUrl: resources.dlqUrl, MessageBody: 'dead-lettered again meanwhile' }));
          }
          return result;
        },
        { step: 'initialize', name: 'arriveDuringRun' },
      );
    };

    const run = await runOps(['dlq', 'drop', '--all', '--journal', journal, '--json'], { env: pipelineEnv(resources), prepareClients: arriveDuringRun });

    expect(run.exitCode).toBe(0);
    expect(run.json<DropReport>()).toMatchObject({ dropped: 25, arrivedDuringRun: 1, stoppedBy: 'completed', dlqAfter: { messages: 1, visible: 1 } });
    expect(sorted((await journalLines(journal)).map((line) => line.body))).toEqual(sorted(seeded.map(({ body }) => body)));
    expect(await receiveAll(clients.sqs, resources.dlqUrl)).toEqual(['dead-lettered again meanwhile']);
  });

  it('Ctrl-C stops after the batch in hand (exit 3); the rerun appends to the same journal and finishes', async () => {
    const { resources, seeded } = await dlqWith(25);
    const journal = journalPath('interrupted');
    const interrupt = new AbortController();
    const abortAfterFirstDelete = ({ sqs }: AwsClients) => {
      sqs.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'DeleteMessageBatchCommand') interrupt.abort();
          return result;
        },
        { step: 'initialize', name: 'abortAfterFirstDelete' },
      );
    };

    const first = await runOps(['dlq', 'drop', '--all', '--journal', journal, '--json'], {
      env: pipelineEnv(resources),
      signal: interrupt.signal,
      prepareClients: abortAfterFirstDelete,
    });
    const second = await runOps(['dlq', 'drop', '--all', '--journal', journal], { env: pipelineEnv(resources) });

    expect(first.exitCode).toBe(3);
    expect(first.json<DropReport>()).toMatchObject({ dropped: 10, stoppedBy: 'interrupted', dlqAfter: { messages: 15, visible: 15, inFlight: 0 } });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain('dropped 15 messages');
    expect(second.stdout).toContain('the DLQ holds no messages now');
    expect(sorted((await journalLines(journal)).map((line) => line.body))).toEqual(sorted(seeded.map(({ body }) => body)));
  });

  it('a failed delete (exit 1) leaves the messages in the DLQ, visible, and marked notDropped in the journal', async () => {
    const { resources } = await dlqWith(3);
    const journal = journalPath('delete-fails');
    const failDeletes = ({ sqs }: AwsClients) => {
      sqs.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'DeleteMessageBatchCommand') throw Object.assign(new Error('injected: connection reset'), { name: 'NetworkingError' });
          return next(args);
        },
        { step: 'initialize', name: 'failDeletes' },
      );
    };

    const run = await runOps(['dlq', 'drop', '--all', '--journal', journal], { env: pipelineEnv(resources), prepareClients: failDeletes });

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('3 message(s) could not be deleted');
    expect(run.stdout).toContain('dropped 0 messages');
    const lines = await journalLines(journal);
    expect(lines).toHaveLength(4);
    expect(sorted(lines.at(-1)?.notDropped ?? [])).toEqual(sorted(lines.slice(0, 3).map((line) => line.messageId)));
    expect(await counts(clients.sqs, resources.dlqUrl)).toEqual({ visible: 3, inFlight: 0 });
  });

  it('exits 1 for an id that is not in the DLQ, and 2 without exactly one selector or with an unknown reason', async () => {
    const { resources } = await dlqWith(2);
    const env = pipelineEnv(resources);

    const missing = await runOps(['dlq', 'drop', '--id', 'no-such-id', '--journal', journalPath('missing')], { env });
    const none = await runOps(['dlq', 'drop'], { env });
    const two = await runOps(['dlq', 'drop', '--all', '--reason', 'not_json'], { env });
    const typo = await runOps(['dlq', 'drop', '--reason', 'corupt_gzip'], { env });

    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toContain('not found: no-such-id');
    expect(await readdir(journalDirectory)).not.toContain('missing.jsonl');
    for (const run of [none, two, typo]) {
      expect(run.exitCode).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(none.stderr).toContain('say which messages: --id, --reason or --all');
    expect(two.stderr).toContain('give only one of --id, --reason or --all');
    expect(typo.stderr).toContain('"corupt_gzip" is not a reason the worker records');
    expect(await counts(clients.sqs, resources.dlqUrl)).toEqual({ visible: 2, inFlight: 0 });
  });
});
