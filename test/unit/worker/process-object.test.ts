/**
 * One object end to end through the processor the worker builds, against S3 in memory (the real S3Client
 * with an in-memory request handler): what is stored, with which headers, and that a failure leaves
 * nothing behind.
 */
import { createHash } from 'node:crypto';
import { constants, gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { PermanentFileError, TransientFileError } from '../../../worker/errors.ts';
import { createObjectProcessor, type FileResult } from '../../../worker/process-object.ts';
import type { OutputLocation } from '../../../worker/output/output-keys.ts';
import type { Source } from '../../../worker/sources.ts';
import { readProvenance } from '../../../worker/common/provenance.ts';
import { InMemoryS3 } from '../../support/in-memory-s3.ts';

const RAW = 'raw';
const OUT = 'processed';
/** The source of every object when SOURCES is unset: its whole bucket, no output prefix. */
const WHOLE_RAW_BUCKET: Source = { bucket: RAW, prefix: '', outputPrefix: '' };
const LOCATION: OutputLocation = { processedBucket: OUT, processedPrefix: '', rejectedBucket: OUT, rejectedPrefix: 'rejected/', parquetPrefix: 'parquet/' };
const RULES = { temperatureThresholdCelsius: 10, locations: new Map([['sensor-alpha', 'loc-a']]), unknownLocationId: 'unknown' };

const reading = (temperature: number, day = '2025-07-11', device = 'sensor-alpha') =>
  `{"device_id":"${device}","temperature":${temperature},"humidity":50,"timestamp":"${day}T11:00:00Z"}`;

/** `count` processed readings, each with a hash in its device id so that gzip cannot shrink them to little. */
const manyReadings = (count: number) =>
  Array.from({ length: count }, (_, index) => reading(11 + (index % 30), '2025-07-11', createHash('sha256').update(String(index)).digest('hex'))).join('\n');

const INPUT = [reading(20), reading(5), '{"device_id":', '', reading(25, '2025-07-12', 'sensor-zeta'), '{"device_id":"x","temperature":30}'].join('\n') + '\n';
const PROCESSED_TEXT =
  '{"device_id":"sensor-alpha","temperature":20,"humidity":50,"timestamp":"2025-07-11T11:00:00Z","location_id":"loc-a","temp_fahrenheit":68}\n' +
  '{"device_id":"sensor-zeta","temperature":25,"humidity":50,"timestamp":"2025-07-12T11:00:00Z","location_id":"unknown","temp_fahrenheit":77}\n';
const REJECTED = [
  { line: 3, reason: 'invalid_json', message: 'the line is not valid JSON', text: '{"device_id":' },
  { line: 6, reason: 'missing_field', field: 'humidity', message: 'humidity is missing', text: '{"device_id":"x","temperature":30}' },
];

interface Setup {
  readonly format?: 'jsonl' | 'parquet';
  readonly partSizeBytes?: number;
  readonly getObjectChunkBytes?: number;
}

function setUp({ format = 'jsonl', partSizeBytes = 5 * 1024 * 1024, getObjectChunkBytes }: Setup = {}) {
  const s3 = new InMemoryS3(getObjectChunkBytes === undefined ? {} : { getObjectChunkBytes });
  const processFile = createObjectProcessor({
    s3: s3.client(),
    output: { ...LOCATION, format },
    upload: { partSizeBytes, queueSize: 2 },
    maxLineBytes: 1024 * 1024,
    limits: { maxObjectBytes: 100 * 1024 * 1024, maxRecordsPerFile: 1_000_000 },
    rules: () => RULES,
    workerVersion: 'test-version',
  });
  const processKey = (key: string, eTag?: string, source = WHOLE_RAW_BUCKET) =>
    processFile({ bucket: RAW, key, ...(eTag === undefined ? {} : { eTag }) }, source, new AbortController().signal);
  return { s3, processKey };
}

function succeeded(result: FileResult) {
  if (result.outcome !== 'succeeded') throw new Error(`the file ended as ${result.outcome}`);
  return result;
}

/** The outputs reported are exactly the objects stored, and no multipart upload is left open. */
function expectOutputsStored(s3: InMemoryS3, result: FileResult): void {
  const { outputs } = succeeded(result);
  const reported = [...outputs.processed, outputs.rejected].map(({ bucket, key, bytes }) => [`${bucket}/${key}`, bytes] as const);
  expect(s3.sizes(OUT)).toStrictEqual(new Map(reported.sort(([a], [b]) => (a < b ? -1 : 1))));
  expect(s3.uploads.size).toBe(0);
}

function rejectedRecords(body: Buffer): unknown[] {
  return body.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
}

function flipByte(bytes: Buffer, index: number): Buffer {
  const flipped = Buffer.from(bytes);
  flipped[index] = (flipped[index] ?? 0) ^ 0xff;
  return flipped;
}

/** A zstd frame of one raw block whose header asks for a window of 2^windowLog bytes (RFC 8878, 3.1.1.1.2). */
function frameWithWindowLog(windowLog: number, text: string): Buffer {
  const content = Buffer.from(text);
  const blockHeader = Buffer.alloc(3);
  blockHeader.writeUIntLE(1 | (content.length << 3), 0, 3);
  return Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (windowLog - 10) << 3]), blockHeader, content]);
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('the file did not fail');
    },
    (error: unknown) => error,
  );
}

