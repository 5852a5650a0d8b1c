import { ParquetWriter } from 'hyparquet-writer';
import { ByteHandoffWriter } from './byte-handoff-writer.ts';
import { compressorsFor, type ParquetCodec } from './compression.ts';
import type { ParquetObjectSink } from './object-sink.ts';
import { RowGroupBuffer } from './row-group-buffer.ts';
import { PARQUET_SCHEMA, type ParquetRow } from './schema.ts';

export interface ParquetObjectWriterOptions {
  /** A row group is encoded when it has this many rows. */
  readonly rowGroupRows: number;
  readonly codec: ParquetCodec;
}

/** Written into every file's footer; fixed, so that the same rows give the same bytes. */
export const CREATED_BY = 'iot-ingest';

/**
 * One Parquet object, row group by row group: `add` buffers a row and, when the row group is full,
 * encodes it (synchronously); `drain` streams the encoded bytes to the sink. Memory: the row group
 * being filled, and the encoded bytes until the next drain.
 */
export class ParquetObjectWriter {
  private readonly sink: ParquetObjectSink;
  private readonly rowGroupRows: number;
  private readonly output = new ByteHandoffWriter();
  private readonly parquet: ParquetWriter;
  private readonly buffer = new RowGroupBuffer();
  private closed = false;
  private rowsWritten = 0;
  private rowGroupsWritten = 0;

  constructor(sink: ParquetObjectSink, options: ParquetObjectWriterOptions) {
    if (!Number.isSafeInteger(options.rowGroupRows) || options.rowGroupRows < 1) {
      throw new RangeError(`rowGroupRows must be a whole number >= 1, got ${options.rowGroupRows}`);
    }
    this.sink = sink;
    this.rowGroupRows = options.rowGroupRows;
    this.parquet = new ParquetWriter({
      writer: this.output,
      schema: [...PARQUET_SCHEMA],
      codec: options.codec,
      compressors: compressorsFor(options.codec),
      createdBy: CREATED_BY,
    });
  }

  /** Rows added so far. */
  get rows(): number {
    return this.rowsWritten + this.buffer.rows;
  }

  get rowGroups(): number {
    return this.rowGroupsWritten;
  }

  /** Rows waiting for their row group to be encoded. */
  get bufferedRows(): number {
    return this.buffer.rows;
  }

  add(row: ParquetRow): void {
    if (this.closed) throw new Error('cannot add a row to a closed Parquet object');
    this.buffer.add(row);
    if (this.buffer.rows >= this.rowGroupRows) this.encodeRowGroup();
  }

  /** Encodes the buffered rows now, as a smaller row group; returns how many. */
  encodeBufferedRows(): number {
    const rows = this.buffer.rows;
    if (rows > 0) this.encodeRowGroup();
    return rows;
  }

  /** Encodes the last row group and the footer; the bytes still have to be drained or finished. */
  close(): void {
    if (this.closed) return;
    this.encodeBufferedRows();
    this.closed = true;
    // Synchronous: ByteHandoffWriter.finish returns nothing to wait for.
    void this.parquet.finish();
  }

  /** Sends the bytes encoded so far to the sink. */
  async drain(): Promise<void> {
    for (const chunk of this.output.takeChunks()) await this.sink.write(chunk);
  }

  /** Closes, drains and stores the object; returns the bytes stored. */
  async finish(): Promise<number> {
    this.close();
    await this.drain();
    return this.sink.finish();
  }

  abort(): Promise<void> {
    this.closed = true;
    this.output.takeChunks();
    return this.sink.abort();
  }

  private encodeRowGroup(): void {
    const rows = this.buffer.rows;
    // One call, one row group: rowGroupSize keeps hyparquet-writer from splitting it further. Synchronous,
    // as ByteHandoffWriter.flush returns nothing to wait for.
    void this.parquet.write({ columnData: this.buffer.take(), rowGroupSize: rows });
    this.rowsWritten += rows;
    this.rowGroupsWritten += 1;
  }
}
