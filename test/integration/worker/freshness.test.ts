/**
 * Freshness as a running worker measures it: from the S3 event's time to both outputs stored, on /metrics
 * as iot_ingest_freshness_seconds, against FRESHNESS_OBJECTIVE_SECONDS; and a bad objective stops the process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { objectMessage } from '../../../worker/common/object-message.ts';
import { readObjectText, uniqueName } from '../../support/emulator.ts';
import { parseExposition } from '../../support/observability-asset-lint.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const MAIN = fileURLToPath(new URL('../../../worker/main.ts', import.meta.url));
const RECORD = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n';
const AGE_SECONDS = 1_800;

const running: StackWithWorker[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((pipeline) => pipeline.stop()));
});

/** The value of one series of the scrape, matched by its whole name and labels as written. */
function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('freshness on /metrics', () => {
  it("observes a file's age since its S3 event, not one whose message has no event time, against the objective set", async () => {
    const pipeline = await startStackWithWorker({ env: { FRESHNESS_OBJECTIVE_SECONDS: '420' } });
    running.push(pipeline);
    const { clients, resources, harness } = pipeline;
    // A bucket of its own, which notifies nobody: the worker sees only the two messages below.
    const bucket = uniqueName('freshness-raw');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'late.jsonl', Body: RECORD }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'backfilled.jsonl', Body: RECORD }));
    const eventTime = new Date(Date.now() - AGE_SECONDS * 1000).toISOString();
    const s3Event = {
      Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', eventTime, s3: { bucket: { name: bucket }, object: { key: 'late.jsonl' } } }],
    };

    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: JSON.stringify(s3Event) }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.queueUrl, MessageBody: JSON.stringify(objectMessage({ bucket, key: 'backfilled.jsonl' })) }));
    for (const key of ['late.jsonl', 'backfilled.jsonl']) await harness.waitForReport((report) => report.ref.key === key, key);
    const scrape = await (await fetch(`${harness.worker.httpAddress}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();

    expect(harness.reports.map((report) => [report.ref.key, report.outcome]).sort()).toEqual([
      ['backfilled.jsonl', 'succeeded'],
      ['late.jsonl', 'succeeded'],
    ]);
    expect(await readObjectText(clients.s3, resources.processedBucket, 'late.jsonl')).toContain('sensor-alpha');
    expect(sample(scrape, 'iot_ingest_freshness_objective_seconds')).toBe(420);
    expect(sample(scrape, 'iot_ingest_freshness_seconds_count')).toBe(1);
    const sum = sample(scrape, 'iot_ingest_freshness_seconds_sum') ?? Number.NaN;
    expect(sum).toBeGreaterThanOrEqual(AGE_SECONDS);
    expect(sum).toBeLessThan(AGE_SECONDS + 60);
    // The objective is a bucket bound; the file is past it and past 1800 s, within the next bound.
    expect(sample(scrape, 'iot_ingest_freshness_seconds_bucket{le="420"}')).toBe(0);
    expect(sample(scrape, 'iot_ingest_freshness_seconds_bucket{le="1800"}')).toBe(0);
    expect(sample(scrape, 'iot_ingest_freshness_seconds_bucket{le="2700"}')).toBe(1);
    expect(parseExposition(scrape).get('iot_ingest_freshness_seconds_bucket')?.get('le')?.size).toBeGreaterThan(10);
    const processed = harness.logLines().filter((line) => line.msg === 'file processed');
    expect(processed.find((line) => line.key === 'late.jsonl')?.freshnessMs).toEqual(expect.any(Number));
    expect(processed.find((line) => line.key === 'backfilled.jsonl')).not.toHaveProperty('freshnessMs');
  });
});

describe('FRESHNESS_OBJECTIVE_SECONDS on the worker process', () => {
  it('stops the worker with exit code 2 and one line naming the variable, when it is not a positive number', async () => {
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      PROCESSED_BUCKET: 'b',
      FRESHNESS_OBJECTIVE_SECONDS: '15m',
    };
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));

    const [code] = (await once(child, 'exit')) as [number | null];

    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual(['configuration error: FRESHNESS_OBJECTIVE_SECONDS must be a number of seconds above 0, at most 86400; got "15m"']);
  });
});