describe('the object processor, JSON Lines', () => {
  it('stores the processed records and the rejected lines with their reasons, and reports exactly those objects', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'site-1/readings.jsonl', INPUT);

    const result = succeeded(await processKey('site-1/readings.jsonl'));

    expect(result.tally).toStrictEqual({ processed: 2, filtered: 1, rejected: 2, rejectedByReason: { invalid_json: 1, missing_field: 1 }, unknownDevices: 1 });
    expect(result).toMatchObject({ gzip: false, bytesRead: Buffer.byteLength(INPUT), bytesWritten: { processed: Buffer.byteLength(PROCESSED_TEXT) } });
    const processed = s3.get(OUT, 'site-1/readings.jsonl');
    const rejected = s3.get(OUT, 'rejected/site-1/readings.jsonl');
    expect(processed?.body.toString('utf8')).toBe(PROCESSED_TEXT);
    expect(rejectedRecords(rejected?.body ?? Buffer.alloc(0))).toStrictEqual(REJECTED);
    const sourceETag = s3.get(RAW, 'site-1/readings.jsonl')?.eTag.replace(/"/g, '');
    for (const object of [processed, rejected]) {
      expect(object).toMatchObject({ contentType: 'application/x-ndjson', metadata: { 'source-etag': sourceETag } });
      expect(readProvenance(object?.metadata)).toStrictEqual({
        sourceBucket: RAW,
        sourceKey: 'site-1/readings.jsonl',
        sourceKeySha256: createHash('sha256').update('site-1/readings.jsonl').digest('hex'),
        sourceETag,
        sourceLastModified: new Date(0).toISOString(),
        lines: { processed: 2, filtered: 1, rejected: 2 },
        workerVersion: 'test-version',
      });
    }
    expect(result.source).toStrictEqual({ bucket: RAW, key: 'site-1/readings.jsonl', eTag: sourceETag, lastModified: new Date(0).toISOString() });
    expectOutputsStored(s3, result);
    expect(s3.callsOf('CreateMultipartUpload')).toHaveLength(0);
  });

  it('writes gzip for gzip input, with the gzip content type, and the same records inside', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'site-1/readings.jsonl.gz', gzipSync(INPUT));

    const result = succeeded(await processKey('site-1/readings.jsonl.gz'));

    expect(result.gzip).toBe(true);
    const processed = s3.get(OUT, 'site-1/readings.jsonl.gz');
    const rejected = s3.get(OUT, 'rejected/site-1/readings.jsonl.gz');
    expect(processed?.contentType).toBe('application/gzip');
    expect(rejected?.contentType).toBe('application/gzip');
    expect(gunzipSync(processed?.body ?? Buffer.alloc(0)).toString('utf8')).toBe(PROCESSED_TEXT);
    expect(rejectedRecords(gunzipSync(rejected?.body ?? Buffer.alloc(0)))).toStrictEqual(REJECTED);
    expectOutputsStored(s3, result);
  });

  it('writes zstd for zstd input, with the zstd content type, and the same records inside', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'site-1/readings.jsonl.zst', zstdCompressSync(INPUT));

    const result = succeeded(await processKey('site-1/readings.jsonl.zst'));

    expect(result.gzip).toBe(false);
    const processed = s3.get(OUT, 'site-1/readings.jsonl.zst');
    const rejected = s3.get(OUT, 'rejected/site-1/readings.jsonl.zst');
    expect(processed?.contentType).toBe('application/zstd');
    expect(rejected?.contentType).toBe('application/zstd');
    expect(zstdDecompressSync(processed?.body ?? Buffer.alloc(0)).toString('utf8')).toBe(PROCESSED_TEXT);
    expect(rejectedRecords(zstdDecompressSync(rejected?.body ?? Buffer.alloc(0)))).toStrictEqual(REJECTED);
    expectOutputsStored(s3, result);
  });

  it('recognises zstd by its magic bytes under any key, read in chunks smaller than the magic number', async () => {
    const { s3, processKey } = setUp({ getObjectChunkBytes: 3 });
    s3.put(RAW, 'site-1/readings.jsonl', zstdCompressSync(INPUT));

    const result = succeeded(await processKey('site-1/readings.jsonl'));

    expect(result.tally).toMatchObject({ processed: 2, filtered: 1, rejected: 2 });
    const processed = s3.get(OUT, 'site-1/readings.jsonl');
    expect(processed?.contentType).toBe('application/zstd');
    expect(zstdDecompressSync(processed?.body ?? Buffer.alloc(0)).toString('utf8')).toBe(PROCESSED_TEXT);
  });

  it('reads every frame of zstd made of several, skippable frames included, as one file', async () => {
    const { s3, processKey } = setUp({ getObjectChunkBytes: 1000 });
    const lines = manyReadings(300).split('\n');
    const skippable = Buffer.from([0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const half = lines.length / 2;
    const body = Buffer.concat([skippable, zstdCompressSync(lines.slice(0, half).join('\n') + '\n'), skippable, zstdCompressSync(lines.slice(half).join('\n'))]);
    s3.put(RAW, 'frames.jsonl.zst', body);

    const result = succeeded(await processKey('frames.jsonl.zst'));

    expect(result.tally.processed).toBe(300);
    expect(zstdDecompressSync(s3.get(OUT, 'frames.jsonl.zst')?.body ?? Buffer.alloc(0)).toString('utf8').split('\n').filter(Boolean)).toHaveLength(300);
  });

  it('streams an output larger than a part as a multipart upload, byte for byte what one PutObject would store', async () => {
    const input = manyReadings(400);
    const whole = setUp();
    whole.s3.put(RAW, 'big.jsonl', input);
    const inParts = setUp({ partSizeBytes: 4096, getObjectChunkBytes: 1000 });
    inParts.s3.put(RAW, 'big.jsonl', input);

    const expected = await whole.processKey('big.jsonl');
    const result = await inParts.processKey('big.jsonl');

    expect(inParts.s3.callsOf('UploadPart').length).toBeGreaterThan(5);
    expect(inParts.s3.get(OUT, 'big.jsonl')?.body).toStrictEqual(whole.s3.get(OUT, 'big.jsonl')?.body);
    expect(inParts.s3.callsOf('CompleteMultipartUpload')).toStrictEqual([{ operation: 'CompleteMultipartUpload', bucket: OUT, key: 'big.jsonl' }]);
    // S3 fixed the metadata at CreateMultipartUpload; the counts arrive by one copy of the object onto itself.
    expect(inParts.s3.callsOf('CopyObject')).toStrictEqual([{ operation: 'CopyObject', bucket: OUT, key: 'big.jsonl' }]);
    expect(whole.s3.callsOf('CopyObject')).toHaveLength(0);
    expect(inParts.s3.get(OUT, 'big.jsonl')?.metadata).toStrictEqual(whole.s3.get(OUT, 'big.jsonl')?.metadata);
    expect(inParts.s3.get(OUT, 'big.jsonl')?.contentType).toBe('application/x-ndjson');
    expect(readProvenance(inParts.s3.get(OUT, 'big.jsonl')?.metadata)?.lines).toStrictEqual({ processed: 400, filtered: 0, rejected: 0 });
    expect(result).toStrictEqual(expected);
    expectOutputsStored(inParts.s3, result);
  });

  it('stores both outputs, empty, for a file whose every line is filtered', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'cold.jsonl', `${reading(1)}\n${reading(2)}\n`);

    const result = succeeded(await processKey('cold.jsonl'));

    expect(result.tally).toMatchObject({ processed: 0, filtered: 2, rejected: 0 });
    expect(s3.sizes(OUT)).toStrictEqual(new Map([[`${OUT}/cold.jsonl`, 0], [`${OUT}/rejected/cold.jsonl`, 0]]));
    expectOutputsStored(s3, result);
  });

  it('stores both outputs, empty, for an empty object', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'empty.jsonl', '');

    const result = succeeded(await processKey('empty.jsonl'));

    expect(result.bytesWritten).toStrictEqual({ processed: 0, rejected: 0 });
    expect(s3.sizes(OUT).size).toBe(2);
    expectOutputsStored(s3, result);
  });

  it('reports a missing object and an object replaced since the event, writing nothing', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'replaced.jsonl', INPUT);

    expect(await processKey('gone.jsonl')).toStrictEqual({ outcome: 'missing' });
    expect(await processKey('replaced.jsonl', 'an-older-etag')).toStrictEqual({
      outcome: 'stale',
      currentETag: s3.get(RAW, 'replaced.jsonl')?.eTag.replace(/"/g, ''),
    });
    expect(s3.sizes(OUT).size).toBe(0);
  });
});

