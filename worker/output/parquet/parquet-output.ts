import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ProcessedRecordSink } from '../../records/line-outcomes.ts';
import type { UploadSettings } from '../multipart-upload.ts';
import { CONTENT_TYPES, ObjectWriter } from '../object-writer.ts';
import { inParallel } from '../in-parallel.ts';
import type { ParquetObjectSink } from './object-sink.ts';
import type { OutputLifecycle, StoredProcessed } from '../processed-output.ts';
import { PartitionedParquetWriter } from './partitioned-writer.ts';

export interface ParquetOutputOptions extends UploadSettings {
  readonly bucket: string;
  /** The Parquet table's key prefix, under which the `dt=` partitions sit. */
  readonly prefix: string;
  /** The raw object's key, its source's output prefix before it (OutputKeys.outputName): the Parquet keys are derived from it. */
  readonly inputKey: string;
  /** Every object carries it from its start; `finish` gives the metadata they end with. */
  readonly metadata: Record<string, string>;
  /** Runs before a partition closed early is stored; it throws to stop the file (see OutputFile). */
  readonly beforeEarlyStore?: () => Promise<void>;
}

/** The processed records of one file as Parquet (OUTPUT_FORMAT=parquet): one object or more per `dt=` partition. */
export class ParquetOutput implements ProcessedRecordSink, OutputLifecycle<StoredProcessed> {
  readonly takes = 'record';
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly writer: PartitionedParquetWriter;
  /** Set by `finish`: the objects stored from then on end with it directly. */
  private finalMetadata: Record<string, string> | undefined;
  /** Objects stored before `finish` (partitions closed early): they get the final metadata by a copy. */
  private readonly storedEarly: ObjectWriter[] = [];
  private readonly queueSize: number;
  private readonly beforeEarlyStore: () => Promise<void>;

  constructor(s3: S3Client, options: ParquetOutputOptions) {
    const { bucket, prefix, inputKey, metadata, partSizeBytes, queueSize, metadataReplacement } = options;
    this.beforeEarlyStore = options.beforeEarlyStore ?? (() => Promise.resolve());
    this.s3 = s3;
    this.bucket = bucket;
    this.queueSize = queueSize;
    const objectOptions = { bucket, contentType: CONTENT_TYPES.parquet, metadata, partSizeBytes, queueSize, ...(metadataReplacement ? { metadataReplacement } : {}) };
    this.writer = new PartitionedParquetWriter({
      inputKey,
      prefix,
      openObject: (key) => this.openObject(new ObjectWriter(s3, { ...objectOptions, key })),
    });
  }

  add(record: Readonly<Record<string, unknown>>): void {
    this.writer.add(record);
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  async finish(finalMetadata: Record<string, string>): Promise<StoredProcessed> {
    this.finalMetadata = finalMetadata;
    const parquetObjects = await this.writer.finish();
    // As many copies at once as parts in flight: the sockets the worker sizes for each output (workerSocketPools).
    await inParallel(this.storedEarly, this.queueSize, (object) => object.replaceMetadata(finalMetadata));
    return { objects: parquetObjects.map(({ key, bytes }) => ({ bucket: this.bucket, key, bytes })), parquetObjects };
  }

  /** The sink of one object, which ends with the final metadata if it is stored after `finish` began. */
  private openObject(writer: ObjectWriter): ParquetObjectSink {
    return {
      write: (bytes) => writer.write(bytes),
      finish: async () => {
        const finalMetadata = this.finalMetadata;
        if (finalMetadata === undefined) await this.beforeEarlyStore();
        const bytes = await writer.finish(finalMetadata);
        if (finalMetadata === undefined) this.storedEarly.push(writer);
        return bytes;
      },
      abort: () => writer.abort(),
    };
  }

  /**
   * A partition closed early is already stored when a later one fails; it is removed so that a failed
   * file leaves no Parquet behind (a retry writes the same keys again).
   */
  async abort(): Promise<void> {
    const keys = await this.writer.abort();
    if (keys.length === 0) return;
    const remove = new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } });
    await this.s3.send(remove).catch(() => undefined);
  }
}
