import { describe, it, expect } from '@jest/globals';
import { keyStem, parquetObjectKey, partitionOf, UNKNOWN_PARTITION } from '../../../../../worker/output/parquet/partition.ts';

describe('partitionOf', () => {
  it('is the UTC day of the instant', () => {
    expect(partitionOf(Date.UTC(2025, 6, 11, 11))).toBe('dt=2025-07-11');
    expect(partitionOf(Date.UTC(2025, 6, 11, 0, 0, 0, 0))).toBe('dt=2025-07-11');
    expect(partitionOf(Date.UTC(2025, 6, 11, 23, 59, 59, 999))).toBe('dt=2025-07-11');
    expect(partitionOf(Date.UTC(2025, 6, 12))).toBe('dt=2025-07-12');
  });

  it('puts instants before 1970 on their own day too', () => {
    expect(partitionOf(Date.UTC(1969, 11, 31, 23, 59, 59, 999))).toBe('dt=1969-12-31');
    expect(partitionOf(-62135596800000)).toBe('dt=0001-01-01');
  });

  it('puts a record without a usable timestamp in dt=unknown', () => {
    expect(partitionOf(null)).toBe(UNKNOWN_PARTITION);
    expect(UNKNOWN_PARTITION).toBe('dt=unknown');
  });
});

describe('keyStem', () => {
  it.each([
    ['readings.jsonl', 'readings'],
    ['site-1/2025/readings.jsonl', 'site-1/2025/readings'],
    ['site-1/readings.jsonl.gz', 'site-1/readings'],
    ['site-1/readings.JSONL.GZ', 'site-1/readings'],
    ['site-1/readings.jsonl.zst', 'site-1/readings'],
    ['site.v2/readings', 'site.v2/readings'],
    ['readings.2025-07-11.jsonl', 'readings.2025-07-11'],
    ['dir/.jsonl', 'dir/.jsonl'],
    ['a b/c+d.jsonl', 'a b/c+d'],
    ['archive.gz', 'archive'],
  ])('%s → %s', (inputKey, stem) => {
    expect(keyStem(inputKey)).toBe(stem);
  });
});

describe('parquetObjectKey', () => {
  const base = { prefix: 'parquet/', partition: 'dt=2025-07-11', inputKey: 'site-1/readings.jsonl.gz' };

  it('puts the partition first under the prefix, then the raw key with .parquet for its extension', () => {
    expect(parquetObjectKey({ ...base, part: 1 })).toBe('parquet/dt=2025-07-11/site-1/readings.parquet');
  });

  it('numbers a partition’s further objects', () => {
    expect(parquetObjectKey({ ...base, part: 2 })).toBe('parquet/dt=2025-07-11/site-1/readings-part2.parquet');
    expect(parquetObjectKey({ ...base, part: 13 })).toBe('parquet/dt=2025-07-11/site-1/readings-part13.parquet');
  });

  it('works with an empty prefix and the unknown partition', () => {
    expect(parquetObjectKey({ prefix: '', partition: UNKNOWN_PARTITION, inputKey: 'a.jsonl', part: 1 })).toBe('dt=unknown/a.parquet');
  });

  it('depends on nothing but its inputs, so re-processing overwrites the same keys', () => {
    expect(parquetObjectKey({ ...base, part: 1 })).toBe(parquetObjectKey({ ...base, part: 1 }));
  });

  it.each([0, -1, 1.5])('refuses part %d', (part) => {
    expect(() => parquetObjectKey({ ...base, part })).toThrow(RangeError);
  });
});
