/**
 * Provenance: the S3 user metadata every output object carries (processed JSON Lines, rejected,
 * each Parquet object), so that an output alone tells where it came from, whether it is current
 * and whether it is complete. Pure: builds the metadata and reads it back.
 */
import { createHash } from 'node:crypto';

/** The metadata names (S3 sends them as `x-amz-meta-<name>`; the SDK hands them over without the prefix, lower case). */
export const PROVENANCE_KEYS = {
  sourceBucket: 'source-bucket',
  /** encodeURIComponent of the raw key; omitted when the metadata would not fit S3's 2 KB. */
  sourceKey: 'source-key',
  /** Hex SHA-256 of the raw key's UTF-8 bytes: always present, so a long key still identifies its outputs. */
  sourceKeySha256: 'source-key-sha256',
  /** Omitted when the raw object has no version id. */
  sourceVersionId: 'source-version-id',
  /** Without quotes. */
  sourceETag: 'source-etag',
  /** ISO 8601, the raw object's Last-Modified as GetObject served it (whole seconds). */
  sourceLastModified: 'source-last-modified',
  /** S3's event sequencer, when the file came from an S3 event. */
  sourceSequencer: 'source-sequencer',
  linesProcessed: 'lines-processed',
  linesFiltered: 'lines-filtered',
  linesRejected: 'lines-rejected',
  workerVersion: 'worker-version',
} as const;

/**
 * S3's limit on an object's user metadata: the bytes of the UTF-8 encoding of every name (without
 * `x-amz-meta-`) and value, summed.
 */
export const USER_METADATA_LIMIT_BYTES = 2048;

/** The raw object a file's outputs were made from. */
export interface ProvenanceSource {
  readonly bucket: string;
  /** Exactly as stored in S3. */
  readonly key: string;
  readonly versionId?: string | undefined;
  /** With or without quotes; stored without. */
  readonly eTag: string;
  /** ISO 8601. Orders two uploads of one key (with the sequencer, when both have one): see newer-upload.ts. */
  readonly lastModified?: string | undefined;
  readonly sequencer?: string | undefined;
}

/** The whole file's line counts by outcome. */
export interface ProvenanceCounts {
  readonly processed: number;
  readonly filtered: number;
  readonly rejected: number;
}

export interface Provenance {
  readonly sourceBucket: string;
  /** Absent when the key was too long to fit the metadata: match outputs by sourceKeySha256 then. */
  readonly sourceKey?: string;
  readonly sourceKeySha256: string;
  readonly sourceVersionId?: string;
  readonly sourceETag: string;
  readonly sourceLastModified?: string;
  readonly sourceSequencer?: string;
  /** Absent when the counts are missing: the output is incomplete (its writer never finished it). */
  readonly lines?: ProvenanceCounts;
  readonly workerVersion: string;
}

/** The widest decimal a count can take; the budget reserves it so that a key fits with or without counts. */
const WIDEST_COUNT = String(Number.MAX_SAFE_INTEGER);

export function sourceKeySha256(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The bytes S3 counts against USER_METADATA_LIMIT_BYTES. */
export function userMetadataBytes(metadata: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  return bytes;
}

function unquote(eTag: string): string {
  return eTag.replace(/"/g, '');
}

function countsMetadata(counts: ProvenanceCounts): Record<string, string> {
  return {
    [PROVENANCE_KEYS.linesProcessed]: String(counts.processed),
    [PROVENANCE_KEYS.linesFiltered]: String(counts.filtered),
    [PROVENANCE_KEYS.linesRejected]: String(counts.rejected),
  };
}

/**
 * The metadata for an output of `source`. Without `counts` it is the provenance of an output still
 * being written (readProvenance then gives `lines` undefined). Whether `source-key` is included
 * depends on the source and worker version alone, never on the counts: an object's metadata keeps
 * the same names when its counts are added later.
 */
export function provenanceMetadata(
  source: ProvenanceSource,
  counts: ProvenanceCounts | undefined,
  workerVersion: string,
): Record<string, string> {
  const identity: Record<string, string> = {
    [PROVENANCE_KEYS.sourceBucket]: source.bucket,
    [PROVENANCE_KEYS.sourceKeySha256]: sourceKeySha256(source.key),
    ...(source.versionId ? { [PROVENANCE_KEYS.sourceVersionId]: source.versionId } : {}),
    [PROVENANCE_KEYS.sourceETag]: unquote(source.eTag),
    ...(source.lastModified ? { [PROVENANCE_KEYS.sourceLastModified]: source.lastModified } : {}),
    ...(source.sequencer ? { [PROVENANCE_KEYS.sourceSequencer]: source.sequencer } : {}),
    [PROVENANCE_KEYS.workerVersion]: workerVersion,
  };
  const encodedKey = encodeURIComponent(source.key);
  const widest = countsMetadata({ processed: Number(WIDEST_COUNT), filtered: Number(WIDEST_COUNT), rejected: Number(WIDEST_COUNT) });
  const withKey = { ...identity, [PROVENANCE_KEYS.sourceKey]: encodedKey };
  const keyFits = userMetadataBytes({ ...withKey, ...widest }) <= USER_METADATA_LIMIT_BYTES;
  return { ...(keyFits ? withKey : identity), ...(counts ? countsMetadata(counts) : {}) };
}

function decodeKey(encoded: string | undefined): string | undefined {
  if (encoded === undefined) return undefined;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

function readCount(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  const count = Number(value);
  return Number.isSafeInteger(count) ? count : undefined;
}

function readCounts(metadata: Readonly<Record<string, string>>): ProvenanceCounts | undefined {
  const processed = readCount(metadata[PROVENANCE_KEYS.linesProcessed]);
  const filtered = readCount(metadata[PROVENANCE_KEYS.linesFiltered]);
  const rejected = readCount(metadata[PROVENANCE_KEYS.linesRejected]);
  if (processed === undefined || filtered === undefined || rejected === undefined) return undefined;
  return { processed, filtered, rejected };
}

/**
 * The provenance an object's metadata (HeadObject's `Metadata`) carries, or undefined when it
 * carries none (written before provenance, or not by this worker). Names are matched case-insensitively.
 */
export function readProvenance(metadata: Readonly<Record<string, string>> | undefined): Provenance | undefined {
  if (metadata === undefined) return undefined;
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) lower[name.toLowerCase()] = value;

  const sourceBucket = lower[PROVENANCE_KEYS.sourceBucket];
  const keySha256 = lower[PROVENANCE_KEYS.sourceKeySha256];
  const sourceETag = lower[PROVENANCE_KEYS.sourceETag];
  const workerVersion = lower[PROVENANCE_KEYS.workerVersion];
  if (!sourceBucket || !keySha256 || sourceETag === undefined || workerVersion === undefined) return undefined;

  const sourceKey = decodeKey(lower[PROVENANCE_KEYS.sourceKey]);
  const sourceVersionId = lower[PROVENANCE_KEYS.sourceVersionId];
  const sourceLastModified = lower[PROVENANCE_KEYS.sourceLastModified];
  const sourceSequencer = lower[PROVENANCE_KEYS.sourceSequencer];
  const lines = readCounts(lower);
  return {
    sourceBucket,
    ...(sourceKey !== undefined ? { sourceKey } : {}),
    sourceKeySha256: keySha256,
    ...(sourceVersionId ? { sourceVersionId } : {}),
    sourceETag,
    ...(sourceLastModified ? { sourceLastModified } : {}),
    ...(sourceSequencer ? { sourceSequencer } : {}),
    ...(lines ? { lines } : {}),
    workerVersion,
  };
}
