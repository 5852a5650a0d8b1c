/**
 * OUTPUT_FORMAT=parquet through the real worker: one input file spanning days becomes one Parquet object
 * per dt= partition, which DuckDB reads back as the same rows the JSON Lines output holds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import type { FileReport } from '../../../worker/telemetry.ts';
import { readObjectText } from '../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const LINES = [
  '{"device_id":"sensor-alpha","location":"warehouse-A","temperature":20.0,"humidity":55.5,"pressure":1012.3,"timestamp":"2025-07-11T23:59:59Z"}',
  '{"device_id":"sensor-beta","location":"warehouse-B","temperature":28.1,"humidity":62.1,"pressure":1010.5,"timestamp":"2025-07-12T00:00:01Z"}',
  '{"device_id":"sensor-gamma","temperature":18.7,"humidity":45,"timestamp":"not a time"}',
  '{"device_id":"sensor-alpha","temperature":5,"humidity":45,"timestamp":"2025-07-12T01:00:00Z"}',
  'broken',
];

let parquetWorker: StackWithWorker;
let jsonlWorker: StackWithWorker;
let report: FileReport;
const folder = mkdtempSync(join(tmpdir(), 'iot-parquet-'));

async function processWith(pipeline: StackWithWorker, key: string): Promise<FileReport> {
  await pipeline.clients.s3.send(new PutObjectCommand({ Bucket: pipeline.resources.rawBucket, Key: key, Body: LINES.join('\n') }));
  return pipeline.harness.waitForReport((candidate) => candidate.ref.key === key, key);
}

beforeAll(async () => {
  [parquetWorker, jsonlWorker] = await Promise.all([
    startStackWithWorker({ env: { OUTPUT_FORMAT: 'parquet' } }),
    startStackWithWorker(),
  ]);
  [report] = await Promise.all([processWith(parquetWorker, 'site-1/readings.jsonl'), processWith(jsonlWorker, 'site-1/readings.jsonl')]);
});

afterAll(async () => {
  await Promise.all([parquetWorker?.stop(), jsonlWorker?.stop()]);
  rmSync(folder, { recursive: true, force: true });
});

describe('OUTPUT_FORMAT=parquet', () => {
  it('writes one Parquet object per event date, a dt=unknown one for the unreadable timestamp, and the rejected lines as JSON Lines', async () => {
    expect(report.outcome).toBe('succeeded');
    const objects = report.result?.outcome === 'succeeded' ? report.result.parquetObjects : undefined;
    expect(objects?.map(({ key, rows }) => [key, rows])).toEqual([
      ['parquet/dt=2025-07-11/site-1/readings.parquet', 1],
      ['parquet/dt=2025-07-12/site-1/readings.parquet', 1],
      ['parquet/dt=unknown/site-1/readings.parquet', 1],
    ]);
    const stored = report.result?.outcome === 'succeeded' ? report.result.outputs.processed.map(({ key }) => key) : undefined;
    expect(stored).toEqual(objects?.map(({ key }) => key));
    const logged = parquetWorker.harness.logLines().find((line) => line.msg === 'file processed' && line.key === 'site-1/readings.jsonl');
    expect((logged?.outputs as { processed?: Array<{ key: string }> } | undefined)?.processed?.map(({ key }) => key)).toEqual(stored);
    const rejected = await readObjectText(parquetWorker.clients.s3, parquetWorker.resources.processedBucket, 'rejected/site-1/readings.jsonl');
    expect(rejected).toContain('"reason":"invalid_json"');
    expect(await readObjectText(parquetWorker.clients.s3, parquetWorker.resources.processedBucket, 'site-1/readings.jsonl')).toBeUndefined();
  });

  it('holds exactly the rows of the JSON Lines output, read back by DuckDB', async () => {
    const objects = report.result?.outcome === 'succeeded' ? (report.result.parquetObjects ?? []) : [];
    const files = await Promise.all(
      objects.map(async ({ key }, index) => {
        const response = await parquetWorker.clients.s3.send(new GetObjectCommand({ Bucket: parquetWorker.resources.processedBucket, Key: key }));
        const file = join(folder, `${index}.parquet`);
        writeFileSync(file, await response.Body!.transformToByteArray());
        return file;
      }),
    );
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const rows = (
      await connection.runAndReadAll(
        `SELECT device_id, location_id, temperature, humidity, temp_fahrenheit, epoch_ms(timestamp) AS ms FROM read_parquet(${JSON.stringify(files).replace(/"/g, "'")}) ORDER BY device_id`,
      )
    ).getRowObjectsJson();
    connection.closeSync();
    instance.closeSync();

    const jsonl = (await readObjectText(jsonlWorker.clients.s3, jsonlWorker.resources.processedBucket, 'site-1/readings.jsonl')) ?? '';
    const expected = jsonl
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .map((record) => ({
        device_id: record.device_id,
        location_id: record.location_id,
        temperature: record.temperature,
        humidity: record.humidity,
        temp_fahrenheit: record.temp_fahrenheit,
        ms: Number.isNaN(Date.parse(String(record.timestamp))) ? null : String(Date.parse(String(record.timestamp))),
      }))
      .sort((a, b) => String(a.device_id).localeCompare(String(b.device_id)));
    expect(rows).toEqual(expected);
  });
});
