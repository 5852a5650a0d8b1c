import { describe, it, expect } from '@jest/globals';
import { extraFieldsJson, NotAProcessedRecordError, PARQUET_COLUMNS, PARQUET_SCHEMA, toParquetRow } from '../../../../../worker/output/parquet/schema.ts';
import fc from 'fast-check';
import { parseTimestampMillis } from '../../../../../worker/output/parquet/timestamp.ts';

const PROCESSED = {
  device_id: 'sensor-alpha',
  location: 'warehouse-A',
  temperature: 20.5,
  humidity: 55.5,
  pressure: 1012.3,
  timestamp: '2025-07-11T11:00:00Z',
  location_id: 'loc-warehouse-a',
  temp_fahrenheit: 68.9,
} as const;

describe('the Parquet schema', () => {
  it('has the eight columns in JSON Lines order, then extra, with their Parquet types', () => {
    expect(PARQUET_SCHEMA.map(({ name, type, converted_type, repetition_type }) => [name, type, converted_type, repetition_type])).toStrictEqual([
      ['root', undefined, undefined, undefined],
      ['device_id', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['location', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
      ['temperature', 'DOUBLE', undefined, 'REQUIRED'],
      ['humidity', 'DOUBLE', undefined, 'REQUIRED'],
      ['pressure', 'DOUBLE', undefined, 'OPTIONAL'],
      ['timestamp', 'INT64', 'TIMESTAMP_MILLIS', 'OPTIONAL'],
      ['location_id', 'BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      ['temp_fahrenheit', 'DOUBLE', undefined, 'REQUIRED'],
      ['extra', 'BYTE_ARRAY', 'UTF8', 'OPTIONAL'],
    ]);
    expect(PARQUET_SCHEMA[0]?.num_children).toBe(PARQUET_COLUMNS.length);
  });

  it('marks the timestamp as UTC-adjusted milliseconds, so readers see an instant', () => {
    expect(PARQUET_SCHEMA.find((element) => element.name === 'timestamp')?.logical_type).toStrictEqual({
      type: 'TIMESTAMP',
      isAdjustedToUTC: true,
      unit: 'MILLIS',
    });
  });

  it('names the Glue types of the table', () => {
    expect(PARQUET_COLUMNS.map(({ name, glueType }) => `${name} ${glueType}`)).toStrictEqual([
      'device_id string',
      'location string',
      'temperature double',
      'humidity double',
      'pressure double',
      'timestamp timestamp',
      'location_id string',
      'temp_fahrenheit double',
      'extra string',
    ]);
  });
});

describe('toParquetRow', () => {
  it('maps a complete processed record field by field, the timestamp as UTC milliseconds', () => {
    expect(toParquetRow(PROCESSED)).toStrictEqual({ ...PROCESSED, timestamp: Date.UTC(2025, 6, 11, 11, 0, 0), extra: null });
  });

  it('keeps the fields outside the other columns in extra, as one JSON object of exactly those fields', () => {
    const row = toParquetRow({ ...PROCESSED, firmware: '1.2.3', battery: 87 });
    expect(Object.keys(row)).toStrictEqual(PARQUET_COLUMNS.map((column) => column.name));
    expect(row).toMatchObject({ device_id: 'sensor-alpha', pressure: 1012.3 });
    expect(JSON.parse(row.extra ?? 'null')).toStrictEqual({ firmware: '1.2.3', battery: 87 });
  });

  it('writes null for optional fields that are absent or null', () => {
    const required = Object.fromEntries(Object.entries(PROCESSED).filter(([field]) => !['location', 'pressure', 'timestamp'].includes(field)));
    expect(toParquetRow(required)).toMatchObject({ location: null, pressure: null, timestamp: null });
    expect(toParquetRow({ ...PROCESSED, location: null, pressure: null, timestamp: null })).toMatchObject({
      location: null,
      pressure: null,
      timestamp: null,
    });
  });

  it.each([
    ['pressure', 'abc'],
    ['pressure', '1012.3'],
    ['pressure', true],
    ['pressure', { hPa: 1012 }],
    ['pressure', Number.POSITIVE_INFINITY],
    ['location', 42],
    ['location', ['warehouse-A']],
    ['timestamp', 'yesterday'],
    ['timestamp', 1752231600],
  ])('writes null for a present but wrongly typed %s (%j), never coercing it', (field, value) => {
    expect(toParquetRow({ ...PROCESSED, [field]: value })[field as 'pressure']).toBeNull();
  });

  it.each([['device_id'], ['temperature'], ['humidity'], ['location_id'], ['temp_fahrenheit']])(
    'throws NotAProcessedRecordError when %s, which the contract guarantees, is missing',
    (field) => {
      expect(() => toParquetRow({ ...PROCESSED, [field]: undefined })).toThrow(NotAProcessedRecordError);
    },
  );
});

describe('extraFieldsJson', () => {
  it('is null for a record with only the fields that have a column of their own', () => {
    expect(extraFieldsJson(PROCESSED)).toBeNull();
    expect(extraFieldsJson({ device_id: 'sensor-alpha', temperature: 20, humidity: 50, location_id: 'x', temp_fahrenheit: 68 })).toBeNull();
  });

  it('knows every column but extra as a field of its own', () => {
    for (const { name } of PARQUET_COLUMNS) {
      expect([name, extraFieldsJson({ [name]: 1 })]).toStrictEqual([name, name === 'extra' ? '{"extra":1}' : null]);
    }
  });

  it('keeps values of every JSON type as they parsed, nested ones whole', () => {
    const line = '{"device_id":"d","battery":87.5,"count":0,"ok":false,"none":null,"tags":["a",1],"meta":{"fw":{"major":2},"note":"süd 🌡"},"text":"\\"quoted\\"\\n"}';
    const record = JSON.parse(line) as Record<string, unknown>;
    const others = Object.fromEntries(Object.entries(record).filter(([field]) => field !== 'device_id'));
    expect(Object.keys(others)).toHaveLength(7);
    expect(JSON.parse(extraFieldsJson(record) ?? 'null')).toStrictEqual(others);
  });

  it('keeps a field named __proto__ as a field, as JSON.parse made it', () => {
    const record = JSON.parse('{"device_id":"d","__proto__":{"polluted":true},"battery":1}') as Record<string, unknown>;
    const extra = extraFieldsJson(record) ?? '';
    expect(extra).toBe('{"__proto__":{"polluted":true},"battery":1}');
    expect(Object.hasOwn(JSON.parse(extra) as object, '__proto__')).toBe(true);
  });

  it('leaves out undefined values, as JSON would, and is null when nothing else is left', () => {
    expect(extraFieldsJson({ ...PROCESSED, battery: undefined })).toBeNull();
    expect(extraFieldsJson({ ...PROCESSED, battery: undefined, firmware: 'x' })).toBe('{"firmware":"x"}');
  });

  it('round-trips any set of extra fields, for any JSON values', () => {
    const columnNames = new Set<string>(PARQUET_COLUMNS.filter(({ name }) => name !== 'extra').map(({ name }) => name));
    const extraFields = fc.dictionary(
      fc.string().filter((name) => !columnNames.has(name)),
      fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown),
    );
    fc.assert(
      fc.property(extraFields, (fields) => {
        const record = JSON.parse(JSON.stringify({ ...PROCESSED, ...fields })) as Record<string, unknown>;
        const extra = extraFieldsJson(record);
        const expected = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
        expect(extra === null ? {} : JSON.parse(extra)).toStrictEqual(expected);
        expect(extra === null).toBe(Object.keys(expected).length === 0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseTimestampMillis', () => {
  it.each([
    ['2025-07-11T11:00:00Z', Date.UTC(2025, 6, 11, 11)],
    ['2025-07-11t11:00:00z', Date.UTC(2025, 6, 11, 11)],
    ['2025-07-11 11:00:00Z', Date.UTC(2025, 6, 11, 11)],
    ['2025-07-11T11:00:00.5Z', Date.UTC(2025, 6, 11, 11, 0, 0, 500)],
    ['2025-07-11T11:00:00.123456789Z', Date.UTC(2025, 6, 11, 11, 0, 0, 123)],
    ['2025-07-11T13:30:00+02:30', Date.UTC(2025, 6, 11, 11)],
    ['2025-07-10T23:00:00-12:00', Date.UTC(2025, 6, 11, 11)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['9999-12-31T23:59:59.999Z', 253402300799999],
  ])('reads %s', (text, expected) => {
    expect(parseTimestampMillis(text)).toBe(expected);
  });

  it.each([
    ['no zone', '2025-07-11T11:00:00'],
    ['a date only', '2025-07-11'],
    ['an impossible day', '2025-02-29T00:00:00Z'],
    ['an impossible month', '2025-13-01T00:00:00Z'],
    ['hour 24', '2025-07-11T24:00:00Z'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['an offset beyond 23:59', '2025-07-11T11:00:00+24:00'],
    ['a year pushed past 9999 by its offset', '9999-12-31T23:00:00-02:00'],
    ['a year pushed before 0000 by its offset', '0000-01-01T00:30:00+01:00'],
    ['trailing text', '2025-07-11T11:00:00Z and more'],
    ['a non-ISO date', 'July 11, 2025 11:00 UTC'],
    ['an epoch number', 1752231600000],
    ['null', null],
  ])('refuses %s', (_what, value) => {
    expect(parseTimestampMillis(value)).toBeNull();
  });

  it('reads YYYY-MM-DDTHH:MM:SSZ, which it reads without the regular expression, as the same time written +00:00', () => {
    const digits = (width: number, max: number) => fc.integer({ min: 0, max }).map((value) => String(value).padStart(width, '0'));
    const parts = fc.tuple(digits(4, 9999), digits(2, 13), digits(2, 32), digits(2, 25), digits(2, 61), digits(2, 61));
    fc.assert(
      fc.property(parts, ([year, month, day, hour, minute, second]) => {
        const local = `${year}-${month}-${day}T${hour}:${minute}:${second}`;
        expect(parseTimestampMillis(`${local}Z`)).toBe(parseTimestampMillis(`${local}+00:00`));
      }),
      { numRuns: 5000 },
    );
    expect(parseTimestampMillis('2025-07-11T11:00:0xZ')).toBeNull();
    expect(parseTimestampMillis('2025-07-11T11:00:00Z')).toBe(Date.UTC(2025, 6, 11, 11));
    expect(parseTimestampMillis('2025-07-12T00:00:01Z')).toBe(Date.UTC(2025, 6, 12, 0, 0, 1));
  });
});
