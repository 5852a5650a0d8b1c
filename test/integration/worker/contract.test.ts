/**
 * The data contract, end to end: objects put into the raw bucket through the real SDK, announced by the
 * emulator's S3 notifications, processed by the real worker, outputs read back from the processed bucket.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../../worker/common/aws-clients.ts';
import type { LocalResources } from '../../../ops/local/resources.ts';
import { createTestStack, readObjectText, testClients, waitFor } from '../../support/emulator.ts';
import { startTestWorker, type TestWorker } from '../../support/worker-harness.ts';

const SAMPLE = new URL('../../../data/sample_data.jsonl', import.meta.url);

let clients: AwsClients;
let resources: LocalResources;
let harness: TestWorker;

beforeAll(async () => {
  clients = testClients();
  resources = await createTestStack(clients);
  harness = await startTestWorker(resources);
});

afterAll(async () => {
  await harness?.stop();
  clients?.s3.destroy();
  clients?.sqs.destroy();
});

async function put(key: string, body: string | Buffer): Promise<void> {
  await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: body }));
}

function processedFor(key: string) {
  return harness.waitForReport((report) => report.ref.key === key, `the outcome of ${key}`);
}

async function readBytes(bucket: string, key: string): Promise<Buffer> {
  const response = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the worker on the local stack', () => {
  it('turns the sample file into the five enriched records of the contract and deletes the message', async () => {
    await put('sample/sample_data.jsonl', await readFile(SAMPLE));

    const report = await processedFor('sample/sample_data.jsonl');

    expect(report.outcome).toBe('succeeded');
    const records = jsonLines((await readObjectText(clients.s3, resources.processedBucket, 'sample/sample_data.jsonl')) ?? '');
    expect(records.map((record) => record.temp_fahrenheit)).toEqual([68, 82.58, 72.5, 65.66, 80.42]);
    expect(records.map((record) => record.location_id)).toEqual([
      'loc-warehouse-a',
      'loc-warehouse-b',
      'loc-warehouse-a',
      'loc-server-room-1',
      'loc-warehouse-b',
    ]);
    expect(records[0]).toEqual({
      device_id: 'sensor-alpha',
      location: 'warehouse-A',
      temperature: 20,
      humidity: 55.5,
      pressure: 1012.3,
      timestamp: '2025-07-11T11:00:00Z',
      location_id: 'loc-warehouse-a',
      temp_fahrenheit: 68,
    });
    expect(await readObjectText(clients.s3, resources.processedBucket, 'rejected/sample/sample_data.jsonl')).toBe('');
    const attributes = await waitFor(
      async () => {
        const { Attributes } = await clients.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: resources.queueUrl, AttributeNames: ['All'] }),
        );
        return Attributes?.ApproximateNumberOfMessages === '0' && Attributes.ApproximateNumberOfMessagesNotVisible === '0'
          ? Attributes
          : undefined;
      },
      { what: 'an empty queue' },
    );
    expect(attributes.ApproximateNumberOfMessages).toBe('0');
  });

  it('gives every line exactly one outcome, with each reject reason, its field and its line number', async () => {
    const lines = [
      '\uFEFF{"device_id":"sensor-alpha","temperature":25,"humidity":50}',
      '',
      '{"device_id":"sensor-beta","temperature":5,"humidity":50}',
      'not json at all',
      '[1,2,3]',
      '{"temperature":25,"humidity":50}',
      '{"device_id":"sensor-gamma","temperature":"25","humidity":50}',
      '{"device_id":"sensor-gamma","temperature":25,"humidity":101}',
      '   ',
      '{"device_id":"sensor-unknown","temperature":30.5,"humidity":0}',
      '{"device_id":"sensor-alpha","temperature":10,"humidity":100}',
    ];
    await put('mixed/readings.jsonl', lines.join('\r\n'));

    const report = await processedFor('mixed/readings.jsonl');

    expect(report.result?.outcome).toBe('succeeded');
    if (report.result?.outcome !== 'succeeded') return;
    expect(report.result.tally).toEqual({
      processed: 2,
      filtered: 2,
      rejected: 5,
      rejectedByReason: { invalid_json: 1, not_an_object: 1, missing_field: 1, invalid_type: 1, out_of_range: 1 },
      unknownDevices: 1,
    });
    const processed = jsonLines((await readObjectText(clients.s3, resources.processedBucket, 'mixed/readings.jsonl')) ?? '');
    expect(processed.map((record) => [record.device_id, record.location_id, record.temp_fahrenheit])).toEqual([
      ['sensor-alpha', 'loc-warehouse-a', 77],
      ['sensor-unknown', 'unknown', 86.9],
    ]);
    const rejected = jsonLines((await readObjectText(clients.s3, resources.processedBucket, 'rejected/mixed/readings.jsonl')) ?? '');
    expect(rejected.map(({ line, reason, field }) => ({ line, reason, field }))).toEqual([
      { line: 4, reason: 'invalid_json', field: undefined },
      { line: 5, reason: 'not_an_object', field: undefined },
      { line: 6, reason: 'missing_field', field: 'device_id' },
      { line: 7, reason: 'invalid_type', field: 'temperature' },
      { line: 8, reason: 'out_of_range', field: 'humidity' },
    ]);
    expect(rejected[0]?.text).toBe('not json at all');
  });

  it('reads gzip input (by suffix or by magic bytes) and writes gzip output', async () => {
    const body = gzipSync('{"device_id":"sensor-beta","temperature":28.1,"humidity":62.1}\n');
    await put('gz/readings.jsonl.gz', body);
    await put('gz/no-suffix.jsonl', body);

    const bySuffix = await processedFor('gz/readings.jsonl.gz');
    const byMagic = await processedFor('gz/no-suffix.jsonl');

    for (const [report, key] of [
      [bySuffix, 'gz/readings.jsonl.gz'],
      [byMagic, 'gz/no-suffix.jsonl'],
    ] as const) {
      expect(report.outcome).toBe('succeeded');
      const output = gunzipSync(await readBytes(resources.processedBucket, key)).toString('utf8');
      expect(jsonLines(output)).toEqual([
        { device_id: 'sensor-beta', temperature: 28.1, humidity: 62.1, location_id: 'loc-warehouse-b', temp_fahrenheit: 82.58 },
      ]);
      expect(gunzipSync(await readBytes(resources.processedBucket, `rejected/${key}`)).length).toBe(0);
    }
  });

  it('processes keys with spaces, plus signs, percent signs and non-ASCII characters under their exact names', async () => {
    const keys = ['odd keys/with space.jsonl', 'odd keys/a+b=c.jsonl', 'odd keys/100% müll/温度 ✓.jsonl'];
    for (const key of keys) await put(key, '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n');

    for (const key of keys) {
      const report = await processedFor(key);
      expect(report.outcome).toBe('succeeded');
      const output = await readObjectText(clients.s3, resources.processedBucket, key);
      expect(jsonLines(output ?? '')).toHaveLength(1);
    }
  });

  it('writes the same bytes when the same object is processed again', async () => {
    const body = gzipSync((await readFile(SAMPLE, 'utf8')).repeat(50));
    await put('again/readings.jsonl.gz', body);
    await processedFor('again/readings.jsonl.gz');
    const first = await readBytes(resources.processedBucket, 'again/readings.jsonl.gz');
    harness.reports.length = 0;

    await put('again/readings.jsonl.gz', body);
    await processedFor('again/readings.jsonl.gz');

    expect((await readBytes(resources.processedBucket, 'again/readings.jsonl.gz')).equals(first)).toBe(true);
  });
});
