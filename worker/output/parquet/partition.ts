/**
 * Where a processed record lands in the Parquet table: its Hive partition and the object key. Pure.
 *
 *   PREFIX + dt=2025-07-11/ + site-1/readings.parquet         for the raw key site-1/readings.jsonl
 *   PREFIX + dt=2025-07-11/ + site-1/readings-part2.parquet   the same partition's second object
 *   PREFIX + dt=unknown/    + site-1/readings.parquet         records without a usable timestamp
 *   PREFIX + dt=2025-07-11/ + east/site-1/readings.parquet    from a source whose outputPrefix is east/ (SOURCES)
 *
 * The partition stays right after PREFIX, where the table's partitions are read; a source's output prefix
 * goes before the raw key, as it does in the JSON Lines keys.
 *
 * Records whose timestamp is missing or unparseable go to `dt=unknown` instead of being rejected:
 * the JSON Lines contract processes them (it does not validate `timestamp`), and the Parquet table
 * must hold the same records as the JSON Lines output, not fewer. In Athena they are the table
 * `readings_undated` (infra/data-lake.ts): a date projection cannot reach `dt=unknown`.
 *
 * Keys are a function of the raw key (and its source's output prefix) alone, so processing an object again
 * overwrites its Parquet objects instead of adding copies. Raw keys that differ only in their extension
 * (`readings.jsonl`, `readings.jsonl.gz`) share their Parquet keys: the last one processed wins.
 */

export const UNKNOWN_PARTITION = 'dt=unknown';

const MILLIS_PER_DAY = 86_400_000;
const PARTITION_CACHE_LIMIT = 4096;
const partitionByDay = new Map<number, string>();

/** `dt=YYYY-MM-DD` of the UTC day of the instant, or `dt=unknown` for null. */
export function partitionOf(timestampMillis: number | null): string {
  if (timestampMillis === null) return UNKNOWN_PARTITION;
  const day = Math.floor(timestampMillis / MILLIS_PER_DAY);
  let partition = partitionByDay.get(day);
  if (partition === undefined) {
    // Formatting a date per record is the costly part; a file holds few distinct days.
    if (partitionByDay.size >= PARTITION_CACHE_LIMIT) partitionByDay.clear();
    partition = `dt=${new Date(day * MILLIS_PER_DAY).toISOString().slice(0, 10)}`;
    partitionByDay.set(day, partition);
  }
  return partition;
}

/** The raw key without its extension: `site-1/readings.jsonl.gz` (or `.zst`) → `site-1/readings`. */
export function keyStem(inputKey: string): string {
  const nameStart = inputKey.lastIndexOf('/') + 1;
  let end = inputKey.length;
  const compressed = /\.(gz|zst)$/i.exec(inputKey);
  if (compressed && end - compressed[0].length > nameStart) end -= compressed[0].length;
  const dot = inputKey.lastIndexOf('.', end - 1);
  // A leading dot names a hidden file, not an extension.
  if (dot > nameStart) end = dot;
  return inputKey.slice(0, end);
}

export interface ParquetKeyParts {
  /** The table's key prefix (its Glue location), e.g. `parquet/`; may be empty. */
  readonly prefix: string;
  /** From partitionOf. */
  readonly partition: string;
  readonly inputKey: string;
  /** 1 for a partition's first object; 2 and up when a partition is written as several objects. */
  readonly part: number;
}

export function parquetObjectKey({ prefix, partition, inputKey, part }: ParquetKeyParts): string {
  if (!Number.isSafeInteger(part) || part < 1) throw new RangeError(`part must be a whole number >= 1, got ${part}`);
  return `${prefix}${partition}/${keyStem(inputKey)}${part === 1 ? '' : `-part${part}`}.parquet`;
}
