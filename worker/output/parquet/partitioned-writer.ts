import { defaultCodec, type ParquetCodec } from './compression.ts';
import type { OpenParquetObject } from './object-sink.ts';
import { partitionOf, parquetObjectKey } from './partition.ts';
import { ParquetObjectWriter } from './parquet-object-writer.ts';
import { toParquetRow } from './schema.ts';

/**
 * 122,880 rows: DuckDB's own row group size (60 vectors of 2,048), the unit it parallelises a scan
 * over; Athena splits work and skips on row group statistics too. Larger groups compress a little
 * better but cost worker memory: the whole group is buffered as decoded values before it is encoded,
 * and its encoded bytes until the next drain.
 */
export const DEFAULT_ROW_GROUP_ROWS = 122_880;

/**
 * Files are usually in time order, so a file touches one or two days at once; 4 leaves room for
 * out-of-order tails without letting a file that spans a year hold a year of row groups.
 */
export const DEFAULT_MAX_OPEN_PARTITIONS = 4;

/**
 * A partition that gets no row while this many rows go elsewhere is closed early: in a time-ordered
 * file that is the day just ended, whose rows would otherwise wait in memory until the file ends.
 * A late row for it starts its next object (`-part2`).
 */
export const DEFAULT_IDLE_ROWS_BEFORE_CLOSE = 16_384;

/** How often (in rows) the writer looks for idle partitions: often enough, and cheap. */
const IDLE_CHECK_EVERY_ROWS = 1024;

export interface PartitionedParquetWriterOptions {
  /** The raw object's key, its source's output prefix before it; the Parquet keys are derived from it (partition.ts). */
  readonly inputKey: string;
  /** The Parquet table's key prefix, e.g. `parquet/`, under which the `dt=` partitions sit. */
  readonly prefix: string;
  /** Opens the sink of one Parquet object; called once per object, when its first row arrives. */
  readonly openObject: OpenParquetObject;
  /** Rows per row group; default DEFAULT_ROW_GROUP_ROWS. */
  readonly rowGroupRows?: number;
  /** Partitions written at once; default DEFAULT_MAX_OPEN_PARTITIONS. */
  readonly maxOpenPartitions?: number;
  /** Rows added to other partitions after which an idle one is closed; default DEFAULT_IDLE_ROWS_BEFORE_CLOSE. */
  readonly idleRowsBeforeClose?: number;
  /** Default ZSTD (SNAPPY on a Node.js without zstd). */
  readonly codec?: ParquetCodec;
}

/** One stored Parquet object. */
export interface ParquetObjectSummary {
  readonly key: string;
  /** `dt=YYYY-MM-DD` or `dt=unknown`. */
  readonly partition: string;
  /** 1, or 2 and up for a partition written as several objects. */
  readonly part: number;
  readonly rows: number;
  readonly rowGroups: number;
  readonly bytes: number;
}

function wholeNumberAtLeastOne(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
  return value;
}

interface OpenObject {
  readonly key: string;
  readonly partition: string;
  readonly part: number;
  readonly writer: ParquetObjectWriter;
  lastUsed: number;
}

/**
 * Writes the processed records of one raw object as Parquet, one object per `dt=` partition.
 *
 * `add` is synchronous (it encodes a row group when one fills up); `drain` streams what was encoded
 * to the sinks and must be awaited regularly, e.g. after each input chunk, like ObjectWriter.write.
 *
 * Memory, whatever the size of the file: at most rowGroupRows rows are buffered across all
 * partitions together (when partitions interleave and their buffers add up to that, the largest is
 * encoded early as a smaller row group), plus the encoded bytes until the next drain, plus what each
 * open object's sink holds (ObjectWriter: the part being filled and the parts in flight). At most
 * maxOpenPartitions objects are open: a row for one more partition closes and stores the least
 * recently used, and a partition idle for idleRowsBeforeClose rows is closed too. If rows of a closed partition come later, they go
 * to its next object (`…-part2.parquet`). The keys still depend only on the input, so processing
 * it again overwrites the same objects.
 *
 * Objects closed early are visible before the file finishes: `abort` returns their keys, for the
 * caller to delete when the file fails (a retry would overwrite them with the same bytes anyway).
 */
export class PartitionedParquetWriter {
  private readonly inputKey: string;
  private readonly prefix: string;
  private readonly openObject: OpenParquetObject;
  private readonly rowGroupRows: number;
  private readonly maxOpenPartitions: number;
  private readonly idleRowsBeforeClose: number;
  private readonly codec: ParquetCodec;
  private readonly openByPartition = new Map<string, OpenObject>();
  private readonly partsStarted = new Map<string, number>();
  private closing: OpenObject[] = [];
  private readonly stored: ParquetObjectSummary[] = [];
  private rowsAdded = 0;
  /** Rows buffered across the open objects; may count high until recounted, never low. */
  private bufferedRows = 0;

