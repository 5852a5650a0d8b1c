/**
 * The two outputs of one raw object, opened, drained, finished and aborted together: the processed
 * records in the configured format and the rejected lines, always JSON Lines.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Compression } from '../input/compression.ts';
import { JsonLinesOutput } from './json-lines-output.ts';
import type { UploadSettings } from './multipart-upload.ts';
import type { OutputKeys, OutputLocation } from './output-keys.ts';
import { ParquetOutput } from './parquet/parquet-output.ts';
import type { ProcessedOutput, StoredObject } from './processed-output.ts';
import type { ParquetObjectSummary } from './parquet/partitioned-writer.ts';

/** The objects a file's processing actually stored. */
export interface StoredOutputs {
  /** JSON Lines: one object. Parquet: one or more per dt= partition, none when no record was processed. */
  readonly processed: readonly StoredObject[];
  readonly rejected: StoredObject;
}

export interface FinishedOutputs {
  readonly outputs: StoredOutputs;
  /** With OUTPUT_FORMAT=parquet: the Parquet objects written, with their partitions and rows. */
  readonly parquetObjects?: readonly ParquetObjectSummary[];
}

/** What the outputs of one raw object depend on. */
export interface OutputFile {
  readonly keys: OutputKeys;
  /** The input's compression: the JSON Lines outputs have it too. */
  readonly compression: Compression;
  /**
   * Every output object carries it from its start (the provenance without counts); `finish` gives
   * the metadata they end with.
   */
  readonly metadata: Record<string, string>;
  /**
   * Runs before an output object is stored ahead of `finish` (a Parquet partition closed early); it throws
   * to stop the file, e.g. when a later upload of the key has stored its outputs meanwhile.
   */
  readonly beforeEarlyStore?: () => Promise<void>;
}

/** The sinks the lines of one file are routed to (LineOutcomeRouter), written as they fill. */
export class FileOutputs {
  readonly processed: ProcessedOutput;
  readonly rejected: JsonLinesOutput;

  constructor(processed: ProcessedOutput, rejected: JsonLinesOutput) {
    this.processed = processed;
    this.rejected = rejected;
  }

  /** Writes what was added since the last call, processed output first; called after each input chunk. */
  async drain(): Promise<void> {
    await this.processed.drain();
    await this.rejected.drain();
  }

  /** Stores both outputs, every object ending with `finalMetadata`. */
  async finish(finalMetadata: Record<string, string>): Promise<FinishedOutputs> {
    // The rejected output first: if it fails, the processed output is still unfinished and is aborted
    // with it, so the main output never appears without its rejected lines.
    const { objects: [rejected] } = await this.rejected.finish(finalMetadata);
    const { objects: processed, ...details } = await this.processed.finish(finalMetadata);
    return { outputs: { processed, rejected }, ...details };
  }

  /** Discards both outputs; never throws. */
  async abort(): Promise<void> {
    await Promise.all([this.processed.abort(), this.rejected.abort()]);
  }
}

export type OpenFileOutputs = (file: OutputFile) => FileOutputs;

/** Chooses the processed output's format once, for every file to come. */
export function fileOutputsOpener(s3: S3Client, location: OutputLocation, upload: UploadSettings): OpenFileOutputs {
  const openProcessed: (file: OutputFile) => ProcessedOutput =
    location.format === 'parquet'
      ? ({ keys, metadata, beforeEarlyStore }) =>
          new ParquetOutput(s3, {
            bucket: keys.processed.bucket,
            prefix: location.parquetPrefix ?? 'parquet/',
            inputKey: keys.outputName,
            metadata,
            ...(beforeEarlyStore ? { beforeEarlyStore } : {}),
            ...upload,
          })
      : ({ keys, compression, metadata }) => new JsonLinesOutput(s3, { ...keys.processed, compression, metadata, ...upload });
  return (file) =>
    new FileOutputs(openProcessed(file), new JsonLinesOutput(s3, { ...file.keys.rejected, compression: file.compression, metadata: file.metadata, ...upload }));
}
