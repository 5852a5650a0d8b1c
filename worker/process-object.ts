import type { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { isBucketMissing, isObjectMissing, PERMANENT_REASONS, PermanentFileError, TransientFileError } from './errors.ts';
import type { ObjectRef } from './common/events.ts';
import { expectedOwnerParameter, type Source } from './sources.ts';
import { isFromNewerUpload } from './common/newer-upload.ts';
import { provenanceMetadata, type ProvenanceSource } from './common/provenance.ts';
import { workerVersion } from './common/worker-version.ts';
import { COMPRESSIONS, type Compression } from './input/compression.ts';
import { corruptInputDetail, isCorruptInputError, openDecodedBody } from './input/decompression.ts';
import { LineOutcomeRouter, type FileTally } from './records/line-outcomes.ts';
import { LineSplitter } from './records/line-splitter.ts';
import type { RecordRules } from './records/pipeline.ts';
import { fileOutputsOpener, type FileOutputs, type StoredOutputs } from './output/file-outputs.ts';
import type { UploadSettings } from './output/multipart-upload.ts';
import { outputKeys, type OutputLocation } from './output/output-keys.ts';
import { outputProvenance } from './output/output-provenance.ts';
import type { ParquetObjectSummary } from './output/parquet/partitioned-writer.ts';

export interface ObjectProcessorDeps {
  readonly s3: S3Client;
  readonly output: OutputLocation;
  readonly upload: UploadSettings;
  readonly maxLineBytes: number;
  readonly limits: FileLimits;
  /** The rules in force when a file starts; one file is processed with one registry snapshot. */
  readonly rules: () => RecordRules;
  /** Written into every output's provenance; default the version in the worker's package.json. */
  readonly workerVersion?: string;
}

/** Past these a file fails for good, with a reason, instead of running on: see MAX_OBJECT_BYTES and MAX_RECORDS_PER_FILE. */
export interface FileLimits {
  /** Applies to the stored object and, for gzip and zstd, to what it decompresses to. */
  readonly maxObjectBytes: number;
  /** Non-blank lines. */
  readonly maxRecordsPerFile: number;
}

export type FileResult =
  | {
      readonly outcome: 'succeeded';
      /** The raw object version the outputs were made from (its version id as the event or, failing that, S3 named it). */
      readonly source: ProvenanceSource;
      readonly tally: FileTally;
      readonly gzip: boolean;
      readonly bytesRead: number;
      readonly bytesWritten: { readonly processed: number; readonly rejected: number };
      /** The objects really stored. */
      readonly outputs: StoredOutputs;
      /** With OUTPUT_FORMAT=parquet: the Parquet objects written, with their partitions and rows. */
      readonly parquetObjects?: readonly ParquetObjectSummary[];
    }
  /** The object or version no longer exists. */
  | { readonly outcome: 'missing' }
  /** The object was replaced after the event: the newer object's own event covers it. */
  | { readonly outcome: 'stale'; readonly currentETag: string }
  /**
   * While the file was processed, a later upload of its key was processed and stored its outputs: they are
   * kept, and this file's are not stored (an older upload never replaces a newer one's outputs).
   */
  | { readonly outcome: 'superseded'; readonly source: ProvenanceSource; readonly newer: { readonly eTag: string; readonly versionId?: string } };

/** Stops a file whose key a later upload has stored its outputs for meanwhile; it ends as `superseded`. */
class NewerUploadStored extends Error {
  override readonly name = 'NewerUploadStored';
  readonly newer: { readonly eTag: string; readonly versionId?: string };

  constructor(newer: { readonly eTag: string; readonly versionId?: string }) {
    super(`a later upload of the key (ETag ${newer.eTag}) has stored its outputs`);
    this.newer = newer;
  }
}

/** Processes one S3 object of `source` (SOURCES; message-handler.ts resolves it) end to end. */
export type ObjectProcessor = (ref: ObjectRef, source: Source, signal: AbortSignal) => Promise<FileResult>;

function unquote(eTag: string): string {
  return eTag.replace(/"/g, '');
}

async function getObject(s3: S3Client, ref: ObjectRef, expectedBucketOwner: string | undefined, signal: AbortSignal): Promise<GetObjectCommandOutput | undefined> {
  try {
    const command = new GetObjectCommand({
      Bucket: ref.bucket,
      Key: ref.key,
      ...(ref.versionId ? { VersionId: ref.versionId } : {}),
      ...expectedOwnerParameter(expectedBucketOwner),
    });
    return await s3.send(command, { abortSignal: signal });
  } catch (error) {
    // Unlike a missing object, no later event fixes a missing bucket: the event is wrong, or the worker looks in the wrong place.
    if (isBucketMissing(error)) {
      throw new PermanentFileError(
        PERMANENT_REASONS.bucketNotFound,
        `the bucket ${ref.bucket} named by the event does not exist (S3 answered NoSuchBucket for ${ref.key})`,
        { cause: error },
      );
    }
    if (isObjectMissing(error)) return undefined;
    throw error;
  }
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

const CORRUPT_REASONS = { gzip: PERMANENT_REASONS.corruptGzip, zstd: PERMANENT_REASONS.corruptZstd } as const;

function classifyReadError(error: unknown, compression: Compression | undefined, bytesRead: number, contentLength: number | undefined): unknown {
  if (compression === undefined || compression === COMPRESSIONS.none || !isCorruptInputError(error)) return error;
  // A compressed stream cut short by the network is worth a retry; one that is short in S3 is not.
  if (contentLength !== undefined && bytesRead < contentLength) {
    return new TransientFileError(`the object's body ended after ${bytesRead} of ${contentLength} bytes`, { cause: error });
  }
  return new PermanentFileError(CORRUPT_REASONS[compression], `the object is not valid ${compression}: ${corruptInputDetail(error)}`, { cause: error });
}

/**
 * The processor of every file, its output format chosen once: streams an object in, runs every line
 * through the record rules, streams the outputs out. Either both outputs are stored whole, or the
 * call throws and leaves none.
 */
export function createObjectProcessor(deps: ObjectProcessorDeps): ObjectProcessor {
  const openOutputs = fileOutputsOpener(deps.s3, deps.output, deps.upload);
  const version = deps.workerVersion ?? workerVersion();

  return async function processObject(ref, rawSource, signal) {
    const keys = outputKeys(deps.output, ref.key, rawSource.outputPrefix);
    const response = await getObject(deps.s3, ref, rawSource.expectedBucketOwner, signal);
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

    // The version the event named, else the one S3 served (the current version of a versioned bucket).
    const versionId = ref.versionId ?? response.VersionId;
    const source: ProvenanceSource = {
      bucket: ref.bucket,
      key: ref.key,
      eTag: currentETag,
      ...(versionId ? { versionId } : {}),
      ...(response.LastModified ? { lastModified: response.LastModified.toISOString() } : {}),
      ...(ref.sequencer ? { sequencer: ref.sequencer } : {}),
    };
    // Before any output is stored: the rejected output is written for every file, so its provenance tells
    // which upload of the key the outputs are from now. An older upload never replaces a newer one's outputs.
    const assertNoNewerUpload = async (): Promise<void> => {
      const existing = await outputProvenance(deps.s3, keys.rejected, signal);
      if (existing !== undefined && isFromNewerUpload(existing, source)) {
        throw new NewerUploadStored({ eTag: existing.sourceETag, ...(existing.sourceVersionId ? { versionId: existing.sourceVersionId } : {}) });
      }
    };
    const counter = { bytes: 0 };
    let decodedBytes = 0;
    const rules = deps.rules();
    let outputs: FileOutputs | undefined;
    let compression: Compression | undefined;
    try {
      const opened = await openDecodedBody(body, ref.key, counter);
      compression = opened.compression;
      // Every output carries the provenance from its start; the counts, known at the end, are added by finish.
      outputs = openOutputs({
        keys,
        compression,
        metadata: provenanceMetadata(source, undefined, version),
        beforeEarlyStore: assertNoNewerUpload,
      });
      const lines = new LineOutcomeRouter(rules, outputs);
      const splitter = new LineSplitter(deps.maxLineBytes, lines);

      for await (const chunk of opened.decoded) {
        signal.throwIfAborted();
        decodedBytes += chunk.length;
        if (decodedBytes > deps.limits.maxObjectBytes) throw tooLarge(decodedBytes, deps.limits, 'decompresses to more than');
        splitter.push(chunk);
        checkRecordLimit(lines.tally, deps.limits);
        await outputs.drain();
      }
      splitter.end();
      checkRecordLimit(lines.tally, deps.limits);
      signal.throwIfAborted();
      await outputs.drain();
      await assertNoNewerUpload();
      const { outputs: stored, ...details } = await outputs.finish(provenanceMetadata(source, lines.tally, version));
      return {
        outcome: 'succeeded',
        source,
        tally: lines.tally,
        gzip: compression === COMPRESSIONS.gzip,
        bytesRead: counter.bytes,
        bytesWritten: { processed: stored.processed.reduce((sum, object) => sum + object.bytes, 0), rejected: stored.rejected.bytes },
        outputs: stored,
        ...details,
      };
    } catch (error) {
      body.destroy();
      await outputs?.abort();
      if (error instanceof NewerUploadStored) return { outcome: 'superseded', source, newer: error.newer };
      throw classifyReadError(error, compression, counter.bytes, response.ContentLength);
    }
  };
}
