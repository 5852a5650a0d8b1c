import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { planCopyRanges, S3_COPY_LIMITS } from '../../../../worker/output/metadata-replacement.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('planCopyRanges', () => {
  it('cuts an object into inclusive byte ranges of the part size, numbered from 1, the last one shorter', () => {
    expect(planCopyRanges(12 * MiB + 1, 5 * MiB)).toStrictEqual([
      { partNumber: 1, firstByte: 0, lastByte: 5 * MiB - 1 },
      { partNumber: 2, firstByte: 5 * MiB, lastByte: 10 * MiB - 1 },
      { partNumber: 3, firstByte: 10 * MiB, lastByte: 12 * MiB },
    ]);
    expect(planCopyRanges(10 * MiB, 5 * MiB)).toHaveLength(2);
  });

  it('copies an object just over CopyObject’s 5 GiB in 1 GiB parts by default', () => {
    const ranges = planCopyRanges(5 * GiB + 1);
    expect(ranges).toHaveLength(6);
    expect(ranges.at(-1)).toStrictEqual({ partNumber: 6, firstByte: 5 * GiB, lastByte: 5 * GiB });
  });

  it('raises the part size to stay within 10,000 parts, up to S3’s largest object', () => {
    const largest = 5 * 1024 * GiB;
    const ranges = planCopyRanges(largest, 5 * MiB);
    expect(ranges).toHaveLength(S3_COPY_LIMITS.maxParts);
    expect(ranges.at(-1)?.lastByte).toBe(largest - 1);
  });

  it('covers every byte exactly once, in order, each part but the last between 5 MiB and 5 GiB, never more than 10,000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 * 1024 * GiB }), fc.integer({ min: 5 * MiB, max: 5 * GiB }), (total, partBytes) => {
        const ranges = planCopyRanges(total, partBytes);
        expect(ranges.length).toBeLessThanOrEqual(S3_COPY_LIMITS.maxParts);
        expect(ranges[0]?.firstByte).toBe(0);
        expect(ranges.at(-1)?.lastByte).toBe(total - 1);
        // Plain checks, not one expect per part: a plan has up to 10,000 parts.
        const wrong = ranges.filter((range, index) => {
          const size = range.lastByte - range.firstByte + 1;
          const last = index === ranges.length - 1;
          return (
            range.partNumber !== index + 1 ||
            size > S3_COPY_LIMITS.maxPartBytes ||
            (!last && (size < S3_COPY_LIMITS.minPartBytes || ranges[index + 1]?.firstByte !== range.lastByte + 1))
          );
        });
        expect(wrong).toStrictEqual([]);
      }),
    );
  });

  it('refuses part sizes S3 refuses and an empty object', () => {
    expect(() => planCopyRanges(10 * MiB, 5 * MiB - 1)).toThrow(RangeError);
    expect(() => planCopyRanges(10 * GiB, 5 * GiB + 1)).toThrow(RangeError);
    expect(() => planCopyRanges(0, 5 * MiB)).toThrow(RangeError);
  });
});
