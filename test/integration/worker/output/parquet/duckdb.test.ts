import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { generateReadings } from '../../../../../ops/local/synthetic-data.ts';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../../worker/records/device-registry.ts';
import { MemoryBucket } from '../../../../support/parquet-memory-sink.ts';
import { PartitionedParquetWriter, type ParquetObjectSummary } from '../../../../../worker/output/parquet/partitioned-writer.ts';
import { CONTENT_TYPES, ObjectWriter } from '../../../../../worker/output/object-writer.ts';
import { evaluateLine, type RecordRules } from '../../../../../worker/records/pipeline.ts';
import { testClients, uniqueName } from '../../../../support/emulator.ts';

const RULES: RecordRules = {
  temperatureThresholdCelsius: 10,
  locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)),
  unknownLocationId: 'unknown',
};
const ROW_GROUP_ROWS = 500;
const PREFIX = 'parquet/';

/** Records the generator cannot make: awkward timestamps and optional fields, extra fields. */
const HAND_MADE_LINES = [
  '{"device_id": "sensor-alpha", "temperature": 21.5, "humidity": 40}',
  '{"device_id": "sensor-alpha", "temperature": 22.5, "humidity": 40, "timestamp": null}',
  '{"device_id": "sensor-beta", "temperature": 23.5, "humidity": 41, "timestamp": "yesterday"}',
  '{"device_id": "sensor-beta", "temperature": 24.5, "humidity": 42, "timestamp": 1752231600}',
  '{"device_id": "sensor-gamma", "temperature": 25.5, "humidity": 43, "timestamp": "2025-07-11T11:00:00"}',
  '{"device_id": "sensor-gamma", "temperature": 26.5, "humidity": 44, "timestamp": "2025-07-14T01:30:00+02:00", "pressure": "abc"}',
  '{"device_id": "sensor-alpha", "temperature": 27.5, "humidity": 45, "timestamp": "2025-07-13T23:30:00.250-01:00", "location": 7}',
  '{"device_id": "sensor-zeta", "temperature": 28.5, "humidity": 46, "timestamp": "2025-07-12T12:00:00Z", "firmware": "1.2", "tags": ["a"]}',
];
const UNKNOWN_TIMESTAMP_LINES = 5;

/** Several days of generated readings (each day crossing midnight) plus the hand-made lines, with some rejected lines. */
function inputLines(): string[] {
  const days = ['2025-07-11T23:50:00Z', '2025-07-12T23:50:00Z', '2025-07-13T23:50:00Z'];
  const generated = days.flatMap((startTime, index) => [
    ...generateReadings({ records: 1500, devices: 5, seed: 7 + index, malformedRatio: 0.02, startTime }),
  ]);
  return [...generated, ...HAND_MADE_LINES];
}

/** What each processed record must read as from Parquet, derived from its JSON Lines output alone. */
function expectedRow(jsonLine: string): unknown[] {
  const record = JSON.parse(jsonLine) as Record<string, unknown>;
  const timestamp = record.timestamp;
  const zoned = typeof timestamp === 'string' && /T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(timestamp);
  const millis = zoned ? Date.parse(timestamp) : null;
  return [
    record.device_id,
    typeof record.location === 'string' ? record.location : null,
    record.temperature,
    record.humidity,
    typeof record.pressure === 'number' ? record.pressure : null,
    millis,
    record.location_id,
    record.temp_fahrenheit,
    extraFields(record),
    millis === null ? 'unknown' : new Date(millis).toISOString().slice(0, 10),
  ];
}

/** The fields of a JSON Lines record that have no column of their own: what `extra` must hold, or null. */
function extraFields(record: Record<string, unknown>): Record<string, unknown> | null {
  const columns = ['device_id', 'location', 'temperature', 'humidity', 'pressure', 'timestamp', 'location_id', 'temp_fahrenheit'];
  const others = Object.entries(record).filter(([field]) => !columns.includes(field));
  return others.length === 0 ? null : Object.fromEntries(others);
}

