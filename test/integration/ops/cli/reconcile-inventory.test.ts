/**
 * `reconcile --inventory`: an S3 Inventory report generated into the emulator as S3 writes one (Amazon S3
 * User Guide, "Locating your inventory list"): manifest.json and manifest.checksum, and data files in CSV
 * (gzip, no header, every field quoted, keys URL-encoded) or Parquet (snake_case columns as S3's
 * fileSchema message, TIMESTAMP_MILLIS, GZIP pages, several row groups).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { writeSweepState } from '../../../../ops/cli/object-sweep/sweep-state.ts';
import { pipelineEnv, runOps } from '../../../support/cli-harness.ts';
import { testClients, uniqueName } from '../../../support/emulator.ts';
import { COUNTS, objectLines, putBothOutputs, putRaw, queuedMessages, silentStack, type ReconcileJson } from './reconcile-support.ts';

let clients: AwsClients;
const folder = mkdtempSync(join(tmpdir(), 'reconcile-inventory-'));

beforeAll(() => {
  clients = testClients();
});

afterAll(() => {
  destroyAwsClients(clients);
  rmSync(folder, { recursive: true, force: true });
});

const CSV_SCHEMA = 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded';
const PARQUET_SCHEMA =
  'message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; ' +
  'optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); optional binary storage_class (UTF8); }';

interface Row {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
  readonly size: number;
  readonly lastModified: Date;
  readonly eTag: string;
}

const UNUSUAL_KEY = 'in/site 2/a+b ü.jsonl';

/** Raw objects in every state, and the inventory rows S3 would list for them (plus an older version and a delete marker). */
async function inventoriedStack(): Promise<{ resources: LocalResources; rows: Row[] }> {
  const resources = await silentStack(clients);
  const rows: Row[] = [];
  const now = new Date();
  for (const key of ['in/current.jsonl', 'in/missing.jsonl', UNUSUAL_KEY, 'in/stale.jsonl', 'out/elsewhere.jsonl', 'in/notes.txt']) {
    const body = `{"key":${JSON.stringify(key)}}\n`;
    const eTag = await putRaw(clients, resources.rawBucket, key, body);
    rows.push({ key, versionId: '', isLatest: true, isDeleteMarker: false, size: Buffer.byteLength(body), lastModified: now, eTag });
  }
  const eTagOf = (key: string) => rows.find((row) => row.key === key)?.eTag ?? '';
  await putBothOutputs(clients, resources, { key: 'in/current.jsonl', eTag: eTagOf('in/current.jsonl'), counts: COUNTS });
  await putBothOutputs(clients, resources, { key: 'in/stale.jsonl', eTag: '0123456789abcdef0123456789abcdef', counts: COUNTS });
  rows.push({ key: 'in/missing.jsonl', versionId: 'older', isLatest: false, isDeleteMarker: false, size: 3, lastModified: new Date(0), eTag: 'old' });
  rows.push({ key: 'in/deleted.jsonl', versionId: 'marker', isLatest: true, isDeleteMarker: true, size: 0, lastModified: now, eTag: '' });
  return { resources, rows };
}

/** Form-encoded, as inventory CSV keys (and event notification keys) are: a space is +, a plus %2B. */
function inventoryKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

function csvFile(bucket: string, rows: readonly Row[]): Buffer {
  const quoted = (value: string) => `"${value.replace(/"/g, '""')}"`;
  const lines = rows.map((row) =>
    [bucket, inventoryKey(row.key), row.versionId, String(row.isLatest), String(row.isDeleteMarker), row.isDeleteMarker ? '' : String(row.size), row.lastModified.toISOString(), row.eTag, 'STANDARD', 'false']
      .map(quoted)
      .join(','),
  );
  return gzipSync(`${lines.join('\n')}\n`);
}

