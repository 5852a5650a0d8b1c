/**
 * The output port of the worker: where the processed records of one file go, whatever the format.
 * Implementations: JsonLinesOutput (json-lines-output.ts) and ParquetOutput (parquet/parquet-output.ts).
 */
import type { ProcessedLineSink, ProcessedRecordSink } from '../records/line-outcomes.ts';
import type { ParquetObjectSummary } from './parquet/partitioned-writer.ts';

/** One object an output stored. */
export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
}

/** What a processed output stored when it finished. */
export interface StoredProcessed {
  /** JSON Lines: one object. Parquet: one or more per dt= partition, none when no record was processed. */
  readonly objects: readonly StoredObject[];
  /** Parquet: each object's partition, rows and row groups. */
  readonly parquetObjects?: readonly ParquetObjectSummary[];
}

/**
 * Streams out what `add` (synchronous, called per record) buffers; nothing is visible as a whole
 * before `finish` succeeds, and `abort` removes whatever was started.
 */
export interface OutputLifecycle<Stored> {
  /** Writes what was added so far, waiting while the upload is behind; fails as soon as it does. */
  drain(): Promise<void>;
  /**
   * Stores the output whole, every object ending with `finalMetadata` (the provenance with the file's
   * counts, known only now); returns the objects really stored.
   */
  finish(finalMetadata: Record<string, string>): Promise<Stored>;
  /** Discards the output, parts stored early included; never throws. */
  abort(): Promise<void>;
}

export type ProcessedOutput = (ProcessedLineSink | ProcessedRecordSink) & OutputLifecycle<StoredProcessed>;
