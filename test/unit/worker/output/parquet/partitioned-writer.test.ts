import { describe, it, expect } from '@jest/globals';
import { MemoryBucket } from '../../../../support/parquet-memory-sink.ts';
import { PartitionedParquetWriter, type PartitionedParquetWriterOptions } from '../../../../../worker/output/parquet/partitioned-writer.ts';
import { NotAProcessedRecordError } from '../../../../../worker/output/parquet/schema.ts';

const PARQUET_MAGIC = 'PAR1';

function record(timestamp: string | undefined, index = 0): Record<string, unknown> {
  return {
    device_id: `sensor-${index % 7}`,
    location: 'warehouse-A',
    temperature: 20 + (index % 10),
    humidity: 50,
    pressure: 1000 + index,
    ...(timestamp === undefined ? {} : { timestamp }),
    location_id: 'loc-warehouse-a',
    temp_fahrenheit: 68,
  };
}

function writerInto(bucket: MemoryBucket, options: Partial<PartitionedParquetWriterOptions> = {}): PartitionedParquetWriter {
  return new PartitionedParquetWriter({ inputKey: 'site-1/readings.jsonl', prefix: 'parquet/', openObject: bucket.open, ...options });
}

async function writeAll(writer: PartitionedParquetWriter, records: ReadonlyArray<Record<string, unknown>>) {
  for (const each of records) writer.add(each);
  await writer.drain();
  return writer.finish();
}

