import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { MetadataReplacementLimits } from './metadata-replacement.ts';
import { MultipartUpload } from './multipart-upload.ts';

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
  /** Stored from the start; `finish` may give the metadata the object ends with. */
  readonly metadata?: Record<string, string>;
  readonly metadataReplacement?: MetadataReplacementLimits;
}

/**
 * One output object, written as a stream: a multipart upload once it passes one part, a single
 * PutObject below that. Nothing becomes visible in S3 unless `finish` succeeds; `abort` discards it.
 * Holds at most one part being filled plus `queueSize` parts in flight.
 */
export class ObjectWriter {
  private readonly upload: MultipartUpload;
  private readonly gzip: Gzip | undefined;
  /** With gzip: moves the compressed bytes into the upload; settles when the gzip stream has ended. */
  private readonly compressed: Promise<void> | undefined;

  constructor(s3: S3Client, options: ObjectWriterOptions) {
    this.upload = new MultipartUpload(s3, options);
    if (options.gzip) {
      this.gzip = createGzip();
      this.compressed = this.moveCompressed(this.gzip);
      // Awaited in write() and finish(); until then a failure must not surface as an unhandled rejection.
      this.compressed.catch(() => undefined);
    }
  }

  /** Writes text or bytes, waiting while the upload is behind; fails as soon as the upload does. */
  async write(data: string | Uint8Array): Promise<void> {
    if (data.length === 0) return;
    if (this.gzip === undefined) return this.upload.write(data);
    if (this.gzip.write(data)) return;
    await Promise.race([once(this.gzip, 'drain'), this.compressed]);
  }

  /**
   * Ends the object and waits until S3 has it whole, with `finalMetadata` if given (MultipartUpload.finish);
   * returns the bytes stored.
   */
  async finish(finalMetadata?: Record<string, string>): Promise<number> {
    if (this.gzip) {
      this.gzip.end();
      await this.compressed;
    }
    return this.upload.finish(finalMetadata);
  }

  /** After `finish`: replaces the stored object's metadata (MultipartUpload.replaceMetadata). */
  replaceMetadata(metadata: Record<string, string>): Promise<void> {
    return this.upload.replaceMetadata(metadata);
  }

  /** Discards the object; never throws. */
  async abort(): Promise<void> {
    this.gzip?.destroy();
    await this.upload.abort();
    await this.compressed?.catch(() => undefined);
  }

  private async moveCompressed(gzip: Gzip): Promise<void> {
    try {
      for await (const chunk of gzip) await this.upload.write(chunk as Buffer);
    } catch (error) {
      gzip.destroy();
      throw error;
    }
  }
}
