/**
 * Where the two outputs of one raw object go: the processed records and the rejected lines. Pure.
 */
import { PERMANENT_REASONS, PermanentFileError } from '../errors.ts';

export interface OutputLocation {
  readonly processedBucket: string;
  readonly processedPrefix: string;
  readonly rejectedBucket: string;
  readonly rejectedPrefix: string;
  /** Default jsonl. */
  readonly format?: 'jsonl' | 'parquet';
  readonly parquetPrefix?: string;
}

export interface ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

export interface OutputKeys {
  /**
   * The raw key with the source's output prefix before it (SOURCES): what every output key ends with. The JSON
   * Lines outputs put their prefix before it; the Parquet objects put it after their `dt=` partition (partition.ts).
   */
  readonly outputName: string;
  /** Where JSON Lines output goes; with Parquet the objects go under the Parquet prefix instead. */
  readonly processed: ObjectLocation;
  readonly rejected: ObjectLocation;
}

const MAX_S3_KEY_BYTES = 1024;

/**
 * Where the outputs of `key` go, `outputPrefix` (its source's, SOURCES) between the output's prefix and the raw
 * key; refuses a key whose processed output would land among rejected output, or whose output key would be
 * longer than S3 allows (the prefixes add to the raw key).
 */
export function outputKeys(output: OutputLocation, key: string, outputPrefix = ''): OutputKeys {
  const outputName = outputPrefix + key;
  const processed = { bucket: output.processedBucket, key: output.processedPrefix + outputName };
  const rejected = { bucket: output.rejectedBucket, key: output.rejectedPrefix + outputName };
  if (processed.bucket === rejected.bucket && processed.key.startsWith(output.rejectedPrefix)) {
    throw new PermanentFileError(
      PERMANENT_REASONS.outputKeyCollision,
      `the processed output s3://${processed.bucket}/${processed.key} would land under the rejected prefix "${output.rejectedPrefix}"`,
    );
  }
  for (const output of [processed, rejected]) {
    if (Buffer.byteLength(output.key) > MAX_S3_KEY_BYTES) {
      throw new PermanentFileError(
        PERMANENT_REASONS.outputKeyTooLong,
        `the output key ${output.key.slice(0, 80)}… is ${Buffer.byteLength(output.key)} bytes; S3 allows ${MAX_S3_KEY_BYTES}`,
      );
    }
  }
  return { outputName, processed, rejected };
}