  constructor(options: PartitionedParquetWriterOptions) {
    this.inputKey = options.inputKey;
    this.prefix = options.prefix;
    this.openObject = options.openObject;
    this.rowGroupRows = wholeNumberAtLeastOne('rowGroupRows', options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS);
    this.maxOpenPartitions = wholeNumberAtLeastOne('maxOpenPartitions', options.maxOpenPartitions ?? DEFAULT_MAX_OPEN_PARTITIONS);
    this.idleRowsBeforeClose = wholeNumberAtLeastOne('idleRowsBeforeClose', options.idleRowsBeforeClose ?? DEFAULT_IDLE_ROWS_BEFORE_CLOSE);
    this.codec = options.codec ?? defaultCodec();
  }

  /** Adds one processed record (the object evaluateLine serialised); throws NotAProcessedRecordError for anything else. */
  add(record: Readonly<Record<string, unknown>>): void {
    const row = toParquetRow(record);
    const partition = partitionOf(row.timestamp);
    const target = this.openByPartition.get(partition) ?? this.open(partition);
    this.rowsAdded += 1;
    target.lastUsed = this.rowsAdded;
    target.writer.add(row);
    this.bufferedRows += 1;
    if (this.bufferedRows >= this.rowGroupRows) this.keepBufferWithinOneRowGroup();
    if (this.rowsAdded % IDLE_CHECK_EVERY_ROWS === 0) this.closeIdle();
  }

  /** Streams the bytes encoded so far and stores the objects closed since the last call. */
  async drain(): Promise<void> {
    for (const target of this.openByPartition.values()) await target.writer.drain();
    while (this.closing.length > 0) {
      const target = this.closing[0] as OpenObject;
      await this.store(target);
      this.closing.shift();
    }
  }

  /** Closes and stores every object; returns them all, sorted by key. No object when no record was added. */
  async finish(): Promise<readonly ParquetObjectSummary[]> {
    for (const target of [...this.openByPartition.values()]) this.close(target);
    const closing = this.closing;
    await Promise.all(closing.map((target) => this.store(target)));
    this.closing = [];
    return [...this.stored].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Discards every object not yet stored; returns the keys of those already stored. Never throws. */
  async abort(): Promise<readonly string[]> {
    const unfinished = [...this.openByPartition.values(), ...this.closing];
    this.openByPartition.clear();
    this.closing = [];
    await Promise.all(unfinished.map((target) => target.writer.abort().catch(() => undefined)));
    return this.stored.map((summary) => summary.key);
  }

  private open(partition: string): OpenObject {
    if (this.openByPartition.size >= this.maxOpenPartitions) this.closeLeastRecentlyUsed();
    const part = (this.partsStarted.get(partition) ?? 0) + 1;
    this.partsStarted.set(partition, part);
    const key = parquetObjectKey({ prefix: this.prefix, partition, inputKey: this.inputKey, part });
    const writer = new ParquetObjectWriter(this.openObject(key), { rowGroupRows: this.rowGroupRows, codec: this.codec });
    const target: OpenObject = { key, partition, part, writer, lastUsed: this.rowsAdded };
    this.openByPartition.set(partition, target);
    return target;
  }

  private closeLeastRecentlyUsed(): void {
    let oldest: OpenObject | undefined;
    for (const target of this.openByPartition.values()) {
      if (oldest === undefined || target.lastUsed < oldest.lastUsed) oldest = target;
    }
    if (oldest !== undefined) this.close(oldest);
  }

  private keepBufferWithinOneRowGroup(): void {
    // Recounted: an object also encodes by itself when its own group is full, and closed ones left.
    let total = 0;
    let largest: ParquetObjectWriter | undefined;
    for (const { writer } of this.openByPartition.values()) {
      total += writer.bufferedRows;
      if (largest === undefined || writer.bufferedRows > largest.bufferedRows) largest = writer;
    }
    if (total >= this.rowGroupRows && largest !== undefined) total -= largest.encodeBufferedRows();
    this.bufferedRows = total;
  }

  private closeIdle(): void {
    for (const target of [...this.openByPartition.values()]) {
      if (this.rowsAdded - target.lastUsed >= this.idleRowsBeforeClose) this.close(target);
    }
  }

  private close(target: OpenObject): void {
    target.writer.close();
    this.openByPartition.delete(target.partition);
    this.closing.push(target);
  }

  private async store(target: OpenObject): Promise<void> {
    const bytes = await target.writer.finish();
    const { key, partition, part, writer } = target;
    this.stored.push({ key, partition, part, rows: writer.rows, rowGroups: writer.rowGroups, bytes });
  }
}