describe('the object processor, Parquet', () => {
  it('stores one Parquet object per event date and the rejected lines as JSON Lines, and reports exactly those', async () => {
    const { s3, processKey } = setUp({ format: 'parquet' });
    s3.put(RAW, 'site-1/readings.jsonl', INPUT);

    const result = succeeded(await processKey('site-1/readings.jsonl'));

    expect(result.parquetObjects?.map(({ key, partition, rows }) => [key, partition, rows])).toStrictEqual([
      ['parquet/dt=2025-07-11/site-1/readings.parquet', 'dt=2025-07-11', 1],
      ['parquet/dt=2025-07-12/site-1/readings.parquet', 'dt=2025-07-12', 1],
    ]);
    expect(result.outputs.processed.map(({ key }) => key)).toStrictEqual(result.parquetObjects?.map(({ key }) => key));
    for (const { key } of result.outputs.processed) {
      const object = s3.get(OUT, key);
      expect(object?.contentType).toBe('application/vnd.apache.parquet');
      expect([object?.body.subarray(0, 4).toString(), object?.body.subarray(-4).toString()]).toStrictEqual(['PAR1', 'PAR1']);
    }
    const rejected = s3.get(OUT, 'rejected/site-1/readings.jsonl');
    expect(rejected?.contentType).toBe('application/x-ndjson');
    expect(rejectedRecords(rejected?.body ?? Buffer.alloc(0))).toStrictEqual(REJECTED);
    expect(s3.get(OUT, 'site-1/readings.jsonl')).toBeUndefined();
    expectOutputsStored(s3, result);
  });

  it('reads zstd input, writing Parquet as for plain input and the rejected lines as zstd', async () => {
    const { s3, processKey } = setUp({ format: 'parquet' });
    s3.put(RAW, 'warm.jsonl.zst', zstdCompressSync(`${reading(20)}\n${reading(21, '2025-07-12')}\nnot json\n`));

    const result = succeeded(await processKey('warm.jsonl.zst'));

    expect(result.parquetObjects?.map(({ key, rows }) => [key.split('/')[1], rows])).toStrictEqual([
      ['dt=2025-07-11', 1],
      ['dt=2025-07-12', 1],
    ]);
    const [first] = result.outputs.processed;
    expect(first && s3.get(first.bucket, first.key)?.contentType).toBe('application/vnd.apache.parquet');
    const rejected = s3.get(OUT, 'rejected/warm.jsonl.zst');
    expect(rejected?.contentType).toBe('application/zstd');
    expect(rejectedRecords(zstdDecompressSync(rejected?.body ?? Buffer.alloc(0)))).toMatchObject([{ line: 3, reason: 'invalid_json' }]);
    expectOutputsStored(s3, result);
  });

  it('stores only the rejected output when no record is processed', async () => {
    const { s3, processKey } = setUp({ format: 'parquet' });
    s3.put(RAW, 'cold.jsonl', `${reading(1)}\nnot json\n`);

    const result = succeeded(await processKey('cold.jsonl'));

    expect(result.outputs.processed).toStrictEqual([]);
    expect(result.parquetObjects).toStrictEqual([]);
    expect([...s3.sizes(OUT).keys()]).toStrictEqual([`${OUT}/rejected/cold.jsonl`]);
    expectOutputsStored(s3, result);
  });
});

