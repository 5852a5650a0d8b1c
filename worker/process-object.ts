import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DeleteObjectsCommand, GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { isObjectMissing, isZlibDataError, PERMANENT_REASONS, PermanentFileError, TransientFileError } from './errors.ts';
import type { ObjectRef } from './common/events.ts';
import { FileTransformer, type FileTally } from './records/line-outcomes.ts';
import { LineSplitter } from './records/line-splitter.ts';
import { CONTENT_TYPES, ObjectWriter } from './output/object-writer.ts';
import { PartitionedParquetWriter, type ParquetObjectSummary } from './output/parquet/partitioned-writer.ts';
import type { RecordRules } from './records/pipeline.ts';

export interface OutputLocation {
  readonly processedBucket: string;
  readonly processedPrefix: string;
  readonly rejectedBucket: string;
  readonly rejectedPrefix: string;
  /** Default jsonl. */
  readonly format?: 'jsonl' | 'parquet';
  readonly parquetPrefix?: string;
}

export interface ObjectProcessorDeps {
  readonly s3: S3Client;
  readonly output: OutputLocation;
  readonly upload: { readonly partSizeBytes: number; readonly queueSize: number };
  readonly maxLineBytes: number;
  readonly limits: FileLimits;
  /** The rules in force when a file starts; one file is processed with one registry snapshot. */
  readonly rules: () => RecordRules;
}

/** Past these a file fails for good, with a reason, instead of running on: see MAX_OBJECT_BYTES and MAX_RECORDS_PER_FILE. */
export interface FileLimits {
  /** Applies to the stored object and, for gzip, to what it decompresses to. */
  readonly maxObjectBytes: number;
  /** Non-blank lines. */
  readonly maxRecordsPerFile: number;
}

export interface OutputKeys {
  readonly processed: { readonly bucket: string; readonly key: string };
  readonly rejected: { readonly bucket: string; readonly key: string };
}

export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
}

/** The objects a file's processing actually stored. */
export interface StoredOutputs {
  /** JSON Lines: one object. Parquet: one or more per dt= partition, none when no record was processed. */
  readonly processed: readonly StoredObject[];
  readonly rejected: StoredObject;
}

export type FileResult =
  | {
      readonly outcome: 'succeeded';
      readonly tally: FileTally;
      readonly gzip: boolean;
      readonly bytesRead: number;
      readonly bytesWritten: { readonly processed: number; readonly rejected: number };
      readonly outputs: StoredOutputs;
      /** With OUTPUT_FORMAT=parquet: the Parquet objects written, with their partitions and rows. */
      readonly parquetObjects?: readonly ParquetObjectSummary[];
    }
  /** The object or version no longer exists. */
  | { readonly outcome: 'missing' }
  /** The object was replaced after the event: the newer object's own event covers it. */
  | { readonly outcome: 'stale'; readonly currentETag: string };

const GZIP_MAGIC = [0x1f, 0x8b] as const;
const MAX_S3_KEY_BYTES = 1024;

/**
 * Where the outputs of `key` go; refuses a key whose processed output would land among rejected output,
 * or whose output key would be longer than S3 allows (the prefixes add to the raw key).
 */
export function outputKeys(output: OutputLocation, key: string): OutputKeys {
  const processed = { bucket: output.processedBucket, key: output.processedPrefix + key };
  const rejected = { bucket: output.rejectedBucket, key: output.rejectedPrefix + key };
  if (processed.bucket === rejected.bucket && processed.key.startsWith(output.rejectedPrefix)) {
    throw new PermanentFileError(
      PERMANENT_REASONS.outputKeyCollision,
      `the processed output s3://${processed.bucket}/${processed.key} would land under the rejected prefix "${output.rejectedPrefix}"`,
    );
  }
  for (const output of [processed, rejected]) {
    if (Buffer.byteLength(output.key) > MAX_S3_KEY_BYTES) {
      throw new PermanentFileError(
        PERMANENT_REASONS.outputKeyTooLong,
        `the output key ${output.key.slice(0, 80)}… is ${Buffer.byteLength(output.key)} bytes; S3 allows ${MAX_S3_KEY_BYTES}`,
      );
    }
  }
  return { processed, rejected };
}

function unquote(eTag: string): string {
  return eTag.replace(/"/g, '');
}

async function getObject(s3: S3Client, ref: ObjectRef, signal: AbortSignal): Promise<GetObjectCommandOutput | undefined> {
  try {
    const command = new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...(ref.versionId ? { VersionId: ref.versionId } : {}) });
    return await s3.send(command, { abortSignal: signal });
  } catch (error) {
    if (isObjectMissing(error)) return undefined;
    throw error;
  }
}

/** Yields the body's chunks as Buffers, counting the bytes, and says up front whether they are gzip. */
async function openBody(body: AsyncIterable<Uint8Array>, key: string, counter: { bytes: number }) {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  const firstChunk = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  const gzip = key.endsWith('.gz') || (firstChunk[0] === GZIP_MAGIC[0] && firstChunk[1] === GZIP_MAGIC[1]);

  async function* chunks(): AsyncGenerator<Buffer> {
    counter.bytes += firstChunk.length;
    if (firstChunk.length > 0) yield firstChunk;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      counter.bytes += next.value.length;
      yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
  }

  if (!gzip) return { gzip, decoded: chunks() };
  const gunzip = createGunzip();
  // pipeline destroys every stage on failure, so an error on either side ends the iteration below.
  pipeline(Readable.from(chunks()), gunzip, () => undefined);
  return { gzip, decoded: gunzip as AsyncIterable<Buffer> };
}

/**
 * A partition closed early is already stored when a later one fails; remove it so that a failed file
 * leaves no Parquet behind (a retry writes the same keys again).
 */