function byJson(a: unknown[], b: unknown[]): number {
  const [left, right] = [JSON.stringify(a), JSON.stringify(b)];
  return left < right ? -1 : left > right ? 1 : 0;
}

interface Written {
  readonly jsonLines: string[];
  readonly stored: readonly ParquetObjectSummary[];
  readonly directory: string;
}

/** Runs the lines through the record rules, as the worker does, into JSON Lines and Parquet side by side. */
async function writeBoth(lines: readonly string[], directory: string): Promise<Written> {
  const bucket = new MemoryBucket();
  const writer = new PartitionedParquetWriter({ inputKey: 'site-1/readings.jsonl', prefix: PREFIX, openObject: bucket.open, rowGroupRows: ROW_GROUP_ROWS });
  const jsonLines: string[] = [];
  for (const line of lines) {
    const result = evaluateLine(line, RULES);
    if (result.outcome !== 'processed') continue;
    jsonLines.push(result.output);
    writer.add(JSON.parse(result.output) as Record<string, unknown>);
    if (jsonLines.length % 100 === 0) await writer.drain();
  }
  const stored = await writer.finish();
  for (const [key, bytes] of bucket.finishedObjects()) {
    const path = join(directory, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
  return { jsonLines, stored, directory };
}

async function query(connection: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson();
}

describe('Parquet output read back with DuckDB', () => {
  let directory: string;
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  let written: Written;
  let table: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'parquet-duckdb-'));
    written = await writeBoth(inputLines(), directory);
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    // As Athena sees the table: the files under the prefix, dt from the folder names, kept as text.
    table = `read_parquet('${join(directory, PREFIX)}**/*.parquet', hive_partitioning = true, hive_types = {'dt': VARCHAR})`;
  });

  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
    rmSync(directory, { recursive: true, force: true });
  });

  it('holds exactly the records of the JSON Lines output, value for value', async () => {
    const rows = await query(
      connection,
      `SELECT device_id, location, temperature, humidity, pressure, epoch_ms("timestamp") AS timestamp_ms, location_id, temp_fahrenheit, extra, dt FROM ${table}`,
    );
    const actual = rows.map((row) =>
      Object.values(row).map((value, index) => {
        if (index === 5 && value !== null) return Number(value);
        if (index === 8 && typeof value === 'string') return JSON.parse(value) as unknown;
        return value;
      }),
    );

    expect(written.jsonLines.length).toBeGreaterThan(2500);
    expect(actual.length).toBe(written.jsonLines.length);
    expect(actual.sort(byJson)).toStrictEqual(written.jsonLines.map(expectedRow).sort(byJson));
  });

  it('has the documented column types, the timestamp as an instant (TIMESTAMP WITH TIME ZONE)', async () => {
    const columns = await query(connection, `DESCRIBE SELECT * FROM ${table}`);
    expect(columns.map((column) => [column.column_name, column.column_type])).toStrictEqual([
      ['device_id', 'VARCHAR'],
      ['location', 'VARCHAR'],
      ['temperature', 'DOUBLE'],
      ['humidity', 'DOUBLE'],
      ['pressure', 'DOUBLE'],
      ['timestamp', 'TIMESTAMP WITH TIME ZONE'],
      ['location_id', 'VARCHAR'],
      ['temp_fahrenheit', 'DOUBLE'],
      ['extra', 'VARCHAR'],
      ['dt', 'VARCHAR'],
    ]);
  });

  it('partitions by UTC day, with the records lacking a usable timestamp under dt=unknown', async () => {
    const counts = await query(connection, `SELECT dt, count(*) AS n FROM ${table} GROUP BY dt ORDER BY dt`);
    expect(counts.map((row) => row.dt)).toStrictEqual(['2025-07-11', '2025-07-12', '2025-07-13', '2025-07-14', 'unknown']);
    expect(counts.find((row) => row.dt === 'unknown')?.n).toBe(String(UNKNOWN_TIMESTAMP_LINES));
    expect(written.stored.map((summary) => [summary.partition, summary.rows])).toStrictEqual(
      counts.map((row) => [`dt=${String(row.dt)}`, Number(row.n)]),
    );
  });

  it('records in each footer the row groups it has, none above the configured size', async () => {
    const groups = await query(
      connection,
      `SELECT file_name, count(DISTINCT row_group_id) AS groups, max(row_group_num_rows) AS largest
       FROM parquet_metadata('${join(directory, PREFIX)}**/*.parquet') GROUP BY file_name`,
    );
    expect(groups).toHaveLength(written.stored.length);
    for (const summary of written.stored) {
      const file = groups.find((row) => String(row.file_name).endsWith(summary.key));
      expect([summary.key, Number(file?.groups)]).toStrictEqual([summary.key, summary.rowGroups]);
      expect(Number(file?.largest)).toBeLessThanOrEqual(ROW_GROUP_ROWS);
    }
  });

  it('cuts a one-day file into full row groups of the configured size and a last, shorter one', async () => {
    // Prepare: 1,234 processed records of one day.
    const bucket = new MemoryBucket();
    const writer = new PartitionedParquetWriter({ inputKey: 'one-day.jsonl', prefix: '', openObject: bucket.open, rowGroupRows: ROW_GROUP_ROWS });
    const lines = generateReadings({ records: 5000, devices: 5, seed: 3, startTime: '2025-07-20T00:00:00Z' });
    let processed = 0;
    for (const line of lines) {
      const result = evaluateLine(line, RULES);
      if (result.outcome !== 'processed') continue;
      writer.add(JSON.parse(result.output) as Record<string, unknown>);
      if ((processed += 1) === 1234) break;
    }
    const [summary] = await writer.finish();
    const path = join(directory, 'one-day.parquet');
    writeFileSync(path, bucket.finishedObjects().get(summary?.key ?? '') ?? new Uint8Array());

    // Act
    const groups = await query(connection, `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${path}') ORDER BY row_group_id`);

    // Assess
    expect(groups.map((row) => Number(row.row_group_num_rows))).toStrictEqual([500, 500, 234]);
    expect(summary).toMatchObject({ key: 'dt=2025-07-20/one-day.parquet', rows: 1234, rowGroups: 3 });
  });

  it('keeps the fields a fleet added in extra, which parses back to exactly those fields and answers json_extract', async () => {
    // Prepare: records with added fields (numbers, a nested object, text beyond ASCII), and one without.
    const added = [
      { battery: 87.5, firmware: '2.1.0-β', signal: { rssi: -71, bars: [1, 2, 3], ok: true }, note: 'Zürich 🌡 "quoted"\n' },
      { battery: 0, firmware: null, reboots: 12_345_678_901 },
      {},
    ];
    const lines = added.map((fields, index) =>
      JSON.stringify({ device_id: 'sensor-alpha', temperature: 21 + index, humidity: 40, timestamp: `2025-07-21T10:0${index}:00Z`, ...fields }),
    );
    const bucket = new MemoryBucket();
    const writer = new PartitionedParquetWriter({ inputKey: 'fleet.jsonl', prefix: '', openObject: bucket.open });
    for (const line of lines) {
      const result = evaluateLine(line, RULES);
      if (result.outcome === 'processed') writer.add(result.record);
    }
    const [summary] = await writer.finish();
    const path = join(directory, 'fleet.parquet');
    writeFileSync(path, bucket.finishedObjects().get(summary?.key ?? '') ?? new Uint8Array());

    // Act
    const rows = await query(
      connection,
      `SELECT extra, CAST(json_extract(extra, '$.battery') AS DOUBLE) AS battery, json_extract_string(extra, '$.note') AS note,
              CAST(json_extract(extra, '$.signal.rssi') AS INTEGER) AS rssi
       FROM read_parquet('${path}') ORDER BY temperature`,
    );

    // Assess
    expect(rows.map(({ extra }) => (typeof extra === 'string' ? (JSON.parse(extra) as unknown) : extra))).toStrictEqual([added[0], added[1], null]);
    expect(rows.map(({ battery, note, rssi }) => [battery, note, rssi])).toStrictEqual([
      [87.5, 'Zürich 🌡 "quoted"\n', -71],
      [0, null, null],
      [null, null, null],
    ]);
  });

  it('compresses with ZSTD and keeps per-row-group statistics for skipping', async () => {
    const [first] = written.stored;
    const chunks = await query(
      connection,
      `SELECT DISTINCT compression, stats_min_value IS NOT NULL AS has_min FROM parquet_metadata('${join(directory, first?.key ?? '')}') WHERE path_in_schema = 'timestamp'`,
    );
    expect(chunks).toStrictEqual([{ compression: 'ZSTD', has_min: true }]);
  });
});

