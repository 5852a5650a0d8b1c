/**
 * The fixed Parquet schema of processed records, and how a processed record maps onto it. Pure.
 *
 * | column | Parquet | Glue/Athena | null when |
 * | --- | --- | --- | --- |
 * | device_id | BYTE_ARRAY STRING, required | string | never (the contract rejects the record) |
 * | location | BYTE_ARRAY STRING | string | absent, null or not a string |
 * | temperature | DOUBLE, required | double | never |
 * | humidity | DOUBLE, required | double | never |
 * | pressure | DOUBLE | double | absent, null, not a JSON number (`"abc"`, `"1012.3"`) or not finite |
 * | timestamp | INT64 TIMESTAMP(MILLIS, isAdjustedToUTC) | timestamp | absent or not an RFC 3339 time with a zone (see timestamp.ts) |
 * | location_id | BYTE_ARRAY STRING, required | string | never (the worker sets it) |
 * | temp_fahrenheit | DOUBLE, required | double | never (the worker sets it) |
 * | extra | BYTE_ARRAY STRING | string | the record has no field outside the columns above |
 *
 * Optional fields are never coerced: a present value of the wrong type becomes null in Parquet,
 * exactly as the JSON Lines output keeps it as it came (`"pressure": "abc"`). Input fields outside
 * the columns (a fleet adding `battery`, `firmware`) are kept in `extra`, one JSON object of exactly
 * those fields, so that the table's schema does not drift with whatever a device sends and nothing
 * the JSON Lines output holds is lost: `json_extract(extra, '$.battery')` in Athena or DuckDB.
 * A record's partition is the UTC day of this timestamp (partition.ts).
 */
import type { SchemaElement } from 'hyparquet-writer';
import { parseTimestampMillis } from './timestamp.ts';

/** One processed record as the Parquet file holds it; `timestamp` in milliseconds since the epoch, UTC. */
export interface ParquetRow {
  readonly device_id: string;
  readonly location: string | null;
  readonly temperature: number;
  readonly humidity: number;
  readonly pressure: number | null;
  readonly timestamp: number | null;
  readonly location_id: string;
  readonly temp_fahrenheit: number;
  /** The record's fields outside the other columns, as one JSON object; null when it has none. */
  readonly extra: string | null;
}

export type ParquetColumnName = keyof ParquetRow;

/** `jsonText` is a string column whose values rarely repeat (RowGroupBuffer does not intern them). */
export const COLUMN_KINDS = { string: 'string', double: 'double', timestampMillis: 'timestampMillis', jsonText: 'jsonText' } as const;
export type ColumnKind = (typeof COLUMN_KINDS)[keyof typeof COLUMN_KINDS];

export interface ParquetColumn {
  readonly name: ParquetColumnName;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** The column type in a Glue table / Athena DDL. */
  readonly glueType: 'string' | 'double' | 'timestamp';
  /** The Glue column comment, where the name alone does not tell how to read the column. */
  readonly comment?: string;
}

/** The columns in file order: the JSON Lines field order, the two fields the worker adds, then the other fields. */
export const PARQUET_COLUMNS: readonly ParquetColumn[] = [
  { name: 'device_id', kind: 'string', nullable: false, glueType: 'string' },
  { name: 'location', kind: 'string', nullable: true, glueType: 'string' },
  { name: 'temperature', kind: 'double', nullable: false, glueType: 'double' },
  { name: 'humidity', kind: 'double', nullable: false, glueType: 'double' },
  { name: 'pressure', kind: 'double', nullable: true, glueType: 'double' },
  { name: 'timestamp', kind: 'timestampMillis', nullable: true, glueType: 'timestamp' },
  { name: 'location_id', kind: 'string', nullable: false, glueType: 'string' },
  { name: 'temp_fahrenheit', kind: 'double', nullable: false, glueType: 'double' },
  {
    name: 'extra',
    kind: 'jsonText',
    nullable: true,
    glueType: 'string',
    comment: "The record's other fields as one JSON object, null when none: json_extract_scalar(extra, '$.battery')",
  },
];

