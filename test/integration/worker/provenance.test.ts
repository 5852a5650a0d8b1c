/**
 * Provenance through the real worker on the emulator: every output object (processed JSON Lines,
 * rejected, each Parquet object) answers HeadObject with where it came from, the file's line counts and
 * the worker's version, whether it was stored with one PutObject, as a multipart upload (the counts
 * then added by a copy onto itself) or, for Parquet, before the file ended.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PROVENANCE_KEYS, readProvenance, type Provenance } from '../../../worker/common/provenance.ts';
import type { FileReport } from '../../../worker/telemetry.ts';
import { startStackWithWorker, type StackWithWorker } from '../../support/worker-harness.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const MiB = 1024 * 1024;

const reading = (temperature: number, day = '2025-07-11', device = 'sensor-alpha') =>
  `{"device_id":"${device}","temperature":${temperature},"humidity":50,"timestamp":"${day}T11:00:00Z"}`;

/** 3 processed, 1 filtered (at or below 10 °C), 2 rejected. */
const SMALL = [reading(20), reading(5), 'not json', reading(25, '2025-07-12'), '{"device_id":"x","temperature":30}', reading(11)].join('\n');
/** More than one 5 MiB part of processed JSON Lines, and one rejected line. */
const BIG_LINES = 56_000;
const BIG = [...Array.from({ length: BIG_LINES }, (_, index) => reading(11 + (index % 30), '2025-07-11', `sensor-${index.toString(36).padStart(8, '0')}`)), '{'].join('\n');
/** 1,004 bytes of UTF-8; percent-encoded it is far over S3's 2 KB of metadata. */
const UNICODE_KEY = `unicode/${'温'.repeat(330)}.jsonl`;
/** Five dates: the fifth partition closes the least recently used one, stored before the file ends. */
const DAYS = ['2025-07-01', '2025-07-02', '2025-07-03', '2025-07-04', '2025-07-05'];
const PARQUET_INPUT = [...DAYS.map((day) => reading(20, day)), ...Array.from({ length: 20 }, () => reading(20, '2025-07-05')), reading(1), 'oops'].join('\n');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

async function head(s3: S3Client, bucket: string, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}

interface SentCommand {
  readonly command: string;
  readonly bucket: string;
  readonly key: string;
}

/** The S3 commands the worker sent, by command, bucket and key. */
function recordCommands(s3: S3Client, sent: SentCommand[]): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const { Bucket, Key } = args.input as { Bucket?: string; Key?: string };
      sent.push({ command: String(context.commandName), bucket: String(Bucket), key: String(Key) });
      return next(args);
    },
    { step: 'initialize', name: 'recordProvenanceTestCommands' },
  );
}

async function processWith(pipeline: StackWithWorker, key: string, body: string): Promise<FileReport> {
  await pipeline.clients.s3.send(new PutObjectCommand({ Bucket: pipeline.resources.rawBucket, Key: key, Body: body }));
  return pipeline.harness.waitForReport((candidate) => candidate.ref.key === key, key, 60_000);
}

function storedKeys(report: FileReport): string[] {
  if (report.result?.outcome !== 'succeeded') throw new Error(`${report.ref.key} ended as ${report.outcome}: ${report.error ?? ''}`);
  return [...report.result.outputs.processed, report.result.outputs.rejected].map(({ key }) => key);
}

let jsonl: StackWithWorker;
let parquet: StackWithWorker;
const jsonlCommands: SentCommand[] = [];
const parquetCommands: SentCommand[] = [];

/** The commands sent for one output object. */
function commandsFor(pipeline: StackWithWorker, sent: readonly SentCommand[], key: string): string[] {
  return sent.filter((command) => command.bucket === pipeline.resources.processedBucket && command.key === key).map(({ command }) => command);
}
const reports = new Map<string, FileReport>();