describe('PartitionedParquetWriter routing', () => {
  it('writes one object per UTC day and one for records without a usable timestamp', async () => {
    // Prepare
    const bucket = new MemoryBucket();
    const records = [
      record('2025-07-11T23:59:59Z'),
      record('2025-07-12T00:30:00+02:00'),
      record('2025-07-12T00:00:00Z'),
      record(undefined),
      record('not a time'),
    ];

    // Act
    const stored = await writeAll(writerInto(bucket), records);

    // Assess
    expect(stored.map(({ key, partition, part, rows }) => ({ key, partition, part, rows }))).toStrictEqual([
      { key: 'parquet/dt=2025-07-11/site-1/readings.parquet', partition: 'dt=2025-07-11', part: 1, rows: 2 },
      { key: 'parquet/dt=2025-07-12/site-1/readings.parquet', partition: 'dt=2025-07-12', part: 1, rows: 1 },
      { key: 'parquet/dt=unknown/site-1/readings.parquet', partition: 'dt=unknown', part: 1, rows: 2 },
    ]);
    const objects = bucket.finishedObjects();
    expect([...objects.keys()]).toStrictEqual(stored.map((summary) => summary.key));
    for (const [key, bytes] of objects) {
      expect([key, bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toStrictEqual([key, PARQUET_MAGIC, PARQUET_MAGIC]);
      expect(stored.find((summary) => summary.key === key)?.bytes).toBe(bytes.length);
    }
  });

  it('writes no object at all for a file without processed records', async () => {
    const bucket = new MemoryBucket();
    expect(await writeAll(writerInto(bucket), [])).toStrictEqual([]);
    expect(bucket.objects.size).toBe(0);
  });

  it('refuses a record that is not a processed record', () => {
    const writer = writerInto(new MemoryBucket());
    expect(() => writer.add({ device_id: 'sensor-1', temperature: 20 })).toThrow(NotAProcessedRecordError);
  });

  it.each([
    ['maxOpenPartitions', 0],
    ['rowGroupRows', 0],
    ['idleRowsBeforeClose', 1.5],
  ])('refuses %s %d when it is made', (option, value) => {
    expect(() => writerInto(new MemoryBucket(), { [option]: value })).toThrow(RangeError);
  });
});

describe('PartitionedParquetWriter row groups and streaming', () => {
  it('cuts a row group every rowGroupRows rows', async () => {
    const bucket = new MemoryBucket();
    const records = Array.from({ length: 2500 }, (_, index) => record('2025-07-11T12:00:00Z', index));
    const [stored] = await writeAll(writerInto(bucket, { rowGroupRows: 1000 }), records);
    expect(stored).toMatchObject({ rows: 2500, rowGroups: 3 });
  });

  it('streams each full row group to the sink at the next drain, before the object is finished', async () => {
    // Prepare
    const bucket = new MemoryBucket();
    const writer = writerInto(bucket, { rowGroupRows: 100 });
    const key = 'parquet/dt=2025-07-11/site-1/readings.parquet';

    // Act
    for (let index = 0; index < 99; index += 1) writer.add(record('2025-07-11T12:00:00Z', index));
    await writer.drain();
    const beforeRowGroup = bucket.objects.get(key)?.bytes().length;
    writer.add(record('2025-07-11T12:00:00Z', 99));
    await writer.drain();
    const afterRowGroup = bucket.objects.get(key)?.bytes().length ?? 0;

    // Assess: nothing until the first row group is full, then the header and the row group.
    expect(beforeRowGroup).toBe(0);
    expect(afterRowGroup).toBeGreaterThan(PARQUET_MAGIC.length);
    expect(bucket.objects.get(key)?.finished).toBe(false);
    await writer.finish();
    expect(bucket.objects.get(key)?.finished).toBe(true);
    // The footer (schema, row group statistics) comes last.
    expect(bucket.objects.get(key)?.bytes().length).toBeGreaterThan(afterRowGroup);
  });

  it('buffers at most one row group of rows across interleaved partitions, encoding the largest early', async () => {
    // Prepare: two days alternating, 90 rows each, row groups of 100 rows.
    const bucket = new MemoryBucket();
    const records = Array.from({ length: 180 }, (_, index) => record(`2025-07-${index % 2 === 0 ? 11 : 12}T12:00:00Z`, index));

    // Act
    const stored = await writeAll(writerInto(bucket, { rowGroupRows: 100 }), records);

    // Assess: neither day reaches 100 rows, yet both are cut, because together they did.
    expect(stored.map(({ rows, rowGroups }) => [rows, rowGroups])).toStrictEqual([
      [90, 2],
      [90, 2],
    ]);
  });

  it('gives the same bytes for the same records, so re-processing overwrites with identical objects', async () => {
    const records = Array.from({ length: 3000 }, (_, index) => record(`2025-07-${index < 1500 ? 11 : 12}T12:00:00Z`, index));
    const first = new MemoryBucket();
    const second = new MemoryBucket();
    await writeAll(writerInto(first, { rowGroupRows: 1000 }), records);
    await writeAll(writerInto(second, { rowGroupRows: 1000 }), records);
    expect(second.finishedObjects()).toStrictEqual(first.finishedObjects());
  });
});

describe('PartitionedParquetWriter bounded open partitions', () => {
  it('closes the least recently used partition beyond maxOpenPartitions and continues it as -part2', async () => {
    // Prepare: three days with only two partitions open at once, the first day coming back.
    const bucket = new MemoryBucket();
    const writer = writerInto(bucket, { maxOpenPartitions: 2 });

    // Act
    writer.add(record('2025-07-11T01:00:00Z'));
    writer.add(record('2025-07-12T01:00:00Z'));
    writer.add(record('2025-07-11T02:00:00Z'));
    writer.add(record('2025-07-13T01:00:00Z'));
    await writer.drain();
    const storedEarly = [...bucket.finishedObjects().keys()];
    writer.add(record('2025-07-12T02:00:00Z'));
    const stored = await writer.finish();

    // Assess: 07-12 was the least recently used when 07-13 arrived, so it is stored early, and its late row is its part 2.
    expect(storedEarly).toStrictEqual(['parquet/dt=2025-07-12/site-1/readings.parquet']);
    expect(stored.map(({ key, rows }) => [key, rows])).toStrictEqual([
      ['parquet/dt=2025-07-11/site-1/readings.parquet', 2],
      ['parquet/dt=2025-07-12/site-1/readings-part2.parquet', 1],
      ['parquet/dt=2025-07-12/site-1/readings.parquet', 1],
      ['parquet/dt=2025-07-13/site-1/readings.parquet', 1],
    ]);
  });

  it('closes a partition that stayed idle while idleRowsBeforeClose rows went elsewhere', async () => {
    // Prepare: a time-ordered file crossing midnight.
    const bucket = new MemoryBucket();
    const writer = writerInto(bucket, { idleRowsBeforeClose: 1000 });
    const dayOne = 'parquet/dt=2025-07-11/site-1/readings.parquet';

    // Act
    for (let index = 0; index < 10; index += 1) writer.add(record('2025-07-11T23:59:50Z', index));
    for (let index = 0; index < 3000; index += 1) writer.add(record('2025-07-12T00:00:00Z', index));
    await writer.drain();

    // Assess
    expect(bucket.objects.get(dayOne)?.finished).toBe(true);
    const stored = await writer.finish();
    expect(stored.map(({ key, rows }) => [key, rows])).toStrictEqual([
      [dayOne, 10],
      ['parquet/dt=2025-07-12/site-1/readings.parquet', 3000],
    ]);
  });

  it('on abort discards the objects not yet stored and returns the keys of those already stored', async () => {
    // Prepare
    const bucket = new MemoryBucket();
    const writer = writerInto(bucket, { maxOpenPartitions: 1 });
    writer.add(record('2025-07-11T01:00:00Z'));
    writer.add(record('2025-07-12T01:00:00Z'));
    await writer.drain();

    // Act
    const alreadyStored = await writer.abort();

    // Assess
    expect(alreadyStored).toStrictEqual(['parquet/dt=2025-07-11/site-1/readings.parquet']);
    expect(bucket.objects.get('parquet/dt=2025-07-12/site-1/readings.parquet')?.aborted).toBe(true);
  });
});
