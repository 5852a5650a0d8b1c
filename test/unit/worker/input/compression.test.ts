import { describe, expect, it } from '@jest/globals';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { compressionOf, compressionOfKey, compressionOfMagic } from '../../../../worker/input/compression.ts';

describe('the compression of a raw object', () => {
  it.each([
    ['a/b.jsonl.gz', 'gzip'],
    ['a/b.jsonl.zst', 'zstd'],
    ['a/b.jsonl', undefined],
    ['a/b.zstd', undefined],
    ['a/b.jsonl.GZ', undefined],
  ])('by its key %s: %s', (key, compression) => {
    expect(compressionOfKey(key)).toBe(compression);
  });

  it.each([
    ['gzip', gzipSync('{}\n').subarray(0, 4), 'gzip'],
    ['zstd', zstdCompressSync('{}\n').subarray(0, 4), 'zstd'],
    ['JSON', Buffer.from('{"a"'), 'none'],
    ['three of the four zstd magic bytes', Buffer.from([0x28, 0xb5, 0x2f]), 'none'],
    ['nothing', Buffer.alloc(0), 'none'],
  ])('by its first bytes, %s: %s', (_what, bytes, compression) => {
    expect(compressionOfMagic(bytes)).toBe(compression);
  });

  it('goes by the key when it names a compression, else by the first bytes', () => {
    const zstdMagic = zstdCompressSync('{}\n');
    expect(compressionOf('a.jsonl.gz', zstdMagic)).toBe('gzip');
    expect(compressionOf('a.jsonl', zstdMagic)).toBe('zstd');
    expect(compressionOf('a.jsonl.zst', Buffer.from('{}'))).toBe('zstd');
  });
});