beforeAll(async () => {
  [jsonl, parquet] = await Promise.all([
    startStackWithWorker({ env: { UPLOAD_PART_SIZE_MIB: '5' }, prepareS3: (s3) => recordCommands(s3, jsonlCommands) }),
    startStackWithWorker({ env: { OUTPUT_FORMAT: 'parquet' }, prepareS3: (s3) => recordCommands(s3, parquetCommands) }),
  ]);
  const done = await Promise.all([
    processWith(jsonl, 'site-1/small.jsonl', SMALL),
    processWith(jsonl, 'site-1/big.jsonl', BIG),
    processWith(jsonl, UNICODE_KEY, SMALL),
    processWith(parquet, 'site-1/days.jsonl', PARQUET_INPUT),
  ]);
  for (const report of done) reports.set(`${report.ref.bucket}/${report.ref.key}`, report);
}, 120_000);

afterAll(async () => {
  await Promise.all([jsonl?.stop(), parquet?.stop()]);
});

function reportOf(pipeline: StackWithWorker, key: string): FileReport {
  const report = reports.get(`${pipeline.resources.rawBucket}/${key}`);
  if (report === undefined) throw new Error(`no report for ${key}`);
  return report;
}

async function provenanceOf(pipeline: StackWithWorker, key: string): Promise<Provenance | undefined> {
  return readProvenance((await head(pipeline.clients.s3, pipeline.resources.processedBucket, key)).Metadata);
}

