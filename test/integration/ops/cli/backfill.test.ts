/** `backfill` enqueues each matching object once, across list pages, and can skip processed ones. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import type { ObjectMessage } from '../../../../worker/common/object-message.ts';
import { createTestStack, receiveAll, testClients } from '../../../support/emulator.ts';
import { pipelineEnv, runOps } from '../../../support/cli-harness.ts';

let clients: AwsClients;

beforeAll(() => {
  clients = testClients();
});

afterAll(() => {
  destroyAwsClients(clients);
});

interface BackfillJson {
  listed: number;
  matched: number;
  skippedProcessed: number;
  sent: number;
  dryRun: boolean;
  stoppedBy: string;
}

const MATCHING = [
  ...Array.from({ length: 18 }, (_, index) => `in/day-${String(index).padStart(2, '0')}.jsonl`),
  'in/old.jsonl.gz',
  'in/site 2/ünïcode + space.jsonl',
];
const NOT_MATCHING = ['in/notes.txt', 'in/data.csv', 'in/folder/'];
const OUTSIDE_PREFIX = ['elsewhere/x.jsonl'];

/** A pipeline whose bucket announces none of these keys, holding the objects above; its queue drained. */
async function seededStack(): Promise<LocalResources> {
  const resources = await createTestStack(clients, { suffixes: ['.never-announced'] });
  const limit = pLimit(8);
  await Promise.all(
    [...MATCHING, ...NOT_MATCHING, ...OUTSIDE_PREFIX].map((key) =>
      limit(() => clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: `{"key":"${key}"}\n` }))),
    ),
  );
  await receiveAll(clients.sqs, resources.queueUrl);
  return resources;
}

function parse(bodies: readonly string[]): ObjectMessage[] {
  return bodies.map((body) => JSON.parse(body) as ObjectMessage);
}

describe('backfill', () => {
  it('sends one object message per matching object, across small list pages', async () => {
    const resources = await seededStack();

    const run = await runOps(['backfill', '--prefix', 'in/', '--page-size', '4', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.json<BackfillJson>()).toMatchObject({ listed: 23, matched: 20, skippedProcessed: 0, sent: 20, stoppedBy: 'done' });
    const messages = parse(await receiveAll(clients.sqs, resources.queueUrl, { waitTimeSeconds: 1 }));
    expect(messages.map((message) => message.key).sort()).toEqual([...MATCHING].sort());
    for (const message of messages) {
      expect(message).toMatchObject({ type: 'iot-ingest.object', version: 1, bucket: resources.rawBucket });
      expect(message.size).toBe(Buffer.byteLength(`{"key":"${message.key}"}\n`));
      expect(message.eTag).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('--suffix replaces the default suffixes', async () => {
    const resources = await seededStack();

    const run = await runOps(['backfill', '--prefix', 'in/', '--suffix', '.csv', '--suffix', '.txt', '--json'], { env: pipelineEnv(resources) });

    expect(run.json<BackfillJson>()).toMatchObject({ matched: 2, sent: 2 });
    expect(parse(await receiveAll(clients.sqs, resources.queueUrl)).map((message) => message.key).sort()).toEqual(['in/data.csv', 'in/notes.txt']);
  });

  it('--skip-processed skips objects whose processed output exists', async () => {
    const resources = await seededStack();
    const done = ['in/day-00.jsonl', 'in/day-07.jsonl', 'in/old.jsonl.gz'];
    for (const key of done) await clients.s3.send(new PutObjectCommand({ Bucket: resources.processedBucket, Key: key, Body: '\n' }));
    // A rejected output alone does not make an object processed.
    await clients.s3.send(new PutObjectCommand({ Bucket: resources.processedBucket, Key: 'rejected/in/day-01.jsonl', Body: '\n' }));

    const run = await runOps(['backfill', '--prefix', 'in/', '--skip-processed', '--page-size', '7', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.json<BackfillJson>()).toMatchObject({ listed: 23, matched: 20, skippedProcessed: 3, sent: 17 });
    const keys = parse(await receiveAll(clients.sqs, resources.queueUrl)).map((message) => message.key);
    expect(keys.sort()).toEqual(MATCHING.filter((key) => !done.includes(key)).sort());
  });

  it('--dry-run lists the keys it would send, one a line, with their count, and sends nothing', async () => {
    const resources = await seededStack();
    const everyMatch = [...MATCHING, 'elsewhere/x.jsonl'];

    const run = await runOps(['backfill', '--prefix', '', '--dry-run', '--page-size', '4'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(0, everyMatch.length).sort()).toEqual([...everyMatch].sort());
    expect(lines[everyMatch.length]).toBe('dry run: listed 24, matched 21, skipped (already processed) 0, would send 21 (the keys above); nothing was sent');
    expect(lines).toHaveLength(everyMatch.length + 2);
    expect(run.stdout).not.toMatch(/\bsent \d/);
    expect(await receiveAll(clients.sqs, resources.queueUrl, { waitTimeSeconds: 1 })).toEqual([]);
  });

  it('--dry-run --json puts the keys under wouldSend and reports none sent; a real run reports what it sent', async () => {
    const resources = await seededStack();
    const done = ['in/day-03.jsonl', 'in/old.jsonl.gz'];
    for (const key of done) await clients.s3.send(new PutObjectCommand({ Bucket: resources.processedBucket, Key: key, Body: '\n' }));
    const args = ['backfill', '--prefix', 'in/', '--skip-processed', '--page-size', '5', '--json'];
    const expected = MATCHING.filter((key) => !done.includes(key));

    const dry = await runOps([...args, '--dry-run'], { env: pipelineEnv(resources) });
    const queuedAfterDryRun = await receiveAll(clients.sqs, resources.queueUrl, { waitTimeSeconds: 1 });
    const real = await runOps(args, { env: pipelineEnv(resources) });

    expect(dry.exitCode).toBe(0);
    const dryReport = dry.json<BackfillJson & { wouldSend: string[]; lastSentKey?: string }>();
    expect(dryReport).toMatchObject({ dryRun: true, listed: 23, matched: 20, skippedProcessed: 2, sent: 0, stoppedBy: 'done' });
    expect([...dryReport.wouldSend].sort()).toEqual([...expected].sort());
    expect(dryReport.lastSentKey).toBeUndefined();
    expect(queuedAfterDryRun).toEqual([]);

    expect(real.exitCode).toBe(0);
    const realReport = real.json<BackfillJson & { wouldSend?: string[]; lastSentKey?: string }>();
    expect(realReport).toMatchObject({ dryRun: false, matched: 20, skippedProcessed: 2, sent: expected.length, stoppedBy: 'done' });
    expect(realReport.wouldSend).toBeUndefined();
    expect(realReport.lastSentKey).toBe(dryReport.wouldSend.at(-1));
    expect(parse(await receiveAll(clients.sqs, resources.queueUrl)).map((message) => message.key).sort()).toEqual([...expected].sort());
  });

  it('--rate spaces the batches out: 18 messages at 10 per second take about a second', async () => {
    const resources = await seededStack();
    const started = Date.now();

    const run = await runOps(['backfill', '--prefix', 'in/day-', '--rate', '10', '--json'], { env: pipelineEnv(resources) });

    expect(run.json<BackfillJson>().sent).toBe(18);
    // The first batch of 10 leaves at once, the second a second later.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
