import type { ColumnSource } from 'hyparquet-writer';
import { PARQUET_COLUMNS, type ParquetRow } from './schema.ts';

type ColumnValue = string | number | null;

const MAX_INTERNED_STRINGS = 4096;

/** By column index: whether the column holds strings, whose null stays null. */
const HOLDS_TEXT: readonly boolean[] = PARQUET_COLUMNS.map((column) => column.kind === 'string' || column.kind === 'jsonText');

/**
 * The rows of the row group being filled, kept column by column as hyparquet-writer takes them.
 * A null in a number column is held as NaN (JSON has no NaN, so it is free) to keep the array one
 * of unboxed doubles: 8 bytes a value instead of a pointer to a boxed number. Equal strings are
 * kept once per row group: JSON.parse makes a new string for every value, and device ids and
 * locations repeat. The `extra` texts (jsonText) are not: they rarely repeat, and would crowd the
 * ids out of the table.
 */
export class RowGroupBuffer {
  private columns: ColumnValue[][] = PARQUET_COLUMNS.map(() => []);
  private interned = new Map<string, string>();
  private rowCount = 0;

  get rows(): number {
    return this.rowCount;
  }

  add(row: ParquetRow): void {
    for (let index = 0; index < PARQUET_COLUMNS.length; index += 1) {
      const column = PARQUET_COLUMNS[index] as (typeof PARQUET_COLUMNS)[number];
      let value: ColumnValue = row[column.name];
      if (value === null) value = HOLDS_TEXT[index] === true ? null : Number.NaN;
      else if (typeof value === 'string' && column.kind === 'string') value = this.intern(value);
      (this.columns[index] as ColumnValue[]).push(value);
    }
    this.rowCount += 1;
  }

  /** The buffered rows as hyparquet-writer column data; the buffer starts over empty. */
  take(): ColumnSource[] {
    const taken = PARQUET_COLUMNS.map((column, index): ColumnSource => {
      const values = this.columns[index] as ColumnValue[];
      const restoreNulls = column.nullable && HOLDS_TEXT[index] !== true;
      return { name: column.name, data: restoreNulls ? values.map((value) => (Number.isNaN(value) ? null : value)) : values };
    });
    this.columns = PARQUET_COLUMNS.map(() => []);
    this.interned = new Map();
    this.rowCount = 0;
    return taken;
  }

  private intern(text: string): string {
    const shared = this.interned.get(text);
    if (shared !== undefined) return shared;
    // Past this many distinct values interning costs more memory than it saves.
    if (this.interned.size < MAX_INTERNED_STRINGS) this.interned.set(text, text);
    return text;
  }
}
