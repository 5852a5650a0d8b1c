import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ParquetObjectSink } from './object-sink.ts';

export interface S3ObjectSinkOptions {
  readonly bucket: string;
  readonly key: string;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  readonly metadata?: Record<string, string>;
}

/** The media type registered for Parquet (IANA, 2024). */
export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

/**
 * A Parquet object streamed to S3 with lib-storage, as ObjectWriter streams JSON Lines: a single
 * PutObject below one part, a multipart upload above; nothing visible unless `finish` succeeds.
 * lib-storage buffers up to one part per object (plus `queueSize` parts in flight).
 */
export class S3ObjectSink implements ParquetObjectSink {
  private readonly stream = new PassThrough();
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private bytesWritten = 0;

  constructor(s3: S3Client, options: S3ObjectSinkOptions) {
    this.upload = new Upload({
      client: s3,
      params: {
        Bucket: options.bucket,
        Key: options.key,
        Body: this.stream,
        ContentType: PARQUET_CONTENT_TYPE,
        ...(options.metadata ? { Metadata: options.metadata } : {}),
      },
      partSize: options.partSizeBytes,
      queueSize: options.queueSize,
      leavePartsOnError: false,
    });
    this.done = this.upload.done();
    // Awaited in finish(); until then a failure must not surface as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength === 0) return;
    this.bytesWritten += bytes.byteLength;
    if (this.stream.write(bytes)) return;
    await Promise.race([once(this.stream, 'drain'), this.done]);
  }

  async finish(): Promise<number> {
    this.stream.end();
    await this.done;
    return this.bytesWritten;
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await this.upload.abort().catch(() => undefined);
    await this.done.catch(() => undefined);
  }
}
