import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ProcessedRecordSink } from '../../records/line-outcomes.ts';
import type { UploadSettings } from '../multipart-upload.ts';
import { CONTENT_TYPES, ObjectWriter } from '../object-writer.ts';
import type { OutputLifecycle, StoredProcessed } from '../processed-output.ts';
import { PartitionedParquetWriter } from './partitioned-writer.ts';

export interface ParquetOutputOptions extends UploadSettings {
  readonly bucket: string;
  /** The Parquet table's key prefix, under which the `dt=` partitions sit. */
  readonly prefix: string;
  /** The raw object's key, from which the Parquet keys are derived. */
  readonly inputKey: string;
  readonly metadata: Record<string, string>;
}

/** The processed records of one file as Parquet (OUTPUT_FORMAT=parquet): one object or more per `dt=` partition. */
export class ParquetOutput implements ProcessedRecordSink, OutputLifecycle<StoredProcessed> {
  readonly takes = 'record';
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly writer: PartitionedParquetWriter;

  constructor(s3: S3Client, options: ParquetOutputOptions) {
    const { bucket, prefix, inputKey, metadata, partSizeBytes, queueSize } = options;
    this.s3 = s3;
    this.bucket = bucket;
    this.writer = new PartitionedParquetWriter({
      inputKey,
      prefix,
      openObject: (key) => new ObjectWriter(s3, { bucket, key, contentType: CONTENT_TYPES.parquet, metadata, partSizeBytes, queueSize }),
    });
  }

  add(record: Readonly<Record<string, unknown>>): void {
    this.writer.add(record);
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  async finish(): Promise<StoredProcessed> {
    const parquetObjects = await this.writer.finish();
    return { objects: parquetObjects.map(({ key, bytes }) => ({ bucket: this.bucket, key, bytes })), parquetObjects };
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