async function rawETag(pipeline: StackWithWorker, key: string): Promise<string> {
  return ((await head(pipeline.clients.s3, pipeline.resources.rawBucket, key)).ETag ?? '').replace(/"/g, '');
}

async function rawLastModified(pipeline: StackWithWorker, key: string): Promise<string> {
  return (await head(pipeline.clients.s3, pipeline.resources.rawBucket, key)).LastModified?.toISOString() ?? '';
}

/** The S3 event's sequencer, which the notification gave the worker. */
function sequencerOf(report: FileReport): string {
  if (report.ref.sequencer === undefined) throw new Error(`no sequencer in the event of ${report.ref.key}`);
  return report.ref.sequencer;
}

describe('provenance on every output, through the worker', () => {
  it('a small file: both outputs, each stored with one PutObject, carry the source, the counts and the worker version', async () => {
    const keys = storedKeys(reportOf(jsonl, 'site-1/small.jsonl'));
    expect(keys).toStrictEqual(['site-1/small.jsonl', 'rejected/site-1/small.jsonl']);
    const expected: Provenance = {
      sourceBucket: jsonl.resources.rawBucket,
      sourceKey: 'site-1/small.jsonl',
      sourceKeySha256: sha256('site-1/small.jsonl'),
      sourceETag: await rawETag(jsonl, 'site-1/small.jsonl'),
      sourceLastModified: await rawLastModified(jsonl, 'site-1/small.jsonl'),
      sourceSequencer: sequencerOf(reportOf(jsonl, 'site-1/small.jsonl')),
      lines: { processed: 3, filtered: 1, rejected: 2 },
      workerVersion: PACKAGE_VERSION,
    };
    for (const key of keys) expect(await provenanceOf(jsonl, key)).toStrictEqual(expected);
    // The rejected output is read first: a later upload of the key must not have stored its outputs meanwhile.
    expect(commandsFor(jsonl, jsonlCommands, keys[0] ?? '')).toStrictEqual(['PutObjectCommand']);
    expect(commandsFor(jsonl, jsonlCommands, keys[1] ?? '')).toStrictEqual(['HeadObjectCommand', 'PutObjectCommand']);
  });

  it('a file whose processed output exceeds one part: the multipart output gets its counts by one copy onto itself, keeping its content type', async () => {
    const keys = storedKeys(reportOf(jsonl, 'site-1/big.jsonl'));
    const processed = await head(jsonl.clients.s3, jsonl.resources.processedBucket, 'site-1/big.jsonl');
    expect(processed.ContentLength).toBeGreaterThan(5 * MiB);
    expect(processed.ContentType).toBe('application/x-ndjson');
    const sent = commandsFor(jsonl, jsonlCommands, 'site-1/big.jsonl');
    expect(sent[0]).toBe('CreateMultipartUploadCommand');
    expect(sent.slice(-2)).toStrictEqual(['CompleteMultipartUploadCommand', 'CopyObjectCommand']);
    expect(sent.filter((command) => command === 'UploadPartCommand').length).toBeGreaterThan(1);
    expect(commandsFor(jsonl, jsonlCommands, 'rejected/site-1/big.jsonl')).toStrictEqual(['HeadObjectCommand', 'PutObjectCommand']);
    for (const key of keys) {
      expect(await provenanceOf(jsonl, key)).toMatchObject({
        sourceKey: 'site-1/big.jsonl',
        sourceETag: await rawETag(jsonl, 'site-1/big.jsonl'),
        lines: { processed: BIG_LINES, filtered: 0, rejected: 1 },
        workerVersion: PACKAGE_VERSION,
      });
    }
  });

  it('a key too long for the metadata: source-key is omitted, source-key-sha256 names it', async () => {
    const keys = storedKeys(reportOf(jsonl, UNICODE_KEY));
    expect(keys).toStrictEqual([UNICODE_KEY, `rejected/${UNICODE_KEY}`]);
    for (const key of keys) {
      const { Metadata } = await head(jsonl.clients.s3, jsonl.resources.processedBucket, key);
      expect(Metadata?.[PROVENANCE_KEYS.sourceKey]).toBeUndefined();
      expect(Metadata?.[PROVENANCE_KEYS.sourceKeySha256]).toBe(sha256(UNICODE_KEY));
      const provenance = readProvenance(Metadata);
      expect(provenance?.sourceKey).toBeUndefined();
      expect(provenance?.lines).toStrictEqual({ processed: 3, filtered: 1, rejected: 2 });
    }
  });

  it('OUTPUT_FORMAT=parquet: every Parquet object, the one stored before the file ended included, and the rejected output carry it', async () => {
    const keys = storedKeys(reportOf(parquet, 'site-1/days.jsonl'));
    expect(keys).toHaveLength(DAYS.length + 1);
    const expected: Provenance = {
      sourceBucket: parquet.resources.rawBucket,
      sourceKey: 'site-1/days.jsonl',
      sourceKeySha256: sha256('site-1/days.jsonl'),
      sourceETag: await rawETag(parquet, 'site-1/days.jsonl'),
      sourceLastModified: await rawLastModified(parquet, 'site-1/days.jsonl'),
      sourceSequencer: sequencerOf(reportOf(parquet, 'site-1/days.jsonl')),
      lines: { processed: 25, filtered: 1, rejected: 1 },
      workerVersion: PACKAGE_VERSION,
    };
    for (const key of keys) expect(await provenanceOf(parquet, key)).toStrictEqual(expected);
    const early = 'parquet/dt=2025-07-01/site-1/days.parquet';
    expect(commandsFor(parquet, parquetCommands, early)).toStrictEqual(['PutObjectCommand', 'CopyObjectCommand']);
    // Stored after the counts were known: one PutObject each, no copy.
    const rejected = 'rejected/site-1/days.jsonl';
    for (const key of keys.filter((key) => key !== early && key !== rejected)) expect(commandsFor(parquet, parquetCommands, key)).toStrictEqual(['PutObjectCommand']);
    // Read before the early partition was stored and again before the rest: no later upload of the key stored its outputs.
    expect(commandsFor(parquet, parquetCommands, rejected)).toStrictEqual(['HeadObjectCommand', 'HeadObjectCommand', 'PutObjectCommand']);
    expect((await head(parquet.clients.s3, parquet.resources.processedBucket, early)).ContentType).toBe('application/vnd.apache.parquet');
  });
});