/** The Hive partition column every object sits under (`dt=YYYY-MM-DD`); a string in the Glue table. */
export const PARTITION_COLUMN = 'dt';

function schemaElement(column: ParquetColumn): SchemaElement {
  const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (column.kind) {
    case 'string':
    case 'jsonText':
      // A plain string, not the JSON logical type: Glue declares it `string`, and every reader takes that.
      return { name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type };
    case 'double':
      return { name: column.name, type: 'DOUBLE', repetition_type };
    case 'timestampMillis':
      // The converted type too, for readers that predate logical types; it means UTC milliseconds as well.
      return {
        name: column.name,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
        repetition_type,
      };
  }
}

/** The Parquet schema (root first, then one leaf per column), as hyparquet-writer takes it. */
export const PARQUET_SCHEMA: readonly SchemaElement[] = [
  { name: 'root', num_children: PARQUET_COLUMNS.length },
  ...PARQUET_COLUMNS.map(schemaElement),
];

export class NotAProcessedRecordError extends TypeError {
  override readonly name = 'NotAProcessedRecordError';
}

function requiredString(record: Readonly<Record<string, unknown>>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new NotAProcessedRecordError(`${field} must be a string in a processed record, got ${typeof value}`);
  return value;
}

function requiredNumber(record: Readonly<Record<string, unknown>>, field: string): number {
  const value = record[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new NotAProcessedRecordError(`${field} must be a finite number in a processed record, got ${String(value)}`);
  }
  return value;
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function optionalNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Whether a record field has a column of its own; a switch, as it runs for every field of every record. */
function hasOwnColumn(field: string): boolean {
  switch (field) {
    case 'device_id':
    case 'location':
    case 'temperature':
    case 'humidity':
    case 'pressure':
    case 'timestamp':
    case 'location_id':
    case 'temp_fahrenheit':
      return true;
    default:
      return false;
  }
}

/**
 * The record's fields without a column of their own, as one JSON object text; null when it has none.
 * A record without such fields costs a walk over its keys and no allocation. The fields are collected
 * into an object serialised once: measured twice as fast as joining the fields' texts, and the result
 * is one flat string (a joined one is a tree of string pieces, five times the memory while the row
 * group is buffered).
 */
export function extraFieldsJson(record: Readonly<Record<string, unknown>>): string | null {
  let extra: Record<string, unknown> | undefined;
  for (const field in record) {
    if (hasOwnColumn(field)) continue;
    const value = record[field];
    // JSON.stringify would leave it out; a record that came from JSON has none.
    if (value === undefined) continue;
    extra ??= {};
    // Assigning `__proto__` would set the prototype instead of adding the field JSON.parse made.
    if (field === '__proto__') Object.defineProperty(extra, field, { value, enumerable: true, writable: true, configurable: true });
    else extra[field] = value;
  }
  return extra === undefined ? null : JSON.stringify(extra);
}

/**
 * Maps a processed record (the object evaluateLine turned into the output line) onto the schema.
 * Throws NotAProcessedRecordError when a field the contract guarantees is missing: that is a bug
 * in the caller, not bad input.
 */
export function toParquetRow(record: Readonly<Record<string, unknown>>): ParquetRow {
  return {
    device_id: requiredString(record, 'device_id'),
    location: optionalString(record.location),
    temperature: requiredNumber(record, 'temperature'),
    humidity: requiredNumber(record, 'humidity'),
    pressure: optionalNumber(record.pressure),
    timestamp: parseTimestampMillis(record.timestamp),
    location_id: requiredString(record, 'location_id'),
    temp_fahrenheit: requiredNumber(record, 'temp_fahrenheit'),
    extra: extraFieldsJson(record),
  };
}