describe('ObjectWriter as the Parquet sink, on the emulator', () => {
  let clients: AwsClients;

  beforeAll(() => {
    clients = testClients();
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  it('stores each Parquet object whole, with the Parquet media type, readable by DuckDB', async () => {
    // Prepare
    const bucket = uniqueName('parquet');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const lines = [...generateReadings({ records: 3000, devices: 3, seed: 11, startTime: '2025-07-11T23:30:00Z' })];
    const openObject = (key: string) => new ObjectWriter(clients.s3, { bucket, key, contentType: CONTENT_TYPES.parquet, partSizeBytes: 5 * 1024 * 1024, queueSize: 2 });
    const writer = new PartitionedParquetWriter({ inputKey: 'readings.jsonl', prefix: PREFIX, openObject, rowGroupRows: ROW_GROUP_ROWS });

    // Act
    let processed = 0;
    for (const line of lines) {
      const result = evaluateLine(line, RULES);
      if (result.outcome !== 'processed') continue;
      writer.add(JSON.parse(result.output) as Record<string, unknown>);
      processed += 1;
    }
    await writer.drain();
    const stored = await writer.finish();

    // Assess
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toStrictEqual(['parquet/dt=2025-07-11/readings.parquet', 'parquet/dt=2025-07-12/readings.parquet']);
    const directory = mkdtempSync(join(tmpdir(), 'parquet-s3-'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      for (const summary of stored) {
        const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: summary.key }));
        expect(object.ContentType).toBe('application/vnd.apache.parquet');
        const bytes = await object.Body?.transformToByteArray();
        expect(bytes?.length).toBe(summary.bytes);
        writeFileSync(join(directory, `${summary.partition}.parquet`), bytes ?? new Uint8Array());
      }
      const [count] = await query(connection, `SELECT count(*) AS n FROM read_parquet('${directory}/*.parquet')`);
      expect(Number(count?.n)).toBe(processed);
    } finally {
      connection.closeSync();
      instance.closeSync();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('leaves nothing behind when aborted', async () => {
    const bucket = uniqueName('parquet-abort');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const openObject = (key: string) => new ObjectWriter(clients.s3, { bucket, key, contentType: CONTENT_TYPES.parquet, partSizeBytes: 5 * 1024 * 1024, queueSize: 2 });
    const writer = new PartitionedParquetWriter({ inputKey: 'readings.jsonl', prefix: PREFIX, openObject, rowGroupRows: 10 });
    for (const line of generateReadings({ records: 100, devices: 3, seed: 12 })) {
      const result = evaluateLine(line, RULES);
      if (result.outcome === 'processed') writer.add(JSON.parse(result.output) as Record<string, unknown>);
    }
    await writer.drain();

    expect(await writer.abort()).toStrictEqual([]);
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents ?? []).toStrictEqual([]);
  });
});