async function removeStoredParquet(s3: S3Client, bucket: string, parquet: PartitionedParquetWriter): Promise<void> {
  const keys = await parquet.abort();
  if (keys.length === 0) return;
  await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })).catch(() => undefined);
}

function tooLarge(bytes: number, limits: FileLimits, what = 'is'): PermanentFileError {
  return new PermanentFileError(
    PERMANENT_REASONS.objectTooLarge,
    `the object ${what} ${bytes} bytes; MAX_OBJECT_BYTES is ${limits.maxObjectBytes}`,
  );
}

function checkRecordLimit(tally: FileTally, limits: FileLimits): void {
  const records = tally.processed + tally.filtered + tally.rejected;
  if (records > limits.maxRecordsPerFile) {
    throw new PermanentFileError(
      PERMANENT_REASONS.tooManyRecords,
      `the object has more than ${limits.maxRecordsPerFile} records (MAX_RECORDS_PER_FILE)`,
    );
  }
}

function classifyReadError(error: unknown, bytesRead: number, contentLength: number | undefined): unknown {
  if (!isZlibDataError(error)) return error;
  // A gzip stream cut short by the network is worth a retry; one that is short in S3 is not.
  if (contentLength !== undefined && bytesRead < contentLength) {
    return new TransientFileError(`the object's body ended after ${bytesRead} of ${contentLength} bytes`, { cause: error });
  }
  return new PermanentFileError(PERMANENT_REASONS.corruptGzip, `the object is not valid gzip: ${(error as Error).message}`, { cause: error });
}

/**
 * Processes one S3 object end to end: stream it in, run every line through the record rules,
 * stream both outputs out. Either both outputs are stored whole, or the call throws and leaves none.
 */
export async function processObject(deps: ObjectProcessorDeps, ref: ObjectRef, signal: AbortSignal): Promise<FileResult> {
  const outputs = outputKeys(deps.output, ref.key);
  const response = await getObject(deps.s3, ref, signal);
  if (response?.Body === undefined) return { outcome: 'missing' };
  const body = response.Body as Readable;
  const currentETag = unquote(response.ETag ?? '');
  if (ref.eTag !== undefined && currentETag !== '' && currentETag !== ref.eTag) {
    body.destroy();
    return { outcome: 'stale', currentETag };
  }

  if (response.ContentLength !== undefined && response.ContentLength > deps.limits.maxObjectBytes) {
    body.destroy();
    throw tooLarge(response.ContentLength, deps.limits);
  }

  const counter = { bytes: 0 };
  let decodedBytes = 0;
  const metadata = { 'source-etag': currentETag };
  const parquet =
    deps.output.format === 'parquet'
      ? new PartitionedParquetWriter({
          inputKey: ref.key,
          prefix: deps.output.parquetPrefix ?? 'parquet/',
          openObject: (key) =>
            new ObjectWriter(deps.s3, { bucket: outputs.processed.bucket, key, contentType: CONTENT_TYPES.parquet, metadata, ...deps.upload }),
        })
      : undefined;
  const transformer = new FileTransformer(deps.rules(), parquet && ((record) => parquet.add(record)));
  const splitter = new LineSplitter(deps.maxLineBytes, transformer);
  let writers: ObjectWriter[] = [];
  try {
    const { gzip, decoded } = await openBody(body, ref.key, counter);
    const writerOptions = { gzip, contentType: gzip ? CONTENT_TYPES.gzip : CONTENT_TYPES.jsonLines, metadata, ...deps.upload };
    const processed = parquet ? undefined : new ObjectWriter(deps.s3, { ...outputs.processed, ...writerOptions });
    const rejected = new ObjectWriter(deps.s3, { ...outputs.rejected, ...writerOptions });
    writers = processed ? [processed, rejected] : [rejected];
    const flush = async () => {
      if (processed) await processed.write(transformer.takeProcessed());
      else await parquet?.drain();
      await rejected.write(transformer.takeRejected());
    };

    for await (const chunk of decoded) {
      signal.throwIfAborted();
      decodedBytes += chunk.length;
      if (decodedBytes > deps.limits.maxObjectBytes) throw tooLarge(decodedBytes, deps.limits, 'decompresses to more than');
      splitter.push(chunk);
      checkRecordLimit(transformer.tally, deps.limits);
      await flush();
    }
    splitter.end();
    checkRecordLimit(transformer.tally, deps.limits);
    signal.throwIfAborted();
    await flush();
    // The rejected output first: if it fails, the processed output is still an unfinished upload and is
    // aborted with it, so the main output never appears without its rejected lines.
    const rejectedBytes = await rejected.finish();
    const parquetObjects = parquet ? await parquet.finish() : undefined;
    const processedObjects: StoredObject[] = parquetObjects
      ? parquetObjects.map(({ key, bytes }) => ({ bucket: outputs.processed.bucket, key, bytes }))
      : [{ ...outputs.processed, bytes: processed ? await processed.finish() : 0 }];
    return {
      outcome: 'succeeded',
      tally: transformer.tally,
      gzip,
      bytesRead: counter.bytes,
      bytesWritten: { processed: processedObjects.reduce((sum, object) => sum + object.bytes, 0), rejected: rejectedBytes },
      outputs: { processed: processedObjects, rejected: { ...outputs.rejected, bytes: rejectedBytes } },
      ...(parquetObjects ? { parquetObjects } : {}),
    };
  } catch (error) {
    body.destroy();
    await Promise.all([...writers.map((writer) => writer.abort()), parquet && removeStoredParquet(deps.s3, outputs.processed.bucket, parquet)]);
    throw classifyReadError(error, counter.bytes, response.ContentLength);
  }
}