describe('the object processor, with a source from SOURCES', () => {
  const EAST: Source = { bucket: RAW, prefix: 'site-1/', outputPrefix: 'east/', expectedBucketOwner: '111122223333' };

  /** Every request's ExpectedBucketOwner, by operation and bucket, as the SDK sends it (x-amz-expected-bucket-owner). */
  function recordOwners(s3: InMemoryS3) {
    const client = s3.client();
    const seen: Array<{ operation: string; bucket: string; owner: string | undefined }> = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Bucket?: string; ExpectedBucketOwner?: string };
        seen.push({ operation: String(context.commandName).replace(/Command$/, ''), bucket: input.Bucket ?? '', owner: input.ExpectedBucketOwner });
        return next(args);
      },
      { step: 'initialize', name: 'recordOwners' },
    );
    return { client, seen };
  }

  it('puts the output prefix between each output prefix and the raw key, JSON Lines', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'site-1/readings.jsonl', INPUT);

    const result = succeeded(await processKey('site-1/readings.jsonl', undefined, EAST));

    expect(result.outputs.processed.map(({ key }) => key)).toStrictEqual(['east/site-1/readings.jsonl']);
    expect(result.outputs.rejected.key).toBe('rejected/east/site-1/readings.jsonl');
    expect(s3.get(OUT, 'east/site-1/readings.jsonl')?.body.toString('utf8')).toBe(PROCESSED_TEXT);
    expect(rejectedRecords(s3.get(OUT, 'rejected/east/site-1/readings.jsonl')?.body ?? Buffer.alloc(0))).toStrictEqual(REJECTED);
    expectOutputsStored(s3, result);
  });

  it('keeps the dt= partition right after the Parquet prefix and puts the output prefix before the raw key after it', async () => {
    const { s3, processKey } = setUp({ format: 'parquet' });
    s3.put(RAW, 'site-1/readings.jsonl', INPUT);

    const result = succeeded(await processKey('site-1/readings.jsonl', undefined, EAST));

    expect(result.parquetObjects?.map(({ key }) => key)).toStrictEqual([
      'parquet/dt=2025-07-11/east/site-1/readings.parquet',
      'parquet/dt=2025-07-12/east/site-1/readings.parquet',
    ]);
    expect(result.outputs.rejected.key).toBe('rejected/east/site-1/readings.jsonl');
    expectOutputsStored(s3, result);
  });

  /** A processor on an in-memory S3 whose client records the owner each command names. */
  function ownerRecordingProcessor() {
    const s3 = new InMemoryS3();
    const { client, seen } = recordOwners(s3);
    const processFile = createObjectProcessor({
      s3: client,
      output: LOCATION,
      upload: { partSizeBytes: 5 * 1024 * 1024, queueSize: 2 },
      maxLineBytes: 1024,
      limits: { maxObjectBytes: 1024 * 1024, maxRecordsPerFile: 100 },
      rules: () => RULES,
    });
    return { s3, seen, processFile };
  }

  it("reads the raw object with ExpectedBucketOwner set to the source's owner, and names no owner on the outputs", async () => {
    const { s3, seen, processFile } = ownerRecordingProcessor();
    s3.put(RAW, 'site-1/a.jsonl', INPUT);

    succeeded(await processFile({ bucket: RAW, key: 'site-1/a.jsonl' }, EAST, new AbortController().signal));

    expect(seen.filter(({ bucket }) => bucket === RAW)).toStrictEqual([{ operation: 'GetObject', bucket: RAW, owner: '111122223333' }]);
    expect(seen.filter(({ bucket }) => bucket === OUT).length).toBeGreaterThan(0);
    expect(seen.filter(({ bucket }) => bucket === OUT).every(({ owner }) => owner === undefined)).toBe(true);
  });

  it('names no owner when the source has none', async () => {
    const { s3, seen, processFile } = ownerRecordingProcessor();
    s3.put(RAW, 'a.jsonl', INPUT);

    succeeded(await processFile({ bucket: RAW, key: 'a.jsonl' }, WHOLE_RAW_BUCKET, new AbortController().signal));

    expect(seen.find(({ operation }) => operation === 'GetObject')).toStrictEqual({ operation: 'GetObject', bucket: RAW, owner: undefined });
  });

  it('refuses, before reading, a raw key whose processed output the output prefix would put under the rejected prefix', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'x.jsonl', INPUT);

    await expect(processKey('x.jsonl', undefined, { bucket: RAW, prefix: '', outputPrefix: 'rejected/' })).rejects.toMatchObject({ reason: 'output_key_collision' });
    expect(s3.sizes(OUT).size).toBe(0);
  });
});

