/**
 * The raw bucket as an S3 Inventory report lists it, instead of ListObjectsV2: manifest.json, then each
 * data file in the manifest's order, in pages. CSV files are streamed (gunzipped as S3 writes them);
 * Parquet files are read one row group at a time with hyparquet over ranged GetObject requests, so
 * neither is held whole in memory.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isBucketMissing, isObjectMissing } from '../../../../worker/errors.ts';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type Compressors } from 'hyparquet';
import { NO_OWNERS, ownerOf, type BucketOwners } from '../bucket-owners.ts';
import type { SourcePage, SweepPosition } from '../sweep.ts';
import type { SweepObject } from '../sweep-object.ts';
import { csvRowObject, parquetRowObject, parseCsvLine, PARQUET_COLUMNS } from './inventory-row.ts';
import { parseManifest, type InventoryFile, type InventoryManifest, type S3Url } from './manifest.ts';

const PAGE_ROWS = 1000;

export async function readManifest(s3: S3Client, url: S3Url, owners: BucketOwners = NO_OWNERS): Promise<InventoryManifest> {
  let Body;
  try {
    ({ Body } = await s3.send(new GetObjectCommand({ Bucket: url.bucket, Key: url.key, ...ownerOf(owners, url.bucket) })));
  } catch (error) {
    if (isObjectMissing(error) || isBucketMissing(error)) {
      throw new Error(`no inventory manifest at s3://${url.bucket}/${url.key} (S3 answered ${(error as Error).name})`, { cause: error });
    }
    throw error;
  }
  return parseManifest((await Body?.transformToString('utf8')) ?? '', url.bucket);
}

type Row = SweepObject & { readonly bucket: string | undefined };

async function* csvRows(s3: S3Client, bucket: string, file: InventoryFile, columns: readonly string[], owners: BucketOwners): AsyncGenerator<Row> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key, ...ownerOf(owners, bucket) }));
  if (!(Body instanceof Readable)) throw new Error(`s3://${bucket}/${file.key}: no body stream`);
  const text = file.key.endsWith('.gz') ? Body.pipe(zlib.createGunzip()) : Body;
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() !== '') yield csvRowObject(parseCsvLine(line), columns);
    }
  } finally {
    lines.close();
    Body.destroy();
  }
}

/** A Parquet file in S3 as hyparquet's AsyncBuffer: each slice one ranged GetObject. */
function s3AsyncBuffer(s3: S3Client, bucket: string, key: string, byteLength: number, owners: BucketOwners): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const last = (end ?? byteLength) - 1;
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${last}`, ...ownerOf(owners, bucket) }));
      const bytes = (await Body?.transformToByteArray()) ?? new Uint8Array();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** hyparquet brings SNAPPY; Node's zlib does GZIP, BROTLI and ZSTD. */
const PARQUET_DECOMPRESSORS: Compressors = {
  GZIP: (input) => zlib.gunzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(typeof zlib.zstdDecompressSync === 'function' ? { ZSTD: (input: Uint8Array) => zlib.zstdDecompressSync(input) } : {}),
};

async function objectSize(s3: S3Client, bucket: string, file: InventoryFile, owners: BucketOwners): Promise<number> {
  if (Number.isSafeInteger(file.size) && file.size > 0) return file.size;
  const { ContentRange } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key, Range: 'bytes=0-0', ...ownerOf(owners, bucket) }));
  const total = Number(ContentRange?.split('/')[1]);
  if (!Number.isSafeInteger(total)) throw new Error(`s3://${bucket}/${file.key}: size unknown`);
  return total;
}

async function* parquetRows(s3: S3Client, bucket: string, file: InventoryFile, owners: BucketOwners): AsyncGenerator<Row> {
  const buffer = s3AsyncBuffer(s3, bucket, file.key, await objectSize(s3, bucket, file, owners), owners);
  const metadata = await parquetMetadataAsync(buffer);
  const present = new Set(metadata.schema.map((element) => element.name));
  const columns = PARQUET_COLUMNS.filter((column) => present.has(column));
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file: buffer, metadata, columns, rowStart, rowEnd, compressors: PARQUET_DECOMPRESSORS });
    for (const row of rows) yield parquetRowObject(row);
    rowStart = rowEnd;
  }
}

export interface InventoryOptions {
  readonly rawBucket: string;
  /** Resume after this position (file index and key in it). */
  readonly after: SweepPosition | undefined;
  /** The owners of the buckets the data files are read from (ExpectedBucketOwner). */
  readonly owners?: BucketOwners;
}

function rowsOf(s3: S3Client, manifest: InventoryManifest, file: InventoryFile, owners: BucketOwners): AsyncGenerator<Row> {
  return manifest.fileFormat === 'CSV'
    ? csvRows(s3, manifest.destinationBucket, file, manifest.csvColumns, owners)
    : parquetRows(s3, manifest.destinationBucket, file, owners);
}

/** The file's rows after `afterKey`; all of them when it is undefined, or not in the file (then nothing is skipped). */
async function* rowsAfter(s3: S3Client, manifest: InventoryManifest, file: InventoryFile, afterKey: string | undefined, owners: BucketOwners): AsyncGenerator<Row> {
  if (afterKey === undefined) {
    yield* rowsOf(s3, manifest, file, owners);
    return;
  }
  let found = false;
  for await (const row of rowsOf(s3, manifest, file, owners)) {
    if (found) yield row;
    else found = row.key === afterKey;
  }
  if (!found) yield* rowsOf(s3, manifest, file, owners);
}

/** Pages of the inventory's rows for the raw bucket; `file` is the data file's index in the manifest. */
export async function* inventoryPages(s3: S3Client, manifest: InventoryManifest, options: InventoryOptions): AsyncGenerator<SourcePage> {
  const firstFile = options.after?.file ?? 0;
  for (const [index, file] of manifest.files.entries()) {
    if (index < firstFile) continue;
    // In the file the last run stopped in, the rows after the last key handled.
    const afterKey = index === firstFile ? options.after?.key : undefined;
    let page: SweepObject[] = [];
    for await (const row of rowsAfter(s3, manifest, file, afterKey, options.owners ?? NO_OWNERS)) {
      if (row.bucket !== undefined && row.bucket !== options.rawBucket) throw new Error(`the inventory lists s3://${row.bucket}/…, not the raw bucket ${options.rawBucket}`);
      page.push(row);
      if (page.length === PAGE_ROWS) {
        yield { objects: page, file: index };
        page = [];
      }
    }
    if (page.length > 0) yield { objects: page, file: index };
  }
}
