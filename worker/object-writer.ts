import { once } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export const CONTENT_TYPES = {
  jsonLines: 'application/x-ndjson',
  gzip: 'application/gzip',
  /** The media type registered for Parquet (IANA, 2024). */
  parquet: 'application/vnd.apache.parquet',
} as const;

export interface ObjectWriterOptions {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Compresses what is written; the content type should then say gzip. */
  readonly gzip?: boolean;
  readonly partSizeBytes: number;
  readonly queueSize: number;
  readonly metadata?: Record<string, string>;
}

/**
 * One output object, written as a stream: a multipart upload once it passes one part, a single
 * PutObject below that. Nothing becomes visible in S3 unless `finish` succeeds; `abort` discards it.
 * lib-storage buffers up to one part per object, plus `queueSize` parts in flight.
 */
export class ObjectWriter {
  private readonly stream: Writable & Readable;
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private bytesUploaded = 0;

  constructor(s3: S3Client, options: ObjectWriterOptions) {
    this.stream = options.gzip ? createGzip() : new PassThrough();
    this.upload = new Upload({
      client: s3,
      params: {
        Bucket: options.bucket,
        Key: options.key,
        Body: this.stream,
        ContentType: options.contentType,
        ...(options.metadata ? { Metadata: options.metadata } : {}),
      },
      partSize: options.partSizeBytes,
      queueSize: options.queueSize,
      leavePartsOnError: false,
    });
    this.upload.on('httpUploadProgress', (progress) => {
      this.bytesUploaded = Math.max(this.bytesUploaded, progress.loaded ?? 0);
    });
    this.done = this.upload.done();
    // Awaited in finish(); until then a failure must not surface as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** Writes text or bytes, waiting while the upload is behind; fails as soon as the upload does. */
  async write(data: string | Uint8Array): Promise<void> {
    if (data.length === 0 || this.stream.write(data)) return;
    await Promise.race([once(this.stream, 'drain'), this.done]);
  }

  /** Ends the object and waits until S3 has it whole; returns the bytes stored. */
  async finish(): Promise<number> {
    this.stream.end();
    await this.done;
    return this.bytesUploaded;
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await this.upload.abort().catch(() => undefined);
    await this.done.catch(() => undefined);
  }
}
