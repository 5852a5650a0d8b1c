import type { S3Client } from '@aws-sdk/client-s3';
import type { ProcessedLineSink, RejectedSink } from '../records/line-outcomes.ts';
import type { UploadSettings } from './multipart-upload.ts';
import { CONTENT_TYPES, ObjectWriter } from './object-writer.ts';
import type { ObjectLocation } from './output-keys.ts';
import type { OutputLifecycle, StoredObject } from './processed-output.ts';

export interface JsonLinesOutputOptions extends ObjectLocation, UploadSettings {
  /** Compresses the object; its content type then says gzip. */
  readonly gzip: boolean;
  /** Stored from the start; `finish` gives the metadata the object ends with. */
  readonly metadata: Record<string, string>;
}

/**
 * One JSON Lines object: the processed records (OUTPUT_FORMAT=jsonl) or the rejected lines (always).
 * `add` appends a line to text held until the next `drain`, which streams it into the upload.
 */
export class JsonLinesOutput implements ProcessedLineSink, RejectedSink, OutputLifecycle<{ readonly objects: readonly [StoredObject] }> {
  readonly takes = 'line';
  private readonly location: ObjectLocation;
  private readonly writer: ObjectWriter;
  private text = '';

  constructor(s3: S3Client, options: JsonLinesOutputOptions) {
    const { bucket, key, gzip, metadata, partSizeBytes, queueSize, metadataReplacement } = options;
    this.location = { bucket, key };
    const contentType = gzip ? CONTENT_TYPES.gzip : CONTENT_TYPES.jsonLines;
    this.writer = new ObjectWriter(s3, {
      bucket,
      key,
      gzip,
      contentType,
      metadata,
      partSizeBytes,
      queueSize,
      ...(metadataReplacement ? { metadataReplacement } : {}),
    });
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
