import { describe, expect, it } from '@jest/globals';
import {
  fileMemoryCapBytes,
  fileReservationBytes,
  READ_BUFFER_BYTES,
  ZLIB_STATE_BYTES,
  ZSTD_STATE_BYTES,
  type FileMemorySettings,
} from '../../../../worker/queue/file-reservation.ts';

const MIB = 1024 * 1024;
const DEFAULTS: FileMemorySettings = { partSizeBytes: 5 * MIB, queueSize: 2, maxLineBytes: MIB, format: 'jsonl' };

describe('fileMemoryCapBytes', () => {
  it('is the read buffer, zlib, one line and two outputs of UPLOAD_QUEUE_SIZE + 1 parts each', () => {
    expect(fileMemoryCapBytes(DEFAULTS)).toBe(READ_BUFFER_BYTES + ZLIB_STATE_BYTES + MIB + 2 * 3 * 5 * MIB);
    expect(fileMemoryCapBytes(DEFAULTS, 'gzip')).toBe(fileMemoryCapBytes(DEFAULTS));
  });

  it("holds zstd's state instead of zlib's for a zstd object", () => {
    expect(fileMemoryCapBytes(DEFAULTS, 'zstd')).toBe(READ_BUFFER_BYTES + ZSTD_STATE_BYTES + MIB + 2 * 3 * 5 * MIB);
  });

  it('grows with the part size and the parts in flight', () => {
    expect(fileMemoryCapBytes({ ...DEFAULTS, partSizeBytes: 16 * MIB, queueSize: 4 })).toBe(READ_BUFFER_BYTES + ZLIB_STATE_BYTES + MIB + 2 * 5 * 16 * MIB);
  });

  it('is larger with Parquet, whose processed output holds several partitions and their row groups', () => {
    expect(fileMemoryCapBytes({ ...DEFAULTS, format: 'parquet' })).toBeGreaterThan(fileMemoryCapBytes(DEFAULTS) + 3 * 3 * 5 * MIB);
  });
});

describe('fileReservationBytes', () => {
  it('reserves the cap when the message does not say how large the object is, by the compression its key says', () => {
    expect(fileReservationBytes({ key: 'a.jsonl' }, DEFAULTS)).toBe(fileMemoryCapBytes(DEFAULTS));
    expect(fileReservationBytes({ key: 'a.jsonl.zst' }, DEFAULTS)).toBe(fileMemoryCapBytes(DEFAULTS, 'zstd'));
  });

  it('reserves a small file little more than its read buffer and outputs', () => {
    const reserved = fileReservationBytes({ key: 'a.jsonl', size: 15_000 }, DEFAULTS);
    expect(reserved).toBeGreaterThan(READ_BUFFER_BYTES + 15_000);
    expect(reserved).toBeLessThan(READ_BUFFER_BYTES + 10 * 15_000);
  });

  it('grows with the size up to the cap, which a 10 MB file nearly reaches', () => {
    const sizes = [0, 1_000, 100_000, 1_000_000, 10_000_000, 10_000_000_000];
    const reserved = sizes.map((size) => fileReservationBytes({ key: 'a.jsonl', size }, DEFAULTS));
    expect([...reserved].sort((a, b) => a - b)).toStrictEqual(reserved);
    expect(reserved.at(-2)).toBeGreaterThan(0.9 * fileMemoryCapBytes(DEFAULTS));
    expect(reserved.at(-1)).toBe(fileMemoryCapBytes(DEFAULTS));
  });

  it('reserves a gzip object its zlib state and a line of any length, for what it decompresses to', () => {
    const plain = fileReservationBytes({ key: 'a.jsonl', size: 10_000 }, DEFAULTS);
    const gzip = fileReservationBytes({ key: 'a.jsonl.gz', size: 10_000 }, DEFAULTS);
    expect(gzip - plain).toBe(ZLIB_STATE_BYTES + MIB - 10_000);
  });

  it('reserves a zstd object its decompressor window of up to 8 MiB with its buffers, its compressors and a line of any length', () => {
    const plain = fileReservationBytes({ key: 'a.jsonl', size: 10_000 }, DEFAULTS);
    const zstd = fileReservationBytes({ key: 'a.jsonl.zst', size: 10_000 }, DEFAULTS);
    expect(ZSTD_STATE_BYTES).toBeGreaterThanOrEqual(16 * MIB);
    expect(zstd - plain).toBe(ZSTD_STATE_BYTES + MIB - 10_000);
  });

  it("reserves even a tiny zstd object the decompressor's 16 MiB, a huge one no more than the cap", () => {
    const tiny = fileReservationBytes({ key: 'a.zst', size: 100 }, DEFAULTS);
    expect(tiny).toBeGreaterThan(16 * MIB);
    expect(fileReservationBytes({ key: 'a.zst', size: 10_000_000_000 }, DEFAULTS)).toBe(fileMemoryCapBytes(DEFAULTS, 'zstd'));
  });

  it('reserves whole bytes', () => {
    expect(Number.isInteger(fileReservationBytes({ key: 'a.jsonl', size: 333 }, DEFAULTS))).toBe(true);
  });
});