describe('the object processor, provenance', () => {
  it('gives a Parquet partition stored before the file ended its counts by a copy, so every output ends with the same provenance', async () => {
    const { s3, processKey } = setUp({ format: 'parquet', getObjectChunkBytes: 512 });
    // Five dates: the fifth closes the least recently used partition, stored before the counts are known.
    const days = ['2025-07-01', '2025-07-02', '2025-07-03', '2025-07-04', '2025-07-05'];
    s3.put(RAW, 'days.jsonl', [...days.map((day) => reading(20, day)), ...Array.from({ length: 20 }, () => reading(20, '2025-07-05')), '{'].join('\n'));

    const result = succeeded(await processKey('days.jsonl'));

    expect(s3.callsOf('CopyObject').map(({ key }) => key)).toStrictEqual(['parquet/dt=2025-07-01/days.parquet']);
    const stored = [...result.outputs.processed, result.outputs.rejected];
    expect(stored).toHaveLength(6);
    for (const { bucket, key } of stored) {
      expect(readProvenance(s3.get(bucket, key)?.metadata)).toMatchObject({ sourceKey: 'days.jsonl', lines: { processed: 25, filtered: 0, rejected: 1 } });
    }
    expect(s3.get(OUT, 'parquet/dt=2025-07-01/days.parquet')?.contentType).toBe('application/vnd.apache.parquet');
  });

  it('records the version the event named, else the one S3 served', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'v.jsonl', INPUT, undefined, 'version-served');

    const served = succeeded(await processKey('v.jsonl'));
    expect(served.source.versionId).toBe('version-served');
    expect(readProvenance(s3.get(OUT, 'v.jsonl')?.metadata)?.sourceVersionId).toBe('version-served');

    const processFile = createObjectProcessor({
      s3: s3.client(),
      output: LOCATION,
      upload: { partSizeBytes: 5 * 1024 * 1024, queueSize: 2 },
      maxLineBytes: 1024,
      limits: { maxObjectBytes: 1024 * 1024, maxRecordsPerFile: 100 },
      rules: () => RULES,
    });
    const named = succeeded(await processFile({ bucket: RAW, key: 'v.jsonl', versionId: 'version-named' }, WHOLE_RAW_BUCKET, new AbortController().signal));
    expect(named.source.versionId).toBe('version-named');
    const provenance = readProvenance(s3.get(OUT, 'rejected/v.jsonl')?.metadata);
    expect(provenance?.sourceVersionId).toBe('version-named');
    // Without a version given, the worker names its own: the package.json version.
    expect(provenance?.workerVersion).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('the object processor, when the file fails', () => {
  it('aborts the multipart upload of the processed output when a part fails, leaving no output', async () => {
    const { s3, processKey } = setUp({ partSizeBytes: 4096, getObjectChunkBytes: 1000 });
    s3.put(RAW, 'big.jsonl', manyReadings(400));
    s3.fail({ operation: 'UploadPart', key: 'big.jsonl', times: 1 });

    const error = await failureOf(processKey('big.jsonl'));

    expect(error).toMatchObject({ name: 'InternalError' });
    expect(s3.callsOf('AbortMultipartUpload').map(({ key }) => key)).toContain('big.jsonl');
    expect(s3.sizes(OUT).size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });

  it('stores no processed output when the rejected output cannot be stored', async () => {
    const { s3, processKey } = setUp();
    s3.put(RAW, 'a.jsonl', INPUT);
    s3.fail({ operation: 'PutObject', key: 'rejected/a.jsonl' });

    await expect(processKey('a.jsonl')).rejects.toMatchObject({ name: 'InternalError' });

    expect(s3.sizes(OUT).size).toBe(0);
    expect(s3.callsOf('PutObject').map(({ key }) => key)).toStrictEqual(['rejected/a.jsonl']);
  });

  it('removes a Parquet partition stored early when the file fails later', async () => {
    const { s3, processKey } = setUp({ format: 'parquet', getObjectChunkBytes: 512 });
    // Five dates: the fifth closes the least recently used partition, stored before the file ends.
    const days = ['2025-07-01', '2025-07-02', '2025-07-03', '2025-07-04', '2025-07-05'];
    s3.put(RAW, 'days.jsonl', [...days.map((day) => reading(20, day)), ...Array.from({ length: 20 }, () => reading(20, '2025-07-05'))].join('\n'));
    s3.fail({ operation: 'PutObject', key: 'rejected/days.jsonl' });

    await expect(processKey('days.jsonl')).rejects.toMatchObject({ name: 'InternalError' });

    expect(s3.callsOf('PutObject').map(({ key }) => key)).toContain('parquet/dt=2025-07-01/days.parquet');
    expect(s3.callsOf('DeleteObjects')).toHaveLength(1);
    expect(s3.sizes(OUT).size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });

  it('fails the file when the copy that adds the counts to a multipart output fails, which then carries its provenance without counts', async () => {
    const { s3, processKey } = setUp({ partSizeBytes: 4096, getObjectChunkBytes: 1000 });
    s3.put(RAW, 'big.jsonl', manyReadings(400));
    s3.fail({ operation: 'CopyObject', key: 'big.jsonl', code: 'SlowDown', status: 503 });

    await expect(processKey('big.jsonl')).rejects.toMatchObject({ name: 'SlowDown' });

    // Complete but not current: readProvenance says incomplete, and a retry rewrites it.
    const processed = readProvenance(s3.get(OUT, 'big.jsonl')?.metadata);
    expect(processed).toMatchObject({ sourceBucket: RAW, sourceKey: 'big.jsonl', workerVersion: 'test-version' });
    expect(processed?.lines).toBeUndefined();
    expect(readProvenance(s3.get(OUT, 'rejected/big.jsonl')?.metadata)?.lines).toStrictEqual({ processed: 400, filtered: 0, rejected: 0 });
    expect(s3.uploads.size).toBe(0);
  });

  it('fails for good on gzip that is cut short in S3, aborting the upload it started, leaving no output', async () => {
    const { s3, processKey } = setUp({ partSizeBytes: 4096, getObjectChunkBytes: 1000 });
    const gzip = gzipSync(manyReadings(2000));
    s3.put(RAW, 'cut.jsonl.gz', gzip.subarray(0, gzip.length - 100));

    const error = await failureOf(processKey('cut.jsonl.gz'));

    expect(error).toBeInstanceOf(PermanentFileError);
    expect(s3.callsOf('AbortMultipartUpload').map(({ key }) => key)).toContain('cut.jsonl.gz');
    expect(error).toMatchObject({ reason: 'corrupt_gzip' });
    expect(s3.sizes(OUT).size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });

  it.each([
    ['cut short in S3', (zstd: Buffer) => zstd.subarray(0, zstd.length - 100), /unexpected end of file/],
    ['whose checksum does not match', () => flipByte(zstdCompressSync(manyReadings(2000), { params: { [constants.ZSTD_c_checksumFlag]: 1 } }), 1000), /./],
    ['followed by bytes that are not a frame', (zstd: Buffer) => Buffer.concat([zstd, Buffer.from('not zstd')]), /Unknown frame descriptor/],
    ['with a frame needing a 128 MiB window', () => frameWithWindowLog(27, '{"a":1}\n'), /window over 8 MiB/],
    ['empty', () => Buffer.alloc(0), /unexpected end of file/],
  ])('fails for good as corrupt_zstd on zstd %s, leaving no output', async (_what, damage, message) => {
    const { s3, processKey } = setUp({ partSizeBytes: 4096, getObjectChunkBytes: 1000 });
    s3.put(RAW, 'bad.jsonl.zst', damage(zstdCompressSync(manyReadings(2000))));

    const error = await failureOf(processKey('bad.jsonl.zst'));

    expect(error).toBeInstanceOf(PermanentFileError);
    expect(error).toMatchObject({ reason: 'corrupt_zstd', message: expect.stringMatching(message) });
    expect(s3.sizes(OUT).size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });

  it('retries zstd whose body ended before its Content-Length, leaving no output', async () => {
    const { s3, processKey } = setUp({ partSizeBytes: 4096, getObjectChunkBytes: 1000 });
    const zstd = zstdCompressSync(manyReadings(2000));
    s3.put(RAW, 'cut.jsonl.zst', zstd);
    s3.fail({ operation: 'GetObject', key: 'cut.jsonl.zst', bodyEndsAfterBytes: zstd.length - 100 });

    const error = await failureOf(processKey('cut.jsonl.zst'));

    expect(error).toBeInstanceOf(TransientFileError);
    expect(s3.sizes(OUT).size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });

  it('retries gzip whose body ended before its Content-Length, aborting the upload it started, leaving no output', async () => {
    const { s3, processKey } = setUp({ partSizeBytes: 4096, getObjectChunkBytes: 1000 });
    const gzip = gzipSync(manyReadings(2000));
    s3.put(RAW, 'cut.jsonl.gz', gzip);
    s3.fail({ operation: 'GetObject', key: 'cut.jsonl.gz', bodyEndsAfterBytes: gzip.length - 100 });

    const error = await failureOf(processKey('cut.jsonl.gz'));

    expect(error).toBeInstanceOf(TransientFileError);
    expect(s3.callsOf('AbortMultipartUpload').map(({ key }) => key)).toContain('cut.jsonl.gz');
    expect(s3.sizes(OUT).size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });
});