function parquetFile(bucket: string, rows: readonly Row[]): Buffer {
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'bucket', data: rows.map(() => bucket), nullable: false },
      { name: 'key', data: rows.map((row) => row.key), nullable: false },
      { name: 'version_id', data: rows.map((row) => (row.versionId === '' ? null : row.versionId)) },
      { name: 'is_latest', data: rows.map((row) => row.isLatest) },
      { name: 'is_delete_marker', data: rows.map((row) => row.isDeleteMarker) },
      { name: 'size', data: rows.map((row) => (row.isDeleteMarker ? null : BigInt(row.size))) },
      { name: 'last_modified_date', data: rows.map((row) => row.lastModified) },
      { name: 'e_tag', data: rows.map((row) => (row.eTag === '' ? null : row.eTag)) },
      { name: 'storage_class', data: rows.map(() => 'STANDARD') },
    ],
    schema: [
      { name: 'schema', num_children: 9 },
      { name: 'bucket', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'version_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'is_latest', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
      { name: 'is_delete_marker', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
      { name: 'size', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'last_modified_date', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
      { name: 'e_tag', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'storage_class', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
    rowGroupSize: 3,
  });
  return Buffer.from(buffer);
}

/**
 * Writes the data files and manifest.json (with manifest.checksum) where S3 would:
 * destination-prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json, data files under …/data/.
 * Returns the manifest's s3:// URL.
 */
async function publishInventory(rawBucket: string, format: 'CSV' | 'Parquet', files: readonly Buffer[]): Promise<string> {
  const destination = uniqueName('inventory');
  await clients.s3.send(new CreateBucketCommand({ Bucket: destination }));
  const base = `inventory/${rawBucket}/daily`;
  const entries = [];
  for (const [index, body] of files.entries()) {
    const key = `${base}/data/file-${index}.${format === 'CSV' ? 'csv.gz' : 'parquet'}`;
    await clients.s3.send(new PutObjectCommand({ Bucket: destination, Key: key, Body: body }));
    entries.push({ key, size: body.length, MD5checksum: createHash('md5').update(body).digest('hex') });
  }
  const manifest = JSON.stringify({
    sourceBucket: rawBucket,
    destinationBucket: `arn:aws:s3:::${destination}`,
    version: '2016-11-30',
    creationTimestamp: String(Date.now()),
    fileFormat: format,
    fileSchema: format === 'CSV' ? CSV_SCHEMA : PARQUET_SCHEMA,
    files: entries,
  });
  const folderKey = `${base}/2026-12-02T00-00Z`;
  await clients.s3.send(new PutObjectCommand({ Bucket: destination, Key: `${folderKey}/manifest.json`, Body: manifest }));
  await clients.s3.send(new PutObjectCommand({ Bucket: destination, Key: `${folderKey}/manifest.checksum`, Body: createHash('md5').update(manifest).digest('hex') }));
  return `s3://${destination}/${folderKey}/manifest.json`;
}

const EXPECTED = { 'in/missing.jsonl': 'missing', [UNUSUAL_KEY]: 'missing', 'in/stale.jsonl': 'stale' };

describe('reconcile --inventory', () => {
  it.each([
    ['CSV', (bucket: string, rows: readonly Row[]) => [csvFile(bucket, rows.slice(0, 4)), csvFile(bucket, rows.slice(4))]],
    ['Parquet', (bucket: string, rows: readonly Row[]) => [parquetFile(bucket, rows.slice(0, 5)), parquetFile(bucket, rows.slice(5))]],
  ] as const)('reads a %s inventory instead of listing: latest versions only, keys decoded, with --prefix', async (format, dataFiles) => {
    const { resources, rows } = await inventoriedStack();
    const manifest = await publishInventory(resources.rawBucket, format, dataFiles(resources.rawBucket, rows));

    const run = await runOps(['reconcile', '--inventory', manifest, '--prefix', 'in/', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.json<ReconcileJson>()).toMatchObject({ listed: rows.length, matched: 4, current: 1, missing: 2, stale: 1, incomplete: 0, sent: 3, stoppedBy: 'done' });
    expect(run.json<ReconcileJson>().source).toBe(`inventory ${manifest} prefix in/`);
    expect(Object.fromEntries(objectLines(run.stderr).map((line) => [line.key, line.reason]))).toEqual(EXPECTED);
    const messages = await queuedMessages(clients, resources.queueUrl);
    expect(messages.map((message) => message.key).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const message of messages) expect(message.eTag).toBe(rows.find((row) => row.key === message.key && row.isLatest)?.eTag);
  });

  it('resumes from --state in the data file it stopped in', async () => {
    const { resources, rows } = await inventoriedStack();
    const latest = rows.filter((row) => row.isLatest && !row.isDeleteMarker);
    // One object per data file, so the interruption falls between files.
    const manifest = await publishInventory(resources.rawBucket, 'CSV', latest.map((row) => csvFile(resources.rawBucket, [row])));
    const state = join(folder, 'inventory-state.json');
    const interrupt = new AbortController();

    const first = await runOps(['reconcile', '--inventory', manifest, '--state', state, '--json'], {
      env: pipelineEnv(resources),
      signal: interrupt.signal,
      prepareClients: (cliClients) => {
        cliClients.sqs.middlewareStack.add((next) => async (args) => {
          const result = await next(args);
          if ((args.input as { Entries?: unknown }).Entries !== undefined) interrupt.abort();
          return result;
        }, { step: 'initialize', name: 'interruptAfterFirstSend' });
      },
    });
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { after: { key: string; file: number } };
    const second = await runOps(['reconcile', '--inventory', manifest, '--state', state, '--json'], { env: pipelineEnv(resources) });

    expect(first.exitCode).toBe(3);
    expect(saved.after.file).toBeGreaterThanOrEqual(0);
    expect(second.exitCode).toBe(0);
    const sentKeys = (await queuedMessages(clients, resources.queueUrl)).map((message) => message.key);
    expect(first.json<ReconcileJson>().sent + second.json<ReconcileJson>().sent).toBe(sentKeys.length);
    // out/elsewhere.jsonl has no outputs either: missing without --prefix.
    expect([...sentKeys].sort()).toEqual([...Object.keys(EXPECTED), 'out/elsewhere.jsonl'].sort());
  });

  it('reads a data file whole when the saved key is not in it (the file was rewritten)', async () => {
    const { resources, rows } = await inventoriedStack();
    const manifest = await publishInventory(resources.rawBucket, 'CSV', [csvFile(resources.rawBucket, rows)]);
    const state = join(folder, 'unknown-key.json');
    writeSweepState(state, { version: 1, sweep: `inventory ${manifest}`, after: { key: 'in/not-in-the-file.jsonl', file: 0 } });

    const run = await runOps(['reconcile', '--inventory', manifest, '--state', state, '--dry-run', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.json<ReconcileJson>()).toMatchObject({ listed: rows.length, missing: 3, stale: 1 });
  });

  it('refuses an inventory of another bucket', async () => {
    const { resources, rows } = await inventoriedStack();
    const manifest = await publishInventory('some-other-bucket', 'CSV', [csvFile('some-other-bucket', rows)]);

    const run = await runOps(['reconcile', '--inventory', manifest], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`the inventory is of bucket some-other-bucket, not the raw bucket ${resources.rawBucket}`);
  });
});
