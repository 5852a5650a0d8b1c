/**
 * Where the bytes of one Parquet object go. The worker backs it with a streaming S3 upload
 * (ObjectWriter, worker/output/object-writer.ts); tests with memory (test/support/parquet-memory-sink.ts).
 */
export interface ParquetObjectSink {
  /** Appends bytes, waiting while the destination is behind; fails as soon as the destination does. */
  write(bytes: Uint8Array): Promise<void>;
  /** Stores the object whole; returns the bytes stored. Nothing is visible before this succeeds. */
  finish(): Promise<number>;
  /** Discards the object; never throws. */
  abort(): Promise<void>;
}

/** Opens the sink of the object at `key` (in the bucket the caller chose). */
export type OpenParquetObject = (key: string) => ParquetObjectSink;
