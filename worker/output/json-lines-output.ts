import { once } from 'node:events';
import { createZstdCompress, type ZstdCompress } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { COMPRESSIONS, type Compression } from '../input/compression.ts';
import type { ProcessedLineSink, RejectedSink } from '../records/line-outcomes.ts';
import type { UploadSettings } from './multipart-upload.ts';
import { CONTENT_TYPES, ObjectWriter } from './object-writer.ts';
import type { ObjectLocation } from './output-keys.ts';
import type { OutputLifecycle, StoredObject } from './processed-output.ts';

/** The media type RFC 8878 registers for zstd. */
const ZSTD_CONTENT_TYPE = 'application/zstd';

const CONTENT_TYPE_BY_COMPRESSION: Record<Compression, string> = {
  none: CONTENT_TYPES.jsonLines,
  gzip: CONTENT_TYPES.gzip,
  zstd: ZSTD_CONTENT_TYPE,
};

export interface JsonLinesOutputOptions extends ObjectLocation, UploadSettings {
  /** Compresses the object (as its input was); its content type then says which. */
  readonly compression: Compression;
  /** Stored from the start; `finish` gives the metadata the object ends with. */
  readonly metadata: Record<string, string>;
}

/** What JsonLinesOutput writes into: an ObjectWriter, itself or behind a zstd compressor. */
type TextWriter = Pick<ObjectWriter, 'write' | 'finish' | 'abort'>;

/**
 * Compresses zstd in front of an ObjectWriter, as ObjectWriter compresses gzip itself: writes wait while
 * the compressor or the upload is behind, and fail as soon as the upload does.
 */
class ZstdWriter implements TextWriter {
  private readonly writer: ObjectWriter;
  private readonly zstd: ZstdCompress = createZstdCompress();
  /** Moves the compressed bytes into the upload; settles when the zstd stream has ended. */
  private readonly compressed: Promise<void>;

  constructor(writer: ObjectWriter) {
    this.writer = writer;
    this.compressed = this.moveCompressed();
    // Awaited in write() and finish(); until then a failure must not surface as an unhandled rejection.
    this.compressed.catch(() => undefined);
  }

  async write(data: string | Uint8Array): Promise<void> {
    if (data.length === 0) return;
    if (this.zstd.write(data)) return;
    await Promise.race([once(this.zstd, 'drain'), this.compressed]);
  }

  async finish(finalMetadata?: Record<string, string>): Promise<number> {
    this.zstd.end();
    await this.compressed;
    return this.writer.finish(finalMetadata);
  }

  async abort(): Promise<void> {
    this.zstd.destroy();
    await this.writer.abort();
    await this.compressed.catch(() => undefined);
  }

  private async moveCompressed(): Promise<void> {
    try {
      for await (const chunk of this.zstd) await this.writer.write(chunk as Buffer);
    } catch (error) {
      this.zstd.destroy();
      throw error;
    }
  }
}

/**
 * One JSON Lines object: the processed records (OUTPUT_FORMAT=jsonl) or the rejected lines (always).
 * `add` appends a line to text held until the next `drain`, which streams it into the upload.
 */
export class JsonLinesOutput implements ProcessedLineSink, RejectedSink, OutputLifecycle<{ readonly objects: readonly [StoredObject] }> {
  readonly takes = 'line';
  private readonly location: ObjectLocation;
  private readonly writer: TextWriter;
  private text = '';

  constructor(s3: S3Client, options: JsonLinesOutputOptions) {
    const { bucket, key, compression, metadata, partSizeBytes, queueSize, metadataReplacement } = options;
    this.location = { bucket, key };
    const objectWriter = new ObjectWriter(s3, {
      bucket,
      key,
      gzip: compression === COMPRESSIONS.gzip,
      contentType: CONTENT_TYPE_BY_COMPRESSION[compression],
      metadata,
      partSizeBytes,
      queueSize,
      ...(metadataReplacement ? { metadataReplacement } : {}),
    });
    this.writer = compression === COMPRESSIONS.zstd ? new ZstdWriter(objectWriter) : objectWriter;
  }

  add(line: string): void {
    this.text += line + '\n';
  }

  drain(): Promise<void> {
    const text = this.text;
    this.text = '';
    return this.writer.write(text);
  }

  /** Drains and stores the object; it is stored even when no line was added (an empty object). */
  async finish(finalMetadata: Record<string, string>): Promise<{ readonly objects: readonly [StoredObject] }> {
    await this.drain();
    const bytes = await this.writer.finish(finalMetadata);
    return { objects: [{ ...this.location, bytes }] };
  }

  abort(): Promise<void> {
    this.text = '';
    return this.writer.abort();
  }
}
